"""The compiled FTRL-Proximal per-example kernel (numba), imported only when numba is.

``skquant.models._ftrl`` calls :func:`ftrl_rows` for ``batch_size=1`` when numba is
installed and ``SKQUANT_DISABLE_NUMBA`` is not set; its NumPy loop gives the same
numbers (to rounding) without numba. The function is compiled once per signature
and cached on disk where it can be (``skquant.utils._numba.njit_cached``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from skquant.utils._numba import njit_cached


@numba.njit
def _shrink(z, l1):  # pragma: no cover - compiled
    """``z - clip(z, -l1, l1)``."""
    return z - min(max(z, -l1), l1)


@njit_cached
def ftrl_rows(X, Y, z, n, alpha, beta, l1, l2, logistic):  # pragma: no cover - compiled
    """Exact per-example FTRL-Proximal over the rows of ``X`` (in place on ``z``, ``n``).

    The same algebra as the NumPy loop ``_ftrl._ftrl_rows``: with the scaled weights
    ``u = shrink(z, l1) / (sqrt(n) + beta + alpha l2)`` (``w = -alpha u``), one row's
    update of coordinate ``j`` is ``z += g + (sqrt(n + g^2) - sqrt(n)) u``,
    ``n += g^2``, ``g = (p - y) x``. The one-vs-rest models share no state, so each
    runs over all the rows in turn.
    """
    n_models, n_coords = z.shape
    u = np.empty(n_coords)
    s = np.empty(n_coords)
    offset = np.empty(n_coords)
    for j in range(n_coords):
        offset[j] = beta + alpha * l2[j]
    for k in range(n_models):
        zk, nk = z[k], n[k]
        for j in range(n_coords):
            s[j] = math.sqrt(nk[j])
            u[j] = _shrink(zk[j], l1[j]) / (s[j] + offset[j])
        for i in range(X.shape[0]):
            x = X[i]
            dot = 0.0
            for j in range(n_coords):
                dot += u[j] * x[j]
            margin = -alpha * dot
            if logistic:
                p = 1.0 / (1.0 + math.exp(-margin)) if margin > -700 else 0.0
            else:
                p = margin
            err = p - Y[i, k]
            for j in range(n_coords):
                g = x[j] * err
                n_new = nk[j] + g * g
                s_new = math.sqrt(n_new)
                z_new = zk[j] + g + (s_new - s[j]) * u[j]
                zk[j] = z_new
                nk[j] = n_new
                s[j] = s_new
                u[j] = _shrink(z_new, l1[j]) / (s_new + offset[j])
