"""A panel is many series: run computations along time once per symbol.

A filter, a trailing window or any other computation whose row ``t`` depends on
earlier rows must never let one symbol's rows reach another's. Every such
computation in skquant goes through :func:`series_positions` and
:func:`apply_per_series`, so on a (date, symbol) panel it sees each symbol alone,
in date order, whatever the row order of the input.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from skquant.utils._text import few_names
from skquant.utils._time import (
    MIN_DATES_FOR_YEAR,
    YEAR_TOLERANCE,
    date_columns,
    date_level,
    dates_of,
    infer_periods_per_year,
)
from skquant.utils._warnings import LeakageWarning, caller_stacklevel


def series_positions(X, n_rows: int | None = None) -> list[np.ndarray]:
    """Row positions of each series in ``X``, each in time order.

    - A panel (a ``MultiIndex`` with a datetime level, see
      :func:`~skquant.utils._time.dates_of`) holds one series per symbol: per
      distinct value of its other levels, ordered by date.
    - Dates without a symbol level (a ``DatetimeIndex``) make one series in date
      order.
    - Anything else (an array, a frame without dates) is one series in row order.

    Rows with equal keys keep their input order.

    Parameters
    ----------
    X : array-like or DataFrame
        The input, as given by the user (its index is read, its values are not).
    n_rows : int, default=None
        Number of rows, when ``X`` has no ``len`` (defaults to ``len(X)``).

    Returns
    -------
    positions : list of ndarray of int
        One array per series, together holding every row position exactly once;
        series in order of their first row in time order.
    """
    n = len(X) if n_rows is None else int(n_rows)
    index = getattr(X, "index", None)  # list-likes may have an unrelated .index method
    if not isinstance(index, pd.Index) or len(index) != n or dates_of(X) is None:
        return [np.arange(n)]
    level = date_level(index)
    stamps = index if level is None else index.get_level_values(level)
    dates = stamps.asi8  # tz-aware too
    codes = np.zeros(n, dtype=np.int64)
    if level is not None and index.nlevels > 1:
        others = [index.get_level_values(i) for i in range(index.nlevels) if i != level]
        keys = others[0] if len(others) == 1 else pd.MultiIndex.from_arrays(others)
        codes = pd.factorize(keys, use_na_sentinel=False)[0].astype(np.int64)
    order = np.lexsort((np.arange(n), dates, codes))
    refuse_repeated_dates(stamps[order], codes[order], panel=index.nlevels > 1)
    return np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)


# Column names that hold a panel's symbols (compared in lower case).
_SYMBOL_COLUMNS = ("symbol", "ticker")


def refuse_keys_in_columns(data, name: str = "data") -> None:
    """A ValueError when a frame keeps in its columns the dates or symbols that its
    index lacks, for a computation that reads series from the index
    (:func:`series_positions`).

    - A date-like column (datetime values, or named ``date``, ``datetime``,
      ``timestamp``, ``time``) beside an index without dates: the rows would be taken
      in their order, not by date.
    - A symbol-like column (``symbol``, ``ticker``) of several values beside an index
      without a symbol level, when the dates (of the index, else of the date column)
      repeat: every symbol's rows would make one series, lags and windows crossing
      from one symbol to the next. A frame read from a file without ``index_col``
      (``date`` and ``symbol`` as columns) did so silently: the leak guard scored
      ``vol_21`` 0.005 instead of 0.075 on a five-symbol panel. Unique dates are one
      series (a ticker renamed from FB to META), and are not refused. Without any
      dates (none in the index, no date-like column) the symbol column is refused:
      nothing tells one series from interleaved symbols.

    Date-like columns are those of :func:`~skquant.utils._time.date_columns` (a
    numeric ``time`` feature is none). The error names the columns and the
    ``set_index`` call that makes them the index.
    """
    if not isinstance(data, pd.DataFrame):
        return
    index = data.index
    dates = dates_of(data)
    has_dates = dates is not None
    if has_dates and isinstance(index, pd.MultiIndex):
        return
    dated = [] if has_dates else date_columns(data)
    # several symbols' rows share dates; a series' dates are unique (a renamed ticker).
    # Without any dates (no dates in the index, no date column) nothing tells a series
    # from interleaved symbols: a symbol column of several values is refused.
    if has_dates:
        repeated = not pd.Index(dates).is_unique
    else:
        repeated = not dated or not pd.Index(data[dated[0]]).is_unique
    symbols = [  # names first: only a symbol-named column is read
        c
        for c in (data.columns if repeated else ())
        if str(c).lower() in _SYMBOL_COLUMNS and data[c].nunique(dropna=False) > 1
    ]
    if not dated and not symbols:
        return
    keys = ([] if has_dates else dated[:1]) + symbols[:1]
    held = " and ".join(f"a {c!r} column" for c in keys)
    if symbols:
        why = "all rows would be one series: lags and windows would cross symbols"
    else:
        why = "its rows would be taken in their order, not by date"
    if not has_dates and not dated:  # symbols without dates: no order to put them in
        fix = (
            "index the rows by (date, symbol), with datetime dates (a date column is "
            "found only by its datetime values or the names 'date', 'datetime', "
            "'timestamp', 'time')"
        )
    else:
        if has_dates or any(level is not None for level in index.names):  # keep the index
            call = f"{name}.set_index({keys[0]!r}, append=True)"
        else:  # a RangeIndex: the rows' own numbers
            call = f"{name}.set_index({keys if len(keys) > 1 else keys[0]!r})"
        fix = f"index the rows by {'them' if len(keys) > 1 else 'it'}: {call}"
    if dated and not pd.api.types.is_datetime64_any_dtype(data[keys[0]]):
        fix += f" after {name}[{keys[0]!r}] = pd.to_datetime({name}[{keys[0]!r}])"
    raise ValueError(
        f"{name} has {held} but its {type(index).__name__} holds no "
        f"{'symbol level' if has_dates else 'dates'}, so {why}; {fix}."
    )


def refuse_repeated_dates(dates: pd.DatetimeIndex, codes: np.ndarray, *, panel: bool) -> None:
    """A ValueError when a date repeats within one series (``dates`` and the series
    ``codes`` in series-then-time order). Taken as one series, a panel whose symbol
    level was dropped ran its windows and filters across symbols (audit: one symbol's
    rows moved another's regime probabilities by 1.0)."""
    same = np.flatnonzero((np.diff(dates.asi8) == 0) & (np.diff(codes) == 0))
    if not same.size:
        return
    if pd.isna(dates[same[0]]):
        raise ValueError(
            f"X's index holds missing dates (NaT) on {int(dates.isna().sum())} rows: each "
            "row needs its date to take its place in its series."
        )
    if panel:
        raise ValueError(
            f"X's index repeats the date {dates[same[0]]} within one series ({same.size} "
            "rows repeat an earlier row's date and symbol): each (date, symbol) pair "
            "must be one row."
        )
    raise ValueError(
        f"X's DatetimeIndex repeats the date {dates[same[0]]} ({same.size} rows repeat "
        "an earlier row's date): dates without a symbol level make one series, so a "
        "panel of several symbols needs a (date, symbol) MultiIndex, which keeps each "
        "symbol's rows apart."
    )


def apply_per_series(
    func: Callable[[np.ndarray], np.ndarray], values: np.ndarray, positions: list[np.ndarray]
) -> np.ndarray:
    """``func`` on each series' rows of ``values`` in time order, outputs in row order.

    Parameters
    ----------
    func : callable
        Maps the rows of one series, ``values[pos]`` in time order, to an array
        with one row per input row.
    values : ndarray of shape (n_rows, ...)
        The rows, in the input's order.
    positions : list of ndarray of int
        The series, as :func:`series_positions` returns them.

    Returns
    -------
    out : ndarray of shape (n_rows, ...)
        Row ``i`` is ``func``'s output for row ``i`` of ``values``.
    """
    if len(positions) == 1 and np.array_equal(positions[0], np.arange(len(values))):
        return np.asarray(func(values))
    out = None
    for pos in positions:
        part = np.asarray(func(values[pos]))
        if len(part) != len(pos):
            raise ValueError(f"func returned {len(part)} rows for a series of {len(pos)} rows.")
        if out is None:
            out = np.empty((len(values), *part.shape[1:]), dtype=part.dtype)
        out[pos] = part
    return out


def _named(symbols, shown: int = 5) -> str:
    """Up to ``shown`` symbols in words: ``'A', 'B' and 3 more``."""
    return few_names(map(repr, symbols), shown)


def _time_of_day(stamps: pd.DatetimeIndex) -> str:
    """The most common time of day of ``stamps``, with their zone: ``"16:00 UTC"``."""
    times = pd.Series(stamps.strftime("%H:%M")).value_counts()
    zone = f" {stamps.tz}" if stamps.tz is not None else ""
    return f"{times.index[0]}{zone}" + (" (mostly)" if len(times) > 1 else "")


def check_panel_clock(index, what: str = "data", warn_sparse: bool = True) -> None:
    """Refuse a panel whose symbols are not on one clock; warn of sparse symbols on it.

    A (date, symbol) panel is read date by date: each date is one cross-section (the
    portfolio's weights, the IC), windows and embargoes count its distinct dates and
    the year is inferred from them (:func:`~skquant.utils._time.infer_periods_per_year`).
    That holds only when the symbols share their dates. Two ways they do not, both
    refused with a ``ValueError`` (``what`` names the data in the message):

    - the symbols come at different frequencies off each other's time stamps (hourly
      bars from 9:30 beside daily bars stamped at midnight): the years inferred from
      each symbol's own dates differ by more than a factor ``YEAR_TOLERANCE`` (1.5;
      daily weekday data and daily 24/7 data, 252 and 365 a year, pass), and at most
      half of a sparser symbol's dates are dates of the densest symbols (those within
      1.5x of the highest year). The panel's dates would interleave two clocks;
    - the symbols share a frequency but not their time stamps (daily bars stamped
      at each market's close, 16:00 and 17:00, or dates read in UTC from files
      written with offsets): at least ``MIN_DATES_FOR_YEAR`` (10) dates of a symbol
      hold no other symbol while another symbol's date lies closer than the symbol's
      own spacing, and such dates outnumber the ones it shares. The panel would
      then count twice the periods a year, hold one symbol a date (no IC, a
      turnover of 2 a period) and count half-days as days. This is refused, not
      warned: every figure of the run would be wrong, and stamping the bars by date
      fixes it in one line.

    A symbol whose dates lie on the panel's clock but skip many of its dates (an
    illiquid symbol that trades on 45% of the days, a few sporadic trades before a
    delisting, a weekly symbol on Fridays beside daily ones, a small cap holding half
    of the minute bars) is not refused: one :class:`~skquant.leakage.LeakageWarning`
    a call names such symbols, with the share of the panel's dates (within their own
    first and last date) they hold. A label of ``h`` of its rows spans more than ``h``
    panel dates, so it reaches past an embargo of ``h`` dates (a 5-row label of a
    symbol trading on 45% of days: up to 26), and its one-row return spans several
    periods. A symbol counts as sparse when at least a third of the steps between its
    consecutive dates skip a panel date, or when it holds less than half of the
    panel's dates between its own first and last date: a halt (one long step), a few
    missing days and a weekday daily symbol beside a 24/7 one (one step in five skips
    the weekend, ~70% of the dates held) stay silent; a symbol trading on 60% of the
    days (40% of its steps skip) warns, and so do weekday hourly bars beside 24/7
    hourly ones (one step in seven skips, but ~17 bars a night: ~20% of the bars held,
    a 7-bar label reaching 72).
    ``warn_sparse=False`` leaves that warning out: the engine passes it when the
    labels' ``make_labels`` metadata records how far its target reaches (``spans``),
    which ``embargo_days="auto"`` then covers.

    Symbols that start or stop at different dates, and holidays that differ, are
    not refused; symbols with fewer than ``MIN_DATES_FOR_YEAR`` dates are not
    judged. An index without a datetime level or without a symbol level passes.
    """
    level = date_level(index)
    if level is None or index.nlevels < 2:
        return
    stamps = index.get_level_values(level)
    others = [index.get_level_values(i) for i in range(index.nlevels) if i != level]
    keys = others[0] if len(others) == 1 else pd.MultiIndex.from_arrays(others)
    codes, symbols = pd.factorize(keys)
    keep = (codes >= 0) & ~stamps.isna()
    if len(symbols) < 2 or not keep.any():
        return
    codes, stamps = codes[keep], stamps[keep]
    clock = stamps.asi8
    order = np.lexsort((clock, codes))
    codes, clock = codes[order], clock[order]
    first = np.ones(len(codes), dtype=bool)  # a (symbol, date) once
    first[1:] = (np.diff(codes) != 0) | (np.diff(clock) != 0)
    codes, clock = codes[first], clock[first]
    stamps = stamps[order][first]
    starts = np.flatnonzero(np.r_[True, np.diff(codes) != 0])
    bounds = np.r_[starts, len(codes)]
    judged = [
        (codes[a], slice(a, b))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        if b - a >= MIN_DATES_FOR_YEAR
    ]
    if len(judged) < 2:
        return
    spacing = np.zeros(len(symbols), dtype=np.int64)
    years, seen = {}, {}
    for code, part in judged:
        spacing[code] = np.median(np.diff(clock[part]))
        # symbols on the same dates (most of a panel) are read once
        key = (part.stop - part.start, clock[part.start], clock[part.stop - 1], spacing[code])
        if key not in seen:
            seen[key] = infer_periods_per_year(stamps[part])
        years[code] = seen[key]
    # the panel's dates, each row's among them, and how many symbols hold each
    distinct, at, count = np.unique(clock, return_inverse=True, return_counts=True)
    densest = max(years.values())
    sparse = {code for code, _ in judged if YEAR_TOLERANCE * years[code] < densest}
    if sparse:
        grid = np.zeros(len(distinct), dtype=bool)  # the dates of the densest symbols
        for code, part in judged:
            if code not in sparse:
                grid[at[part]] = True
        off_grid = [c for c, part in judged if c in sparse and grid[at[part]].mean() <= 0.5]
        if off_grid:
            _refuse_frequencies(years, symbols, what)
    # dates held by one symbol only, with another symbol's date nearer than its spacing
    before = np.diff(distinct, prepend=np.iinfo(np.int64).min // 2)[at]
    after = np.diff(distinct, append=np.iinfo(np.int64).max // 2)[at]
    near = np.minimum(before, after) < spacing[codes]
    shared = count[at] >= 2
    n_off = np.bincount(codes, weights=~shared & near, minlength=len(symbols))
    n_shared = np.bincount(codes, weights=shared, minlength=len(symbols))
    off = [
        code
        for code, _ in judged
        if n_off[code] >= MIN_DATES_FOR_YEAR and n_off[code] > n_shared[code]
    ]
    if not off:
        if warn_sparse:
            _warn_sparse(judged, codes, at, symbols, what)
        return
    aligned = [code for code, _ in judged if code not in off]
    times = [f"{symbols[c]!r} at {_time_of_day(stamps[codes == c])}" for c in off[:5]]
    if len(off) > 5:
        times.append(f"{len(off) - 5} more")
    if aligned:
        times.append(
            f"the other symbols ({_named([symbols[c] for c in aligned], 3)}) at "
            f"{_time_of_day(stamps[np.isin(codes, aligned)])}"
        )
    year = float(np.median([years[c] for c in off]))
    raise ValueError(
        f"The symbols of {what} share a frequency ({year:g} periods a year each) but not "
        f"their time stamps: {', '.join(times)}. Most of their dates hold no other "
        "symbol, so the panel's dates would be read as "
        f"{infer_periods_per_year(stamps.unique()):g} periods a year, each date's "
        "cross-section (the IC, the portfolio's weights) would miss the symbols off its "
        "clock (with every symbol off: no IC, a turnover of about 2 a period), and "
        "windows and embargoes would count parts of periods. Put every symbol on one "
        "clock: stamp daily bars by "
        "their date (index.normalize(), after tz_convert to the exchange's zone for "
        "dates read with UTC offsets), or align intraday bars (e.g. index.floor('h'))."
    )


def _refuse_frequencies(years: dict, symbols, what: str) -> None:
    """The ValueError of :func:`check_panel_clock` for symbols at different
    frequencies off each other's time stamps, naming each symbol's year."""
    groups: dict[float, list] = {}
    for code, year in years.items():
        groups.setdefault(year, []).append(symbols[code])
    listed = "; ".join(
        f"{year:g} a year: {_named(names)}"
        for year, names in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    )
    raise ValueError(
        f"The symbols of {what} come at different frequencies (periods a year "
        f"inferred from each symbol's own dates: {listed}), and the sparser symbols' "
        "time stamps are not the denser ones' (most of their dates hold none of the "
        "denser symbols). A panel is read date by date on the dates of all its "
        "symbols: a sparser symbol's labels reach past the embargo and its returns are "
        "annualised by the denser symbols' year. Resample every symbol to one frequency "
        "(e.g. hourly bars to daily ones with resample('D')), or walk each frequency as "
        "a panel of its own."
    )


# a symbol is sparse on the panel's clock when at least this share of the steps
# between its consecutive dates skip a panel date: above a weekday symbol beside a
# 24/7 one (a step in five skips the weekend, about 23% with holidays)
_SPARSE_STEPS = 1 / 3
# or when it holds less than this share of the panel's dates within its own first and
# last date, however few of its steps skip: weekday hourly bars beside 24/7 ones on the
# same hours skip a panel bar on one step in seven, but ~17 bars each night (a 7-bar
# label reached 72); a weekday daily symbol beside a 24/7 one holds ~70%
_SPARSE_SHARE = 0.5


def _warn_sparse(judged: list, codes: np.ndarray, at: np.ndarray, symbols, what: str) -> None:
    """One LeakageWarning naming the symbols of :func:`check_panel_clock`'s panel that
    skip many of its dates (``codes``, ``at``: each row's symbol and panel date number,
    in symbol-then-date order; ``judged``: the symbols' slices of them)."""
    skip = np.flatnonzero((np.diff(at) >= 2) & (np.diff(codes) == 0))  # within a symbol
    skips = np.bincount(codes[skip], minlength=len(symbols))
    found = []  # (share of the panel's dates in its life, symbol)
    for code, part in judged:
        share = (part.stop - part.start) / (at[part.stop - 1] - at[part.start] + 1)
        if skips[code] >= _SPARSE_STEPS * (part.stop - part.start - 1) or (share < _SPARSE_SHARE):
            found.append((share, symbols[code]))
    if not found:
        return
    found.sort(key=lambda item: item[0])
    shown = few_names(f"{name!r} ({share:.0%})" for share, name in found)
    many = len(found) > 1
    warnings.warn(
        f"{len(found)} symbol{'s' if many else ''} of {what} skip{'' if many else 's'} "
        f"many of the panel's dates (the share of the panel's dates between "
        f"{'their' if many else 'its'} first and last date held): {shown}. The panel "
        "counts the dates of all its symbols, so a label of h rows of such a symbol "
        "spans more than h panel dates and reaches past an embargo of h, and its "
        "one-row return spans several periods. Make the labels with make_labels on the "
        "whole panel (its metadata records how many panel dates each label reaches, "
        "and embargo_days='auto' covers them; keep it with data.attrs = labels.attrs), "
        "or reindex each such symbol's prices onto the panel's dates (the last price "
        "carried forward) before making its labels, or set a longer embargo_days.",
        LeakageWarning,
        stacklevel=caller_stacklevel(),
    )
