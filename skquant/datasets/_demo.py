"""The demo panel: real S&P 500 and NASDAQ daily prices shipped by the ``arch`` package."""

from __future__ import annotations

import pandas as pd

from skquant.labels import LABELS_ATTR, make_features, make_labels
from skquant.utils._optional import import_optional

_SERIES = {"SP500": "arch.data.sp500", "NASDAQ": "arch.data.nasdaq"}


def labeled_panel(ohlcv: pd.DataFrame, horizon: int, threshold: float) -> pd.DataFrame:
    """Features and labels of a (date, symbol) OHLCV panel, rows with NaN dropped."""
    features = make_features(ohlcv)
    labels = make_labels(ohlcv, horizon=horizon, threshold=threshold)
    frame = pd.concat([features, labels], axis=1).dropna()
    frame["TTH"] = frame["TTH"].astype("int64")
    frame["y_will_peak"] = frame["y_will_peak"].astype("int64")
    frame = frame.sort_index()
    # each label's horizon (and span, where a symbol misses dates), as make_labels recorded
    frame.attrs[LABELS_ATTR] = dict(labels.attrs[LABELS_ATTR])
    return frame


def load_demo(horizon: int = 5, threshold: float = 0.02) -> pd.DataFrame:
    """A labeled daily panel of two real equity indices, for examples and tutorials.

    The S&P 500 and NASDAQ Composite daily OHLCV prices from 1999 to 2018, as
    shipped in the ``arch`` package (``arch.data.sp500``, ``arch.data.nasdaq``),
    turned into causal features (:func:`skquant.make_features`) and forward labels
    (:func:`skquant.make_labels`). Rows where a window has not filled yet or a
    label lacks future prices are dropped.

    Parameters
    ----------
    horizon : int, default=5
        Label horizon in trading days.
    threshold : float, default=0.02
        Return threshold of ``TTH`` and ``y_will_peak``.

    Returns
    -------
    panel : DataFrame
        Indexed by a ``MultiIndex`` (``date``, ``symbol``) sorted by date, about
        10,000 rows; feature columns ``ret_1``, ``ret_5``, ``ret_21``, ``vol_21``,
        ``range``, ``dist_high_21``, ``volume_z_21`` and label columns ``fwd_ret``,
        ``fwd_ret_{horizon}``, ``MFE``, ``MDD``, ``TTH``, ``y_will_peak``.

    Raises
    ------
    ImportError
        Without the ``demo`` extra (``pip install 'skquant[demo]'``: arch and
        statsmodels). Use :func:`make_synthetic_panel` instead when it is missing.

    Examples
    --------
    >>> from skquant import load_demo
    >>> panel = load_demo()  # doctest: +SKIP
    >>> panel.index.get_level_values("symbol").unique().tolist()  # doctest: +SKIP
    ['NASDAQ', 'SP500']
    """
    import_optional("statsmodels")  # arch's data loaders need it
    parts = {}
    for symbol, module in _SERIES.items():
        raw = import_optional(module).load()
        raw = raw[["Open", "High", "Low", "Close", "Volume"]].astype("float64")
        raw.columns = [c.lower() for c in raw.columns]
        raw.index = pd.DatetimeIndex(raw.index, name="date")
        parts[symbol] = raw
    ohlcv = pd.concat(parts, names=["symbol", "date"]).swaplevel().sort_index()
    return labeled_panel(ohlcv, horizon, threshold)
