"""Metrics of predictions against outcomes: direction hit rate and rank IC."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from skquant.utils._cross_section import ic_by_date
from skquant.utils._time import date_level, dates_of
from skquant.utils._validation import one_dimensional
from skquant.utils._warnings import caller_stacklevel

__all__ = ["hit_rate", "information_coefficient"]


def _pair(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray]:
    hint = " (for class probabilities, pass the positive class's column)"
    t = one_dimensional(y_true, f"{name}: y_true", hint)
    p = one_dimensional(y_pred, f"{name}: y_pred", hint)
    if len(t) != len(p):
        raise ValueError(f"{name}: y_true has {len(t)} values but y_pred has {len(p)}.")
    return t, p


def hit_rate(y_true, y_pred) -> float:
    """Share of rows whose predicted direction equals the realised one.

    A row is a hit when ``sign(y_pred) == sign(y_true)``; pass positions (-1, 0,
    +1) or signed predictions as ``y_pred`` and returns as ``y_true``. A zero
    outcome is hit only by a zero prediction.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Realised outcomes (returns).
    y_pred : array-like of shape (n_samples,)
        Predictions or positions.

    Returns
    -------
    hit_rate : float
        In ``[0, 1]``; rows with NaN on either side are dropped; NaN for empty input.

    Examples
    --------
    >>> from skquant import hit_rate
    >>> hit_rate([0.01, -0.02, 0.03, -0.01], [0.5, -0.1, -0.2, -0.3])
    0.75
    """
    t, p = _pair(y_true, y_pred, "hit_rate")
    keep = ~(np.isnan(t) | np.isnan(p))
    if not keep.any():
        return float("nan")
    t, p = t[keep], p[keep]
    if np.isin(t, (0.0, 1.0)).all() and ((p >= 0) & (p <= 1)).all() and (p % 1).any():
        warnings.warn(
            "hit_rate: y_true holds only 0 and 1 and y_pred probabilities: hit_rate "
            "compares signs, so every 0 label counts as a miss. Pass returns as y_true "
            "and positions (2 * proba - 1) as y_pred, or use accuracy on labels.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return float(np.mean(np.sign(t) == np.sign(p)))


def _spearman(t: np.ndarray, p: np.ndarray) -> float:
    if len(t) < 2:
        return float("nan")
    rt, rp = pd.Series(t).rank().to_numpy(), pd.Series(p).rank().to_numpy()
    if np.std(rt) == 0 or np.std(rp) == 0:
        return float("nan")
    return float(np.corrcoef(rt, rp)[0, 1])


def information_coefficient(y_true, y_pred, dates=None) -> float:
    """Spearman rank correlation of prediction and outcome; per date for panels.

    With dates (given, or from ``y_true``'s ``DatetimeIndex``/datetime
    ``MultiIndex`` level) and several rows per date, the IC is computed across the
    rows of each date and averaged over dates (the cross-sectional IC). With one
    row per date (rows with NaN counted: a panel stays a panel) it is the rank
    correlation over time.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Realised outcomes.
    y_pred : array-like of shape (n_samples,)
        Predictions (scores).
    dates : array-like or Index of shape (n_samples,), default=None
        Each row's date (of a ``MultiIndex``, its datetime level, else its first).

    Returns
    -------
    ic : float
        In ``[-1, 1]``; rows with NaN are dropped; NaN when nothing is left. A date
        with fewer than 2 rows or constant values on either side has no IC and is
        left out of the mean: a ``UserWarning`` then says on how many of the dates
        the mean rests.

    Examples
    --------
    >>> from skquant import information_coefficient
    >>> round(information_coefficient([0.1, 0.2, 0.3, 0.4], [1, 2, 4, 3]), 6)
    0.8
    """
    if dates is None:
        dates = dates_of(y_true)
    t, p = _pair(y_true, y_pred, "information_coefficient")
    keep = ~(np.isnan(t) | np.isnan(p))
    if dates is None:
        return _spearman(t[keep], p[keep])
    if isinstance(dates, pd.MultiIndex):  # (date, symbol) in either order: the dates
        dates = dates.get_level_values(date_level(dates) or 0)
    dates = np.asarray(dates).reshape(-1)
    if len(dates) != len(t):
        raise ValueError(f"dates has {len(dates)} values but y_true has {len(t)}.")
    frame = pd.DataFrame({"t": t[keep], "p": p[keep], "d": dates[keep]})
    # a panel by all its rows: one symbol left with labels gave its IC over time
    if not pd.Series(dates).duplicated().any():
        return _spearman(frame["t"].to_numpy(), frame["p"].to_numpy())
    ic = ic_by_date(frame["t"].to_numpy(), frame["p"].to_numpy(), frame["d"].to_numpy())
    n_dates = int(pd.Series(dates).nunique())  # the dates of the rows dropped for NaN too
    ic = ic.dropna()
    if len(ic) < n_dates:
        warnings.warn(
            f"information_coefficient: the IC is undefined on {n_dates - len(ic)} of "
            f"{n_dates} dates (fewer than 2 rows without NaN, or predictions or outcomes "
            f"constant across the date's rows) and they are left out: the mean IC rests "
            f"on {len(ic)} date{'' if len(ic) == 1 else 's'}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return float(ic.mean()) if len(ic) else float("nan")
