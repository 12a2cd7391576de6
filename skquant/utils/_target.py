"""What a target looks like: one definition shared by the trainers and the strategies."""

from __future__ import annotations

import numpy as np
import pandas as pd


def is_binary_target(y) -> bool:
    """Whether ``y`` holds exactly two distinct non-missing values."""
    values = pd.Series(np.asarray(y).ravel())
    if values.dtype.kind == "f":
        values = values[np.isfinite(values.to_numpy())]
    head = values.iloc[:1000]  # three distinct values early settle it without hashing every row
    if len(values) > len(head) and head.nunique(dropna=True) > 2:
        return False
    return values.nunique(dropna=True) == 2
