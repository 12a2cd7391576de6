"""Chronological cross-validation in dates: walk-forward, purged k-fold, combinatorial purged."""

from skquant.model_selection._base import BaseTimeSplitter
from skquant.model_selection._purged import CombinatorialPurgedCV, PurgedKFold
from skquant.model_selection._train_test import time_train_test_split
from skquant.model_selection._walk_forward import WalkForwardSplit

__all__ = [
    "BaseTimeSplitter",
    "CombinatorialPurgedCV",
    "PurgedKFold",
    "WalkForwardSplit",
    "time_train_test_split",
]
