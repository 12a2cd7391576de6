"""The compiled standardisation of the nets' inputs (numba), imported only when numba is.

``skquant.models._nets._base.standardize`` calls :func:`standardize_rows` when numba is
installed and ``SKQUANT_DISABLE_NUMBA`` is not set; its NumPy path computes the same
float64 operations and rounds them to the same float32 values.
"""

from __future__ import annotations

from skquant.utils._numba import njit_cached


@njit_cached
def standardize_rows(X, mean, inv, out):  # pragma: no cover - compiled
    """``out[i, j] = float32((X[i, j] - mean[j]) * inv[j])`` in one pass; False on NaN or inf.

    Walks ``X`` in its memory order (rows of a C array, columns of a Fortran one).
    A non-finite value makes ``v * 0.0`` NaN, so the sum of those products is 0
    exactly when every value is finite: no branch in the loop.
    """
    n, m = X.shape
    bad = 0.0
    if X.strides[0] >= X.strides[1]:
        for i in range(n):
            for j in range(m):
                v = (X[i, j] - mean[j]) * inv[j]
                bad += v * 0.0
                out[i, j] = v
    else:
        for j in range(m):
            for i in range(n):
                v = (X[i, j] - mean[j]) * inv[j]
                bad += v * 0.0
                out[i, j] = v
    return bad == 0.0
