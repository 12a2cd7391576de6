"""The base of skquant's time splitters: find each row's period, validate, call ``_split``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import indexable

from skquant.utils._sklearn_compat import _num_samples, validate_parameter_constraints
from skquant.utils._target import known_horizon, target_label
from skquant.utils._time import check_text_dates, dates_of, warn_rows_as_dates
from skquant.utils._warnings import caller_stacklevel

# Appended to a splitter's error when X has no dates and no groups were given.
_NO_DATES = (
    "X carries no dates (no DatetimeIndex or datetime MultiIndex level, and no "
    "groups), so each row was taken as its own date in row order. RFECV and other "
    "scikit-learn tools turn a DataFrame into an array: on a panel, pass each row's "
    "date as groups, e.g. selector.fit(X, y, groups=dates)."
)


def check_same_rows(X, y) -> None:
    """Refuse a ``y`` whose index differs from ``X``'s: rows are taken by position, so
    another row order (or other rows) would pair each row with another row's label.
    A default 0..n-1 index on ``y`` (or no index) pairs by position, as scikit-learn
    does."""
    x_index, y_index = getattr(X, "index", None), getattr(y, "index", None)
    if not (isinstance(x_index, pd.Index) and isinstance(y_index, pd.Index)):
        return
    default = isinstance(y_index, pd.RangeIndex) and y_index.equals(pd.RangeIndex(len(y)))
    if not default and not x_index.equals(y_index):
        raise ValueError(
            "y's index differs from X's (another row order or other rows): align "
            "them first, e.g. y = y.loc[X.index]."
        )


def period_codes(X, groups=None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(codes, periods)``: each row's period as an int code into sorted ``periods``.

    Periods are, in order of preference, the values of ``groups`` (any sortable labels,
    usually dates), the dates of ``X`` (a ``DatetimeIndex`` or a datetime level of a
    ``MultiIndex``, see :func:`skquant.utils._time.dates_of`), or else the row
    positions, so that a plain array is taken as one row per period in time order.
    """
    n = _num_samples(X)
    if groups is not None:
        values = np.asarray(groups)
        if values.ndim != 1 or len(values) != n:
            raise ValueError(
                f"groups must be 1-D with one label per row of X ({n}), got shape {values.shape}."
            )
        missing = pd.isna(values)
        if missing.any():
            raise ValueError(
                f"groups holds {int(missing.sum())} missing labels (NaN, NaT or None); "
                "every row needs a period label."
            )
    else:
        values = dates_of(X)
        if values is None:
            return np.arange(n), np.arange(n)
        if pd.isna(values).any():
            raise ValueError("The dates of X hold NaT; every row needs a date.")
    periods, codes = np.unique(values, return_inverse=True)
    if groups is not None and periods.dtype.kind in "OUS":
        check_text_dates(periods, "groups", "a time splitter sorts the groups")
    return codes.reshape(-1), periods


class BaseTimeSplitter(BaseCrossValidator):
    """Base class of the skquant time splitters (not for direct use).

    ``split`` and ``get_n_splits`` validate the parameters, find each row's period
    with :func:`period_codes` and hand the codes to ``_split``, which yields
    ``(train, test)`` arrays of row positions. Periods are whole: rows that share a
    period always fall on the same side of a split.
    """

    # groups is used (as the dates) whenever it is passed
    __metadata_request__split = {"groups": True}

    _parameter_constraints: dict = {}

    def _validate_params(self) -> None:
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name)
            # scikit-learn's Interval(Integral) takes True for 1; a count is no flag
            if isinstance(value, (bool, np.bool_)) and "boolean" not in constraints:
                raise ValueError(
                    f"The {name!r} parameter of {type(self).__name__} must be an int, "
                    f"got {value!r}."
                )

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate row positions of each fold's training and test sets.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The data. A ``DatetimeIndex`` or a ``MultiIndex`` with a datetime level
            gives the dates; rows may come in any order.
        y : array-like of shape (n_samples,), default=None
            Only read for its label horizon: a Series (or frame) that tells one
            (``make_labels`` metadata in its ``attrs``, else its name such as
            ``fwd_ret_5``; scikit-learn's search and ``cross_validate`` pass ``y`` as
            given, ``RFECV`` as an array) warns when the splitter leaves fewer than
            horizon - 1 dates between training labels and a test window.
        groups : array-like of shape (n_samples,), default=None
            Each row's date (or any sortable period label). Wins over the index of
            ``X``; needed when ``X`` is a plain array (e.g. inside ``RFECV``) and
            several rows share a date.

        Yields
        ------
        train : ndarray of shape (n_train,)
            Row positions of the training set, ascending.
        test : ndarray of shape (n_test,)
            Row positions of the test set, ascending.
        """
        self._validate_params()
        codes, _ = period_codes(X, groups)  # first: it names groups of the wrong length
        self._warn_if_short_of_horizon(y)
        X, y, groups = indexable(X, y, groups)
        rows_as_dates = groups is None and dates_of(X) is None
        if rows_as_dates:
            warn_rows_as_dates(type(self).__name__)
        try:
            yield from self._split(codes)
        except ValueError as exc:
            if not rows_as_dates:
                raise
            raise ValueError(f"{exc} {_NO_DATES}") from exc

    # The parameter that keeps training labels off a test window's prices: at least
    # the target's label horizon - 1 (the threshold of skquant's other splits)
    _horizon_param: ClassVar[str] = "embargo_days"

    def _warn_if_short_of_horizon(self, y) -> None:
        """Warn when ``y`` tells a label horizon h and the splitter's
        ``_horizon_param`` is below h - 1 (a label of row t spans t .. t + h)."""
        known = None if y is None else known_horizon(y)
        value = getattr(self, self._horizon_param)
        if known is None or value >= known[0] - 1:
            return
        horizon, source = known
        warnings.warn(
            f"{type(self).__name__} has {self._horizon_param}={value}, but y "
            f"{target_label(y)} spans {horizon} periods (by its {source}): the training "
            "labels just before each test window are computed from its prices, so the "
            f"out-of-sample score is inflated. Pass {self._horizon_param}={horizon} (what "
            "the walk-forward tools' embargo_days='auto' uses).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Return the number of folds ``split`` yields on ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The data; required, because the folds depend on its dates.
        y : object
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Each row's date, as in ``split``.

        Returns
        -------
        n_splits : int
        """
        if X is None:
            raise ValueError(
                f"{type(self).__name__}.get_n_splits needs X: the number of folds "
                "depends on the dates in the data."
            )
        return sum(1 for _ in self.split(X, y, groups))

    def _split(self, codes: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover - unused
        for _, test in self.split(X, y, groups):
            yield test
