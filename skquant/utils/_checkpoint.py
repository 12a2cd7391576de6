"""Fold checkpoints: a walk-forward run keeps each finished fold's predictions on disk.

(In utils, as the walk-forward engine writes them and the command line removes the
unused ones.)

A crashed run, or the same run again (another cost or portfolio rule changes only the
evaluation), then loads the folds it already fitted instead of refitting them. A fold
is found again only under the same key: a hash of everything its fit and predictions
depend on (the estimator with its parameters and the configs its trainers resolve from
their YAML variants, the feature names, the fold's rows of features, labels, index and
dates, the window cuts) and of the installed versions of skquant and the libraries, so
another config, variant, data, window or upgrade refits it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from skquant.utils._io import atomic_write
from skquant.utils._warnings import caller_stacklevel


def resolved_configs(estimator) -> list:
    """The config each skquant trainer in ``estimator`` (itself, a pipeline's steps, a
    meta-model's bases) will fit with, resolved now: a trainer reads its YAML variant
    (``MODEL_VARIANT``, the file's content) when it fits, which its parameters do not
    show. A config that does not resolve is recorded as its error (the fold raises it)."""
    found = [estimator]
    if hasattr(estimator, "get_params"):
        found += [v for v in estimator.get_params(deep=True).values() if hasattr(v, "fit")]
    configs = []
    for item in found:
        if hasattr(item, "_resolve_config"):
            try:
                configs.append((type(item).__name__, item._resolve_config()))
            except Exception as exc:  # any error: the fold's fit reports it
                configs.append((type(item).__name__, repr(exc)))
    return configs


def _index_values(index) -> list:
    """A fold's index as arrays of its own values (a slice of a MultiIndex keeps every
    level value of the whole panel); text as 64-bit hashes, which joblib hashes as
    fast as numbers (it pickles an object array element by element)."""
    import pandas as pd

    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    out = []
    for level in levels:
        values = np.asarray(level)
        out.append(pd.util.hash_array(values) if values.dtype == object else values)
    return out


class FoldCheckpoints:
    """The fold files of one folder: ``fold-KEY.joblib``, each written atomically.

    ``estimator`` is the run's: it and its resolved configs (:func:`resolved_configs`)
    join every fold's key, with ``context`` (the caller's: the library versions, the
    ``MODEL_VARIANT`` variable). Checkpoints are a convenience: a fold that cannot be
    hashed, loaded, touched or saved is fitted (and the run goes on) with a warning,
    never an error.
    """

    def __init__(self, folder, estimator, context=()) -> None:
        self.folder = Path(folder).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"checkpoint_dir {str(self.folder)!r} exists and is not a folder.")
        self._context = [list(context), resolved_configs(estimator), estimator]
        self.enabled = True

    def _off(self, what: str, exc: Exception) -> None:
        self.enabled = False
        warnings.warn(
            f"checkpoint_dir {str(self.folder)!r}: cannot {what} ({type(exc).__name__}: "
            f"{exc}); the run goes on without fold checkpoints.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def key(self, features, X_fold, y_train, index_fold, dates_fold, n_train, test_at):
        """The hash of what a fold's fit and predictions depend on (its own rows only:
        the same fold of a longer panel has the same key), or None when the estimator
        cannot be hashed (a lambda in it, say)."""
        import joblib

        if not self.enabled:
            return None
        fold = [
            list(features),
            np.ascontiguousarray(X_fold),  # a view's strides hold the whole panel's rows
            np.ascontiguousarray(y_train),
            _index_values(index_fold),
            np.ascontiguousarray(dates_fold),
            n_train,
            test_at,
        ]
        try:
            return joblib.hash([self._context, fold])
        except Exception as exc:  # an estimator that does not pickle
            self._off("hash the estimator", exc)
            return None

    def _path(self, key: str) -> Path:
        return self.folder / f"fold-{key}.joblib"

    def load(self, key: str | None):
        """The saved output of the fold of ``key``, or None when missing or unreadable."""
        import joblib

        path = None if key is None else self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            output = joblib.load(path)
        except Exception:  # a damaged file (a disk error, a foreign file): refit the fold
            return None
        if not (isinstance(output, tuple) and len(output) == 6):
            return None
        try:
            os.utime(path)  # used again: see remove_unused
        except OSError:
            pass  # a read-only checkpoint is used all the same
        return output

    def save(self, key: str | None, output) -> None:
        import joblib

        if key is None or not self.enabled:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self._path(key), lambda handle: joblib.dump(output, handle))
        except Exception as exc:  # a full disk, a read-only folder, an unpicklable output
            self._off("save a fold", exc)


def remove_unused(folder, since: float) -> int:
    """Remove the fold checkpoints of ``folder`` that no run has written or loaded
    (loading touches a file) since ``since``, a run's start (``time.time()``), with the
    temporary files a killed run left; their number. A second's margin covers file
    systems that keep coarser time than ``time.time()``."""
    before = since - 1.0
    removed = 0
    for pattern in ("fold-*.joblib", ".fold-*.tmp"):
        for path in Path(folder).glob(pattern):
            try:
                if path.stat().st_mtime < before:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
    return removed
