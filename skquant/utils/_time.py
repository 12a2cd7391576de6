"""Time-ordering helpers: find the dates of a frame and cut chronological tails.

Every validation set skquant makes for early stopping comes from here, so there is
one definition of "the latest rows": never a shuffled or leading slice.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd

from skquant.utils._sklearn_compat import _num_samples
from skquant.utils._warnings import caller_stacklevel, once_per_parallel_run


def date_level(index) -> int | None:
    """The first datetime level of a ``MultiIndex``, or None (also for any other index)."""
    if isinstance(index, pd.MultiIndex):
        for level in range(index.nlevels):
            if isinstance(index.get_level_values(level), pd.DatetimeIndex):
                return level
    return None


def symbol_values(index, default_level: int | None = None) -> pd.Index | None:
    """The symbols of a (date, symbol) ``MultiIndex``, in either order: the values of
    the level beside its dates, which are its first datetime level (:func:`date_level`),
    else level ``default_level`` (None: without a datetime level, no symbols). None for
    an index of one level or no ``MultiIndex``."""
    level = date_level(index)
    if level is None:
        level = default_level
    if level is None or not isinstance(index, pd.MultiIndex) or index.nlevels < 2:
        return None
    return index.get_level_values(1 if level == 0 else 0)


# Index or column names that say "these are the dates" (compared in lower case).
_DATE_NAMES = ("date", "datetime", "timestamp", "time")


def date_columns(frame: pd.DataFrame) -> list:
    """The columns of ``frame`` that hold dates: datetime64 values (any name), or a
    date-like name (``date``, ``datetime``, ``timestamp``, ``time``, in any case)
    holding text or date objects. Numbers under such a name are no dates (a ``time``
    feature holding a time-of-day code 0..6 is a feature).

    Decided on ``frame.dtypes`` and the names; only a date-named column of objects is
    read (a frame of 3,000 columns took 0.13 s reading each one).
    """
    found = []
    for column, dtype in zip(frame.columns, frame.dtypes, strict=True):
        if pd.api.types.is_datetime64_any_dtype(dtype):
            found.append(column)
        elif str(column).lower() in _DATE_NAMES and _holds_no_numbers(frame[column]):
            found.append(column)
    return found


def _holds_no_numbers(values) -> bool:
    """Whether a column's values are not numbers (nor booleans): text, date objects."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        values = values.cat.categories
        dtype = values.dtype
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return False
    if not pd.api.types.is_object_dtype(dtype):
        return True  # string, period, interval ...: not numbers
    kind = pd.api.types.infer_dtype(values, skipna=True)
    return kind not in ("integer", "floating", "mixed-integer-float", "decimal", "boolean",
                        "complex", "empty")  # fmt: skip


def check_text_dates(values, name: str, sorted_by: str) -> pd.DatetimeIndex | None:
    """Refuse ``values`` given as date text whose alphabetical order is not their date
    order ("01/04/2021" sorts before "12/31/2020"), where they are sorted as they are.

    Text that does not read as dates (ids), or reads as dates in order (ISO
    "2020-12-31", "2015Q1"), passes; so does anything but text (dates, Periods and
    numbers sort as they are).

    Parameters
    ----------
    values : array-like
        The values (or their distinct values), in any order.
    name : str
        The parameter that holds them, as the message names it.
    sorted_by : str
        What sorts them, and what a wrong order does, for the message.

    Returns
    -------
    dates : DatetimeIndex or None
        The distinct values as dates, in sorted order, when they are text that reads
        as dates; None otherwise.
    """
    values = np.asarray(values)
    if values.dtype.kind not in "OUS":
        return None  # dates, numbers: they sort as they are
    labels = pd.unique(values.reshape(-1).astype(object))
    if not len(labels) or not all(isinstance(v, str) for v in labels):
        return None  # Periods, date objects, numbers: they sort as they are
    labels = np.sort(labels.astype(str))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' "could not infer format"
            dates = pd.to_datetime(pd.Index(labels), format="mixed")
    except (ValueError, TypeError, OverflowError):
        return None  # not dates: labels in their own order
    if dates.isna().any():
        return None
    if dates.is_monotonic_increasing:
        return dates
    raise ValueError(
        f"{name} holds dates as text ({str(labels[0])!r}) whose alphabetical order is not "
        f"their date order, and {sorted_by}: convert them with pd.to_datetime({name}) "
        "(dayfirst=True for day-first text), or pass ISO text (YYYY-MM-DD)."
    )


def _refuse_date_objects(values, name) -> None:
    """Raise when ``values`` (an index or one of its levels) hold dates skquant does not
    read: ``datetime.date`` objects, Timestamps kept as objects (those that mix
    time-zone-aware and naive dates, or time zones, are named so), or Periods. Taken as
    no dates, a panel's rows would be split by position, one date on both sides (audit:
    a ``datetime.date`` level gave 16 folds instead of 4, and stacking predictions that
    moved with later rows)."""
    if values.dtype != object and not isinstance(values.dtype, pd.PeriodDtype):
        return
    kind = pd.api.types.infer_dtype(values, skipna=True)
    where = "The index" if name is None else f"The index level {name!r}"
    if kind == "datetime":
        zones = {str(getattr(v, "tzinfo", None)) for v in values if not pd.isna(v)}
        if len(zones) > 1:  # pandas keeps such dates as objects
            what = (
                "time-zone-aware and naive dates"
                if "None" in zones
                else f"dates in several time zones ({', '.join(sorted(zones))})"
            )
            raise ValueError(
                f"{where} mixes {what}, so pandas keeps them as objects, not datetime64, "
                "and they cannot be ordered: put them all in one zone (tz_localize the "
                "naive ones, or tz_convert every date to one zone), or all without one "
                "(tz_localize(None))."
            )
    if kind in ("date", "datetime", "period"):
        what = "Periods" if kind == "period" else f"{type(values[0]).__name__} objects"
        fix = ".to_timestamp()" if kind == "period" else "pd.to_datetime"
        raise ValueError(
            f"{where} holds {what} ({values[0]}), which skquant does not read as dates "
            f"(it reads datetime64): convert it with {fix}. Without dates the rows would "
            "be split by position."
        )


def _refuse_text_dates(index) -> None:
    """Raise when an index level named like a date holds text or numbers (20240102), as
    from a CSV read without ``parse_dates``, or when any level holds date objects or
    Periods (:func:`_refuse_date_objects`). Taken as no dates, a panel's rows would
    count as periods in row order: splits and early-stopping tails would mix dates."""
    for i, name in enumerate(index.names):
        _refuse_date_objects(index.get_level_values(i), name)
        if str(name).lower() not in _DATE_NAMES:
            continue
        values = index.get_level_values(i)
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("string", "bytes", "mixed", "mixed-integer", "integer", "floating"):
            what = "numbers" if kind in ("integer", "floating") else "text"
            raise ValueError(
                f"The index level {name!r} holds {what} ({values[0]}), not dates: convert it "
                f"with pd.to_datetime (or read_csv(..., parse_dates=[{name!r}])). Without "
                "dates the rows would be split by position."
            )


def dates_of(X) -> np.ndarray | None:
    """Return the per-row dates of ``X``, or None when ``X`` carries none.

    Dates come from a ``DatetimeIndex`` or from the first datetime level of a
    ``MultiIndex`` (a (date, symbol) panel in either level order). A panel level
    named ``date`` (or ``datetime``, ``timestamp``, ``time``) that holds text or
    numbers, and an index or level of ``datetime.date`` objects or Periods, raise
    ``ValueError``: taken as no dates, their rows would be split by position, one
    date on both sides (a single series in row order is split right).
    """
    index = getattr(X, "index", None)
    if isinstance(index, pd.DatetimeIndex):
        return index.to_numpy()
    level = date_level(index)
    if level is not None:
        return index.get_level_values(level).to_numpy()
    if isinstance(index, pd.MultiIndex):  # a panel: by position, dates would mix
        _refuse_text_dates(index)
    elif isinstance(index, pd.Index):
        _refuse_date_objects(index, index.name)
    return None


class NoDatesWarning(UserWarning):
    """A time split of rows that carry no dates: each row is taken as its own date.

    Right for one series in time order; on a panel of several symbols a "date" of
    the split is one row, so dates fall on both sides and windows count rows.
    """


NoDatesWarning.__module__ = "skquant.model_selection"  # where users import it from


def warn_no_dates(
    what: str, taken: str, right: str, wrong: str, fix: str = "", given: str = ""
) -> None:
    """Warn (:class:`NoDatesWarning`) that ``what`` got an ``X`` without dates (nor
    what ``given`` names) and so took its rows as ``taken`` says: ``right`` for some
    data, ``wrong`` for others, ``fix`` the way out (a Pipeline's ``set_output`` is
    always named)."""
    warnings.warn(
        f"{what}: X carries no dates (no DatetimeIndex or datetime MultiIndex level)"
        f"{given}, so {taken}: right for {right}, wrong {wrong}. {fix}In a Pipeline call "
        'set_output(transform="pandas") so its steps keep the (date, symbol) index.',
        NoDatesWarning,
        stacklevel=caller_stacklevel(),
    )


def warn_rows_as_dates(what: str, groups: bool = True) -> None:
    """Warn that ``what`` (a splitter, a stacking helper) takes each row of ``X`` as a
    date in row order, because ``X`` has no dates (and no ``groups`` were given, for
    a caller that takes them)."""
    warn_no_dates(
        what,
        "each row is taken as its own date, in row order",
        "one series in time order",
        "on a panel (dates fall on both sides of a split, windows count rows)",
        "RFECV and other scikit-learn tools turn a DataFrame into an array: pass each "
        "row's date as groups (e.g. selector.fit(X, y, groups=dates)). "
        if groups
        else "Pass X as a DataFrame indexed by date (or (date, symbol)). ",
        " and no groups were given" if groups else "",
    )


def warn_rows_as_one_series(what: str) -> None:
    """Warn that ``what`` (a sequence net's windows, a causal filter) runs along the rows
    of an ``X`` without dates as one series in row order: on a panel whose index a
    Pipeline step dropped, one symbol's rows reach into another's (audit: a CNN's
    predictions for one symbol moved by 0.25 with another symbol's rows)."""
    warn_no_dates(
        what,
        "its rows are taken as one series in row order",
        "one symbol in time order",
        "on a panel (one symbol's rows reach into another's)",
    )


def warn_embargo_in_rows(embargo: int) -> None:
    """Warn that an embargo of ``embargo`` (> 0) is counted in rows: ``X`` has no dates.

    An inner split (an early-stopping tail, out-of-fold blocks) of rows without dates
    takes them to be in time order and cannot drop whole dates: on a panel of n
    symbols an embargo of k rows spans only about k / n dates. Inside scikit-learn's
    loops (``cross_validate``, a search) it comes once per call, not once per fit.
    """
    with once_per_parallel_run():  # once per cross_validate or search, not once a fold
        warnings.warn(
            f"The embargo of {embargo} is counted in rows, not dates, because X carries "
            "no dates (a plain array, e.g. the output of a Pipeline step such as "
            "StandardScaler): right for one series in time order, too few dates on a "
            "panel of several symbols. Keep the dates: pass X as a DataFrame indexed by "
            'date (or (date, symbol)) and call set_output(transform="pandas") on the '
            'Pipeline (or sklearn.set_config(transform_output="pandas")), so its steps '
            "keep the index.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def periods_between(dates, last, first) -> int | None:
    """The periods of the data that fall strictly between ``last`` and ``first``,
    judged from its own ``dates`` (those of both sides); None when they cannot tell
    (a single date).

    Daily dates (one time stamp a calendar date, at midnight, at the close or at
    any other time of day) that span a weekend without a date on it (a trading
    calendar) count the weekdays between (holidays are not known: one counts as a
    period). Other dates count whole steps of their smallest spacing (an hour of
    hourly bars; a week of weekly ones; a day of daily dates seen on weekdays only,
    which cannot tell a trading calendar from one that trades every day); over a
    night or a weekend without bars this counts the bars that would fall there, so
    the count may be too high, never too low on a regular calendar.
    """
    stamps = pd.DatetimeIndex(pd.unique(np.asarray(dates))).sort_values()
    if len(stamps) < 2:
        return None
    step = stamps[1:] - stamps[:-1]
    step = step[step > pd.Timedelta(0)].min()
    one_day = np.timedelta64(1, "D")  # pd.Timedelta(days=1) warns under pandas 2.3 with numpy 2.5
    last, first = pd.Timestamp(last), pd.Timestamp(first)
    # daily: one time stamp a calendar date, whatever its time of day (bars stamped at
    # the close, 16:00; New York midnight read in UTC, 04:00 or 05:00)
    days = stamps.normalize().unique()
    daily = len(days) == len(stamps) and (days[1:] - days[:-1]).min() == one_day
    span = days[0].date(), days[-1].date()
    weekend_seen = np.busday_count(*span) < (span[1] - span[0]).days  # a Saturday or Sunday
    if daily and weekend_seen and (days.dayofweek < 5).all():
        start = (last + one_day).date()
        return int(np.busday_count(start, first.date()))
    return max(int((first - last) // step) - 1, 0)


def validation_span(X, X_val):
    """``(dates, val_dates, last, first)``: the dates of ``X`` and ``X_val``, the last
    training date and the first validation date; None when either carries no dates or
    their dates cannot be compared (one side with a time zone, one without)."""
    dates, val_dates = dates_of(X), dates_of(X_val)
    if dates is None or val_dates is None or not len(dates) or not len(val_dates):
        return None
    last, first = pd.Timestamp(dates.max()), pd.Timestamp(val_dates.min())
    if (last.tz is None) != (first.tz is None):  # naive against aware: not comparable
        return None
    return dates, val_dates, last, first


def warn_if_validation_not_after(X, X_val, embargo: int = 0, why: str = "") -> None:
    """Warn when ``X_val`` (early stopping's rows, passed by the user) starts on or
    before the last date of ``X``: the iteration would be chosen on rows the model
    trains on, or on its past; or when fewer than ``embargo`` periods of the data
    (:func:`periods_between`) lie between them, ``why`` saying what asks for them:
    the last training labels are then computed from prices of the validation
    dates. Silent when either carries no dates."""
    span = validation_span(X, X_val)
    if span is None:
        return
    dates, val_dates, last, first = span
    if first <= last:
        warnings.warn(
            f"X_val starts on {first:%Y-%m-%d}, on or before the last training date "
            f"{last:%Y-%m-%d}: early stopping then picks the iteration on rows the model "
            "trains on or on its past. Use the dates after the training window "
            "(skquant.time_train_test_split).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        return
    seen = np.concatenate([np.asarray(dates), np.asarray(val_dates)])
    gap = periods_between(seen, last, first) if embargo > 0 else None
    if gap is not None and gap < embargo:
        warnings.warn(
            f"X_val starts on {first:%Y-%m-%d}, {gap} period(s) after the last training "
            f"date {last:%Y-%m-%d}, but {why} asks for at least {embargo} between them: "
            "the last training labels are computed from prices of the validation dates, "
            "so early stopping is flattered (and picks a later iteration). Drop the dates "
            "between, e.g. skquant.time_train_test_split(X, y, embargo_days=...).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


# The fewest training rows from which ``fit`` holds out a chronological early-stopping
# tail. Like HistGradientBoosting's ``early_stopping="auto"`` (on above 10,000 rows),
# smaller data trains on every row without early stopping: a tail of one or two rows
# cannot choose an iteration, and the older part would be left below the two rows the
# libraries need (a 2-row fold of MetaLearningTrainer's inner stacking, for example).
MIN_ROWS_FOR_TAIL = 10


def holds_out_tail(n_samples: int, early_stopping_rounds, validation_fraction) -> bool:
    """Whether ``fit`` without ``X_val`` early-stops on a chronological tail of its rows.

    Only with ``early_stopping_rounds > 0``, a ``validation_fraction`` and at least
    ``MIN_ROWS_FOR_TAIL`` training rows; the tail itself comes from
    :func:`chronological_tail_split`.
    """
    return (
        bool(early_stopping_rounds)
        and bool(validation_fraction)
        and (n_samples >= MIN_ROWS_FOR_TAIL)
    )


def chronological_tail_split(X, fraction: float, embargo: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split row positions into (older rows, latest ``fraction`` of the rows).

    With dates (see :func:`dates_of`) the split counts distinct dates and every row
    of a date falls on one side, whatever the row order. Without dates the rows are
    taken to be in time order and the last ``ceil(fraction * n)`` rows are the tail.

    ``embargo`` dates (rows, without dates, with a warning) just before the tail
    belong to neither side: a label of horizon h on an older row is computed from
    prices inside the tail unless ``embargo >= h``.

    Raises
    ------
    ValueError
        If either side would be empty.
    """
    n = _num_samples(X)  # any array-like: sklearn's checks pass objects without len()
    dates = dates_of(X)
    if dates is None:
        if embargo:
            warn_embargo_in_rows(embargo)
        n_tail = int(np.ceil(n * fraction))
        train, tail = np.arange(max(n - n_tail - embargo, 0)), np.arange(n - n_tail, n)
    else:
        unique = np.unique(dates)
        n_tail_dates = int(np.ceil(len(unique) * fraction))
        if n_tail_dates == 0 or n_tail_dates >= len(unique):
            train = tail = np.arange(0)
        else:
            is_tail = dates >= unique[-n_tail_dates]
            n_train_dates = len(unique) - n_tail_dates - embargo
            if n_train_dates <= 0:
                train = np.arange(0)
            else:
                train = np.flatnonzero(dates < unique[n_train_dates])
            tail = np.flatnonzero(is_tail)
    if len(train) == 0 or len(tail) == 0:
        raise ValueError(
            f"validation_fraction={fraction} with embargo_days={embargo} cannot split "
            f"n_samples = {n} training rows into an older part and a chronological "
            "validation tail; pass X_val/y_val, use more rows, "
            "or set early_stopping_rounds=0 to train without early stopping."
        )
    return train, tail


def check_periods_per_year(value, *, none_allowed: bool = False) -> float:
    """``value`` as a float when it is a positive finite number, else ``ValueError``.

    A bool, a string, zero, a negative number, NaN and infinity are refused (an
    infinite year would make every annualised figure infinite or zero).
    """
    if isinstance(value, Real) and not isinstance(value, bool) and 0 < value < np.inf:
        return float(value)
    allowed = "a positive number or None" if none_allowed else "a positive number"
    raise ValueError(f"periods_per_year must be {allowed}, got {value!r}.")


def periods_per_year_of(value, dates) -> float:
    """``value`` checked (a positive number), or inferred from ``dates`` when None.

    A ``value`` that the ``dates`` clearly contradict warns
    (:func:`warn_if_year_disagrees`): 252 given for weekly dates inflates every
    annualised figure, a Sharpe ratio by sqrt(252 / 52) = 2.2x.

    Raises
    ------
    ValueError
        For anything else (a bool, a string, zero, a negative number, NaN or inf).
    """
    if value is None:
        return infer_periods_per_year(dates)
    value = check_periods_per_year(value, none_allowed=True)
    warn_if_year_disagrees(value, dates)
    return value


# An explicit periods_per_year warns when it is more than this factor above or below
# the year its dates tell (infer_periods_per_year). The legitimate years of one data
# set differ by at most 366 / 250 = 1.46: daily data on a weekday year (250, 252, 260)
# or on a calendar one (365, 366), hourly bars 24 x 252 = 6048 or 8760; holidays thin
# a calendar without moving the median spacing the inference reads. The smallest clear
# mistakes lie beyond: 5 / 3 = 1.67 (a Monday-Wednesday-Friday market taken as five
# days a week), 2 (every other day taken as daily, half-hourly bars as hourly), 4.8
# (weekly as daily), 21 (monthly as daily).
YEAR_TOLERANCE = 1.5
# The fewest distinct dates whose spacing tells a year: the median of their gaps moves
# only when most gaps are long, and a few holidays cannot make most of 9 gaps long
# (three dates around a Monday holiday, Thursday, Friday and Tuesday, read 126 a year).
MIN_DATES_FOR_YEAR = 10


def _spacing_words(spacing: np.timedelta64) -> str:
    """A median spacing of dates in words: ``"7 days"``, ``"1 hour"``, ``"5 minutes"``."""
    for unit, words in (("D", "day"), ("h", "hour"), ("m", "minute"), ("s", "second")):
        amount = float(spacing / np.timedelta64(1, unit))
        if amount >= 1 or unit == "s":
            return f"{amount:.3g} {words}{'' if amount == 1 else 's'}"
    return ""  # pragma: no cover (the loop ends on seconds)


def warn_if_year_disagrees(value: float, dates, also: tuple[str, ...] = ()) -> None:
    """Warn when ``value``, a ``periods_per_year`` given explicitly, differs from the
    year the ``dates`` tell (:func:`infer_periods_per_year`) by more than a factor
    ``YEAR_TOLERANCE`` (1.5) either way: weekly data annualised by 252 have every
    annualised figure inflated, a Sharpe ratio by sqrt(252 / 52) = 2.2x, silently.

    Silent without dates, for values that are not dates (integer groups), and for
    fewer than ``MIN_DATES_FOR_YEAR`` (10) distinct dates. Dates that cannot tell a
    weekday market from a 24/7 one (:func:`calendar_unknown`) are inferred on the
    weekday basis: they also accept up to 365 / 252 times the tolerance above it.
    ``also``: further packages the warning's line passes (:func:`caller_stacklevel`).
    """
    if dates is None or isinstance(dates, pd.MultiIndex):
        return
    index = dates if isinstance(dates, pd.Index) else pd.Index(np.asarray(dates).reshape(-1))
    if not isinstance(index, pd.DatetimeIndex):
        return
    distinct = index.dropna().unique().sort_values()
    if len(distinct) < MIN_DATES_FOR_YEAR:
        return
    inferred = infer_periods_per_year(distinct)
    ratio = value / inferred
    high = YEAR_TOLERANCE * (365.0 / 252.0 if calendar_unknown(distinct) else 1.0)
    if 1.0 / YEAR_TOLERANCE <= ratio <= high:
        return
    spacing = np.median(np.diff(distinct.tz_localize(None).to_numpy()))
    sharpe = np.sqrt(ratio)
    # no span nor count of dates: the folds of a cross-validation give one message,
    # which Python's default filter shows once
    warnings.warn(
        f"periods_per_year={value:g} was given, but the dates tell {inferred:g} periods a "
        f"year (a median spacing of {_spacing_words(spacing)}): every annualised figure "
        "(Sharpe and Sortino ratios, annual return, Calmar ratio) is off, a Sharpe ratio "
        f"{sharpe if sharpe >= 1 else 1 / sharpe:.2g}x too {'high' if sharpe > 1 else 'low'}. "
        "Pass periods_per_year=None to take the year from the dates, or the data's own "
        "(252 or 365 a year for daily data, 52 for weekly, 12 for monthly).",
        UserWarning,
        stacklevel=caller_stacklevel(also),
    )


# Median spacing of distinct dates (in calendar days) -> periods per year, from a week.
_SPACINGS = ((10.0, 52), (20.0, 26), (45.0, 12), (135.0, 4), (270.0, 2))
# Daily-like data: spacings under a week, below this many trading days (calendar days
# for 24/7 data), give basis / spacing (126 every other trading day); beyond, the
# calendar table above (a week is 5 trading days, 7 calendar days).
_DAILY_LIKE = {False: 4.5, True: 6.5}
# Data count as 24/7 (a 365-day year) when at least this share of the distinct dates
# fall on a Saturday and as much on a Sunday (a full week has 1/7 = 0.14 of each): a
# stray weekend date, or a Sunday-to-Thursday market, keeps the 252 trading days.
_WEEKEND_SHARE = 0.05


def _day_of_week(days: np.ndarray) -> np.ndarray:
    """Monday 0 to Sunday 6 of ``datetime64[D]`` days."""
    return (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)


def _trades_every_day(days: np.ndarray) -> bool:
    """Whether the distinct calendar ``days`` include Saturdays and Sundays (24/7)."""
    weekday = _day_of_week(days)
    return bool(np.mean(weekday == 5) >= _WEEKEND_SHARE and np.mean(weekday == 6) >= _WEEKEND_SHARE)


def _weekdays_a_week(days: np.ndarray) -> int | None:
    """How many days of the week the trading ``days`` keep to, when 2 to 4.

    Dates on the same few days of every week (Tuesday and Thursday) are that many
    trading days a week. A day counts when it holds at least half as many dates as
    the busiest one (holidays thin Mondays, not remove them), and the others must
    hold under 5% of the dates; fewer than 3 dates on any one day tell nothing.
    """
    counts = np.bincount(_day_of_week(days), minlength=7)
    if counts.max() < 3:
        return None
    kept = counts >= 0.5 * counts.max()
    if 2 <= kept.sum() <= 4 and counts[~kept].sum() < 0.05 * counts.sum():
        return int(kept.sum())
    return None


def calendar_unknown(dates) -> bool:
    """Whether ``dates`` are too short to tell a weekday market from a 24/7 one.

    True when they hold at least two distinct dates and no Saturday or Sunday lies
    between the first and the last calendar day: with a weekend on it (24/7) or
    passed without a date (a weekday calendar) they would tell.
    :func:`infer_periods_per_year` then takes a weekday calendar (252 days a year),
    which understates the year of 24/7 data (365 days; 8760 hourly bars, not 6048).
    """
    if dates is None:
        return False
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_localize(None)
    days = np.unique(index.dropna().to_numpy().astype("datetime64[D]"))
    if len(np.unique(index.dropna().to_numpy())) < 2 or not len(days):
        return False
    first, end = days[0], days[-1] + np.timedelta64(1, "D")
    return int(np.busday_count(first, end)) == int((end - first) / np.timedelta64(1, "D"))


def _bars_a_session(stamps: np.ndarray) -> int:
    """The bars of a day that ``stamps`` (distinct, sorted ``datetime64``, cut short on
    their first and last day) tell together: the distinct times of day they hold, at
    most the span from the earliest to the latest time of day over the median spacing
    within a day (irregular stamps hold many times of day); 1 without two bars a day."""
    days = stamps.astype("datetime64[D]")
    same_day = days[1:] == days[:-1]
    if not same_day.any():
        return 1
    times = stamps - days
    spacing = np.median(np.diff(stamps)[same_day])
    across = int((times.max() - times.min()) // spacing) + 1
    return min(len(np.unique(times)), across)


def infer_periods_per_year(dates) -> float:
    """Periods per year from the median spacing of the distinct dates.

    The year has 252 trading days, or 365 days for data that trade every day of the
    week (24/7 markets such as crypto: at least 5% of the distinct calendar dates
    on a Saturday and 5% on a Sunday). Then:

    - intraday data (a median spacing under a day) get the year's days times the
      median number of timestamps per calendar date: 504 for two bars a trading
      day, ``252 * 7`` for 7 hourly bars, ``365 * 24`` = 8760 for hourly 24/7 bars
      (the first and last dates, which may be cut short, left out; of three dates
      or fewer, the fullest date, or the times of day they hold together, when more:
      a day of 7 hourly bars from 12:30 to 11:30 the next day is 7 bars a day);
    - daily data get 252 (business days) or 365 (calendar days with weekends);
    - data on the same 2 to 4 weekdays every week (less than 5% of the dates on
      other days) get 252 times that many over 5: 100.8 on Tuesdays and
      Thursdays, 151.2 on Mondays, Wednesdays and Fridays, 201.6 from Monday to
      Thursday;
    - other data every few days (less than a week apart) get the year's days over
      the median spacing, counted in trading days (weekdays: Friday to Monday is 1)
      on the 252 basis and in calendar days on the 365 basis, taken to the
      nearest whole day: 126 every other trading day, 84 every third, 182.5
      every other calendar day of 24/7 data;
    - from a week apart the calendar spacing decides: 52 weekly, 26 every two
      weeks, 12 monthly, 4 quarterly, 2 half-yearly and 1 yearly.

    Fewer than two distinct dates give 252 (nothing to measure).
    """
    if dates is None:
        return 252.0
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_localize(None)  # wall-clock dates, as the market keeps them
    distinct = np.unique(index.dropna().to_numpy())
    if len(distinct) < 2:
        return 252.0
    spacing = float(np.median(np.diff(distinct)) / np.timedelta64(1, "D"))
    days, per_day = np.unique(distinct.astype("datetime64[D]"), return_counts=True)
    every_day = _trades_every_day(days)
    basis = 365.0 if every_day else 252.0
    if spacing < 1.0:  # intraday: bars per day times the days of the year
        # a first or last day cut short (data starting at noon) counts no bars per day;
        # of three days or fewer, the fullest tells (Sat noon, Sun, Mon noon: 24), or
        # the times of day the days hold together (12:30 to 15:30, then 9:30 to 11:30
        # the next day: 7 hourly bars, not the first day's 4)
        if len(per_day) <= 3:
            return basis * float(max(per_day.max(), _bars_a_session(distinct)))
        return basis * float(np.median(per_day[1:-1]))
    if every_day:
        step = spacing
    else:  # weekdays from one date to the next: Friday to Monday is 1
        step = float(np.median(np.busday_count(days[:-1], days[1:])))
    if step < _DAILY_LIKE[every_day]:
        # the median of alternating steps (Tuesday to Thursday 2, Thursday to Tuesday
        # 3) flips with the first date: the weekdays themselves tell the rate
        weekdays = None if every_day else _weekdays_a_week(days)
        if weekdays is not None:
            return basis * weekdays / 5
        return basis / max(float(np.floor(step + 0.5)), 1.0)
    for limit, periods in _SPACINGS:
        if spacing <= limit:
            return float(periods)
    return 1.0
