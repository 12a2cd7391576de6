"""What a target looks like: one definition shared by the trainers, the strategies,
the labels and the leak guard (binary or not, label-like by name, its horizon)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

from skquant.utils._time import date_level, dates_of
from skquant.utils._warnings import LeakageWarning, caller_stacklevel

# The ``DataFrame.attrs`` key under which make_labels records each label's horizon.
LABELS_ATTR = "skquant_labels"

# Columns that hold (or are derived from) future outcomes, and so are never features:
# y_*, fwd_*, forward_*, future_*, target_*, and TTH / MDD / MFE with or without a
# suffix, in any case (a 40-day forward return named future_40 scored below the leak
# threshold and became a feature; "futures_basis" is not one of these names), also
# after scikit-learn's "name__" prefixes (a ColumnTransformer's or FeatureUnion's
# output: "p__fwd_ret_5", "remainder__TTH" reached a model without a warning).
_LABEL_LIKE = re.compile(
    r"(?:^|__)(?:y_|fwd_|forward_|future_|target_|(?:tth|mdd|mfe)(?:_|$))", re.IGNORECASE
)
# A horizon at the end of a label's name: fwd_ret_5, ret_5d, y_20days, tth_10bars; a
# day unit (d, day, days) counts trading days, a week unit (w, wk, week, weeks) trading
# weeks, the others (or none) periods.
_NAME_HORIZON = re.compile(r"(?:^|_)(\d+)(d|days?|w|wk|weeks?|p|bars?)?$", re.IGNORECASE)
_DAY_UNITS = frozenset({"d", "day", "days"})
_WEEK_UNITS = frozenset({"w", "wk", "week", "weeks"})
_TRADING_DAYS_A_WEEK = 5
_DAY_NS = 86_400_000_000_000


def is_label_like(name) -> bool:
    """Whether a column name looks like a label (``y_*``, ``fwd_*``, ``forward_*``,
    ``future_*``, ``target_*``, ``TTH``, ``MDD``, ``MFE``), also behind the
    ``name__`` prefixes scikit-learn's ColumnTransformer and FeatureUnion give their
    output columns (``p__fwd_ret_5``, ``remainder__TTH``).

    Default feature choices (the walk-forward engine, the CLI) leave such columns out,
    so that one target can never leak in as another's feature.
    """
    return bool(_LABEL_LIKE.search(str(name)))


def _symbol_stamps(data) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct wall-clock timestamps (int64 ns) of each symbol of ``data``'s
    index, sorted by symbol then time, with the symbol codes; None without dates
    (or with dates skquant does not read: the caller refuses them itself)."""
    try:
        dates = dates_of(data)
    except ValueError:
        return None
    if dates is None or len(dates) < 2:
        return None
    index = data.index
    level = date_level(index)  # the index itself, not its values: they lose the zone
    stamps = index if level is None else index.get_level_values(level)
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)  # wall-clock dates, as the market keeps them
    others = [] if level is None else [i for i in range(index.nlevels) if i != level]
    symbols = np.zeros(len(stamps), dtype=np.int64)  # one series of dates
    if others:  # a panel: each symbol's own rows
        keys = [index.get_level_values(i) for i in others]
        symbols = pd.factorize(keys[0] if len(keys) == 1 else pd.MultiIndex.from_arrays(keys))[0]
    values = stamps.asi8
    known = ~stamps.isna()
    values, symbols = values[known], np.asarray(symbols)[known]
    order = np.lexsort((values, symbols))
    values, symbols = values[order], symbols[order]
    # a timestamp repeated within a symbol (a panel's rows on a DatetimeIndex) is one bar
    new = np.r_[True, (np.diff(values) != 0) | (np.diff(symbols) != 0)]
    return values[new], symbols[new]


def _fullest_count(buckets: np.ndarray, symbols: np.ndarray) -> int:
    """How many of a symbol's (sorted, distinct) stamps a bucket (a day, a week) holds:
    the median over its buckets but the first and last (cut short, as data starting
    at noon; the fullest of three buckets or fewer), the most of any symbol."""
    starts = np.flatnonzero(np.r_[True, (np.diff(buckets) != 0) | (np.diff(symbols) != 0)])
    counts = pd.Series(np.diff(np.r_[starts, len(buckets)]), index=symbols[starts])
    if counts.max() == 1:
        return 1
    by_symbol = counts.groupby(level=0)
    n_buckets, position = by_symbol.transform("size"), by_symbol.cumcount()
    interior = counts[(n_buckets > 3) & (position > 0) & (position < n_buckets - 1)]
    fullest = [interior.groupby(level=0).median().max(), counts[n_buckets <= 3].max()]
    fullest = [float(n) for n in fullest if pd.notna(n)]
    return max(1, int(np.ceil(max(fullest)))) if fullest else 1  # a half bar errs long


def bars_per_day(data) -> int:
    """The periods of one trading day in the dates of ``data``'s index
    (:func:`~skquant.utils._time.dates_of`): 1 for daily or sparser data, and without
    dates; for intraday data the number of distinct timestamps a symbol holds on a
    calendar date (wall clock), the median over its dates but the first and last (a
    day cut short, as data starting at noon; the fullest of three dates or fewer),
    the most of any symbol (each symbol's own rows: two daily symbols that close at
    different hours still hold one a date)."""
    found = _symbol_stamps(data)
    if found is None:
        return 1
    values, symbols = found
    if not (values % _DAY_NS).any():  # every one at midnight: daily or sparser
        return 1
    return _fullest_count(values // _DAY_NS, symbols)


def bars_per_week(data) -> int:
    """The periods of one week in the dates of ``data``'s index: the trading dates a
    symbol holds in a calendar week (Monday to Sunday; counted as :func:`bars_per_day`
    counts bars in a day: 5 for weekday data, 7 for every day, 1 for weekly or sparser
    data) times :func:`bars_per_day`. Without dates, 5: a trading week of daily bars
    (the longer reading of an unknown clock keeps an embargo on the safe side)."""
    found = _symbol_stamps(data)
    if found is None:
        return _TRADING_DAYS_A_WEEK
    values, symbols = found
    days = values // _DAY_NS
    first = np.r_[True, (np.diff(days) != 0) | (np.diff(symbols) != 0)]  # a date once
    days, on = days[first], symbols[first]
    weeks = (days + 3) // 7  # 1970-01-01 was a Thursday: weeks start on Mondays
    return _fullest_count(weeks, on) * bars_per_day(data)


def horizon_from_name(name, data=None) -> int | None:
    """The periods a label's name says it spans (``fwd_ret`` 1, ``fwd_ret_5`` 5), or None.

    A number without a unit (``fwd_ret_5``, as :func:`skquant.make_labels` names its
    labels), or in ``p`` / ``bar`` / ``bars``, counts periods (rows of a series).
    One in days (``ret_5d``, ``y_5day``, ``y_5days``) counts trading days: given
    ``data`` (a frame or Series whose index holds the dates) of intraday dates, that
    many days of :func:`bars_per_day` periods each (``fwd_ret_1d`` on 7 hourly bars a
    day spans 7); on daily dates, or without dates, the number itself. One in weeks
    (``fwd_ret_1w``, ``1wk``, ``2weeks``) counts :func:`bars_per_week` periods a week
    (5 on weekday daily bars, 1 on weekly bars; 5 without dates).
    """
    text = str(name)
    if text.lower() == "fwd_ret":
        return 1
    if not (is_label_like(text) or "ret" in text.lower()):
        return None
    match = _NAME_HORIZON.search(text)
    if match is None or int(match.group(1)) < 1:
        return None
    count, unit = int(match.group(1)), (match.group(2) or "").lower()
    if unit in _WEEK_UNITS:
        return count * (_TRADING_DAYS_A_WEEK if data is None else bars_per_week(data))
    if data is not None and unit in _DAY_UNITS:
        return count * bars_per_day(data)
    return count


def recorded_horizon(name, attrs, data=None) -> tuple[int, str] | None:
    """``(horizon, "metadata" or "name")`` of the label ``name``: from make_labels'
    metadata in ``attrs`` (a labelled frame's, or a column's), else from the name
    (:func:`horizon_from_name`: a day unit on ``data``'s intraday dates counts their
    bars); None when neither says."""
    recorded = ((attrs or {}).get(LABELS_ATTR) or {}).get("horizons") or {}
    if name in recorded:
        return int(recorded[name]), "metadata"
    named = horizon_from_name(name, data)
    return None if named is None else (named, "name")


def label_span(name, attrs) -> int:
    """The most panel dates make_labels recorded the label ``name`` reaching ahead (a
    symbol that misses panel dates spans more than its horizon); 0 when none."""
    return int((((attrs or {}).get(LABELS_ATTR) or {}).get("spans") or {}).get(name, 0))


def known_horizon(y) -> tuple[int, str] | None:
    """``(horizon, "metadata" or "name")`` of a target Series (:func:`recorded_horizon`
    of its name and ``attrs``; a column of a labelled frame carries them; a day unit
    in the name counts the bars of the Series' intraday dates), lengthened by the
    metadata's span; None when neither says (an array, an unnamed or unknown
    column). A frame of targets (a multi-task net's) gives the longest horizon any of
    its columns tells."""
    if isinstance(y, pd.DataFrame):
        known = [known_horizon(y.iloc[:, i]) for i in range(y.shape[1])]  # repeated names too
        known = [k for k in known if k is not None]
        return max(known, key=lambda k: k[0]) if known else None
    name = getattr(y, "name", None)
    if name is None:
        return None
    attrs = getattr(y, "attrs", None)
    known = recorded_horizon(name, attrs, y)
    if known is not None and known[1] == "metadata":
        return max(known[0], label_span(name, attrs)), "metadata"
    return known


# (estimator name, parameter, target) already warned that the target tells no horizon
_WARNED_NO_HORIZON: set[tuple[str, str, str]] = set()


def tail_embargo(
    estimator,
    y,
    embargo: int | None,
    held_out: str = "a chronological early-stopping tail of its training rows",
    param: str = "embargo_days",
) -> int:
    """The dates an estimator drops before the rows it holds out of its own training
    (an early-stopping tail, an out-of-fold block), or a split before its test part;
    ``estimator`` is the estimator (or the function's name) that the warning names,
    ``param`` the name of its embargo parameter.

    ``embargo`` when given, with a warning when it is below the target's known horizon
    - 1: the last training labels are computed from the held-out rows' own prices, so
    they flatter the model (and pick a later iteration). ``None`` (the default of every
    trainer) is the target's known horizon (:func:`known_horizon`: make_labels metadata
    or the name), else 0 with a warning naming ``param`` (a ``y`` given as an
    array, or a name and metadata that tell no horizon; ``y=None`` is silent), once
    per estimator, ``param`` and target (its name or columns; every array is one) in
    a process.
    """
    known = known_horizon(y)
    if embargo is None:
        if known is not None:
            return known[0]
        name = estimator if isinstance(estimator, str) else type(estimator).__name__
        if isinstance(y, pd.DataFrame):
            what = f"with columns {target_label(y)}"
        elif getattr(y, "name", None) is not None:
            what = f"named {target_label(y)}"
        else:
            what = "an array or an unnamed Series"
        # y without a horizon: the embargo is 0. Once per estimator, parameter and
        # target: inside RFECV or GridSearchCV each inner fit warned again (17 times
        # for one RFECV fit); once per estimator alone, a second label of a panel read
        # from CSV (MFE after TTH) got embargo 0 silently.
        if y is not None and (name, param, what) not in _WARNED_NO_HORIZON:
            _WARNED_NO_HORIZON.add((name, param, what))
            warnings.warn(
                f"{name} holds out {held_out} with {param}=None, and the target ({what}) "
                "tells no label horizon (no make_labels metadata, none in its name), so "
                "the embargo is 0 dates: a label of horizon H on the last training rows is "
                f"computed from the held-out rows' prices. Pass {param}=H ({param}=0 for "
                "a one-period label), or y as the labelled frame's column (e.g. "
                "panel['fwd_ret_5']); RFECV and scikit-learn's stacking hand y over as "
                f"an array, so there give {param}. Shown once per estimator and target.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return 0
    embargo = int(embargo)
    if known is not None and embargo < known[0] - 1:
        horizon, source = known
        warnings.warn(
            f"{estimator if isinstance(estimator, str) else type(estimator).__name__} holds "
            f"out {held_out} with {param}={embargo}, but the target "
            f"{target_label(y)} spans {horizon} periods (by its {source}): the last "
            f"training labels are computed from the held-out rows' prices, so they flatter "
            f"the model. Leave {param}=None (the label horizon) or pass "
            f"{param}={horizon}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return embargo


def validation_gap(y) -> tuple[int, str]:
    """``(periods, why)``: the fewest periods that must lie between the last training
    date and a user's ``X_val`` for target ``y``, and what asks for them.

    A target of known horizon h (:func:`known_horizon`) needs h - 1, the threshold
    below which :func:`tail_embargo` warns (its last training label would reach into
    the validation dates' prices). ``(0, "")`` when the horizon is unknown or 1. The
    trainer's ``embargo_days`` is not read: a strategy sets it to the stage's
    horizon for the stage's own tail, which the caller's ``X_val`` replaces.
    """
    known = known_horizon(y)
    if known is None or known[0] <= 1:
        return 0, ""
    horizon, source = known
    return horizon - 1, f"the target {target_label(y)}, of horizon {horizon} (by its {source}),"


def target_label(y) -> str:
    """``'fwd_ret_5'`` (a Series' name) or ``['TTH', 'MDD']`` (a frame's columns)."""
    if isinstance(y, pd.DataFrame):
        return repr([str(c) for c in y.columns])
    return repr(y.name)


def is_binary_target(y) -> bool:
    """Whether ``y`` holds exactly two distinct non-missing values."""
    values = pd.Series(np.asarray(y).ravel())
    if values.dtype.kind == "f":
        values = values[np.isfinite(values.to_numpy())]
    head = values.iloc[:1000]  # three distinct values early settle it without hashing every row
    if len(values) > len(head) and head.nunique(dropna=True) > 2:
        return False
    return values.nunique(dropna=True) == 2


def is_zero_one_target(y) -> bool:
    """Whether ``y`` holds exactly the two values 0 and 1 (missing values aside): a
    label the multi-task net can give a logistic head (``binary_targets``)."""
    if not is_binary_target(y):
        return False
    try:
        values = np.asarray(y, dtype=np.float64).ravel()
    except (TypeError, ValueError):  # labels that are not numbers
        return False
    values = values[~np.isnan(values)]
    return bool(np.isin(values, (0.0, 1.0)).all())


def _precision(dtype) -> np.dtype:
    """The float precision values of ``dtype`` hold: float16 or float32 for those
    (also pandas' nullable ``Float32``), float64 for any other (integers, booleans)."""
    dtype = getattr(dtype, "numpy_dtype", dtype)  # a nullable dtype's numpy one
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return np.dtype(np.float64)
    if dtype.kind == "f" and dtype.itemsize < 8:
        return dtype
    return np.dtype(np.float64)


def _equal_in(a: np.ndarray, b: np.ndarray, dtype) -> np.ndarray:
    """Where float arrays ``a`` and ``b`` agree in precision ``dtype`` (NaN equal), per
    column of a 2-d ``a``: a float32 copy of a float64 target is the target rounded."""
    if dtype != np.float64:
        with np.errstate(over="ignore"):  # beyond float16's range: inf in both
            a, b = a.astype(dtype), b.astype(dtype)
    return ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=0)


def _same_values(column, target) -> bool:
    """Whether a feature column holds the target's values, row for row (NaN equal), in
    the lower of their float precisions (a float32 copy of a float64 target is it)."""
    a, b = np.asarray(column), np.asarray(target)
    if a.shape != b.shape:
        return False
    dtype = min(  # X[c] of a repeated name is a frame: no one dtype, float64
        _precision(getattr(column, "dtype", None)),
        _precision(getattr(target, "dtype", None)),
        key=lambda d: d.itemsize,
    )
    try:
        a, b = a.astype(np.float64), b.astype(np.float64)
    except (TypeError, ValueError):  # labels that are not numbers
        return bool(np.array_equal(a, b))
    return bool(_equal_in(a, b, dtype))


# A feature column that holds a target's values row for row, whatever its name, is
# refused from this many rows with both values present up, for a target of two values
# or more. On fewer rows a 0/1 feature may match a binary target by chance (scikit-
# learn's own checks fit 20 rows whose first column is the target); 30 independent
# coin flips all agree once in 2**30.
MIN_ROWS_SAME_AS_TARGET = 30


def _float_or_none(values):
    """``values`` as a float array (missing values NaN), or None for non-numbers."""
    try:
        if isinstance(values, (pd.Series, pd.DataFrame)):
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _value_targets(y) -> list[tuple[str, np.ndarray, np.dtype]]:
    """``(label, values, precision)`` of each of ``y``'s numeric targets that can be
    told apart from chance: a Series' name, a frame's columns, an array's positions;
    only those of ``MIN_ROWS_SAME_AS_TARGET`` present values or more, not all one
    value. ``values`` are float64; ``precision`` is the float precision ``y`` held
    them in (:func:`_precision`)."""
    if y is None:
        return []
    if isinstance(y, pd.DataFrame):
        items = [(repr(str(c)), y.iloc[:, i], y.dtypes.iloc[i]) for i, c in enumerate(y.columns)]
    elif isinstance(y, pd.Series):
        items = [("y" if y.name is None else repr(str(y.name)), y, y.dtype)]
    else:
        dtype = getattr(y, "dtype", None)
        values = _float_or_none(y)
        if values is None or values.ndim not in (1, 2):
            return []
        items = (
            [("y", values, dtype)]
            if values.ndim == 1
            else [(f"y[:, {j}]", values[:, j], dtype) for j in range(values.shape[1])]
        )
    targets = []
    for label, values, dtype in items:
        values = _float_or_none(values)
        if values is None or values.ndim != 1:
            continue
        present = values[~np.isnan(values)]
        if len(present) >= MIN_ROWS_SAME_AS_TARGET and present.min() < present.max():
            targets.append((label, values, _precision(dtype)))
    return targets


def _columns_holding_targets(X, y) -> list[str]:
    """``"'mom' (the target 'fwd_ret_5')"`` for each numeric column of ``X`` that holds
    one of ``y``'s targets row for row (NaN where it is NaN), whatever its name.

    Compared in the lower of the column's and the target's float precisions: a float32
    copy of a float64 target (``X.astype("float32")``, wide data downcast) is the
    target rounded; two float64 arrays must agree exactly.

    Cheap: the first rows of every numeric column are compared at once, and only a
    column that matches them is converted and compared whole."""
    targets = _value_targets(y)
    if not targets:
        return []
    n = len(targets[0][1])
    if isinstance(X, pd.DataFrame) and len(X) == n:
        numeric = [
            j
            for j, dtype in enumerate(X.dtypes)
            if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
        ]
        names = [repr(str(X.columns[j])) for j in numeric]
        dtypes = list(X.dtypes)
        size_of = {dtype: _precision(dtype).itemsize for dtype in set(dtypes)}
        sizes = np.array([size_of[dtypes[j]] for j in numeric], dtype=int)
        head = _float_or_none(X.iloc[:64].iloc[:, numeric])  # rows first: no copy of X
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "biuf" and len(X) == n:
        numeric = list(range(X.shape[1]))
        names = [str(j) for j in numeric]
        sizes = np.full(len(numeric), _precision(X.dtype).itemsize)
        head = X[:64].astype(np.float64)
    else:  # sparse, lists, text, a length validate_data refuses: nothing to compare
        return []
    if head is None or not names:
        return []
    found = []
    for label, values, precision in targets:
        top = values[: len(head), None]
        lower = np.minimum(sizes, precision.itemsize)  # per column, in bytes
        kinds = np.unique(lower)
        if len(kinds) == 1:  # one precision (float64 mostly): no copy of the head
            same = _equal_in(head, top, np.dtype(f"float{8 * kinds[0]}"))
        else:
            same = np.zeros(len(numeric), dtype=bool)
            for size in kinds:
                columns = lower == size
                same[columns] = _equal_in(head[:, columns], top, np.dtype(f"float{8 * size}"))
        for j in np.flatnonzero(same):
            at = numeric[j]
            full = _float_or_none(X.iloc[:, at] if isinstance(X, pd.DataFrame) else X[:, at])
            dtype = np.dtype(f"float{8 * lower[j]}")
            if full is not None and _equal_in(full[:, None], values[:, None], dtype)[0]:
                found.append(f"{names[j]} (the target {label})")
    return found


def check_labels_not_features(X, y) -> None:
    """Refuse a target that is also a column of ``X``; warn about other label-like ones.

    A label must never become a feature. A column of ``X`` that holds one of ``y``'s
    targets (a Series, a DataFrame's columns, a 1-d or 2-d array's) raises:

    - by name: a column named like the target (a Series' name, a DataFrame's columns)
      that holds its values (one that holds other values, as ``X["ret_1"]`` beside
      ``y = X["ret_1"].shift(-1)``, is not the target);
    - by value, whatever its name: a numeric column equal to a target row for row (NaN
      where it is NaN, compared as floats in the lower of the two precisions: a
      float32 copy of a float64 target is the target), from ``MIN_ROWS_SAME_AS_TARGET`` (30) rows
      with both values present up and for a target of two values or more (on fewer
      rows a 0/1 feature may match a binary target by chance). An array ``X``'s
      columns are named by position. The target renamed (``X.assign(mom=y.values)``)
      was accepted.

    Any column whose name looks like a label's (``y_*``, ``fwd_*``, ``forward_*``,
    ``future_*``, ``target_*``, ``TTH``, ``MDD``, ``MFE``, also behind a
    ColumnTransformer's ``name__`` prefix; :func:`skquant.labels.is_label_like`)
    warns with a :class:`~skquant.leakage.LeakageWarning` naming it. ``y=None`` (an
    unsupervised feature model's fit) checks the names alone.

    Raises
    ------
    ValueError
        When ``X`` holds one of ``y``'s targets, under its name or another.
    """
    columns = getattr(X, "columns", None)
    if columns is not None:
        if isinstance(y, pd.DataFrame):
            targets = {str(c): y[c] for c in y.columns}
        else:
            name = getattr(y, "name", None)
            targets = {} if name is None else {str(name): y}
        # a column named like a target that holds other values is not the target: a
        # trailing return and the next one (y = X["ret_1"].shift(-1)) share a name
        found = [
            str(c) for c in columns if str(c) in targets and _same_values(X[c], targets[str(c)])
        ]
        if found:
            raise ValueError(
                f"X holds the target column(s) {found}: a label must never be a feature, or "
                f"every number is look-ahead. Drop them from X (X.drop(columns={found}))."
            )
    renamed = _columns_holding_targets(X, y)
    if renamed:
        raise ValueError(
            f"X holds a target under another name: column(s) {', '.join(renamed)} equal "
            "it row for row. A label must never be a feature, or every number is "
            "look-ahead; drop them from X."
        )
    if columns is None:
        return
    columns = [str(c) for c in columns]
    labels = [c for c in columns if is_label_like(c)]
    if labels:
        warnings.warn(
            f"X holds column(s) named like labels {labels} (y_*, fwd_*, forward_*, "
            "future_*, target_*, TTH, MDD, MFE): a label computed from later prices is "
            "look-ahead as a feature. Drop them from X, or rename a column that is a "
            "causal feature.",
            LeakageWarning,
            stacklevel=caller_stacklevel(),
        )


def supported_tasks(estimator) -> tuple[str, ...]:
    """The tasks an estimator can be set to: a skquant trainer's ``_tasks``; else
    ``("classification",)`` for a scikit-learn classifier
    (:func:`sklearn.base.is_classifier`: ``LogisticRegression``, a Pipeline ending in
    one), which only classifies, and ``("regression",)`` for any other estimator."""
    tasks = getattr(type(estimator), "_tasks", None)
    if tasks is not None:
        return tuple(tasks)
    if is_classifier(estimator):
        return ("classification",)
    return ("regression",)


def choose_task(trainer, y, model_config) -> str:
    """Return the task a trainer should fit on target ``y``.

    Classification for a binary target when the trainer supports it, else
    regression. A ``task`` given in ``model_config`` or set on the trainer wins. An
    estimator with one task (a scikit-learn classifier: classification, whatever
    its target; a regressor: regression) is fitted for it.

    Parameters
    ----------
    trainer : estimator
        A skquant trainer (its ``task`` parameter and supported tasks are read) or
        another estimator (a classifier by :func:`sklearn.base.is_classifier`).
    y : array-like of shape (n_samples,)
        The target.
    model_config : dict or None
        The config the trainer will be fitted with; its ``task`` key wins.

    Returns
    -------
    task : {"classification", "regression"}
    """
    explicit = None
    if isinstance(model_config, Mapping):
        explicit = model_config.get("task")
    if explicit is None:
        explicit = trainer.get_params(deep=False).get("task")
    if explicit is not None:
        return explicit
    tasks = supported_tasks(trainer)
    if len(tasks) == 1:
        return tasks[0]
    if is_binary_target(y) and "classification" in tasks:
        return "classification"
    return "regression"


# public as skquant.strategies.choose_task
choose_task.__module__ = "skquant.strategies"
