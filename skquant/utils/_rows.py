"""Row selection and class alignment shared by cross-validation, stacking and strategies."""

from __future__ import annotations

import numpy as np


def take_rows(X, rows):
    """Rows ``rows`` (positions) of a DataFrame, Series or array."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return X[rows]


def align_proba(proba, fold_classes, classes) -> np.ndarray:
    """Put a fold's probabilities in the columns of all ``classes`` (0 for unseen ones).

    An early fold may not have seen every class yet; its model then has fewer columns.
    """
    if len(fold_classes) == len(classes) and np.array_equal(fold_classes, classes):
        return proba
    out = np.zeros((len(proba), len(classes)))
    if len(fold_classes) == 1:  # trained on one class: certain (some models emit 2 columns)
        out[:, np.searchsorted(classes, fold_classes)] = 1.0
        return out
    out[:, np.searchsorted(classes, fold_classes)] = proba
    return out
