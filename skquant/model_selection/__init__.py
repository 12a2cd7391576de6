"""Chronological cross-validation in dates: walk-forward, purged k-fold, combinatorial purged,
train/test splits, out-of-fold predictions from expanding, time-ordered folds, and
``tune``, the hyper-parameter search by walk-forward evaluation."""

import importlib

from skquant.model_selection._base import BaseTimeSplitter
from skquant.model_selection._oof import chronological_oof_predict
from skquant.model_selection._purged import CombinatorialPurgedCV, PurgedKFold
from skquant.model_selection._train_test import time_train_test_split
from skquant.model_selection._walk_forward import WalkForwardSplit
from skquant.utils._time import NoDatesWarning

__all__ = [
    "BaseTimeSplitter",
    "CombinatorialPurgedCV",
    "NoDatesWarning",
    "PurgedKFold",
    "WalkForwardSplit",
    "chronological_oof_predict",
    "time_train_test_split",
    "tune",
]

# Names that live in a package above this one, reached by module name on first use
# (as the registry reaches trainers): ``tune`` runs the walk-forward engine, which
# itself splits with this package's WalkForwardSplit.
_LAZY = {"tune": "skquant.walkforward"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'skquant.model_selection' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
