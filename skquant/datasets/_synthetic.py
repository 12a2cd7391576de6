"""A synthetic labeled panel with regime-switching volatility and a weak, real signal."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from skquant.datasets._demo import labeled_panel

_WARMUP = 21  # make_features' largest window


def make_synthetic_panel(
    n_symbols: int = 20,
    n_days: int = 1000,
    random_state=None,
    *,
    horizon: int = 5,
    threshold: float = 0.02,
) -> pd.DataFrame:
    """Simulate a labeled (date, symbol) panel of daily prices with a weak signal.

    Each day the market is in a calm or a volatile regime (a two-state Markov chain
    that stays put with probability 0.98; daily volatility 1% or 2.5%, scaled per
    symbol). Each symbol has two persistent signals, ``alpha_1`` and ``alpha_2``
    (AR(1), unit variance), observed at the close of day t; the return of day t+1
    is ``sigma_t * (0.08 * alpha_1 + 0.04 * alpha_2 + eps)``, so the signals carry a
    weak but real edge (an information coefficient near 0.08) while ``noise_1`` is
    pure noise. OHLCV prices built from these returns go through
    :func:`skquant.make_features` and :func:`skquant.make_labels`.

    Parameters
    ----------
    n_symbols : int, default=20
        Number of symbols.
    n_days : int, default=1000
        Number of business dates in the returned panel (the simulation adds the
        feature warm-up and label horizon around them).
    random_state : int, RandomState instance or None, default=None
        Seed of the simulation.
    horizon : int, default=5
        Label horizon.
    threshold : float, default=0.02
        Return threshold of ``TTH`` and ``y_will_peak``.

    Returns
    -------
    panel : DataFrame
        ``n_symbols * n_days`` rows indexed by (``date``, ``symbol``), sorted; the
        feature columns of :func:`make_features` plus ``alpha_1``, ``alpha_2``,
        ``noise_1``, then the label columns of :func:`make_labels`.

    Examples
    --------
    >>> from skquant import make_synthetic_panel
    >>> panel = make_synthetic_panel(n_symbols=3, n_days=50, random_state=0)
    >>> panel.shape[0]
    150
    """
    for name, value, low in (("n_symbols", n_symbols, 1), ("n_days", n_days, 2)):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    rng = check_random_state(random_state)
    total = n_days + _WARMUP + horizon
    dates = pd.bdate_range("2015-01-02", periods=total, name="date")

    regime = np.zeros(total, dtype=np.int64)
    for t in range(1, total):
        regime[t] = regime[t - 1] if rng.random_sample() < 0.98 else 1 - regime[t - 1]
    scale = rng.uniform(0.7, 1.5, n_symbols)
    sigma = np.where(regime == 1, 0.025, 0.01)[:, None] * scale[None, :]

    def ar1(phi: float) -> np.ndarray:
        x = np.empty((total, n_symbols))
        x[0] = rng.standard_normal(n_symbols)
        for t in range(1, total):
            x[t] = phi * x[t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(n_symbols)
        return x

    alpha_1, alpha_2 = ar1(0.9), ar1(0.7)
    noise_1 = rng.standard_normal((total, n_symbols))
    eps = rng.standard_normal((total, n_symbols))
    returns = np.zeros((total, n_symbols))
    returns[1:] = sigma[:-1] * (0.08 * alpha_1[:-1] + 0.04 * alpha_2[:-1] + eps[1:])
    close = 50.0 * np.exp(np.cumsum(np.log1p(returns), axis=0))
    open_ = close * np.exp(0.2 * sigma * rng.standard_normal((total, n_symbols)))
    open_[1:] = close[:-1] * np.exp(0.2 * sigma[1:] * rng.standard_normal((total - 1, n_symbols)))
    wiggle = np.abs(rng.standard_normal((2, total, n_symbols))) * sigma * 0.5
    high = np.maximum(open_, close) * (1 + wiggle[0])
    low = np.minimum(open_, close) * (1 - wiggle[1])
    volume = np.exp(13 + 20 * sigma + 0.3 * rng.standard_normal((total, n_symbols))).round()

    symbols = [f"SYM{i:03d}" for i in range(n_symbols)]
    index = pd.MultiIndex.from_product([dates, symbols], names=["date", "symbol"])
    ohlcv = pd.DataFrame(
        {
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        },
        index=index,
    )
    panel = labeled_panel(ohlcv, horizon, threshold)
    extra = pd.DataFrame(
        {
            "alpha_1": alpha_1.ravel(),
            "alpha_2": alpha_2.ravel(),
            "noise_1": noise_1.ravel(),
        },
        index=index,
    ).loc[panel.index]
    labels = [
        c
        for c in panel.columns
        if c.startswith("fwd_ret") or c in ("MFE", "MDD", "TTH", "y_will_peak")
    ]
    features = [c for c in panel.columns if c not in labels]
    out = pd.concat([panel[features], extra, panel[labels]], axis=1)
    out.attrs = dict(panel.attrs)  # make_labels' horizons
    return out
