"""The leak guard: how far a label looks ahead, and which columns may be features.

One place decides both rules, and every caller (the walk-forward engine, the
``walkforward``, ``train-all`` and ``build-features`` commands) uses it:

- :func:`label_horizon`: the number of periods a label looks ahead, from
  :func:`skquant.make_labels` metadata (``DataFrame.attrs``), else the column's
  name (``fwd_ret_5``, ``ret_5d``), else the label's own autocorrelation
  (overlapping h-period labels correlate about ``(h - k) / h`` at lag k).
- :func:`leak_scores` / :func:`select_features`: a column leaks when it knows a
  label's future better than its past: its absolute Spearman correlation with the
  label exceeds its absolute correlation with the same label lagged by the
  horizon + 1 (per symbol: the latest value already known at that row), or that of
  its own value ``max(horizon + 1, 21)`` periods earlier (a centred window), by more
  than ``leak_threshold``. Genuine trailing features score near 0 (a trailing
  volatility correlates with a time-to-hit label, but just as much with its past);
  a label under another name scores far above.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import pandas as pd

from skquant.labels import LABELS_ATTR, is_label_like
from skquant.utils._panel import refuse_keys_in_columns, series_positions
from skquant.utils._target import is_binary_target, label_span, recorded_horizon
from skquant.utils._warnings import LeakageWarning, caller_stacklevel

__all__ = [
    "ID_COLUMNS",
    "LabelHorizon",
    "LabelPlan",
    "LeakageWarning",
    "candidate_features",
    "default_target",
    "label_horizon",
    "leak_scores",
    "plan_labels",
    "pnl_column",
    "resolve_embargo",
    "select_features",
]

# Column names that identify rows rather than describe them: never features.
ID_COLUMNS = frozenset({"date", "symbol", "ticker", "timestamp", "datetime"})
# A label's horizon written in its name: fwd_ret_5, ret_5d, y_up_10days.
# Autocorrelation below this (or below 3 / sqrt(pairs)) counts as noise.
_ACF_NOISE = 0.1
_MAX_ACF_LAG = 63
# Most classes a label's horizon is estimated for (one indicator each).
_MAX_CLASSES = 50
# The leak guard also compares a column with its own value this many periods earlier
# (or the label horizon + 1, if longer): longer than the half-width of the centred
# windows (5, 11, 21 periods) that hide a label's future in a column.
_FEATURE_LAG = 21
# That comparison counts beyond its noise only: 2 / sqrt(pairs), two standard errors of
# a correlation. On one symbol's 500 days a genuine signal (IC 0.2) whose value 21 days
# earlier knows nothing of the label would otherwise score its whole IC.
_NOISE_PAIRS = 2.0
# Spearman correlations on more rows than this use an evenly spaced subset.
_MAX_ROWS = 250_000


class LabelHorizon(NamedTuple):
    """How far a label looks ahead, and how that was found."""

    horizon: int
    """Periods the label spans (1 for a next-period return)."""
    source: str
    """``"metadata"`` (make_labels), ``"name"`` or ``"autocorrelation"``."""


def _metadata(data) -> dict:
    return dict(getattr(data, "attrs", {}).get(LABELS_ATTR) or {})


def _numeric(frame: pd.DataFrame, column) -> bool:
    return _numeric_dtype(frame[column].dtype)


def _numeric_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def default_target(data: pd.DataFrame) -> str:
    """The data's one-period forward return: the column make_labels metadata marks, else ``fwd_ret``.

    Raises
    ------
    ValueError
        When there is none; the message lists the label-like columns to choose from.
    """
    marked = _metadata(data).get("one_period_return")
    if marked in data.columns:
        return marked
    if "fwd_ret" in data.columns:
        return "fwd_ret"
    labels = [str(c) for c in data.columns if is_label_like(c)]
    raise ValueError(
        "target=None means the data's one-period forward return ('fwd_ret', as make_labels "
        "names it), and the data has no such column; pass target= (label-like columns: "
        f"{', '.join(labels) if labels else 'none'})."
    )


def resolve_embargo(embargo_days, horizon: LabelHorizon, target) -> int:
    """The embargo in dates: ``"auto"`` is the label horizon; an int below horizon - 1 warns.

    A training label of horizon h on the last training date reaches ``h`` dates ahead;
    with fewer than ``h - 1`` dates between training and test, it is computed from
    prices the test window trades on.

    Raises
    ------
    ValueError
        If ``embargo_days`` is neither ``"auto"`` nor an int >= 0.
    """
    if isinstance(embargo_days, str) and embargo_days == "auto":
        if horizon.source == "autocorrelation" and horizon.horizon > 1:
            warnings.warn(
                f"The target {target!r} carries no horizon (no make_labels metadata, none in "
                f"its name): embargo_days='auto' is {horizon.horizon} dates, estimated from "
                "its autocorrelation (an estimate that errs long). Pass embargo_days= with "
                f"the label's true horizon H, name it '{target}_H', or keep make_labels' "
                "metadata (parquet files keep it, CSV files do not).",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return int(horizon.horizon)
    if not isinstance(embargo_days, Integral) or isinstance(embargo_days, bool) or embargo_days < 0:
        raise ValueError(f"embargo_days must be an int >= 0 or 'auto', got {embargo_days!r}.")
    if embargo_days < horizon.horizon - 1:
        warnings.warn(
            f"embargo_days={embargo_days} is below the label horizon - 1 = "
            f"{horizon.horizon - 1} of the target {target!r} (horizon {horizon.horizon}, by "
            f"{horizon.source}): training labels overlap the test window and the "
            "out-of-sample numbers are inflated. Use embargo_days='auto'.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return int(embargo_days)


def pnl_column(
    data: pd.DataFrame, target, return_col=None, *, target_horizon: LabelHorizon | None = None
) -> tuple[str | None, str]:
    """The one-period return column positions earn, or None and the reason there is none.

    With ``return_col`` given it is that column, checked to span one period. Without
    it, the target itself, but only when it is a one-period return: a binary label is
    no return, and a multi-period return compounded as if it were one period inflates
    every number.

    Returns
    -------
    column : str or None
    reason : str
        Why ``column`` is None (empty otherwise).

    Raises
    ------
    ValueError
        If ``return_col`` spans several periods by make_labels metadata or its name.
    """
    h_target = target_horizon or label_horizon(data, target)
    if return_col is None:
        if is_binary_target(data[target].dropna()):
            return None, (
                f"The target {target!r} is binary (a label, not a return): pass return_col= "
                "with the one-period forward return the positions earn."
            )
        if h_target.horizon > 1:
            hint = " such as 'fwd_ret'" if "fwd_ret" in data.columns else ""
            return None, (
                f"return_col=None books the target {target!r} as the P&L, but it spans "
                f"{h_target.horizon} periods (found by {h_target.source}): compounding it as "
                "a one-period return would inflate every number. Pass return_col= with a "
                f"one-period forward return column{hint}."
            )
        _warn_if_not_a_label(data, target)
        return target, ""
    if return_col != target:
        _warn_if_trailing(data, target, return_col)
    else:
        _warn_if_not_a_label(data, target)
    horizon, source = h_target if return_col == target else label_horizon(data, return_col)
    if horizon > 1 and source != "autocorrelation":
        raise ValueError(
            f"return_col={return_col!r} spans {horizon} periods (by its {source}); positions "
            "earn one-period returns: pass the next-period return (e.g. 'fwd_ret')."
        )
    if horizon > 1:
        warnings.warn(
            f"return_col={return_col!r} overlaps itself like a multi-period return (its "
            f"autocorrelation puts its horizon at about {horizon}, an estimate that errs "
            "long); the P&L assumes one-period returns.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return return_col, ""


def _warn_if_not_a_label(data: pd.DataFrame, target) -> None:
    """Warn when the P&L is booked on the target and make_labels' metadata, which the
    data carries, does not list the target among its labels, nor does its name look
    like a label's (``fwd_*``, ``y_*``, ``target_*``): a feature such as a
    trailing ``ret_1`` (realised by its row's date) booked as the P&L is look-ahead,
    and with the target as its own return column nothing else could tell (a Sharpe
    ratio of 33 on a one-day momentum signal, silently: audit)."""
    labels = _metadata(data).get("horizons") or {}
    # a label renamed after make_labels (fwd_ret_1w, target_5d) keeps a label's name
    if labels and target not in labels and not is_label_like(target):
        warnings.warn(
            f"The P&L is booked on the target {target!r}, which is not one of the labels "
            f"make_labels made for this data ({', '.join(map(repr, list(labels)[:4]))}"
            f"{', ...' if len(labels) > 4 else ''}): if it is a trailing return (realised "
            "by its row's own date, known before the trade), every number is look-ahead. "
            "Book a forward one-period return (return_col='fwd_ret').",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


# How much better a return column's next value must track the target than its own row
# before it is taken for a trailing return.
# Measured (synthetic and demo panels): a forward return scores -0.32 to -0.01 against
# every make_labels target, a trailing ret_1 0.31 (y_will_peak) to 0.99 (fwd_ret).
_TRAILING_MARGIN = 0.2


def _warn_if_trailing(data: pd.DataFrame, target, return_col) -> None:
    """Warn when ``return_col`` looks one period late against the target: a trailing
    return (realised by its row's date), or a target delayed by an execution lag.

    Positions decided on a row earn the return from that row to the next. A trailing
    return (``close_t / close_{t-1} - 1``) is known when the position is taken, so a
    P&L booked on it is look-ahead; it shows as its *next* value tracking the target
    (a forward label) far better than its own row does: 1.00 against 0.01 for a
    trailing ``ret_1`` and the target ``fwd_ret``.
    """
    order, codes = series_order(data)
    stride = max(1, int(np.ceil(len(order) / _MAX_ROWS)))
    y = data[target].to_numpy(dtype=np.float64)[order]
    r = _SortedValues(data[return_col].to_numpy(dtype=np.float64)[order][::stride])
    same = abs(np.nan_to_num(_spearman(_SortedValues(y[::stride]), r)))
    nxt = abs(np.nan_to_num(_spearman(_SortedValues(_shift_within(y, codes, 1)[::stride]), r)))
    if nxt - same > _TRAILING_MARGIN:
        warnings.warn(
            f"return_col={return_col!r} looks one period late against the target "
            f"{target!r}: its next period tracks the target (Spearman {nxt:.2f}) far better "
            f"than its own row does ({same:.2f}). If it is a trailing return (realised by "
            "the row's own date, known before the trade), every number booked on it is "
            "look-ahead: positions taken on a row earn the return from that row to the "
            "next (a forward return such as 'fwd_ret'). If the target starts a period "
            "later (an execution lag), book the return of the period it starts in.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def series_order(data) -> tuple[np.ndarray, np.ndarray | None]:
    """Row order by symbol then date, and each sorted row's series number (None for one
    series). Dates or symbols kept in columns the index lacks raise ``ValueError``."""
    refuse_keys_in_columns(data)
    positions = series_positions(data)
    order = np.concatenate(positions)
    if len(positions) == 1:
        return order, None
    return order, np.repeat(np.arange(len(positions)), [len(p) for p in positions])


def _shift_within(values: np.ndarray, codes: np.ndarray | None, lag: int) -> np.ndarray:
    """``values`` (sorted by symbol, then date) shifted down by ``lag`` rows within each symbol."""
    out = np.full(len(values), np.nan)
    if lag >= len(values):
        return out
    out[lag:] = values[:-lag]
    if codes is not None:
        out[lag:][codes[lag:] != codes[:-lag]] = np.nan
    return out


def _autocorrelation_horizon(values: np.ndarray, codes: np.ndarray | None, column) -> int:
    x = np.where(np.isfinite(values), values, np.nan)  # an infinite value is no overlap
    if codes is not None:  # each symbol around its own mean
        means = pd.Series(x).groupby(codes).transform("mean").to_numpy()
        x = x - means
    else:
        x = x - np.nanmean(x)
    n_dates = len(x) if codes is None else int(np.bincount(codes).max())
    max_lag = max(1, min(_MAX_ACF_LAG, n_dates // 4))
    acf = np.nan
    for lag in range(1, max_lag + 1):
        lagged = _shift_within(x, codes, lag)
        ok = np.isfinite(x) & np.isfinite(lagged)
        n = int(ok.sum())
        if n < 3:
            break
        a, b = x[ok], lagged[ok]
        denom = np.sqrt(np.dot(a, a) * np.dot(b, b))
        acf = float(np.dot(a, b) / denom) if denom > 0 else 0.0
        if acf < max(_ACF_NOISE, 3.0 / np.sqrt(n)):
            # no overlap at lag 1: a one-period label; else the overlap fades to noise
            # before the horizon (at 0.6 h for a time-to-hit or peak label, 0.9 h for
            # a return), so the estimate is twice the lag, erring long
            return lag if lag == 1 else min(2 * lag, _MAX_ACF_LAG)
    warnings.warn(
        f"The autocorrelation of {column!r} is still {acf:.2f} at lag {max_lag}; its label "
        f"horizon is taken as {max_lag}. Name the horizon (e.g. '{column}_5'), use make_labels, "
        "or pass embargo_days explicitly.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    return max_lag


def label_horizon(data: pd.DataFrame, column) -> LabelHorizon:
    """How many periods the label ``column`` looks ahead.

    Parameters
    ----------
    data : DataFrame
        Indexed by date or by a (date, symbol) panel, in any row order.
    column : str
        The label column.

    Returns
    -------
    horizon : LabelHorizon
        ``(horizon, source)``: from make_labels metadata in ``data.attrs`` when
        present, else from the name (``fwd_ret`` is 1, ``fwd_ret_5`` and ``ret_5d``
        are 5; a number in days, ``ret_5d`` or ``y_5days``, counts trading days, so on
        intraday dates it is that many days of bars: ``fwd_ret_1d`` on 7 hourly bars a
        day is 7, while ``fwd_ret_7`` is 7 bars), else twice the first lag at which the label's per-symbol
        autocorrelation falls to noise (below 0.1 and below 3 / sqrt(pairs)); 1 when
        that is lag 1. The overlap of h-period labels fades to noise before lag h
        (at about 0.6 h for a time-to-hit label), so the doubled lag errs long.
        A label of classes (strings, categories) is estimated from each class's
        indicator, the longest.

    Raises
    ------
    ValueError
        If a label of classes has none (all missing) or more than 50 classes: pass
        the horizon (``embargo_days=``) instead. If the horizon is estimated and
        ``data`` keeps its dates or symbols in columns its index lacks (see
        :func:`leak_scores`).

    Examples
    --------
    >>> from skquant import label_horizon, make_synthetic_panel
    >>> panel = make_synthetic_panel(n_symbols=2, n_days=60, random_state=0)
    >>> label_horizon(panel, "fwd_ret_5")
    LabelHorizon(horizon=5, source='metadata')
    """
    known = recorded_horizon(column, getattr(data, "attrs", None), data)
    if known is not None:
        return LabelHorizon(*known)
    order, codes = series_order(data)
    label = data[column]
    if not pd.api.types.is_numeric_dtype(label):  # numbers stored as objects stay numbers
        numbers = pd.to_numeric(label, errors="coerce")
        if numbers.notna().sum() == label.notna().sum():
            label = numbers
    if pd.api.types.is_numeric_dtype(label):  # bool included: its 0/1
        values = label.to_numpy(dtype=np.float64, na_value=np.nan)[order]
        return LabelHorizon(_autocorrelation_horizon(values, codes, column), "autocorrelation")
    # class labels ("peak"/"flat"): a class's indicator overlaps for as long as the label
    # looks ahead (a string label raised numpy's bare "could not convert string to
    # float"); the longest over the classes, one for two (complements: the same overlap)
    classes, uniques = pd.factorize(label)
    classes = classes[order]
    known = classes >= 0  # a missing label stays missing in every indicator
    wanted = uniques[:1] if len(uniques) == 2 else uniques
    if not 0 < len(wanted) <= _MAX_CLASSES:
        raise ValueError(
            f"The label {column!r} has {len(uniques)} classes: its horizon cannot be "
            f"estimated from its autocorrelation (1 to {_MAX_CLASSES} classes can); pass "
            f"embargo_days= with the label's horizon, or name it '{column}_H'."
        )
    horizon = max(
        _autocorrelation_horizon(np.where(known, classes == k, np.nan), codes, column)
        for k in range(len(wanted))
    )
    return LabelHorizon(horizon, "autocorrelation")


class _SortedValues:
    """One variable sorted once, so that its ranks within any subset of rows cost O(n).

    ``ranks(mask)`` equals ``pandas.Series(values[mask]).rank()`` (average ranks of
    ties) for a mask of finite values: the subset's sorted order is the full sorted
    order with the other rows left out. The leak guard ranks each column and label
    within several masks (the rows where both of a pair are finite).
    """

    def __init__(self, values: np.ndarray):
        order = np.argsort(values)  # tied values share a rank: their order is moot
        self.finite = np.isfinite(values)
        self.order = order[self.finite[order]]
        self.sorted = values[self.order]

    def ranks(self, mask: np.ndarray) -> np.ndarray:
        keep = mask[self.order]
        values = self.sorted[keep]
        firsts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        lasts = np.r_[firsts[1:] - 1, len(values) - 1]
        # ties share the mean of their ordinal ranks (firsts + 1 ... lasts + 1)
        ranked = np.empty(len(mask))
        ranked[self.order[keep]] = np.repeat((firsts + lasts + 2) / 2.0, lasts - firsts + 1)
        return ranked[mask]


def _spearman(a: _SortedValues, b: _SortedValues) -> float:
    ok = a.finite & b.finite
    if ok.sum() < 10:
        return float("nan")
    ra, rb = a.ranks(ok), b.ranks(ok)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))
    return float(np.dot(ra, rb) / denom) if denom > 0 else float("nan")


def leak_scores(
    data: pd.DataFrame, columns, target, return_col=None, *, horizon: int | None = None
) -> pd.Series:
    """How much better each column knows a label's future than its past.

    For each label (``target``, and ``return_col`` when given) a column is compared
    with two things known at its row, per symbol: the label lagged by ``h + 1`` (the
    latest label already known; ``h`` is the label's horizon) and the column's own
    value ``max(h + 1, 21)`` periods earlier. Its score is
    ``|spearman(column, label)|`` minus the smaller of ``|spearman(column, lagged
    label)|`` and ``|spearman(lagged column, label)| + 2 / sqrt(pairs)`` (the second
    counts beyond its noise, and is skipped with fewer than 10 pairs); a column's
    score is its largest over the labels. The first comparison catches a label under
    another name; the second a column that straddles its row, such as a centred
    moving average, which correlates with the label's past as much as with its
    future (it scored 0.03 against the first and 0.60 against the second).

    On the demo data (S&P 500 and NASDAQ daily, 5-day labels) labels under other
    names score 0.37 to 0.98 against a multi-period target and 0.32 to 0.63 against
    the next-day return; genuine trailing features score at most 0.05 against
    returns, but a persistent one can score above the threshold against a
    volatility-driven label (``dist_high_21`` 0.33 against ``TTH``, ``range`` 0.22
    against ``MFE``): the rule errs on the side of leaving a column out, and says so.
    It is a heuristic: a column that holds only a little of the future (a 30-day
    forward sum correlates 0.16 with the next day's return) can score below it.

    Parameters
    ----------
    data : DataFrame
        Indexed by date or by a (date, symbol) panel, in any row order.
    columns : list of str
        Candidate feature columns (numeric).
    target : str
        The label the model learns.
    return_col : str, default=None
        The one-period return the positions earn, scored as a second label.
    horizon : int, default=None
        The target's horizon; None finds it with :func:`label_horizon`.

    Returns
    -------
    scores : Series
        Indexed by column, sorted descending (NaN for a constant column counts as 0).

    Raises
    ------
    ValueError
        If ``data`` keeps its dates or symbols in columns its index lacks (``date``
        and ``symbol`` columns beside a RangeIndex): its rows would be one series in
        row order, lags crossing symbols. The error names the ``set_index`` call.
    """
    order, codes = series_order(data)
    h_target = horizon if horizon is not None else label_horizon(data, target).horizon
    labels = [(target, int(h_target))]
    if return_col is not None and return_col != target:
        labels.append((return_col, label_horizon(data, return_col).horizon))
    stride = max(1, int(np.ceil(len(order) / _MAX_ROWS)))
    pairs = []
    for name, h in labels:
        y = data[name].to_numpy(dtype=np.float64)[order]
        lagged = _shift_within(y, codes, h + 1)
        feature_lag = max(h + 1, _FEATURE_LAG)
        pairs.append((_SortedValues(y[::stride]), _SortedValues(lagged[::stride]), feature_lag))
    scores = {}
    for col in columns:
        values = data[col].to_numpy(dtype=np.float64)[order]
        x = _SortedValues(values[::stride])
        lagged_x = {
            lag: _SortedValues(_shift_within(values, codes, lag)[::stride])
            for lag in {lag for _, _, lag in pairs}
        }
        best = 0.0
        for y, lagged, lag in pairs:
            known = abs(np.nan_to_num(_spearman(x, lagged)))
            earlier = _spearman(lagged_x[lag], y)
            if np.isfinite(earlier):  # too few pairs (short data): the first comparison alone
                pairs_seen = int((lagged_x[lag].finite & y.finite).sum())
                known = min(known, abs(earlier) + _NOISE_PAIRS / np.sqrt(pairs_seen))
            best = max(best, float(np.nan_to_num(abs(_spearman(x, y)) - known)))
        scores[col] = best
    return pd.Series(scores, dtype=np.float64, name="leak_score").sort_values(ascending=False)


def candidate_features(data: pd.DataFrame, exclude=()) -> list[str]:
    """The name rule alone: numeric columns that are not in ``exclude``, label-like or an id."""
    skip = set(exclude)
    return [
        c
        for c, dtype in data.dtypes.items()  # one pass, not a Series per column
        if c not in skip
        and str(c).lower() not in ID_COLUMNS
        and not is_label_like(c)
        and _numeric_dtype(dtype)
    ]


def select_features(
    data: pd.DataFrame,
    target,
    return_col=None,
    features=None,
    *,
    horizon: int | None = None,
    leak_threshold: float | None = 0.2,
    exclude=(),
) -> list[str]:
    """The feature columns, with the leak guard applied.

    Parameters
    ----------
    data : DataFrame
        Features and labels, indexed by date or a (date, symbol) panel.
    target : str
        The label the model learns.
    return_col : str, default=None
        The one-period return the positions earn; never a feature, and scored
        as a second label.
    features : list of str, default=None
        Explicit feature columns (checked), or None for every numeric column that
        is not ``target``, ``return_col``, in ``exclude``, label-like by name
        (:func:`skquant.labels.is_label_like`) or an id (``date``, ``symbol``...).
    horizon : int, default=None
        The target's horizon; None finds it with :func:`label_horizon`.
    leak_threshold : float or None, default=0.2
        Leak score (:func:`leak_scores`) above which a column is a leak. Default
        features leave leaks out with a :class:`LeakageWarning` naming each and
        its score; explicit features that leak raise. None switches the guard off.
    exclude : iterable of str, default=()
        Further columns that are never default features.

    Returns
    -------
    features : list of str

    Raises
    ------
    ValueError
        For an unknown, non-numeric or label column among explicit ``features``,
        an explicit leak, or no feature left; for dates or symbols kept in columns
        the index lacks (see :func:`leak_scores`).
    """
    if leak_threshold is not None and (
        not isinstance(leak_threshold, Real)
        or isinstance(leak_threshold, bool)
        or not 0 <= leak_threshold < 1
    ):
        raise ValueError(
            f"leak_threshold must be a number in [0, 1) or None, got {leak_threshold!r}."
        )
    labels = list(dict.fromkeys(c for c in (target, return_col) if c is not None))
    if features is None:
        chosen = candidate_features(data, [*labels, *exclude])
        if not chosen:
            raise ValueError(
                "data has no feature column: every numeric column is the target, the return "
                "column or a label. Pass features=[...]."
            )
    else:
        if isinstance(features, str):
            raise ValueError(
                f"features must be a list of column names, got the string {features!r}."
            )
        chosen = list(features)
        if not chosen:
            raise ValueError("features is empty; pass at least one feature column.")
        missing = [c for c in chosen if c not in data.columns]
        if missing:
            raise ValueError(
                f"Unknown feature column {missing[0]!r}"
                + (f" (and {missing[1:]})" if len(missing) > 1 else "")
                + f"; data has columns {list(data.columns)}."
            )
        for name, what in ((target, "target"), (return_col, "return_col")):
            if name is not None and name in chosen:
                raise ValueError(f"The {what} column {name!r} cannot also be a feature.")
        bad = [c for c in chosen if not _numeric(data, c)]
        if bad:
            raise ValueError(
                f"The feature column {bad[0]!r} must be numeric, got dtype {data[bad[0]].dtype}."
            )
    if leak_threshold is None:
        return chosen
    scores = leak_scores(data, chosen, target, return_col, horizon=horizon)
    leaks = scores[scores > leak_threshold]
    if leaks.empty:
        return chosen
    listed = ", ".join(f"{c} ({s:.2f})" for c, s in leaks.items())
    if features is not None:
        raise ValueError(
            f"features {list(leaks.index)} leak: each knows the future of {' / '.join(labels)} "
            f"better than its past (leak score above leak_threshold={leak_threshold}): {listed}. "
            "Remove them, or pass leak_threshold=None to keep them anyway."
        )
    warnings.warn(
        f"Left out {len(leaks)} column(s) that know the future of {' / '.join(labels)} better "
        f"than its past (leak score above leak_threshold={leak_threshold}): {listed}. Pass "
        "features= explicitly with leak_threshold=None to keep them.",
        LeakageWarning,
        stacklevel=caller_stacklevel(),
    )
    kept = [c for c in chosen if c not in leaks.index]
    if not kept:
        raise ValueError(f"Every candidate feature leaks ({listed}); pass features=[...].")
    return kept


class LabelPlan(NamedTuple):
    """What a run learns, what it earns, how far apart training and test stay, and from what."""

    target: str
    """The label the model learns."""
    return_col: str | None
    """The one-period return positions earn; None when there is none (see ``no_returns``)."""
    horizon: LabelHorizon
    """How far the target looks ahead."""
    embargo_days: int
    """Dates between training and test (``"auto"`` resolved)."""
    features: list
    """The feature columns, past the leak guard."""
    no_returns: str
    """Why ``return_col`` is None (empty otherwise)."""


def _refuse_repeated_columns(data: pd.DataFrame, target, return_col, features) -> None:
    """Refuse a repeated column name the plan reads: ``data[name]`` would be a frame.

    With ``target`` or ``features`` left to be chosen any column may be read, so any
    repeat is refused; otherwise only repeats of the named columns are (``return_col``
    None books the target).
    """
    repeated = data.columns[data.columns.duplicated()].unique()
    if repeated.empty:
        return
    if target is not None and features is not None:
        named = {target, return_col, *([features] if isinstance(features, str) else features)}
        repeated = [col for col in repeated if col in named]
    if len(repeated):
        raise ValueError(
            f"data has repeated column names: {', '.join(map(repr, repeated))}; give each "
            "column one name."
        )


def plan_labels(
    data: pd.DataFrame,
    target=None,
    return_col=None,
    features=None,
    *,
    embargo_days="auto",
    leak_threshold: float | None = 0.2,
    require_returns: bool = True,
) -> LabelPlan:
    """Every honest-numbers rule in order, for the engine and the commands alike.

    ``target=None`` is the one-period return (:func:`default_target`); the P&L column
    comes from :func:`pnl_column`; the embargo from :func:`resolve_embargo` on the
    target's :func:`label_horizon`; the features from :func:`select_features`.

    Parameters
    ----------
    require_returns : bool, default=True
        Whether a run without a one-period return column is an error (the engine
        trades) or a plan with ``return_col=None`` and the reason (``train-all``
        then reports no trading metrics).

    Raises
    ------
    ValueError
        For an unknown or non-numeric target or return column, a repeated column name
        the plan reads, a multi-period or binary target without ``return_col`` (when
        ``require_returns``), a bad embargo, or a feature the guard refuses.
    """
    _refuse_repeated_columns(data, target, return_col, features)
    if target is None:
        target = default_target(data)
    for name, what in ((target, "target"), (return_col, "return")):
        if name is None:
            continue
        if not isinstance(name, str) or name not in data.columns:
            raise ValueError(
                f"Unknown {what} column {name!r}; data has columns {list(data.columns)}."
            )
        if not pd.api.types.is_numeric_dtype(data[name]):
            raise ValueError(f"The {what} column {name!r} must be numeric.")
    horizon = label_horizon(data, target)
    pnl, reason = pnl_column(data, target, return_col, target_horizon=horizon)
    if pnl is None and require_returns:
        raise ValueError(reason)
    embargo = resolve_embargo(embargo_days, horizon, target)
    if isinstance(embargo_days, str) and horizon.source == "metadata":
        # a symbol that misses panel dates reaches further in its h rows (make_labels
        # recorded how far, and warned): "auto" covers it
        embargo = max(embargo, label_span(target, getattr(data, "attrs", None)))
    return LabelPlan(
        target=target,
        return_col=pnl,
        horizon=horizon,
        embargo_days=embargo,
        features=select_features(
            data,
            target,
            pnl,
            features,
            horizon=horizon.horizon,
            leak_threshold=leak_threshold,
        ),
        no_returns=reason,
    )
