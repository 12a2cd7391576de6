"""make_labels, make_features (causality), load_demo and make_synthetic_panel."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skquant import (
    LightGBMTrainer,
    WalkForwardEngine,
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
    # 99 -> 103, 101, 100 only rises: no drawdown (it was 100 / 99 - 1 > 0, a "drawdown"
    # of +1%); MFE is never negative either
    assert lab["MDD"].iloc[2] == 0 and lab["MFE"].iloc[2] == pytest.approx(p[3] / p[2] - 1)
    falling = make_labels(pd.Series([100.0, 99, 98, 97], index=close.index[:4]), horizon=2)
    assert falling["MFE"].iloc[0] == 0 and falling["MDD"].iloc[0] == pytest.approx(-0.02)
    assert (lab["MDD"].dropna() <= 0).all() and (lab["MFE"].dropna() >= 0).all()
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
    with pytest.raises(ValueError, match="positive and finite; found 1"):
        make_labels(pd.Series([1.0, np.inf, 2.0]))


def test_series_that_cannot_be_told_apart_are_refused():
    """A symbol column beside an index without a symbol level (long format) made one
    series of all rows: a symbol's last labels came from the next symbol's prices
    (audit: fwd_ret -0.52 where NaN was right), and so did make_features."""
    days = pd.bdate_range("2024-01-01", periods=6)
    long = pd.DataFrame(
        {"date": np.tile(days, 2), "symbol": np.repeat(["A", "B"], 6),
         "close": np.r_[np.linspace(100, 105, 6), np.linspace(50, 55, 6)]}
    )  # fmt: skip
    for frame in (long, long.set_index("date")):
        for func in (make_labels, make_features):
            with pytest.raises(
                ValueError, match=r"'symbol' column of several symbols but no symbol level"
            ):
                func(frame)
    with pytest.raises(ValueError, match=r"6 repeated index entries"):
        make_labels(long.set_index("date")["close"])
    panel = long.set_index(["date", "symbol"])
    labels = make_labels(panel, horizon=2)
    assert np.isnan(labels.xs("A", level="symbol")["fwd_ret"].iloc[-1])


def test_rows_whose_series_or_dates_cannot_be_told_are_refused():
    """Labels audit: a (symbol, bar) MultiIndex without dates made one series of all
    rows (A's fwd_ret 7.33, from B's prices); a NaT date became the earliest; a date
    column beside a RangeIndex was ignored (rows taken in their order); of two close
    columns the last was taken."""
    mi = pd.MultiIndex.from_product([["A", "B"], range(3)], names=["symbol", "bar"])
    with pytest.raises(ValueError, match=r"MultiIndex \(\['symbol', 'bar'\]\) without a datetime"):
        make_labels(pd.DataFrame({"close": [10.0, 11, 12, 100, 101, 102]}, index=mi), 2)
    stamps = pd.DatetimeIndex(["2024-01-03", None, "2024-01-01", "2024-01-02"])
    with pytest.raises(ValueError, match="1 rows without a date"):
        make_labels(pd.Series([3.0, 50, 1, 2], index=stamps), 1)
    days = pd.bdate_range("2024-01-01", periods=5)
    shuffled = pd.DataFrame({"date": days[[2, 0, 4, 1, 3]], "close": [3.0, 1, 5, 2, 4]})
    with pytest.raises(ValueError, match=r"'date' column but no dates in its index"):
        make_labels(shuffled, 1)
    by_date = make_labels(shuffled.set_index("date"), 1)["fwd_ret"].sort_index()
    np.testing.assert_allclose(by_date.to_numpy()[:-1], [1.0, 0.5, 1 / 3, 0.25])
    two = pd.DataFrame({"Close": [1.0, 2, 3], "close": [10.0, 30, 90]}, index=days[:3])
    with pytest.raises(ValueError, match=r"2 close columns \(\['Close', 'close'\]\)"):
        make_labels(two, 1)


def test_a_return_of_exactly_the_threshold_is_a_hit():
    """16.83 / 16.5 is +2% to the cent, 0.0199999999999998 in floating point: TTH said
    the 2% threshold was never hit (22 of 2,000 cent-price pairs, labels audit)."""
    close = pd.Series([16.5, 16.83, 16.0], index=pd.bdate_range("2024-01-01", periods=3))
    first = make_labels(close, horizon=1, threshold=0.02).iloc[0]
    assert (first["TTH"], first["y_will_peak"]) == (1.0, 1.0)
    below = make_labels(close.replace(16.83, 16.82), horizon=1, threshold=0.02).iloc[0]
    assert (below["TTH"], below["y_will_peak"]) == (2.0, 0.0)


def test_a_missing_price_makes_the_labels_of_its_windows_missing():
    """A NaN price was read as "not hit": TTH = h + 1 and y_will_peak = 0 for the row
    with no price, and MFE/MDD from part of a window (audit)."""
    close = pd.Series(
        [100.0, 101, np.nan, 99, 97, 105, 104, 103],
        index=pd.bdate_range("2024-01-01", periods=8),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "All-NaN slice" escaped too
        labels = make_labels(close, horizon=3, threshold=0.03)
    # rows 0-2 have the missing price in their window (row 2 is it); rows 5-7 lack
    # three future prices
    window_labels = ["fwd_ret_3", "MFE", "MDD", "TTH", "y_will_peak"]
    assert labels[window_labels].iloc[[0, 1, 2, 5, 6, 7]].isna().all().all()
    expected = {"fwd_ret_3": 104 / 99 - 1, "MFE": 105 / 99 - 1, "MDD": 97 / 99 - 1,
                "TTH": 2.0, "y_will_peak": 1.0}  # fmt: skip
    assert labels.iloc[3][window_labels].to_dict() == pytest.approx(expected)
    # the one-period return needs its two prices only
    assert np.isnan(labels["fwd_ret"].iloc[1]) and np.isnan(labels["fwd_ret"].iloc[2])
    assert labels["fwd_ret"].iloc[0] == pytest.approx(0.01)


def test_a_symbol_missing_panel_dates_widens_the_embargo():
    """make_labels counts a horizon in each symbol's own rows; a symbol halted for 10
    dates reached 15 panel dates with fwd_ret_5, and the engine's embargo of 5 let 5
    training labels reach into the test window (audit). The span is recorded, warned
    about, and embargo_days="auto" covers it."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2020-01-01", periods=120)
    frames = []
    for symbol in ("A", "B", "C"):
        own = days.delete(np.r_[40:50]) if symbol == "B" else days
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(own))))
        index = pd.MultiIndex.from_arrays([own, [symbol] * len(own)], names=["date", "symbol"])
        frames.append(pd.DataFrame({"close": close, "x": rng.normal(size=len(own))}, index))
    prices = pd.concat(frames).sort_index()
    with pytest.warns(UserWarning, match=r"5-period labels reach up to 15 panel dates ahead"):
        labels = make_labels(prices["close"], horizon=5)
    meta = labels.attrs["skquant_labels"]
    assert meta["horizons"]["fwd_ret_5"] == 5 and meta["spans"]["fwd_ret_5"] == 15
    assert meta["spans"]["fwd_ret"] == 11
    data = pd.concat([prices, labels], axis=1).dropna()
    data.attrs = labels.attrs
    windows = dict(features=["x"], train_days=30, test_days=10, step_days=10,
                   min_train_samples=10, leak_threshold=None)  # fmt: skip
    engine = WalkForwardEngine(data, target="fwd_ret_5", return_col="fwd_ret", **windows)
    assert (engine.label_horizon_, engine.embargo_days_) == (5, 15)
    # a trainer's own early-stopping tail too (it used the horizon, 5: audit)
    fitted = LightGBMTrainer(n_estimators=5, n_jobs=1).fit(data[["x"]], data["fwd_ret_5"])
    assert fitted.config_["embargo_days"] == 15
    # a full calendar records no span: the embargo is the horizon
    full = make_labels(prices["close"].drop("B", level="symbol"), horizon=5)
    assert "spans" not in full.attrs["skquant_labels"]


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
