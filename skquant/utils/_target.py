"""What a target looks like: one definition shared by the trainers and the strategies."""

from __future__ import annotations

import numpy as np
import pandas as pd


def is_binary_target(y) -> bool:
    """Whether ``y`` holds exactly two distinct non-missing values."""
    values = pd.Series(np.asarray(y).ravel())
    if values.dtype.kind == "f":
        values = values[np.isfinite(values.to_numpy())]
    return values.nunique(dropna=True) == 2
