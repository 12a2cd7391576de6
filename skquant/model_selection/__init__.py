"""Chronological cross-validation: walk-forward folds and train/test splits in dates."""

from skquant.model_selection._base import BaseTimeSplitter
from skquant.model_selection._train_test import time_train_test_split
from skquant.model_selection._walk_forward import WalkForwardSplit

__all__ = ["BaseTimeSplitter", "WalkForwardSplit", "time_train_test_split"]
