"""A panel is many series: computations along time run per symbol.

On a (date, symbol) panel, the output of one symbol's rows must equal the output of
that symbol alone, whatever the other symbols hold and whatever the row order. Every
registered trainer is either stateful along time (checked on every run) or computes
each row from that row alone (checked with ``-m slow``); a new family must be put
in one of the two tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skquant import ChangePointTrainer, GMMRegimeTrainer, all_estimators
from skquant.utils._panel import apply_per_series, series_positions
from tests.conftest import family_needs

_NET_FAST = {"epochs": 2, "batch_size": 32, "early_stopping_rounds": 0, "device": "cpu"}

# registry name -> fast parameters of each instance whose rows depend on earlier rows
_ALONG_TIME: dict[str, list[dict]] = {
    "gmm_regime": [
        {"n_components": 2, "volatility_window": 5, "causal": True, "n_init": 1},
        {"n_components": 2, "volatility_window": 5, "causal": False, "n_init": 1},
        {"n_components": 2, "volatility_window": 0, "causal": True, "n_init": 1},
    ],
    "change_point": [{"hazard": 0.05, "max_run_length": 30, "window": 3}],
    "lstm": [{"seq_len": 4, "hidden_size": 4, **_NET_FAST}],
    "transformer": [
        {"seq_len": 4, "d_model": 4, "n_heads": 1, "num_layers": 1, "dim_feedforward": 8}
        | _NET_FAST
    ],
    "cnn1d": [{"seq_len": 4, "channels": [4], **_NET_FAST}],
}

# registry name -> fast parameters; the output of a row depends on that row alone
_ROW_WISE: dict[str, dict] = {
    "lightgbm": {"n_estimators": 5, "min_child_samples": 2, "early_stopping_rounds": 0},
    "xgboost": {"n_estimators": 5, "early_stopping_rounds": 0},
    "ensemble": {"n_splits": 2, "hgb_max_iter": 5, "rf_n_estimators": 5},
    "quantile_lightgbm": {"n_estimators": 5, "min_child_samples": 2, "early_stopping_rounds": 0},
    "ngboost": {"n_estimators": 5, "early_stopping_rounds": 0},
    "mlp": {"hidden_layer_sizes": [4], **_NET_FAST},
    "multi_task": {"hidden_layer_sizes": [4], "head_size": 4, **_NET_FAST},
    "vae": {"latent_dim": 2, "hidden_layer_sizes": [4], **_NET_FAST},
    "gan": {"epochs": 2, "batch_size": 32, "latent_dim": 2, "n_critic": 1, "device": "cpu"},
    "ftrl_proximal": {"n_passes": 2},
    "reward_based": {"estimator": "ridge"},
    "meta_learning": {"estimators": ["ridge", "ftrl_proximal"], "n_splits": 2},
}

_METHODS = ("transform", "predict", "predict_proba", "score_samples")
_SYMBOLS = ("AAA", "BBB", "CCC")


def _panel(seed: int = 0, n_dates: int = 50) -> tuple[pd.DataFrame, pd.Series]:
    """Three symbols of different volatility, starting on different dates, rows shuffled."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=n_dates)
    frames = []
    for k, symbol in enumerate(_SYMBOLS):
        own = dates[4 * k :]
        ret = rng.normal(0.0, 0.01 * (1 + 2 * k), len(own))
        ret[len(own) // 2 :] *= 3  # a volatility change halfway
        index = pd.MultiIndex.from_product([own, [symbol]], names=["date", "symbol"])
        frames.append(pd.DataFrame({"ret": ret, "x1": rng.normal(size=len(own))}, index=index))
    X = pd.concat(frames).sample(frac=1.0, random_state=seed)
    y = pd.Series(0.5 * X["ret"] + rng.normal(0, 0.01, len(X)), index=X.index, name="y")
    return X, y


def _instances(table):
    for name, params_list in table.items():
        for i, params in enumerate(params_list):
            needs = pytest.mark.requires(*family_needs(name))
            yield pytest.param(name, params, id=f"{name}-{i}", marks=needs)


def _outputs(estimator, X) -> dict[str, pd.DataFrame]:
    out = {}
    for method in _METHODS:
        if hasattr(estimator, method):
            values = np.asarray(getattr(estimator, method)(X), dtype=np.float64)
            out[method] = pd.DataFrame(values.reshape(len(X), -1), index=X.index)
    return out


def _assert_panel_is_many_series(name, params):
    X, y = _panel()
    estimator = dict(all_estimators())[name](**params)
    if "random_state" in estimator.get_params():
        estimator.set_params(random_state=0)
    estimator.fit(X, y)
    on_panel = _outputs(estimator, X)
    assert on_panel, f"{name} has none of {_METHODS}"
    for symbol in _SYMBOLS:
        alone = X.xs(symbol, level="symbol", drop_level=False).sample(frac=1.0, random_state=3)
        # the symbol alone, as a one-symbol panel and as a plain date-indexed series
        for single in (alone, alone.droplevel("symbol")):
            for method, got in _outputs(estimator, single).items():
                expected = on_panel[method].loc[alone.index].to_numpy()
                np.testing.assert_allclose(
                    got.to_numpy(),
                    expected,
                    rtol=1e-5,
                    atol=1e-7,
                    err_msg=f"{name}.{method}: {symbol} on the panel differs from {symbol} alone",
                )


def test_every_family_is_classified():
    names = {name for name, _ in all_estimators()}
    both = set(_ALONG_TIME) & set(_ROW_WISE)
    assert not both, f"{both} cannot be both stateful along time and row-wise"
    missing = names - set(_ALONG_TIME) - set(_ROW_WISE)
    assert not missing, f"put {missing} in _ALONG_TIME or _ROW_WISE"


@pytest.mark.parametrize(("name", "params"), list(_instances(_ALONG_TIME)))
def test_panel_is_many_series(name, params):
    _assert_panel_is_many_series(name, params)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_ROW_WISE))
def test_row_wise_families_are_row_wise_on_a_panel(name):
    _assert_panel_is_many_series(name, _ROW_WISE[name])


def test_gmm_transitions_are_counted_within_each_symbol():
    # one calm and one turbulent symbol, rows interleaved by date: across symbols the
    # trailing volatility blends both and every step switches symbol; within each
    # symbol regimes are sticky and each symbol keeps its own
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2021-01-04", periods=200)
    index = pd.MultiIndex.from_product([dates, ["CALM", "WILD"]], names=["date", "symbol"])
    scale = np.tile([0.01, 0.05], len(dates))
    X = pd.DataFrame({"ret": rng.normal(0.0, scale)}, index=index)
    regimes = GMMRegimeTrainer(
        n_components=2, volatility_window=5, causal=True, n_init=1, random_state=0
    ).fit(X)
    # measured over data seeds 0-3: per symbol the diagonal is 0.95-0.98 and the
    # turbulent share 0.00-0.025 (CALM) and 0.985-1.0 (WILD); blended across
    # symbols (the finding) the diagonal was 0.43-0.70 and the shares 0.15-0.27
    # and 0.49-0.62
    assert np.diag(regimes.transition_matrix_).min() > 0.85
    by_symbol = pd.Series(regimes.predict(X), index=X.index).groupby(level="symbol").mean()
    assert by_symbol["CALM"] < 0.1 and by_symbol["WILD"] > 0.9


def test_change_points_are_found_per_symbol():
    # each symbol's mean jumps on a different date, rows interleaved by date
    rng = np.random.default_rng(1)
    dates = pd.bdate_range("2021-01-04", periods=120)
    jumps = {"AAA": 40, "BBB": 80}
    frames = []
    for symbol, jump in jumps.items():
        x = rng.normal(0.0, 1.0, len(dates))
        x[jump:] += 5.0
        index = pd.MultiIndex.from_product([dates, [symbol]], names=["date", "symbol"])
        frames.append(pd.DataFrame({"x": x}, index=index))
    X = pd.concat(frames).sort_index()
    detector = ChangePointTrainer(hazard=0.01, threshold=0.5, max_run_length=100).fit(X)
    found = X.index[detector.change_points_]
    # the training change points are those of each symbol alone (its first row is none)
    expected = []
    for symbol, jump in jumps.items():
        alone = X.xs(symbol, level="symbol", drop_level=False)
        flags = detector.predict(alone)
        starts = np.flatnonzero(flags & ~np.r_[0, flags[:-1]])
        expected += alone.index[starts[starts > 0]].tolist()
        # and each symbol's jump is found within a few rows of its date
        own = found[found.get_level_values("symbol") == symbol].get_level_values("date")
        assert any(dates[jump] <= d <= dates[jump + 5] for d in own), (symbol, own)
    assert sorted(found.tolist()) == sorted(expected)
    # the score is the mean one-step log density over all rows, each symbol alone
    total = sum(
        detector.score(X.xs(s, level="symbol", drop_level=False)) * len(dates) for s in jumps
    )
    assert detector.score(X) == pytest.approx(total / len(X))


# ----------------------------------------------------------------- the shared helper
@st.composite
def _panels(draw):
    n_symbols = draw(st.integers(1, 4))
    n_dates = draw(st.integers(1, 12))
    dates = pd.bdate_range("2020-01-01", periods=n_dates)
    keys = []
    for s in range(n_symbols):
        present = draw(st.lists(st.booleans(), min_size=n_dates, max_size=n_dates))
        keys += [(d, f"S{s}") for d, keep in zip(dates, present, strict=True) if keep]
    order = draw(st.permutations(range(len(keys))))
    index = pd.MultiIndex.from_tuples([keys[i] for i in order], names=["date", "symbol"])
    if draw(st.booleans()):
        index = index.swaplevel()  # (symbol, date) works too
    values = draw(
        st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=len(index), max_size=len(index))
    )
    return pd.DataFrame({"v": np.asarray(values, dtype=np.float64)}, index=index)


@settings(max_examples=80, deadline=None)
@given(frame=_panels())
def test_series_positions_partition_rows_into_time_ordered_symbols(frame):
    positions = series_positions(frame)
    every = np.concatenate(positions) if positions else np.array([], dtype=int)
    assert sorted(every.tolist()) == list(range(len(frame)))
    for pos in positions:
        if len(pos) == 0:
            continue
        rows = frame.iloc[pos].index
        assert rows.get_level_values("symbol").nunique() == 1
        assert rows.get_level_values("date").is_monotonic_increasing
    # a cumulative sum along time equals pandas' per-symbol one, in the input's row order
    got = apply_per_series(np.cumsum, frame["v"].to_numpy(), positions)
    expected = frame["v"].sort_index(level="date").groupby(level="symbol").cumsum()
    np.testing.assert_allclose(got, expected.loc[frame.index].to_numpy())


def test_series_positions_without_a_symbol_level():
    values = np.arange(5.0)
    # an array, a list (whose .index is a method) or a frame without dates: one
    # series in row order
    assert [p.tolist() for p in series_positions(values)] == [[0, 1, 2, 3, 4]]
    assert [p.tolist() for p in series_positions(values.tolist())] == [[0, 1, 2, 3, 4]]
    assert [p.tolist() for p in series_positions(pd.DataFrame({"v": values}))] == [[0, 1, 2, 3, 4]]
    # dates alone: one series in date order
    shuffled = pd.DataFrame({"v": values}, index=pd.bdate_range("2021-01-04", periods=5)[::-1])
    assert [p.tolist() for p in series_positions(shuffled)] == [[4, 3, 2, 1, 0]]
    # the cumulative sum runs from the latest row (the earliest date) up
    got = apply_per_series(np.cumsum, values, series_positions(shuffled))
    assert got.tolist() == [10.0, 10.0, 9.0, 7.0, 4.0]


@pytest.mark.parametrize(("name", "params"), list(_instances(_ALONG_TIME)))
def test_a_panel_without_its_symbol_level_is_refused(name, params):
    """A panel whose symbol level was dropped (a DatetimeIndex repeating each date once
    per symbol) was taken as one series: windows and filters ran across symbols, one
    symbol's rows moving another's regime probabilities by 1.0 (audit)."""
    X, y = _panel()
    estimator = dict(all_estimators())[name](**params)
    flat = X.droplevel("symbol")
    with pytest.raises(ValueError, match="DatetimeIndex repeats the date .* MultiIndex"):
        estimator.fit(flat, y.droplevel("symbol"))
    estimator.fit(X, y)
    method = next(m for m in _METHODS if hasattr(estimator, m))
    with pytest.raises(ValueError, match="DatetimeIndex repeats the date"):
        getattr(estimator, method)(flat)
    missing = flat.copy()
    missing.index = missing.index.where(np.arange(len(flat)) >= 2, pd.NaT)  # two NaT dates
    with pytest.raises(ValueError, match=r"missing dates \(NaT\) on 2 rows"):
        getattr(estimator, method)(missing)
    doubled = pd.concat([X, X.iloc[:3]])  # a (date, symbol) pair twice
    with pytest.raises(ValueError, match="repeats the date .* each \\(date, symbol\\) pair"):
        getattr(estimator, method)(doubled)


@pytest.mark.parametrize(("name", "params"), list(_instances(_ALONG_TIME)))
def test_rows_without_dates_warn_that_they_are_one_series(name, params):
    """A Pipeline step without set_output hands the next step an array: the windows
    and filters then ran across symbols, silently (audit: a CNN's predictions for one
    symbol moved by 0.25, a regime's probabilities by 1, with another symbol's rows).
    Rows without dates still make one series in row order, with a NoDatesWarning."""
    import warnings

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skquant.model_selection import NoDatesWarning

    X, y = _panel()
    estimator = dict(all_estimators())[name](**params)
    method = next(m for m in _METHODS if hasattr(estimator, m))
    pipe = make_pipeline(StandardScaler(), estimator)
    with pytest.warns(NoDatesWarning, match=r"one series in row order.*set_output"):
        pipe.fit(X, y)
    with pytest.warns(NoDatesWarning, match="one series in row order"):
        getattr(pipe, method)(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)
        pipe.set_output(transform="pandas").fit(X, y)
        getattr(pipe, method)(X)
