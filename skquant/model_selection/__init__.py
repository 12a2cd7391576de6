"""Chronological cross-validation in dates: walk-forward, purged k-fold, combinatorial purged,
train/test splits, and out-of-fold predictions from expanding, time-ordered folds."""

from skquant.model_selection._base import BaseTimeSplitter
from skquant.model_selection._oof import chronological_oof_predict
from skquant.model_selection._purged import CombinatorialPurgedCV, PurgedKFold
from skquant.model_selection._train_test import time_train_test_split
from skquant.model_selection._walk_forward import WalkForwardSplit

__all__ = [
    "BaseTimeSplitter",
    "CombinatorialPurgedCV",
    "PurgedKFold",
    "WalkForwardSplit",
    "chronological_oof_predict",
    "time_train_test_split",
]
