"""Forward-looking labels and causal features from prices.

Labels look only at future prices (relative to the row's close); features look only
at the row's own and earlier prices. Both work on one series (indexed by date) or on
a panel (a ``MultiIndex`` of date and symbol, computed per symbol).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd

from skquant.utils._panel import series_positions
from skquant.utils._target import LABELS_ATTR, is_label_like
from skquant.utils._time import date_level, dates_of
from skquant.utils._warnings import caller_stacklevel

__all__ = [
    "LABELS_ATTR",
    "LABEL_COLUMNS",
    "is_label_like",
    "label_metadata",
    "make_features",
    "make_labels",
]

# Columns make_labels writes (fwd_ret_{h} is added per horizon): never features.
LABEL_COLUMNS = ("fwd_ret", "MFE", "MDD", "TTH", "y_will_peak")


def label_metadata(horizon: int, spans: dict | None = None) -> dict:
    """What make_labels records in ``attrs[LABELS_ATTR]``: each label's horizon, the
    one-period return and, where a symbol misses dates of the panel, ``spans``: the
    most panel dates a label reaches ahead (its embargo), when more than its horizon."""
    horizons = {"fwd_ret": 1, f"fwd_ret_{horizon}": horizon}
    horizons.update({name: horizon for name in ("MFE", "MDD", "TTH", "y_will_peak")})
    out = {"horizons": horizons, "one_period_return": "fwd_ret"}
    if spans:
        out["spans"] = dict(spans)
    return out


_SYMBOL_COLUMNS = ("symbol", "ticker")
# how close to the threshold a return counts as reaching it (floating-point ratios)
_HIT_TOLERANCE = 1e-12


def _check_series(prices, name: str) -> None:
    """Refuse prices whose series or dates cannot be told apart: a MultiIndex without a
    datetime level, a missing date, a symbol column beside an index without a symbol
    level, a date column beside an index without dates, or a date repeated within one
    series. Taken as one series in row order, a symbol's last labels were computed
    from the next symbol's prices (audits)."""
    index = prices.index
    dates = dates_of(prices)
    if isinstance(index, pd.MultiIndex) and dates is None:
        raise ValueError(
            f"{name}: prices has a MultiIndex ({list(index.names)}) without a datetime "
            "level, so its series cannot be told apart and all rows would be one series "
            "in row order (one symbol's labels computed from another's prices). Index the "
            "panel by (date, symbol) with datetime dates (pd.to_datetime)."
        )
    if dates is not None and pd.isna(dates).any():
        raise ValueError(
            f"{name}: prices has {int(pd.isna(dates).sum())} rows without a date (NaT): "
            "each row needs its date to take its place in its series."
        )
    if not isinstance(index, pd.MultiIndex) and isinstance(prices, pd.DataFrame):
        named = [
            c
            for c in prices.columns
            if str(c).lower() in _SYMBOL_COLUMNS and prices[c].nunique(dropna=False) > 1
        ]
        if named:
            raise ValueError(
                f"{name}: prices has a {named[0]!r} column of several symbols but no symbol "
                "level in its index, so all rows would be one series (one symbol's labels "
                "computed from another's prices). Index the panel by date and symbol, e.g. "
                f"prices.set_index({named[0]!r}, append=True) on a date index."
            )
    if dates is None and isinstance(prices, pd.DataFrame):
        dated = [c for c in prices.columns if str(c).lower() in ("date", "datetime", "timestamp")]
        if dated:
            raise ValueError(
                f"{name}: prices has a {dated[0]!r} column but no dates in its index, so "
                f"the rows would be taken in their order, not by {dated[0]!r}. Index them "
                f"by it: prices.set_index({dated[0]!r}) (with the symbol: "
                f"set_index([{dated[0]!r}, 'symbol']))."
            )
    if dates is not None and index.duplicated().any():
        first = index[index.duplicated()][0]
        raise ValueError(
            f"{name}: prices has {int(index.duplicated().sum())} repeated index entries "
            f"(first {first!r}): one row per date of each series. A panel needs a "
            "(date, symbol) MultiIndex."
        )


def _label_spans(labels: pd.DataFrame, horizon: int, positions) -> tuple[dict, object]:
    """The most distinct panel dates each label reaches ahead, where more than its
    periods: a symbol that misses dates the others have (a halt, another holiday
    calendar) spans more dates in ``horizon`` of its own rows. ``positions`` are the
    series of ``labels`` (:func:`series_positions`). Returns the spans above the
    horizon and a symbol that reaches the widest."""
    dates = dates_of(labels)
    if dates is None or len(positions) < 2:
        return {}, None
    calendar = np.unique(dates, return_inverse=True)[1].reshape(-1)
    spans, widest_symbol = {}, None
    for periods, names in ((1, ["fwd_ret"]), (horizon, [c for c in labels if c != "fwd_ret"])):
        widest, where = periods, None
        for pos in positions:
            if len(pos) > periods:
                codes = calendar[pos]
                span = int(np.max(codes[periods:] - codes[:-periods]))
                if span > widest:
                    widest, where = span, pos[0]
        if where is not None:
            spans.update(dict.fromkeys(names, widest))
            if periods == horizon:  # the symbol: the index without its date level
                widest_symbol = labels.index.droplevel(date_level(labels.index))[where]
    return spans, widest_symbol


def _per_symbol(frame: pd.DataFrame, func, positions=None) -> pd.DataFrame:
    """Apply ``func`` to each symbol's rows in date order; return rows in the input's
    order. ``positions``: the series of ``frame`` (:func:`series_positions`), if known."""
    positions = series_positions(frame) if positions is None else positions
    if len(positions) == 1 and np.array_equal(positions[0], np.arange(len(frame))):
        return func(frame)
    return pd.concat([func(frame.iloc[pos]) for pos in positions]).reindex(frame.index)


def _close_of(prices, name: str) -> pd.Series:
    if isinstance(prices, pd.Series):
        close = prices
    elif isinstance(prices, pd.DataFrame):
        closes = [c for c in prices.columns if str(c).lower() == "close"]
        if not closes:
            raise ValueError(
                f"{name} needs a 'close' column (any case); got columns {list(prices.columns)}."
            )
        if len(closes) > 1:  # the last one was taken, silently
            raise ValueError(
                f"{name}: prices has {len(closes)} close columns ({closes}); keep one."
            )
        close = prices[closes[0]]
    else:
        raise ValueError(
            f"{name} takes a pandas Series or DataFrame of prices, got {type(prices).__name__}."
        )
    close = close.astype(np.float64)
    if (close <= 0).any() or np.isinf(close).any():
        bad = int(((close <= 0) | np.isinf(close)).sum())
        raise ValueError(
            f"{name}: prices must be positive and finite; found {bad} that are not "
            "(a missing price is NaN)."
        )
    _check_series(prices, name)
    return close


def make_labels(prices, horizon: int = 5, threshold: float = 0.02) -> pd.DataFrame:
    """Forward-looking labels from close prices.

    With ``p_t`` the close of the row and ``h = horizon``:

    - ``fwd_ret = p_{t+1} / p_t - 1``, the next-period return;
    - ``fwd_ret_{h} = p_{t+h} / p_t - 1``, the return over the horizon;
    - ``MFE = max(0, max_{1<=i<=h} p_{t+i} / p_t - 1)``, the maximum favourable
      excursion: never negative (a path that only falls has none, 0);
    - ``MDD = min(0, min_{1<=i<=h} p_{t+i} / p_t - 1)``, the maximum drawdown from the
      close of the row (the maximum adverse excursion): never positive, as
      ``skquant.metrics.max_drawdown`` (a path that only rises has none, 0);
    - ``TTH = min{i in 1..h : p_{t+i} / p_t - 1 >= threshold}``, the periods until
      the threshold is first hit (a return within 1e-12 below it counts: the rounding
      of a ratio of prices), ``h + 1`` when it is not hit within the horizon;
    - ``y_will_peak = 1`` if ``TTH <= h`` else ``0``.

    Rows without ``h`` future prices get NaN in every label but ``fwd_ret`` (NaN
    only on the last row of each symbol); so does a row whose window holds a missing
    (NaN) price, its own included. ``labels.attrs["skquant_labels"]`` records
    each label's horizon (1 for ``fwd_ret``, ``h`` for the others), which the
    walk-forward engine reads to set its embargo; on a panel where a symbol misses
    dates the others have, it also records (with a warning) the most panel dates a
    label reaches ahead, and the engine's embargo covers that. Labels use only prices after ``t``
    (``p_t`` as reference), so they belong with the target, never the features.

    Parameters
    ----------
    prices : Series or DataFrame
        Close prices indexed by date, or a (date, symbol) panel; a DataFrame needs
        one ``close`` column (any case). Rows may come in any order; a date repeated
        within a series or missing (NaT), a ``symbol`` column without a symbol index
        level, a ``date`` column beside an index without dates, or a MultiIndex
        without a datetime level is a ``ValueError``.
    horizon : int, default=5
        Periods (rows of a series: bars on intraday data) ahead the labels look;
        ``fwd_ret_{horizon}`` has no unit, so its name counts periods too, where a
        name in days (``fwd_ret_1d``) counts trading days of bars.
    threshold : float, default=0.02
        Return that counts as a hit for ``TTH`` and ``y_will_peak``.

    Returns
    -------
    labels : DataFrame
        Columns ``fwd_ret``, ``fwd_ret_{horizon}``, ``MFE``, ``MDD``, ``TTH``,
        ``y_will_peak``, with the index of ``prices``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skquant import make_labels
    >>> close = pd.Series([100.0, 101, 103, 99, 104],
    ...                   index=pd.bdate_range("2024-01-01", periods=5))
    >>> make_labels(close, horizon=2, threshold=0.02)[["fwd_ret_2", "TTH", "y_will_peak"]]
                fwd_ret_2  TTH  y_will_peak
    2024-01-01   0.030000  2.0          1.0
    2024-01-02  -0.019802  3.0          0.0
    2024-01-03   0.009709  3.0          0.0
    2024-01-04        NaN  NaN          NaN
    2024-01-05        NaN  NaN          NaN
    """
    if not isinstance(horizon, Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be an int >= 1, got {horizon!r}.")
    if not isinstance(threshold, Real) or isinstance(threshold, bool) or not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}.")
    close = _close_of(prices, "make_labels")

    def labels_of(frame: pd.DataFrame) -> pd.DataFrame:
        p = frame["close"].to_numpy()
        n = len(p)
        ahead = np.full((n, horizon), np.nan)  # ahead[t, i-1] = p_{t+i} / p_t - 1
        for i in range(1, horizon + 1):
            ahead[: max(n - i, 0), i - 1] = p[i:] / p[: max(n - i, 0)] - 1.0
        # a window needs every price in it: a missing (NaN) price could be the hit,
        # the peak or the trough, so its labels are NaN rather than guessed
        complete = (np.arange(n) < n - horizon) & np.isfinite(ahead).all(axis=1)
        # a return within 1e-12 of the threshold reaches it: 16.83 / 16.5 - 1, +2% to the
        # cent, is 0.0199999999999998 in floating point and missed a 2% threshold
        hit = ahead >= threshold - _HIT_TOLERANCE
        tth = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, horizon + 1.0)
        out = pd.DataFrame(index=frame.index)
        out["fwd_ret"] = ahead[:, 0]
        out[f"fwd_ret_{horizon}"] = np.where(complete, ahead[:, -1], np.nan)
        # excursions from the entry price: the 0 column is the entry itself, so a path
        # that only rises has no drawdown (MDD 0, not its smallest gain) and one that
        # only falls no favourable excursion
        window = np.where(complete[:, None], ahead, 0.0)
        out["MFE"] = np.where(complete, np.maximum(window.max(axis=1), 0.0), np.nan)
        out["MDD"] = np.where(complete, np.minimum(window.min(axis=1), 0.0), np.nan)
        out["TTH"] = np.where(complete, tth, np.nan)
        out["y_will_peak"] = np.where(complete, (tth <= horizon).astype(float), np.nan)
        return out

    frame = close.to_frame("close")
    positions = series_positions(frame)  # the labels keep the rows' order: the same
    labels = _per_symbol(frame, labels_of, positions)
    spans, symbol = _label_spans(labels, horizon, positions)
    if spans:
        warnings.warn(
            f"make_labels: some symbols miss dates the panel has (a halt, another holiday "
            f"calendar), so their {horizon}-period labels reach up to "
            f"{spans.get('MFE', horizon)} panel dates ahead (symbol {symbol!r}) and fwd_ret up "
            f"to {spans['fwd_ret']}. The labels' metadata records those spans: the "
            "walk-forward engine's embargo_days='auto' takes them.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    labels.attrs[LABELS_ATTR] = label_metadata(horizon, spans)
    return labels


def make_features(ohlcv, windows=(1, 5, 21)) -> pd.DataFrame:
    """Causal technical features from OHLCV prices.

    Every feature at row ``t`` uses the row's own and earlier prices only, so the
    features of a prefix of the data equal the prefix of the features. With ``w``
    in ``windows`` and ``W = max(windows)``:

    - ``ret_{w} = close_t / close_{t-w} - 1``, returns over several windows;
    - ``vol_{W}``: standard deviation of the one-period returns over the last ``W``
      periods;
    - ``range = (high_t - low_t) / close_t`` (when high and low are given);
    - ``dist_high_{W} = close_t / max(high over the last W periods) - 1``, the
      distance from the rolling high (close instead of high when absent);
    - ``volume_z_{W}``: the volume's z-score against its last ``W`` periods (when
      volume is given).

    Parameters
    ----------
    ohlcv : DataFrame
        Prices indexed by date or by a (date, symbol) panel, in any row order,
        with a ``close`` column and optionally ``open``, ``high``, ``low``,
        ``volume`` (any case).
    windows : tuple of int, default=(1, 5, 21)
        Return windows; the largest also sets the volatility, high and volume windows.

    Returns
    -------
    features : DataFrame
        One column per feature, with the index of ``ohlcv``. The first ``W`` rows
        of each symbol hold NaN while the windows fill.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skquant import make_features
    >>> prices = pd.DataFrame({"close": np.linspace(100, 110, 30)},
    ...                       index=pd.bdate_range("2024-01-01", periods=30))
    >>> make_features(prices).columns.tolist()
    ['ret_1', 'ret_5', 'ret_21', 'vol_21', 'dist_high_21']
    """
    if not isinstance(ohlcv, pd.DataFrame):
        raise ValueError(
            f"make_features takes a DataFrame of OHLCV prices, got {type(ohlcv).__name__}."
        )
    windows = tuple(windows)
    if not windows or not all(isinstance(w, Integral) and w >= 1 for w in windows):
        raise ValueError(f"windows must be positive ints, got {windows!r}.")
    close = _close_of(ohlcv, "make_features")
    lower = {str(c).lower(): c for c in ohlcv.columns}
    frame = pd.DataFrame({"close": close})
    for col in ("high", "low", "volume"):
        if col in lower:
            frame[col] = ohlcv[lower[col]].astype(np.float64)
    big = max(windows)

    def features_of(g: pd.DataFrame) -> pd.DataFrame:
        c = g["close"]
        out = pd.DataFrame(index=g.index)
        for w in windows:
            out[f"ret_{w}"] = c / c.shift(w) - 1.0
        out[f"vol_{big}"] = (c / c.shift(1) - 1.0).rolling(big, min_periods=big).std()
        if "high" in g and "low" in g:
            out["range"] = (g["high"] - g["low"]) / c
        high = g["high"] if "high" in g else c
        out[f"dist_high_{big}"] = c / high.rolling(big, min_periods=big).max() - 1.0
        if "volume" in g:
            v = g["volume"]
            roll = v.rolling(big, min_periods=big)
            std = roll.std()
            out[f"volume_z_{big}"] = ((v - roll.mean()) / std.where(std > 0)).astype(np.float64)
        return out

    return _per_symbol(frame, features_of)
