"""make_labels, make_features (causality), load_demo and make_synthetic_panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skquant import (
    information_coefficient,
    load_demo,
    make_features,
    make_labels,
    make_synthetic_panel,
)


def _ohlcv(n, n_symbols=1, seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2023-01-02", periods=n)
    frames = {}
    for s in range(n_symbols):
        close = 100 * np.exp(np.cumsum(0.02 * rng.standard_normal(n)))
        frames[f"S{s}"] = pd.DataFrame(
            {
                "Open": close * (1 + 0.005 * rng.standard_normal(n)),
                "High": close * (1 + np.abs(0.01 * rng.standard_normal(n))),
                "Low": close * (1 - np.abs(0.01 * rng.standard_normal(n))),
                "Close": close,
                "Volume": rng.integers(1000, 5000, n).astype(float),
            },
            index=dates,
        )
    if n_symbols == 1:
        return frames["S0"]
    return pd.concat(frames, names=["symbol", "date"]).swaplevel().sort_index()


def test_labels_follow_the_formulas():
    close = pd.Series(
        [100.0, 102.0, 99.0, 103.0, 101.0, 100.0], index=pd.bdate_range("2024-01-01", periods=6)
    )
    lab = make_labels(close, horizon=3, threshold=0.025)
    p = close.to_numpy()
    assert lab["fwd_ret"].iloc[0] == pytest.approx(p[1] / p[0] - 1)
    assert lab["fwd_ret_3"].iloc[0] == pytest.approx(p[3] / p[0] - 1)
    assert lab["MFE"].iloc[0] == pytest.approx(p[3] / p[0] - 1)
    assert lab["MDD"].iloc[0] == pytest.approx(p[2] / p[0] - 1)
    assert lab["TTH"].iloc[0] == 3 and lab["y_will_peak"].iloc[0] == 1  # +3% on day 3
    assert lab["TTH"].iloc[1] == 4 and lab["y_will_peak"].iloc[1] == 0  # never +2.5%
    assert lab["TTH"].iloc[2] == 1  # 99 -> 103 next day
    assert lab["fwd_ret_3"].iloc[3:].isna().all() and lab["fwd_ret"].iloc[:5].notna().all()
    assert np.isnan(lab["fwd_ret"].iloc[-1])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(10, 60),
    cut=st.integers(1, 59),
    horizon=st.integers(1, 6),
    seed=st.integers(0, 50),
)
def test_labels_use_only_future_prices(n, cut, horizon, seed):
    """Changing a past price leaves later rows' labels unchanged (they look forward only)."""
    prices = _ohlcv(n, seed=seed)["Close"]
    cut = min(cut, n - 1)
    changed = prices.copy()
    changed.iloc[:cut] *= 1.5
    a, b = make_labels(prices, horizon, 0.01), make_labels(changed, horizon, 0.01)
    pd.testing.assert_frame_equal(a.iloc[cut:], b.iloc[cut:])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 60),
    cut=st.integers(1, 60),
    n_symbols=st.integers(1, 3),
    seed=st.integers(0, 50),
)
def test_features_are_causal(n, cut, n_symbols, seed):
    """make_features on a prefix of the dates equals the prefix of make_features."""
    ohlcv = _ohlcv(n, n_symbols, seed)
    dates = pd.bdate_range("2023-01-02", periods=n)[: min(cut, n)]
    prefix = ohlcv[ohlcv.index.isin(dates, level=0)] if n_symbols > 1 else ohlcv.loc[dates]
    full = make_features(ohlcv)
    pd.testing.assert_frame_equal(make_features(prefix), full.loc[prefix.index])


def test_panel_rows_in_any_order_and_per_symbol():
    panel = _ohlcv(40, 3, seed=1)
    shuffled = panel.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(make_features(shuffled).loc[panel.index], make_features(panel))
    pd.testing.assert_frame_equal(make_labels(shuffled).loc[panel.index], make_labels(panel))
    one = panel.xs("S1", level="symbol")
    pd.testing.assert_frame_equal(
        make_features(panel).xs("S1", level="symbol"), make_features(one), check_names=False
    )
    feats = make_features(panel)
    assert list(feats.columns) == [
        "ret_1",
        "ret_5",
        "ret_21",
        "vol_21",
        "range",
        "dist_high_21",
        "volume_z_21",
    ]
    assert feats.groupby(level="symbol").head(21)["ret_21"].isna().all()


def test_bad_input_errors():
    with pytest.raises(ValueError, match="horizon"):
        make_labels(pd.Series([1.0, 2.0]), horizon=0)
    with pytest.raises(ValueError, match="'close' column"):
        make_features(pd.DataFrame({"price": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="positive"):
        make_labels(pd.Series([1.0, -2.0]))
    with pytest.raises(ValueError, match="windows"):
        make_features(_ohlcv(10), windows=(0,))


def test_synthetic_panel_shape_determinism_and_signal():
    a = make_synthetic_panel(n_symbols=8, n_days=400, random_state=3)
    pd.testing.assert_frame_equal(a, make_synthetic_panel(n_symbols=8, n_days=400, random_state=3))
    assert not a.equals(make_synthetic_panel(n_symbols=8, n_days=400, random_state=4))
    assert a.shape[0] == 8 * 400 and a.index.names == ["date", "symbol"]
    assert a.index.is_monotonic_increasing and not a.isna().any().any()
    # fwd_ret is the next close-to-close return
    close_ret = a["ret_1"].groupby(level="symbol").shift(-1)
    both = close_ret.notna()
    np.testing.assert_allclose(a["fwd_ret"][both], close_ret[both])
    # the planted signal is weak but real; noise_1 has none
    ic_alpha = information_coefficient(a["fwd_ret"], a["alpha_1"])
    ic_noise = information_coefficient(a["fwd_ret"], a["noise_1"])
    assert 0.02 < ic_alpha < 0.2 and abs(ic_noise) < 0.03
    # volatility regimes: the rolling volatility switches between two levels
    vol = a["vol_21"].groupby(level="date").mean()
    assert vol.quantile(0.9) > 1.6 * vol.quantile(0.1)
    with pytest.raises(ValueError, match="n_symbols"):
        make_synthetic_panel(n_symbols=0)


def test_load_demo_reads_arch_prices():
    pytest.importorskip("arch")
    pytest.importorskip("statsmodels")
    panel = load_demo()
    assert panel.index.names == ["date", "symbol"]
    assert sorted(panel.index.get_level_values("symbol").unique()) == ["NASDAQ", "SP500"]
    assert len(panel) > 9000 and not panel.isna().any().any()
    assert {"ret_1", "vol_21", "fwd_ret", "fwd_ret_5", "MFE", "MDD", "TTH", "y_will_peak"} <= set(
        panel.columns
    )
    from arch.data import sp500

    raw = sp500.load()
    sp = panel.xs("SP500", level="symbol")
    day = sp.index[100]
    nxt = raw.index[raw.index.get_loc(day) + 1]
    assert sp.loc[day, "fwd_ret"] == pytest.approx(
        raw.loc[nxt, "Close"] / raw.loc[day, "Close"] - 1
    )
