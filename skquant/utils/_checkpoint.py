"""Fold checkpoints: a walk-forward run keeps each finished fold's predictions on disk.

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
from pathlib import Path

from skquant.utils._io import atomic_write


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


class FoldCheckpoints:
    """The fold files of one folder: ``fold-K-KEY.joblib``, each written atomically.

    ``estimator`` is the run's: its resolved configs (:func:`resolved_configs`), the
    ``MODEL_VARIANT`` variable and the library versions join every fold's key.
    """

    def __init__(self, folder, estimator) -> None:
        self.folder = Path(folder).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"checkpoint_dir {str(self.folder)!r} exists and is not a folder.")
        from skquant.config import VARIANT_ENV
        from skquant.walkforward._benchmark import package_versions

        self._context = [
            package_versions(),
            os.environ.get(VARIANT_ENV),
            resolved_configs(estimator),
        ]

    def key(self, *fold_args) -> str:
        """The hash of a fold's :func:`_fit_predict_fold` arguments and the run's context."""
        import joblib

        return joblib.hash([self._context, *fold_args])

    def _path(self, k: int, key: str) -> Path:
        return self.folder / f"fold-{k}-{key}.joblib"

    def load(self, k: int, key: str):
        """Fold ``k``'s saved output, or None when missing or unreadable."""
        import joblib

        path = self._path(k, key)
        if not path.is_file():
            return None
        try:
            output = joblib.load(path)
        except Exception:  # a damaged file (a disk error, a foreign file): refit the fold
            return None
        if not (isinstance(output, tuple) and len(output) == 5):
            return None
        os.utime(path)  # used again: ``skquant walkforward`` drops the files unused
        return output

    def save(self, k: int, key: str, output) -> None:
        import joblib

        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self._path(k, key), lambda handle: joblib.dump(output, handle))
