"""Walk-forward portfolio rules, turnover, costs, IC and evaluate(), checked by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

from skquant import WalkForwardEngine, WalkForwardSplit, make_synthetic_panel, sharpe_ratio
from skquant.metrics import annual_return
from skquant.utils._cross_section import group_ranks
from skquant.walkforward._portfolio import portfolio_weights


class Feature(RegressorMixin, BaseEstimator):
    """Predicts the column ``f``: the test below chooses every prediction."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return X["f"].to_numpy()


# (prediction, one-period return) of symbols A, B, C on four test dates; C is absent
# on the third. A training date comes first.
ROWS = {
    0: {"A": (0.1, 0.0), "B": (0.2, 0.01), "C": (0.3, -0.01)},
    1: {"A": (0.3, 0.01), "B": (-0.1, 0.02), "C": (0.2, -0.03)},
    2: {"A": (-0.2, 0.04), "B": (0.5, -0.01), "C": (0.1, 0.02)},
    3: {"A": (0.1, 0.01), "B": (0.2, 0.03)},
    4: {"A": (-0.3, -0.02), "B": (0.1, 0.01), "C": (0.4, 0.05)},
}
DATES = pd.bdate_range("2024-01-01", periods=5)

# weights (A, B, C) on the four test dates, by hand
WEIGHTS = {
    "sign": [
        [1 / 3, -1 / 3, 1 / 3],
        [-1 / 3, 1 / 3, 1 / 3],
        [1 / 2, 1 / 2, 0],
        [-1 / 3, 1 / 3, 1 / 3],
    ],
    "long_only": [[1 / 3, 0, 1 / 3], [0, 1 / 3, 1 / 3], [1 / 2, 1 / 2, 0], [0, 1 / 3, 1 / 3]],
    # ranks minus the mean rank over the sum of their absolute values
    "rank": [[0.5, -0.5, 0], [-0.5, 0.5, 0], [-0.5, 0.5, 0], [-0.5, 0, 0.5]],
    # quantile=0.34: one symbol a leg out of three, none out of two (nothing held)
    "quantile": [[0.5, -0.5, 0], [-0.5, 0.5, 0], [0, 0, 0], [-0.5, 0, 0.5]],
}
TURNOVER = {
    # the first date trades from 0; C has no row on date 3: it left the universe there,
    # so it is sold (1/3 under "sign") and bought back on date 4, not carried
    "sign": [1, 4 / 3, 4 / 3, 4 / 3],
    "long_only": [2 / 3, 2 / 3, 1, 1],
    "rank": [1, 2, 0, 1],
    "quantile": [1, 2, 1, 1],
}
GROSS = {
    "sign": [-0.04 / 3, -0.01, 0.02, 0.08 / 3],
    "long_only": [-0.02 / 3, 0.01 / 3, 0.02, 0.06 / 3],
    "rank": [-0.005, -0.025, 0.01, 0.035],
    "quantile": [-0.005, -0.025, 0.0, 0.035],
}


@pytest.fixture(scope="module")
def tiny():
    records = [(DATES[d], s, f, r) for d, symbols in ROWS.items() for s, (f, r) in symbols.items()]
    frame = pd.DataFrame(records, columns=["date", "symbol", "f", "fwd_ret"])
    return frame.set_index(["date", "symbol"])


def _run(data, **kwargs):
    engine = WalkForwardEngine(
        data,
        target="fwd_ret",
        features=["f"],
        train_days=1,
        test_days=4,
        step_days=4,
        min_train_samples=1,
        embargo_days=0,
        periods_per_year=252,
        leak_threshold=None,
        **kwargs,
    )
    return engine.run(estimator=Feature(), metrics=["sharpe", "hit_rate"])


@pytest.mark.parametrize("portfolio", list(WEIGHTS))
def test_each_rule_by_hand(tiny, portfolio):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _run(tiny, portfolio=portfolio, quantile=0.34, cost_bps=10.0)
    assert not [w for w in caught if "symbol-dates" in str(w.message)]  # no row: no halt
    flat = [w for w in caught if "holds nothing on 1 of 4 out-of-sample dates" in str(w.message)]
    assert len(flat) == (portfolio == "quantile")  # the third date's two: too few for a leg
    weights = result.predictions["weight"].unstack("symbol").fillna(0.0)
    np.testing.assert_allclose(weights.to_numpy(), WEIGHTS[portfolio], atol=1e-15)
    returns = result.returns
    assert list(returns.columns) == ["gross", "cost", "net", "turnover", "benchmark"]
    assert list(returns.index) == list(DATES[1:])
    np.testing.assert_allclose(returns["turnover"], TURNOVER[portfolio])
    np.testing.assert_allclose(returns["gross"], GROSS[portfolio], atol=1e-15)
    np.testing.assert_allclose(returns["cost"], np.array(TURNOVER[portfolio]) * 0.001)
    np.testing.assert_allclose(returns["net"], returns["gross"] - returns["cost"])
    np.testing.assert_allclose(returns["benchmark"], [0.0, 0.05 / 3, 0.02, 0.04 / 3], atol=1e-15)
    summary = result.summary
    assert summary["sharpe"] == pytest.approx(sharpe_ratio(returns["net"]))
    assert result.folds["sharpe"].iloc[0] == pytest.approx(summary["sharpe"])
    assert summary["turnover"] == pytest.approx(np.mean(TURNOVER[portfolio]))
    assert summary["benchmark_sharpe"] == pytest.approx(sharpe_ratio(returns["benchmark"]))
    # Spearman per date across symbols: -0.5, -1, 1, 1
    assert summary["ic"] == pytest.approx(0.125)
    assert summary["icir"] == pytest.approx(0.125 / np.sqrt(3.1875 / 3))
    assert 0.0 <= summary["psr"] <= 1.0


def test_portfolio_parameters_are_checked(tiny):
    with pytest.raises(ValueError, match="portfolio must be one of sign, long_only, rank"):
        _run(tiny, portfolio="long_short")
    with pytest.raises(ValueError, match=r"quantile must be a number in \(0, 0.5\], got 0.6"):
        _run(tiny, quantile=0.6)
    with pytest.raises(ValueError, match="cost_bps must be a finite number >= 0, got -1"):
        _run(tiny, cost_bps=-1)
    result = _run(tiny)
    with pytest.raises(ValueError, match="cost_bps must be"):
        result.evaluate(cost_bps=float("nan"))
    with pytest.raises(ValueError, match="Unknown metric 'sharp'"):
        result.evaluate(metrics=["sharp"])


@pytest.fixture(scope="module")
def panel():
    return make_synthetic_panel(n_symbols=6, n_days=260, random_state=3)


WINDOWS = dict(target="fwd_ret", train_days=100, test_days=60, step_days=40, min_train_samples=1)


@pytest.mark.parametrize("portfolio", ["long_only", "rank", "quantile"])
def test_evaluate_equals_a_fresh_run(panel, portfolio):
    settings_ = dict(portfolio=portfolio, quantile=0.25, cost_bps=3.0)
    fresh = WalkForwardEngine(panel, **WINDOWS, **settings_).run(estimator=Ridge())
    again = WalkForwardEngine(panel, **WINDOWS).run(estimator=Ridge()).evaluate(**settings_)
    pd.testing.assert_frame_equal(fresh.predictions, again.predictions)
    pd.testing.assert_frame_equal(fresh.folds, again.folds)
    pd.testing.assert_frame_equal(fresh.returns, again.returns)
    assert fresh.summary == pytest.approx(again.summary, nan_ok=True)
    assert (again.portfolio, again.quantile, again.cost_bps) == (portfolio, 0.25, 3.0)


def test_evaluate_cost_sweep(panel):
    result = WalkForwardEngine(panel, **WINDOWS).run(estimator=Ridge())
    sweep = {bps: result.evaluate(cost_bps=bps) for bps in (0, 2, 5)}
    pd.testing.assert_frame_equal(sweep[0].returns, result.returns)
    for bps, run in sweep.items():
        pd.testing.assert_series_equal(run.returns["gross"], result.returns["gross"])
        np.testing.assert_allclose(
            run.returns["net"], result.returns["gross"] - result.returns["turnover"] * bps / 1e4
        )
        assert run.summary["turnover"] == result.summary["turnover"]
        assert run.summary["sharpe"] == pytest.approx(sharpe_ratio(run.returns["net"]))
    assert sweep[0].summary["sharpe"] > sweep[2].summary["sharpe"] > sweep[5].summary["sharpe"]
    # the stored predictions are reused, never refitted
    assert sweep[5].predictions["prediction"].equals(result.predictions["prediction"])


def test_overlapping_folds_switch_models_without_double_counting(panel):
    """The served portfolio trades once per date; each fold backtests its whole window."""
    result = WalkForwardEngine(panel, **WINDOWS, cost_bps=10).run(estimator=Ridge())
    served_dates = result.predictions.index.get_level_values("date").unique()
    assert list(result.returns.index) == list(served_dates)
    weights = result.predictions["weight"].unstack("symbol").fillna(0.0)
    expected = weights.diff().abs().sum(axis=1)
    expected.iloc[0] = weights.iloc[0].abs().sum()
    np.testing.assert_allclose(result.returns["turnover"], expected)


@settings(max_examples=50, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    data=st.data(),
    quantile=st.floats(0.05, 0.5),
)
def test_rank_and_quantile_weights_properties(sizes, data, quantile):
    group = np.repeat(np.arange(len(sizes)), sizes)
    score = np.array(
        data.draw(st.lists(st.integers(-3, 3), min_size=len(group), max_size=len(group))), float
    )
    tradable = np.ones(len(group), dtype=bool)
    position = np.sign(score)
    rank, _, _ = portfolio_weights(score, position, tradable, group, len(sizes), "rank", quantile)
    top, _, _ = portfolio_weights(
        score, position, tradable, group, len(sizes), "quantile", quantile
    )
    for g, n in enumerate(sizes):
        w, q = rank[group == g], top[group == g]
        distinct = len(np.unique(score[group == g])) > 1
        assert np.abs(w).sum() == pytest.approx(1.0 if distinct else 0.0)
        assert w.sum() == pytest.approx(0.0, abs=1e-12)
        if np.floor(quantile * n + 1e-9) >= 1 and distinct:
            assert q[q > 0].sum() == pytest.approx(0.5) and q[q < 0].sum() == pytest.approx(-0.5)
        else:
            assert (q == 0).all()
        # a weight is a function of the score alone: equal scores weigh the same, so
        # row (symbol) order never breaks a tie (it did: a constant model was long
        # the last symbols and short the first)
        for value in np.unique(score[group == g]):
            same = score[group == g] == value
            assert np.ptp(q[same]) == pytest.approx(0.0, abs=1e-12)
            assert np.ptp(w[same]) == pytest.approx(0.0, abs=1e-12)
        # a higher score never weighs less
        by_score = np.argsort(score[group == g], kind="stable")
        assert (np.diff(q[by_score]) >= -1e-12).all()


def test_a_constant_model_holds_nothing_under_quantile_and_few_symbols_are_refused(tiny):
    """Ties were split by row order: an information-free model was always long the
    last symbols and short the first, and earned their drifts (audit: Sharpe 5.87).
    A rule that can hold nothing is refused, before any fold is fitted."""
    data = make_synthetic_panel(n_symbols=5, n_days=200, random_state=1)
    symbol = data.index.get_level_values("symbol")
    data.loc[symbol == symbol.max(), "fwd_ret"] += 0.002
    data.loc[symbol == symbol.min(), "fwd_ret"] -= 0.002
    result = WalkForwardEngine(
        data, portfolio="quantile", quantile=0.2, **dict(WINDOWS, min_train_samples=1)
    ).run(estimator=Constant())
    assert (result.predictions["weight"] == 0).all()
    assert result.summary["sharpe"] == 0.0 and result.returns["turnover"].eq(0).all()
    for portfolio, quantile, most in (("quantile", 0.2, 3), ("rank", 0.2, 1)):
        few = data[symbol.isin(sorted(set(symbol))[:most])]
        with pytest.raises(ValueError, match=f"needs at least .* data has at most {most}"):
            WalkForwardEngine(few, portfolio=portfolio, quantile=quantile, **WINDOWS)
    with pytest.raises(ValueError, match="quantile=0.5 needs at least 2 symbols"):
        _run(tiny[tiny.index.get_level_values("symbol") == "A"], portfolio="quantile",
             quantile=0.5)  # fmt: skip


def test_a_panel_that_widens_later_runs_fold_by_fold_and_counts_flat_dates():
    """Symbols listed late leave the early dates too few for a quantile leg: the run
    warns, naming how many dates are flat, and a run that reports each fold alone (as
    tune does) is not refused for a fold whose dates are all flat (it was, review)."""
    data = make_synthetic_panel(n_symbols=10, n_days=300, random_state=1)
    dates = data.index.get_level_values("date")
    symbol = data.index.get_level_values("symbol")
    late = sorted(set(symbol))[2:]
    cut = sorted(set(dates))[200]
    data = data[~((dates < cut) & symbol.isin(late))].copy()
    # one late date: 10 symbols, but 7 of them have no return (too few to trade)
    odd = sorted(set(dates))[250]
    data.loc[(odd, late[:7]), "fwd_ret"] = np.nan
    engine = WalkForwardEngine(
        data, portfolio="quantile", quantile=0.2,
        **dict(WINDOWS, train_days=100, test_days=60, step_days=60),
    )  # fmt: skip
    with pytest.warns(UserWarning) as caught:
        result = engine.run(estimator=Ridge(), on_fold=lambda k, scores: None)
    flat = [str(w.message) for w in caught if "holds nothing" in str(w.message)]
    n_dates = result.returns["net"].notna().sum()
    early = int((result.returns.index < cut).sum())
    assert (
        early > 50
        and (result.returns.loc[: cut - pd.Timedelta(1, unit="D"), "turnover"] == 0).all()
    )
    assert flat == [
        f"portfolio='quantile' with quantile=0.2 holds nothing on {early + 1} of {n_dates} "
        "out-of-sample dates, which have fewer than 5 symbols with a prediction and a "
        "return; those dates are booked as flat (return 0)."
    ]


class Constant(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.full(len(X), 0.0005)


@pytest.mark.parametrize("uneven", [False, True])
def test_group_ranks_match_pandas(uneven):
    """Both ways of ranking (padded matrix, two sorts for uneven groups) agree with pandas."""
    rng = np.random.default_rng(0)
    sizes = [3000] + [1] * 3000 if uneven else rng.integers(1, 30, size=100).tolist()
    group = np.repeat(np.arange(len(sizes)), sizes)
    values = rng.integers(-5, 5, size=len(group)).astype(float)
    values[rng.random(len(group)) < 0.1] = np.nan
    for method in ("average", "first"):
        expected = pd.Series(values).groupby(group).rank(method=method).to_numpy()
        np.testing.assert_array_equal(group_ranks(values, group, method), expected)
    # each value's count of equal values in its group (the quantile rule's tied blocks)
    ranks, ties = group_ranks(values, group, return_ties=True)
    frame = pd.DataFrame({"g": group, "v": values})
    expected = frame.groupby(["g", "v"])["v"].transform("size").fillna(1.0).to_numpy()
    np.testing.assert_array_equal(ties, expected)
    distinct = np.arange(len(group), dtype=float)  # no ties at all: every count is 1
    assert (group_ranks(distinct, group, return_ties=True)[1] == 1).all()


def test_folds_without_overlap_each_trade_from_zero(panel):
    """Each fold's metrics are its own backtest: its first date buys from nothing."""
    windows = dict(WINDOWS, step_days=60)
    result = WalkForwardEngine(panel, **windows, portfolio="rank", cost_bps=20).run(
        estimator=Ridge(), metrics=["sharpe"]
    )
    weights = result.predictions["weight"].unstack("symbol").fillna(0.0)
    fold_of = result.predictions["fold"].groupby(level="date").first()
    returns = result.returns
    for k, fold in result.folds.iterrows():
        days = fold_of.index[fold_of == k]
        w = weights.loc[days]
        turn = w.diff().abs().sum(axis=1)
        turn.iloc[0] = w.iloc[0].abs().sum()
        net = returns.loc[days, "gross"] - turn * 20 / 1e4
        assert fold["sharpe"] == pytest.approx(sharpe_ratio(net))
        if k:  # the served portfolio carries its weights over the refit
            change = (weights.loc[days[0]] - weights.shift().loc[days[0]]).abs().sum()
            assert returns.loc[days[0], "turnover"] == pytest.approx(change)
            assert change != pytest.approx(turn.iloc[0])


@pytest.mark.filterwarnings("ignore:An input array is constant")  # scipy, the constant date
def test_ic_by_date_is_scipy_spearman_per_date():
    """The one per-date IC (engine, metrics, report) against scipy, rows in any order."""
    from scipy.stats import spearmanr

    from skquant.utils._cross_section import ic_by_date

    rng = np.random.default_rng(3)
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=40).to_numpy(), 7)
    target = rng.integers(-3, 4, size=len(dates)).astype(float)  # ties
    pred = 0.3 * target + rng.normal(size=len(dates))
    pred[rng.random(len(dates)) < 0.1] = np.nan
    target[:7] = 1.0  # a constant date: undefined
    order = rng.permutation(len(dates))
    got = ic_by_date(target[order], pred[order], dates[order])
    frame = pd.DataFrame({"t": target, "p": pred, "d": dates}).dropna()
    want = frame.groupby("d")[["t", "p"]].apply(lambda g: spearmanr(g["t"], g["p"])[0])
    assert np.isnan(got.iloc[0])
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=1e-12, equal_nan=True)
    assert list(got.index) == list(want.index)


def test_a_predicted_row_without_a_return_is_named_as_survivorship(tiny):
    # A's return on the last test date is unknown (a delisting): leaving A out and
    # spreading the weight over B and C uses that knowledge, so it is warned about
    complete = pd.concat([tiny, pd.DataFrame({"f": [0.3], "fwd_ret": [0.0]}, index=pd.MultiIndex.from_tuples([(DATES[3], "C")], names=["date", "symbol"]))]).sort_index()  # fmt: skip
    data = complete.copy()
    data["ret"] = data["fwd_ret"]
    data.loc[(DATES[4], "A"), "ret"] = np.nan
    with pytest.warns(UserWarning, match=r"1 out-of-sample rows .*\(survivorship\)"):
        result = _run(data, return_col="ret")
    weights = result.predictions["weight"].unstack("symbol")
    assert weights.loc[DATES[4], "A"] == 0 and weights.loc[DATES[4], "B"] == 0.5
    # a fully known panel is quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _run(complete)


def test_a_model_that_learned_nothing_is_warned_about(panel):
    """A model predicting one value everywhere (an XGBoost variant whose split floor no
    gain reached) traded the whole market under "sign": the engine printed Sharpe
    1.24, the market's, as if it were the model's (audit). It warns, naming the folds."""
    import warnings

    with pytest.warns(UserWarning, match=r"one constant value .* in 4 of 4 folds .*'sign'"):
        result = WalkForwardEngine(panel, **WINDOWS).run(estimator=Constant())
    assert len(result.folds) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        WalkForwardEngine(panel, **WINDOWS).run(estimator=Ridge())
        # a market timer scores every symbol of a date alike: a fold of one test date
        # is no evidence that it learned nothing (review: 6 of 6 folds were flagged)
        timer = panel.assign(market=panel.groupby(level="date")["ret_5"].transform("mean"))
        one_day = dict(WINDOWS, test_days=1, step_days=1)
        result = WalkForwardEngine(timer, features=["market"], leak_threshold=None, **one_day).run(
            estimator=Ridge()
        )
    assert result.predictions.groupby("fold")["prediction"].nunique().max() == 1
    assert result.predictions["prediction"].nunique() > 100  # it times the market


class ConstantAt(RegressorMixin, BaseEstimator):
    def __init__(self, value=0.0):
        self.value = value

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.full(len(X), self.value)


def test_a_constant_model_that_holds_nothing_is_told_so(panel):
    """Risk walk: a constant 0 (a flat book, Sharpe 0), or a negative constant under
    long_only (also flat), was said to hold 'every symbol on one side (the market, long
    or short)'. Now the warning says it holds no position; a constant of one sign still
    holds the market."""
    cases = [
        ("sign", 0.0, "holds no position"),
        ("long_only", -0.001, "holds no position"),
        ("sign", -0.001, "holds every symbol on one side"),
        ("long_only", 0.001, "holds every symbol on one side"),
    ]
    for portfolio, value, held in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = WalkForwardEngine(panel, portfolio=portfolio, **WINDOWS).run(
                estimator=ConstantAt(value)
            )
        said = [str(w.message) for w in caught if "one constant value" in str(w.message)]
        assert len(said) == 1 and held in said[0], (portfolio, value, said)
        if held == "holds no position":
            assert "the market" not in said[0]
            assert result.summary["sharpe"] == 0.0


def test_a_fold_cut_short_by_the_end_of_the_data_is_warned_about(panel):
    """A last fold of the 2 dates left read Sharpe -83, annual return -88% and profit
    factor 0 in the fold table, silently (audit). Here the data leave it 1 date."""
    short = dict(WINDOWS, test_days=79, step_days=79)  # folds at dates 100, 179, 258 of 260
    with pytest.warns(UserWarning, match=r"fold 2 tests only 1 of test_days=79 dates") as caught:
        result = WalkForwardEngine(panel, **short).run(estimator=Ridge())
    short_folds = [w for w in caught if "tests only" in str(w.message)]
    assert len(short_folds) == 1 and "the summary pools" in str(short_folds[0].message)
    assert result.folds["n_test"].iloc[-1] == 6  # one date of 6 symbols


def test_short_folds_are_judged_by_the_cv_s_own_test_days(panel):
    """With cv= the engine's test_days shortcut keeps its default 63, which the short
    fold warning read: every full fold of a cv with test_days=8 was warned about as
    cut short by the end of the data ("tests only 8 of test_days=63"), and a fold
    truly cut short was named against the wrong window."""
    windows = {"target": "fwd_ret"}
    full = WalkForwardSplit(
        train_days=100, test_days=8, step_days=8, embargo_days=1, min_train_samples=1
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        WalkForwardEngine(panel, cv=full, **windows).run(estimator=Ridge())
    assert not [w for w in caught if "tests only" in str(w.message)]
    cut = WalkForwardSplit(
        train_days=100, test_days=79, step_days=79, embargo_days=1, min_train_samples=1
    )
    with pytest.warns(UserWarning, match=r"fold 2 tests only 1 of test_days=79 dates"):
        WalkForwardEngine(panel, cv=cut, **windows).run(estimator=Ridge())


class Bullish(RegressorMixin, BaseEstimator):
    """Varying predictions, all positive: long every symbol on every date."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return 1.0 + np.abs(np.asarray(X, dtype=float)[:, 0])


def test_a_model_long_on_every_row_is_warned_about_under_sign_only(panel):
    """A model whose predictions vary but never change sign held the whole market under
    "sign" (and "long_only"): its Sharpe is the benchmark's, the table's -0.87 of three
    models at once (audit). Under "rank" it trades its ranking: no warning."""
    import warnings

    for portfolio in ("sign", "long_only"):
        with pytest.warns(UserWarning, match=r"same side .* in 4 of 4 folds"):
            result = WalkForwardEngine(panel, portfolio=portfolio, **WINDOWS).run(
                estimator=Bullish()
            )
        assert result.summary["sharpe"] == pytest.approx(result.summary["benchmark_sharpe"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        WalkForwardEngine(panel, portfolio="rank", **WINDOWS).run(estimator=Bullish())


def test_a_few_one_sided_folds_are_a_view_most_of_them_are_the_market():
    """6 of the demo job's 72 folds were long throughout: a model's view of the market,
    its summary Sharpe (0.40 against the benchmark's 0.30) its own. The warning waits
    for half the folds."""
    import warnings

    from skquant.walkforward._engine import _warn_constant_folds

    mixed, long_ = np.array([-1.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    scores = [long_, mixed, mixed, mixed]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _warn_constant_folds(scores, [np.sign(s) for s in scores], [3] * 4, "sign")
    scores = [long_, -long_, mixed, mixed]
    with pytest.warns(UserWarning, match=r"same side .* in 2 of 4 folds \(folds \[0, 1\]\)"):
        _warn_constant_folds(scores, [np.sign(s) for s in scores], [3] * 4, "sign")
    with warnings.catch_warnings():  # short throughout holds nothing when long only
        warnings.simplefilter("error", UserWarning)
        _warn_constant_folds(scores, [np.sign(s) for s in scores], [3] * 4, "long_only")


def test_the_benchmark_holds_every_symbol_whatever_the_model_predicted(tiny):
    """The benchmark ("equal weight long every symbol") averaged only the symbols with
    a prediction: a model's NaN on one row moved the market's return (audit)."""
    data = tiny.copy()
    data.loc[(DATES[2], "B"), "f"] = np.nan  # no prediction for B on the second test date
    with pytest.warns(UserWarning, match="predicted NaN .* for 1 of 11 out-of-sample rows"):
        result = _run(data, portfolio="sign")
    np.testing.assert_allclose(
        result.returns["benchmark"], [0.0, 0.05 / 3, 0.02, 0.04 / 3], atol=1e-15
    )
    assert result.returns["gross"].iloc[1] == pytest.approx((-0.04 + 0.02) / 2)  # A, C only


class _Nothing(Feature):
    def predict(self, X):
        return np.full(len(X), np.nan)


def test_a_model_that_predicts_nan_everywhere_gives_nan_numbers_not_an_index_error(tiny):
    """An IndexError ended the whole run (and a benchmark of several models) when a
    model predicted NaN for every test row (audit of the leaderboard)."""
    engine = WalkForwardEngine(
        tiny, target="fwd_ret", features=["f"], train_days=1, test_days=4, step_days=4,
        min_train_samples=1, embargo_days=0, periods_per_year=252, leak_threshold=None,
    )  # fmt: skip
    with pytest.warns(UserWarning, match="predicted NaN .* for every out-of-sample row"):
        result = engine.run(estimator=_Nothing(), metrics=["sharpe"])
    assert result.returns["gross"].isna().all() and np.isnan(result.summary["sharpe"])
    np.testing.assert_allclose(
        result.returns["benchmark"], [0.0, 0.05 / 3, 0.02, 0.04 / 3], atol=1e-15
    )


# (prediction, one-period return): A long, B short, C long and halted on the second
# test date (no return), D long and delisted after it, E long and listed on the third
HALT = {
    0: {"A": (0.5, 0.01), "B": (-0.5, -0.01), "C": (0.2, 0.02), "D": (0.1, 0.0)},
    1: {"A": (0.5, 0.01), "B": (-0.5, -0.01), "C": (0.2, 0.02), "D": (0.1, 0.0)},
    2: {"A": (0.5, 0.01), "B": (-0.5, -0.01), "C": (0.2, np.nan), "D": (0.1, 0.0)},
    3: {"A": (0.5, 0.01), "B": (-0.5, -0.01), "C": (0.2, 0.02), "E": (0.3, 0.03)},
    4: {"A": (0.5, 0.01), "B": (-0.5, -0.01), "C": (0.2, 0.02), "E": (0.3, 0.03)},
}


def _halt_data(gap):
    records = [(DATES[d], s, f, r) for d, rows in HALT.items() for s, (f, r) in rows.items()]
    data = pd.DataFrame(records, columns=["date", "symbol", "f", "fwd_ret"])
    data = data.set_index(["date", "symbol"])
    return data.drop((DATES[2], "C")) if gap == "missing_row" else data


HALT_MESSAGE = (
    "1 out-of-sample symbol-dates (of 15 with a return) are listed without a return_col "
    "'fwd_ret' value between dates with one (a trading halt; longest run 1 period): the "
    "position is carried unchanged, not sold and bought back (no turnover, no cost), "
    "earns 0 there, and the other symbols share the rest of the book. A symbol without "
    "a row on a date left the universe: it is sold. Fill those returns to book them."
)


@pytest.mark.parametrize("gap", ["nan_return", "missing_row"])
def test_a_halted_symbol_is_carried_not_sold_and_bought_back(gap):
    """A symbol listed on a date without a return (its row is there: a halt) keeps its
    weight and the date's others shrink to leave a full book; a symbol without a row
    on a date left the universe there: it is sold and bought back (audit: a missing
    row was carried however long, and the carried weight came on top of a full book:
    gross exposure 1.25, the other symbols' 1/3 each booked on 100% of capital)."""
    data = _halt_data(gap)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _run(data, cost_bps=10.0)
    messages = [str(w.message) for w in caught]
    halts = [m for m in messages if "symbol-dates" in m]
    assert not [m for m in messages if "survivorship" in m]  # a halt is no delisting
    if gap == "nan_return":
        assert halts == [HALT_MESSAGE]
        # 1/4 each of A, B, C, D; then C carried at 1/4 and A, B, D scaled from 1/3 by
        # 1 - 1/4 to 1/4: nothing traded; then A, B, C, E 1/4 (D sold, E bought)
        turnover = [1.0, 0.0, 1 / 4 + 1 / 4, 0.0]
        gross = [0.01, 0.75 * 0.02 / 3, 0.0175, 0.0175]
        c_weight = 0.25
    else:
        assert halts == []  # no row: C left the universe on date 2, no halt
        # A, B, D 1/3 and C sold on date 2; C bought back, E bought, D sold on date 3
        turnover = [
            1.0,
            3 * (1 / 3 - 1 / 4) + 1 / 4,
            2 * (1 / 3 - 1 / 4) + 3 / 4 + 1 / 3 - 1 / 4,
            0.0,
        ]
        gross = [0.01, 0.02 / 3, 0.0175, 0.0175]
        c_weight = None
    returns = result.returns
    np.testing.assert_allclose(returns["turnover"], turnover, atol=1e-15)
    np.testing.assert_allclose(returns["gross"], gross, atol=1e-15)
    np.testing.assert_allclose(returns["cost"], np.array(turnover) * 1e-3, atol=1e-15)
    np.testing.assert_allclose(returns["net"], returns["gross"] - returns["cost"], atol=1e-15)
    assert result.summary["turnover"] == pytest.approx(np.mean(turnover))
    assert result.folds["sharpe"].iloc[0] == pytest.approx(sharpe_ratio(returns["net"]))
    assert result.summary["sharpe"] == pytest.approx(sharpe_ratio(returns["net"]))
    # the weight column is the book: it shows the carried weight on the halt date, so
    # turnover and gross exposure recomputed from it match the booked ones
    weights = result.predictions["weight"].unstack("symbol")
    if c_weight is not None:
        assert weights.loc[DATES[2], "C"] == pytest.approx(c_weight)
    book = weights.fillna(0.0)
    np.testing.assert_allclose(book.abs().sum(axis=1), 1.0, atol=1e-15)  # a full book
    recomputed = book.diff().abs().sum(axis=1)
    recomputed.iloc[0] = book.iloc[0].abs().sum()
    np.testing.assert_allclose(recomputed, turnover, atol=1e-15)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = result.evaluate(cost_bps=0.0)  # re-evaluated: the same trades
    assert [str(w.message) for w in caught if "symbol-dates" in str(w.message)] == halts
    np.testing.assert_allclose(again.returns["turnover"], turnover, atol=1e-15)


def test_the_halt_warning_gives_the_longest_run():
    """Two halted dates in a row: both carried at 1/4, the run named in the warning."""
    data = _halt_data("nan_return")
    data.loc[(DATES[3], "C"), "fwd_ret"] = np.nan
    with pytest.warns(UserWarning, match=r"2 out-of-sample symbol-dates \(of 14 with a return\) .*longest run 2 periods"):  # fmt: skip
        result = _run(data)
    weights = result.predictions["weight"].unstack("symbol").fillna(0.0)
    np.testing.assert_allclose(weights["C"], 0.25, atol=1e-15)  # carried through both
    # date 3: A, B, E scaled from 1/3 to 1/4 beside C; D sold, E bought
    np.testing.assert_allclose(result.returns["turnover"], [1.0, 0.0, 0.5, 0.0], atol=1e-15)
    np.testing.assert_allclose(
        result.returns["gross"][DATES[3]], 0.75 * (0.01 + 0.01 + 0.03) / 3, atol=1e-15
    )


def test_a_long_absence_is_sold_not_carried():
    """A symbol out of the universe (no rows) for many dates between two stretches in it
    was carried the whole time at no cost (audit: 38 periods); it is sold when it leaves
    and bought back when it returns."""
    dates = pd.bdate_range("2024-01-01", periods=42)
    records = [
        (d, s, f, 0.01)
        for i, d in enumerate(dates)
        for s, f in (("A", 1.0), ("B", -1.0), ("C", 1.0))
        if s != "C" or not 2 <= i < 40
    ]
    data = pd.DataFrame(records, columns=["date", "symbol", "f", "fwd_ret"])
    data = data.set_index(["date", "symbol"])
    engine = WalkForwardEngine(
        data, target="fwd_ret", features=["f"], train_days=1, test_days=41, step_days=41,
        min_train_samples=1, embargo_days=0, periods_per_year=252, leak_threshold=None,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = engine.run(estimator=Feature(), metrics=["sharpe"])
    assert not [w for w in caught if "symbol-dates" in str(w.message)]
    turnover = result.returns["turnover"].to_numpy()
    # test dates 1..41: A, B, C 1/3 on date 1; C sold and A, B 1/2 on date 2; back on 40
    # (38 dates out of the universe)
    assert turnover[0] == pytest.approx(1.0)
    assert turnover[1] == pytest.approx(2 * (1 / 2 - 1 / 3) + 1 / 3)
    np.testing.assert_allclose(turnover[2:39], 0.0, atol=1e-15)
    assert turnover[39] == pytest.approx(2 * (1 / 2 - 1 / 3) + 1 / 3)


def test_a_halt_on_a_folds_last_date_is_carried_by_the_fold_book_too():
    """A halt on a fold's last test date (the symbol has a return later in the data) was
    sold by the fold's own book (turnover 1/2) while the served book carried it (0): the
    fold table disagreed with the served book, and the fold evaluated alone for
    on_fold warned of survivorship beside the halt."""
    data = _halt_data("nan_return")
    engine = WalkForwardEngine(
        data, target="fwd_ret", features=["f"], train_days=1, test_days=2, step_days=2,
        min_train_samples=1, embargo_days=0, periods_per_year=252, leak_threshold=None,
        cost_bps=100.0,
    )  # fmt: skip
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = engine.run(
            estimator=Feature(),
            metrics=["sharpe", "annual_return"],
            on_fold=lambda k, s: seen.append(s),
        )
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "survivorship" in m]
    assert len([m for m in messages if "symbol-dates" in m]) == 1
    assert list(result.folds["test_start"]) == [DATES[1], DATES[3]]
    np.testing.assert_allclose(result.returns["turnover"], [1.0, 0.0, 0.5, 0.0], atol=1e-15)
    # fold 0's own book: bought from flat on date 1, C carried on date 2 (no trade);
    # fold 1's: bought from flat on date 3, nothing traded on date 4
    gross = np.array([0.01, 0.005, 0.0175, 0.0175])
    for k, turnover in enumerate([[1.0, 0.0], [1.0, 0.0]]):
        net = gross[2 * k : 2 * k + 2] - np.array(turnover) * 1e-2
        assert result.folds["sharpe"].iloc[k] == pytest.approx(sharpe_ratio(net))
        assert seen[k]["sharpe"] == pytest.approx(sharpe_ratio(net))
        # fold 0 sold C on date 2 (net 0, 0.02 / 3 - 0.005): annual return 23%, now 87%
        growth = annual_return(net, periods_per_year=252)
        assert result.folds["annual_return"].iloc[k] == pytest.approx(growth)
        assert seen[k]["annual_return"] == pytest.approx(growth)


def test_a_refit_carries_the_book_and_each_fold_books_its_own_from_flat(tiny):
    """The served book carries its weights over a refit (it trades the change only) and
    is marked, not sold, after the last date; each fold's row is its own book, bought
    from flat at its first date and not sold at its last."""
    engine = WalkForwardEngine(
        tiny, target="fwd_ret", features=["f"], train_days=1, test_days=2, step_days=2,
        min_train_samples=1, embargo_days=0, periods_per_year=252, leak_threshold=None,
        cost_bps=10.0,
    )  # fmt: skip
    result = engine.run(estimator=Feature(), metrics=["sharpe"])
    assert list(result.folds["test_start"]) == [DATES[1], DATES[3]]
    gross = np.array(GROSS["sign"])
    # served: C, without a row on date 3, is sold there (1/3) and bought back on date 4
    # (1/3) across the refit; no exit after date 4
    np.testing.assert_allclose(result.returns["turnover"], [1, 4 / 3, 4 / 3, 4 / 3])
    # fold 1's own book: A, B bought from flat on date 3 (1/2 each), then A 5/6,
    # B 1/6 and C, new to this book, bought at 1/3 on date 4
    for k, turnover in enumerate([[1, 4 / 3], [1, 4 / 3]]):
        net = gross[2 * k : 2 * k + 2] - np.array(turnover) * 1e-3
        assert result.folds["sharpe"].iloc[k] == pytest.approx(sharpe_ratio(net))


def test_a_chain_of_halts_settles_in_few_passes_to_the_date_by_date_book():
    """A halt on every date, each carrying a weight that a halt on the date before had
    scaled, is a chain of carries as long as the record. Its last bit flipped between
    passes (c = 0.5 * (1 - c)), and carry_halts, which waited for two equal passes,
    took one pass per date: 1997 for 2000 dates, 19997 (20 s) for 20000. It now stops
    once no weight moves by 1e-12, and matches a date-by-date book."""
    import types

    import skquant.utils._portfolio as portfolio_utils

    n_dates, n_symbols = 2000, 3
    group = np.repeat(np.arange(n_dates), n_symbols)
    symbols = np.tile(np.arange(n_symbols), n_dates)
    sign = np.where(np.random.default_rng(0).random(n_dates * n_symbols) < 0.5, 1.0, -1.0)
    halted = np.zeros(n_dates * n_symbols, dtype=bool)
    halted[np.arange(1, n_dates) * n_symbols + np.arange(1, n_dates) % n_symbols] = True
    # the date's book over the rows with a return: the halted row weighs 0 there
    weight = np.where(halted, 0.0, sign / np.where(group == 0, n_symbols, n_symbols - 1))
    passes = []

    def counting_series(*args, **kwargs):
        passes.append(1)
        return pd.Series(*args, **kwargs)

    fake_pd = types.SimpleNamespace(**{**vars(pd), "Series": counting_series})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(portfolio_utils, "pd", fake_pd)
        out, factor = portfolio_utils.carry_halts(
            weight, ~halted, halted, group, n_dates, symbols, np.zeros(n_dates, int)
        )
    assert len(passes) < 100
    book, last = weight.reshape(n_dates, n_symbols).copy(), np.zeros(n_symbols)
    for d, halt in enumerate(halted.reshape(n_dates, n_symbols)):
        carried = np.where(halt, last, 0.0)
        book[d] = np.where(halt, carried, book[d] * max(0.0, 1 - np.abs(carried).sum()))
        last = book[d]
    np.testing.assert_allclose(out, book.reshape(-1), rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.abs(out).reshape(n_dates, n_symbols).sum(axis=1), 1.0)
