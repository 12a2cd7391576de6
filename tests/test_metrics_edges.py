"""Edge cases of the metrics found by the metrics audit: a classifier's scorer on a
compounding metric, PSR of constant zero returns, NaN periods in the annual return,
returns large enough to overflow a variance, and NaN labels in validation metrics."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from skquant import (
    annual_return,
    calmar_ratio,
    deflated_sharpe_ratio,
    get_scorer,
    max_drawdown,
    probabilistic_sharpe_ratio,
    sharpe_ratio,
    sortino_ratio,
)
from skquant.metrics import validation_metrics


def _series(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"f": rng.normal(size=n)}, index=pd.bdate_range("2020-01-01", periods=n))
    ret = pd.Series(0.01 * (0.3 * X["f"].to_numpy() + rng.normal(size=n)), index=X.index)
    return X, ret


# ------------------------------------------------------ A. classifier scorers
@pytest.mark.parametrize("name", ["max_drawdown", "annual_return", "calmar", "calmar_ratio"])
def test_a_classifier_scorer_refuses_compounding_metrics(name):
    """Audit f3: a classifier's outcome is +1/-1 a row, booked as +-100% a period, so
    the first miss wiped equity out and every classifier scored -1.0 on max_drawdown,
    annual_return and calmar. Those are refused now, naming the metric and the ones
    that work with a classifier."""
    X, ret = _series()
    y = (ret > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    canonical = "calmar" if name == "calmar_ratio" else name
    with pytest.raises(ValueError, match=rf"'{canonical}' scorer compounds.*\+1/-1") as info:
        get_scorer(name)(clf, X, y)
    for usable in ("'sharpe'", "'profit_factor'", "'win_loss_ratio'", "'hit_rate'"):
        assert usable in str(info.value)
    # an unfitted classifier is refused before it is asked to predict
    with pytest.raises(ValueError, match="compounds"):
        get_scorer(name)(DummyClassifier(), X, y)
    # the scale-free metrics still score a classifier, and a regressor every metric
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("sharpe", "sortino", "profit_factor", "win_loss_ratio", "hit_rate", "ic"):
            assert np.isfinite(get_scorer(name)(clf, X, y)), name
    reg = LinearRegression().fit(X, ret)
    booked = np.sign(reg.predict(X)) * ret.to_numpy()
    assert get_scorer("max_drawdown")(reg, X, ret) == pytest.approx(max_drawdown(booked))
    assert get_scorer("annual_return")(reg, X, ret) == pytest.approx(annual_return(booked))
    assert get_scorer("calmar")(reg, X, ret) == pytest.approx(calmar_ratio(booked))
    assert get_scorer("max_drawdown")(reg, X, ret) > -1.0


# ------------------------------------------------------ B. PSR of constant returns
def test_psr_of_constant_zero_returns_is_exact():
    """Audit f6: all-zero returns have an exact Sharpe ratio of 0, so the probability
    that it exceeds a benchmark is 0 above 0, 1 below and 0.5 at it (was 0.42 and
    0.58: the normal approximation of an estimate without error)."""
    zeros = [0.0] * 5
    assert probabilistic_sharpe_ratio(zeros, 0.1) == 0.0
    assert probabilistic_sharpe_ratio(zeros, -0.1) == 1.0
    assert probabilistic_sharpe_ratio(zeros, 0.0) == 0.5
    assert probabilistic_sharpe_ratio(zeros, 1e-9) == 0.0
    # the same rule as the +-inf Sharpe of other constants
    assert probabilistic_sharpe_ratio([0.001] * 5, 0.1) == 1.0
    assert probabilistic_sharpe_ratio([-0.001] * 5, -0.1) == 0.0
    # a zero mean of varying returns is an estimate: the normal approximation stays
    varying = probabilistic_sharpe_ratio([0.01, -0.01] * 5, 0.1)
    assert 0.0 < varying < 0.5


def test_dsr_of_constant_zero_returns_follows_the_psr_rule():
    zeros = [0.0] * 5
    assert deflated_sharpe_ratio(zeros, n_trials=10, trials_sharpe_variance=0.01) == 0.0
    assert deflated_sharpe_ratio(zeros, n_trials=10, trials_sharpe_variance=0.0) == 0.5
    assert deflated_sharpe_ratio(zeros, n_trials=1, trials_sharpe_variance=0.5) == 0.5


# ------------------------------------------------------ C. annual return, overflow
def test_annual_return_counts_nan_periods_as_empyrical():
    """Audit f8: NaN periods were dropped, shortening the year (0.011375 against
    empyrical's 0.011260); empyrical's cum_returns books them as flat periods."""
    empyrical = pytest.importorskip("empyrical")
    r = np.random.default_rng(0).normal(0.0005, 0.01, 300)
    r[[5, 50, 100]] = np.nan
    assert annual_return(r) == pytest.approx(empyrical.annual_return(r), rel=1e-12)
    assert annual_return(r, 52) == pytest.approx(
        empyrical.annual_return(r, annualization=52), rel=1e-12
    )
    assert calmar_ratio(r) == pytest.approx(empyrical.calmar_ratio(r), rel=1e-12)
    # one period of +10% and one missing, two periods a year: +10% a year
    assert annual_return([0.1, np.nan], periods_per_year=2) == pytest.approx(0.1)
    assert np.isnan(annual_return([np.nan, np.nan]))


@settings(max_examples=40, deadline=None)
@given(
    r=arrays(
        np.float64,
        st.integers(2, 60),
        elements=st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False),
    ),
    gaps=st.lists(st.integers(0, 59), max_size=10),
)
def test_annual_return_agrees_with_empyrical_with_nan_periods(r, gaps):
    empyrical = pytest.importorskip("empyrical")
    r = r.copy()
    r[[g for g in gaps if g < len(r)]] = np.nan
    if np.isnan(r).all():
        assert np.isnan(annual_return(r))
        return
    assert annual_return(r) == pytest.approx(empyrical.annual_return(r), rel=1e-9, abs=1e-12)


def test_drawdown_of_equity_beyond_float64():
    """Equity compounded as a product overflowed to inf past about 1.8e308 (400 periods
    of +1000%, a long intraday run of +1%), and inf / inf made the drawdown NaN,
    silently; as a sum of log returns it is exact."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        boom = np.r_[np.full(400, 10.0), -0.5, 0.2]
        assert max_drawdown(boom) == pytest.approx(-0.5, rel=1e-12)
        assert max_drawdown(np.r_[boom, -1.0, 0.3]) == -1.0  # wiped out
        r = np.r_[np.full(80_000, 0.01), np.full(3, -0.1), np.full(5, 0.01)]
        assert max_drawdown(r) == pytest.approx(0.9**3 - 1, rel=1e-9)
        # 80,000 bars of +1% in a year of 80,000: growth of e**796, beyond float64
        assert annual_return(np.full(80_000, 0.01), periods_per_year=80_000) == np.inf
        # the same bars over 100 years of 800: 1.01 ** 800 - 1 a year, finite (the
        # product was inf, and so was the rate)
        assert annual_return(np.full(80_000, 0.01), periods_per_year=800) == (
            pytest.approx(1.01**800 - 1, rel=1e-9)
        )


def test_equity_columns_count_equity_as_max_drawdown_does():
    """The walk-forward equity and drawdown columns (equity.csv) compounded their own
    product: inf equity and NaN drawdowns past float64 where max_drawdown said -0.5,
    and a return below -1 made equity negative with a drawdown of -1.6."""
    from skquant.walkforward import WalkForwardResult

    for r in (np.r_[np.full(400, 10.0), -0.5, 0.2], np.array([0.1, -1.5, -0.2])):
        dates = pd.bdate_range("2000-01-03", periods=len(r))
        predictions = pd.DataFrame(
            {"prediction": 1.0, "strategy_return": r, "fold": 0}, index=dates
        )
        result = WalkForwardResult(pd.DataFrame({"fold": [0]}), {}, predictions, dates, ())
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)  # the return below -1 is named
            frame = result.to_frame()
            expected = max_drawdown(r)
        assert frame["drawdown"].notna().all() and (frame["equity"] >= 0).all()
        assert frame["drawdown"].min() == pytest.approx(expected, rel=1e-12)


def test_sharpe_of_huge_returns_does_not_overflow():
    """Audit f8: np.std([1e200, 2e200, 3e200]) overflows to inf, so the Sharpe ratio
    was 0.0; it is 2 / 1 * sqrt(252) (the ratio does not depend on the scale)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        assert sharpe_ratio([1e200, 2e200, 3e200]) == pytest.approx(2 * np.sqrt(252))
        assert sharpe_ratio([-1e200, -2e200, -3e200]) == pytest.approx(-2 * np.sqrt(252))
        assert sortino_ratio([1e200, -2e200, 3e200]) == pytest.approx(
            sortino_ratio([1.0, -2.0, 3.0])
        )
        assert sharpe_ratio([1e300, 1e300 * (1 + 1e-15)]) == np.inf  # constant up to rounding


@settings(max_examples=40, deadline=None)
@given(
    r=arrays(
        np.float64,
        st.integers(2, 50),
        elements=st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False),
    ),
    exponent=st.integers(-300, 1000),
)
@example(r=np.array([0.1, -0.2, 0.3]), exponent=700)  # squares above the float maximum
def test_sharpe_and_sortino_do_not_depend_on_the_scale(r, exponent):
    scale = 2.0**exponent  # exact: the ratios must be equal, not merely close
    for f in (sharpe_ratio, sortino_ratio):
        expected = f(r)
        np.testing.assert_equal(f(r * scale), expected)


# ------------------------------------------------------ D. NaN labels in validation
def test_validation_metrics_leave_nan_labels_out_of_the_prediction_metrics():
    """Audit: a NaN in y_val (a forward label not known yet) raised sklearn's "Input
    contains NaN"; those rows are left out of the label metrics now, as rows without a
    return are left out of the trading metrics."""
    rng = np.random.default_rng(0)
    y = rng.normal(0, 0.01, 40)
    pred = y + rng.normal(0, 0.01, 40)
    returns = rng.normal(0, 0.01, 40)
    spoilt = y.copy()
    spoilt[-3:] = np.nan
    keep = slice(None, -3)
    days = pd.bdate_range("2024-01-01", periods=40)  # one daily series
    out = validation_metrics("regression", spoilt, pred, None, returns, days)
    expected = validation_metrics("regression", y[keep], pred[keep])
    for key in ("rmse", "mae", "r2", "information_coefficient", "hit_rate"):
        assert out[key] == pytest.approx(expected[key]), key
    # the trading metrics do not use y_val: the same as with the full labels
    full = validation_metrics("regression", y, pred, None, returns, days)
    assert out["trading"] == full["trading"]

    labels = (y > 0).astype(float)
    proba = np.clip(0.5 + 10 * pred, 0.01, 0.99)
    spoilt_labels = labels.copy()
    spoilt_labels[-3:] = np.nan
    out = validation_metrics("classification", spoilt_labels, (proba > 0.5) * 1.0, proba)
    expected = validation_metrics(
        "classification", labels[keep], (proba[keep] > 0.5) * 1.0, proba[keep]
    )
    for key in ("accuracy", "roc_auc", "log_loss"):
        assert out[key] == pytest.approx(expected[key]), key
    nothing = validation_metrics("regression", [np.nan] * 3, [0.1, -0.1, 0.2])
    assert all(np.isnan(nothing[k]) for k in ("rmse", "mae", "r2", "hit_rate"))
    with pytest.raises(ValueError, match="y_val has 3 values but pred has 2"):
        validation_metrics("regression", [0.1, np.nan, 0.2], [0.1, 0.2])


def test_validation_metrics_of_a_symbol_then_date_index():
    """A (symbol, date) index took the symbols for dates: "Given date string "A" not
    likely a datetime" (audit). Either level order gives the same numbers."""
    from skquant.metrics import validation_metrics

    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2024-01-01", periods=40), ["A", "B", "C"]], names=["date", "symbol"]
    )
    y = rng.normal(0, 0.01, len(index))
    pred = y + rng.normal(0, 0.01, len(index))
    by_date = validation_metrics("regression", y, pred, returns=y, dates=index, cost_bps=5)
    swapped = index.swaplevel()
    by_symbol = validation_metrics("regression", y, pred, returns=y, dates=swapped, cost_bps=5)
    assert by_symbol == by_date
    assert by_date["trading"]["turnover"] > 0 and by_date["trading"]["periods_per_year"] == 252


def _mispriced_panel(seed: int = 3):
    """20 dates of 5 symbols whose predictions carry a per-date level: pooled, the
    level is ranked against other dates' outcomes; per date, it drops out."""
    rng = np.random.default_rng(seed)
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=20).to_numpy(), 5)
    index = pd.MultiIndex.from_arrays([dates, np.tile(list("ABCDE"), 20)])
    y = rng.normal(size=100)
    pred = y + 2 * rng.normal(size=100) + np.repeat(5 * rng.normal(size=20), 5)
    return index, dates, y, pred


def test_information_coefficient_reads_the_dates_of_a_multiindex():
    """Audit: dates=a (date, symbol) MultiIndex was read as 100 distinct (date, symbol)
    tuples, one row a "date", and gave the pooled rank correlation over all rows
    (0.250) instead of the mean per-date IC (0.325)."""
    from skquant import information_coefficient

    index, dates, y, pred = _mispriced_panel()
    per_date = information_coefficient(y, pred, dates)
    assert per_date != pytest.approx(information_coefficient(y, pred), abs=0.02)
    assert information_coefficient(y, pred, index) == pytest.approx(per_date)
    assert information_coefficient(y, pred, index.swaplevel()) == pytest.approx(per_date)


def test_validation_metrics_ic_of_a_panel_is_per_date():
    """Audit: validation_metrics ranked the validation rows of every date together
    (its IC 0.250) although it was given the dates; the engine's and the scorer's IC
    is the mean over dates of the rank IC across each date's rows (0.325)."""
    from skquant import information_coefficient

    index, dates, y, pred = _mispriced_panel()
    per_date = information_coefficient(y, pred, dates)
    for row_dates in (index, index.swaplevel(), dates):
        out = validation_metrics("regression", y, pred, returns=y, dates=row_dates)
        assert out["information_coefficient"] == pytest.approx(per_date)
    # NaN labels are left out, and a date left with one label has no IC
    spoilt = y.copy()
    spoilt[:4] = np.nan  # the first date
    with pytest.warns(UserWarning, match="undefined on 1 of 20 dates"):
        out = validation_metrics("regression", spoilt, pred, dates=index)
    with pytest.warns(UserWarning, match="undefined on 1 of 20 dates"):
        assert out["information_coefficient"] == pytest.approx(
            information_coefficient(spoilt, pred, dates)
        )
    with pytest.raises(ValueError, match="dates has 99 values but y_val has 100"):
        validation_metrics("regression", y, pred, dates=dates[1:])


def test_a_panel_left_with_one_row_a_date_has_no_cross_sectional_ic():
    """Audit: a panel whose NaN labels left one row per date (one symbol labelled) was
    taken for a single series: its rank correlation over time (0.595) came back as
    the mean per-date IC, which is undefined on every date."""
    from skquant import information_coefficient

    index, dates, y, pred = _mispriced_panel()
    y = np.where(index.get_level_values(1) == "A", y, np.nan)
    with pytest.warns(UserWarning, match="undefined on 20 of 20 dates.*rests on 0 dates"):
        assert np.isnan(information_coefficient(y, pred, dates))
    # one series with dates (and NaN rows): its rank correlation over time, as before
    first = index.get_level_values(1) == "A"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        series = information_coefficient(y[first], pred[first], dates[first])
    assert series == pytest.approx(information_coefficient(y[first], pred[first]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, "0.01", None, True])
def test_a_bad_risk_free_rate_or_required_return_is_named(bad):
    """Audit: risk_free=NaN gave a Sharpe ratio of NaN and inf one of -inf,
    required_return=inf a Sortino ratio of NaN, silently; a string or None raised
    numpy's or Python's operand error, naming no parameter."""
    r = [0.01, -0.02, 0.03, 0.0]
    with pytest.raises(ValueError, match="risk_free must be a finite number"):
        sharpe_ratio(r, risk_free=bad)
    with pytest.raises(ValueError, match="required_return must be a finite number"):
        sortino_ratio(r, required_return=bad)
    # numpy numbers are numbers
    assert sharpe_ratio(r, risk_free=np.float32(0.001)) == pytest.approx(
        sharpe_ratio(r, risk_free=float(np.float32(0.001)))
    )
    assert sortino_ratio(r, required_return=np.int64(0)) == sortino_ratio(r)
    # a 0-d array is a number too (it broadcast before the check, and still counts)
    assert sharpe_ratio(r, risk_free=np.array(0.001)) == sharpe_ratio(r, risk_free=0.001)


def test_validation_metrics_names_the_bad_input():
    """Risk walk: a short returns raised numpy's IndexError, a long one "hit_rate: y_true
    has 70 values", a two-column proba a boolean-index IndexError and a NaN prediction
    scikit-learn's "Input contains NaN." Each now names its parameter and the lengths."""
    rng = np.random.default_rng(0)
    r = rng.normal(0.001, 0.01, 50)
    y = (r > 0).astype(int)
    cases = [
        (dict(task="regression", y_val=r, pred=r, returns=r[:40]), "returns has 40"),
        (dict(task="regression", y_val=r, pred=r, returns=np.r_[r, r[:20]]), "returns has 70"),
        (
            dict(task="classification", y_val=y, pred=y, proba=np.c_[1 - r, r]),
            r"proba must be 1-D.*\[:, 1\]",
        ),
        (dict(task="classification", y_val=y, pred=y, proba=r * 100), r"outside \[0, 1\]"),
        (
            dict(task="classification", y_val=y, pred=y, proba=np.full(50, np.nan)),
            "proba holds 50 NaN",
        ),
        (
            dict(task="regression", y_val=r, pred=np.where(np.arange(50) == 3, np.nan, r)),
            "pred holds 1 NaN",
        ),
        (dict(task="regression", y_val=r, pred=["up"] * 50), "pred must hold numbers"),
        (dict(task="regression", y_val=r, pred=np.c_[r, r]), "pred must be 1-D"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            validation_metrics(**kwargs, periods_per_year=252)
    assert "y_val has 50 values but returns has 40" in _error(
        validation_metrics, "regression", r, r, returns=r[:40], periods_per_year=252
    )
    one_column = validation_metrics(
        "regression", r, r.reshape(-1, 1), returns=r, periods_per_year=252
    )
    plain = validation_metrics("regression", r, r, returns=r, periods_per_year=252)
    assert one_column["trading"]["sharpe"] == plain["trading"]["sharpe"]


def _error(func, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        func(*args, **kwargs)
    return str(info.value)
