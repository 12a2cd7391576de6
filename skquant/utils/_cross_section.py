"""Cross-sectional statistics of a panel: one value per date, across its rows."""

from __future__ import annotations

import numpy as np
import pandas as pd


def ic_by_date(y_true: np.ndarray, y_pred: np.ndarray, dates: np.ndarray) -> pd.Series:
    """Spearman correlation of ``y_true`` and ``y_pred`` across the rows of each date.

    Rows are NaN-free. Returns a Series by sorted date, NaN on a date with fewer
    than 2 rows or constant values on either side.
    """
    frame = pd.DataFrame({"t": y_true, "p": y_pred, "d": dates})
    ranks = frame.groupby("d")[["t", "p"]].rank()
    centred = ranks - ranks.groupby(frame["d"]).transform("mean")
    sums = (
        pd.DataFrame(
            {
                "xy": centred["t"] * centred["p"],
                "xx": centred["t"] ** 2,
                "yy": centred["p"] ** 2,
            }
        )
        .groupby(frame["d"].to_numpy())
        .sum()
    )
    valid = (sums["xx"] > 0) & (sums["yy"] > 0)
    return (sums["xy"] / np.sqrt(sums["xx"] * sums["yy"])).where(valid)
