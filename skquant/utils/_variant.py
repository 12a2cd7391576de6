"""The ``MODEL_VARIANT`` environment variable across processes.

A trainer without a ``config`` reads ``MODEL_VARIANT`` when it is fitted. A joblib worker
(``cross_validate``, ``GridSearchCV`` with ``n_jobs > 1``) keeps the environment it
started with, so a variant set after the workers started did not reach them: the same
``cross_validate`` fitted the aggressive variant with ``n_jobs=1`` and the balanced one
with ``n_jobs=2``. scikit-learn clones an estimator in the calling process before it
sends it to a worker; the clone records that process's variant, and a fit in another
process runs under it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator

VARIANT_ENV = "MODEL_VARIANT"

# (process id, MODEL_VARIANT or None) of the process that cloned an estimator
_CLONED_BY = "_cloned_by"


def record_cloning_process(estimator) -> None:
    """Record on a fresh clone the process that made it and its ``MODEL_VARIANT``."""
    setattr(estimator, _CLONED_BY, (os.getpid(), os.environ.get(VARIANT_ENV)))


@contextlib.contextmanager
def variant_env(variant: str | None) -> Iterator[None]:
    """``MODEL_VARIANT`` set to ``variant`` (unset for None) for the block, then restored."""
    held = os.environ.get(VARIANT_ENV)
    if held == variant:
        yield
        return
    if variant is None:
        del os.environ[VARIANT_ENV]
    else:
        os.environ[VARIANT_ENV] = variant
    try:
        yield
    finally:
        if held is None:
            os.environ.pop(VARIANT_ENV, None)
        else:
            os.environ[VARIANT_ENV] = held


def in_cloning_variant(fit: Callable) -> Callable:
    """Run ``fit`` under the ``MODEL_VARIANT`` of the process that cloned the estimator,
    when that is another process (a joblib worker); in the cloning process, or for an
    estimator that was not cloned (or was fitted since), the environment is left as it
    is (read at fit)."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        # used once: a fitted model (saved, loaded in another session, refitted there)
        # reads the environment of the process that fits it again
        cloned = self.__dict__.pop(_CLONED_BY, None)
        if cloned is None or cloned[0] == os.getpid():
            return fit(self, *args, **kwargs)
        with variant_env(cloned[1]):
            return fit(self, *args, **kwargs)

    return wrapper
