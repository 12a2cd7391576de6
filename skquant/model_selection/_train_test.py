"""One chronological train/test split, counted in dates."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils import indexable

from skquant.model_selection._base import check_same_rows, period_codes
from skquant.utils._sklearn_compat import _safe_indexing
from skquant.utils._target import tail_embargo
from skquant.utils._time import dates_of, warn_rows_as_dates


def time_train_test_split(X, y=None, *, test_days=None, test_size=None, embargo_days=None):
    """Split data into an earlier training part and a later test part.

    The latest dates go to the test side, ``embargo_days`` dates before them are
    dropped, and everything earlier is for training. Counts are in distinct dates
    (from a ``DatetimeIndex`` or a datetime level of a ``MultiIndex``; a plain
    array counts rows, taken to be in time order, with a ``NoDatesWarning``), so a
    date is never split.
    Nothing is shuffled.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Features, indexed by date (rows in any order) or in time order.
    y : array-like of shape (n_samples,) or DataFrame, default=None
        Target(s), aligned with ``X``.
    test_days : int, default=None
        Number of latest dates in the test part.
    test_size : float, default=None
        Share of the distinct dates in the test part, in (0, 1), rounded up. Give
        ``test_days`` or ``test_size``, not both; with neither, ``test_size=0.25``.
    embargo_days : int, default=None
        Dates dropped between the two parts: labels of horizon h need
        ``embargo_days >= h`` so that no training label is computed from prices of
        the test part. None is the horizon ``y`` tells (``make_labels`` metadata in
        its ``attrs``, else its name such as ``fwd_ret_5``; a frame of labels: the
        longest), else 0. An explicit value below that horizon - 1 warns.

    Returns
    -------
    splits : list
        ``[X_train, X_test]``, or ``[X_train, X_test, y_train, y_test]`` with ``y``,
        each of the input's type and in its row order.

    Raises
    ------
    ValueError
        If both or invalid sizes are given, either part would be empty, or ``y``'s
        index differs from ``X``'s (the parts are cut by position; a default
        ``RangeIndex`` on ``y`` pairs by position).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skquant import time_train_test_split
    >>> X = pd.DataFrame({"f": np.arange(10.0)},
    ...                  index=pd.bdate_range("2024-01-01", periods=10))
    >>> X_train, X_val = time_train_test_split(X, test_days=3, embargo_days=1)
    >>> len(X_train), len(X_val)
    (6, 3)
    """
    if test_days is not None and test_size is not None:
        raise ValueError("Give test_days or test_size, not both.")
    if test_days is not None and (
        not isinstance(test_days, Integral) or isinstance(test_days, bool) or test_days < 1
    ):
        raise ValueError(f"test_days must be an int >= 1, got {test_days!r}.")
    if test_size is not None and (
        not isinstance(test_size, Real) or isinstance(test_size, bool) or not 0 < test_size < 1
    ):
        raise ValueError(f"test_size must be a float in (0, 1), got {test_size!r}.")
    if embargo_days is not None and (
        not isinstance(embargo_days, Integral) or isinstance(embargo_days, bool) or embargo_days < 0
    ):
        raise ValueError(f"embargo_days must be an int >= 0 or None, got {embargo_days!r}.")
    given_embargo = embargo_days
    embargo_days = tail_embargo(
        "time_train_test_split", y, embargo_days, held_out="the latest dates as its test part"
    )
    arrays = indexable(X) if y is None else indexable(X, y)
    check_same_rows(X, y)  # the parts are cut by position
    codes, periods = period_codes(arrays[0])
    if dates_of(arrays[0]) is None:  # rows as dates: right for one series, not a panel
        warn_rows_as_dates("time_train_test_split", groups=False)
    n_dates = len(periods)
    n_test = test_days if test_days is not None else math.ceil((test_size or 0.25) * n_dates)
    n_train = n_dates - n_test - embargo_days
    if n_test < 1 or n_train < 1:
        # name what was passed: test_size=0.5 was reported as test_days=1
        size = (
            f"test_days={n_test}"
            if test_days is not None
            else f"test_size={test_size or 0.25} ({n_test} dates)"
        )
        embargo = f"embargo_days={embargo_days}" + (
            " (the horizon y tells)" if given_embargo is None and embargo_days else ""
        )
        raise ValueError(
            f"X has {n_dates} distinct dates; {size} and {embargo} leave "
            f"{max(n_train, 0)} for training (need >= 1)."
        )
    train = np.flatnonzero(codes < n_train)
    test = np.flatnonzero(codes >= n_dates - n_test)
    out = []
    for a in arrays:
        out.extend([_safe_indexing(a, train), _safe_indexing(a, test)])
    return out
