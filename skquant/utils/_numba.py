"""The optional numba kernels: whether they run, and how they are compiled.

numba is an optional dependency (``pip install 'skquant[fast]'``); every kernel has a
NumPy path that gives the same numbers. Modules holding kernels import numba at import
time, so they are imported only once :func:`numba_enabled` says yes.
"""

from __future__ import annotations

import os

from skquant.utils._optional import import_optional


def numba_enabled() -> bool:
    """Whether the compiled kernels run instead of their NumPy paths.

    False when numba is not installed or the environment variable
    ``SKQUANT_DISABLE_NUMBA`` is set to anything but ``""`` or ``"0"`` (read at each
    call, so that a test or a user can force the NumPy paths).
    """
    if os.environ.get("SKQUANT_DISABLE_NUMBA", "") not in ("", "0"):
        return False
    try:
        import_optional("numba")
    except ImportError:
        return False
    return True


def njit_cached(func):
    """``numba.njit(cache=True, nogil=True)``, without the disk cache where none can be written.

    The cache lives beside the module in its ``__pycache__`` when that is writable,
    else in numba's user cache directory (``NUMBA_CACHE_DIR`` overrides it); where no
    cache location can be written the kernel is compiled in each process.
    """
    numba = import_optional("numba")
    try:
        return numba.njit(cache=True, nogil=True)(func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(func)
