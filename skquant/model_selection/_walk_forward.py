"""Walk-forward splitter: rolling (or anchored) training windows, counted in dates."""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import NamedTuple

import numpy as np

from skquant.model_selection._base import BaseTimeSplitter
from skquant.utils._docs import fill_doc
from skquant.utils._sklearn_compat import Interval


class FoldDates(NamedTuple):
    """One fold as half-open ranges of date positions into the sorted distinct dates."""

    train_start: int
    train_stop: int
    test_start: int
    test_stop: int


@fill_doc
class WalkForwardSplit(BaseTimeSplitter):
    """Walk-forward cross-validation over distinct trading dates.

    Each fold trains on a window of past dates and tests on the dates that follow
    it; the next fold moves both forward by ``step_days``. Every count is in
    distinct dates, not rows, so a panel (one row per date and symbol, in any row
    order) never has one date on both sides of a split.

    With ``D`` the sorted distinct dates and ``n = len(D)``, fold ``k`` tests
    ``D[s_k : s_k + test_days]`` where ``s_k = train_days + embargo_days + k *
    step_days``, and trains on ``D[s_k - embargo_days - train_days : s_k -
    embargo_days]`` (from ``D[0]`` when ``expanding``). Folds exist for every ``k``
    with ``s_k < n``, so test windows near the end are cut short by the end of the
    data. A fold whose training set has fewer than ``min_train_samples`` rows is
    skipped, never shrunk.

    ``train_days=6, test_days=3, step_days=3, embargo_days=1`` on 16 dates
    (``*`` train, ``.`` embargo, ``x`` test, ``-`` unused)::

        date    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
        fold 0 | * * * * * * . x x x -  -  -  -  -  - |
        fold 1 | - - - * * * * * * . x  x  x  -  -  - |
        fold 2 | - - - - - - * * * * *  *  .  x  x  x |

    The same with ``expanding=True``: the training window stays anchored at date 0::

        fold 0 | * * * * * * . x x x -  -  -  -  -  - |
        fold 1 | * * * * * * * * * . x  x  x  -  -  - |
        fold 2 | * * * * * * * * * * *  *  .  x  x  x |

    Parameters
    ----------
    train_days : int, default=252
        Dates in each training window (the first window's size when ``expanding``).
    test_days : int, default=63
        Dates in each test window (the last windows may be shorter).
    step_days : int, default=21
        Dates between the starts of consecutive test windows. With
        ``step_days < test_days`` test windows overlap.
    min_train_samples : int, default=1000
        Folds whose training set has fewer rows are skipped.
    embargo_days : int, default=0
        Dates dropped between each training window and its test window. Labels
        that look ``h`` periods ahead need ``embargo_days >= h`` so that no training
        label overlaps the test window; ``split`` warns below ``h - 1`` when ``y``
        tells its horizon (a name such as ``fwd_ret_5``, ``make_labels`` metadata).
    expanding : bool, default=False
        Anchor every training window at the first date instead of rolling it.

    See Also
    --------
    time_train_test_split : one chronological train/test split.
    sklearn.model_selection.TimeSeriesSplit : the row-counting equivalent.

    Notes
    -----
    {splitter.dates}
    Inside ``RFECV`` or other tools that turn ``X`` into an array first, pass the
    dates as ``groups`` (``selector.fit(X, y, groups=dates)``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skquant import WalkForwardSplit
    >>> X = pd.DataFrame({"f": np.arange(16.0)},
    ...                  index=pd.bdate_range("2024-01-01", periods=16))
    >>> cv = WalkForwardSplit(train_days=6, test_days=3, step_days=3,
    ...                       embargo_days=1, min_train_samples=1)
    >>> cv.get_n_splits(X)
    3
    >>> for train, test in cv.split(X):
    ...     print(train.tolist(), test.tolist())
    [0, 1, 2, 3, 4, 5] [7, 8, 9]
    [3, 4, 5, 6, 7, 8] [10, 11, 12]
    [6, 7, 8, 9, 10, 11] [13, 14, 15]
    """

    _parameter_constraints: dict = {
        "train_days": [Interval(Integral, 1, None, closed="left")],
        "test_days": [Interval(Integral, 1, None, closed="left")],
        "step_days": [Interval(Integral, 1, None, closed="left")],
        "min_train_samples": [Interval(Integral, 0, None, closed="left")],
        "embargo_days": [Interval(Integral, 0, None, closed="left")],
        "expanding": ["boolean"],
    }

    def __init__(
        self,
        train_days=252,
        test_days=63,
        step_days=21,
        min_train_samples=1000,
        embargo_days=0,
        expanding=False,
    ):
        self.train_days = train_days
        self.test_days = test_days
        self.step_days = step_days
        self.min_train_samples = min_train_samples
        self.embargo_days = embargo_days
        self.expanding = expanding

    def fold_dates(self, rows_per_date: np.ndarray) -> list[FoldDates]:
        """Lay the folds on dates with ``rows_per_date[i]`` rows on the i-th date.

        Parameters
        ----------
        rows_per_date : ndarray of shape (n_dates,)
            Row count of each sorted distinct date.

        Returns
        -------
        folds : list of FoldDates
            Half-open date-position ranges of each kept fold, in time order.

        Raises
        ------
        ValueError
            If the dates are too few for one fold, or no fold has
            ``min_train_samples`` training rows.
        """
        self._validate_params()
        n_dates = len(rows_per_date)
        first_test = self.train_days + self.embargo_days
        if n_dates <= first_test:
            raise ValueError(
                f"The data has {n_dates} distinct dates; one walk-forward fold needs at "
                f"least train_days + embargo_days + 1 = {first_test + 1} "
                f"(train_days={self.train_days}, embargo_days={self.embargo_days}, "
                "and at least one test date)."
            )
        cumulative = np.concatenate([[0], np.cumsum(rows_per_date)])
        folds, largest = [], 0
        for start in range(first_test, n_dates, self.step_days):
            train_stop = start - self.embargo_days
            train_start = 0 if self.expanding else train_stop - self.train_days
            n_train = int(cumulative[train_stop] - cumulative[train_start])
            largest = max(largest, n_train)
            if n_train < self.min_train_samples:
                continue
            folds.append(
                FoldDates(train_start, train_stop, start, min(start + self.test_days, n_dates))
            )
        if not folds:
            raise ValueError(
                f"No walk-forward fold has min_train_samples={self.min_train_samples} "
                f"training rows: the largest training window holds {largest} rows. Lower "
                "min_train_samples or raise train_days."
            )
        return folds

    def _split(self, codes: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rows_per_date = np.bincount(codes)
        for fold in self.fold_dates(rows_per_date):
            train = np.flatnonzero((codes >= fold.train_start) & (codes < fold.train_stop))
            test = np.flatnonzero((codes >= fold.test_start) & (codes < fold.test_stop))
            yield train, test
