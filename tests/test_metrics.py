"""Trading metrics against empyrical, their edge cases, and the scorers."""

from __future__ import annotations

import warnings

import empyrical
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.feature_selection import RFECV
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import TimeSeriesSplit, cross_validate

from skquant import (
    annual_return,
    calmar_ratio,
    deflated_sharpe_ratio,
    get_scorer,
    hit_rate,
    information_coefficient,
    max_drawdown,
    probabilistic_sharpe_ratio,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
    win_loss_ratio,
)
from skquant.model_selection import NoDatesWarning

_returns = arrays(
    np.float64,
    st.integers(2, 200),
    elements=st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False),
)


def _constant(r) -> bool:
    """A series skquant's ratios treat as constant (empyrical divides by its rounding noise)."""
    return np.std(r, ddof=1) <= 1e-12 * abs(np.mean(r))


def _tiny(r) -> bool:
    """Returns so small that empyrical's squares are subnormal and lose digits (skquant
    rescales by a power of two first: r = [-3.4e-158, 0] has Sortino -sqrt(126), which
    empyrical misses in the 9th digit)."""
    return np.max(np.abs(r)) < 1e-150


@settings(max_examples=100, deadline=None)
@given(r=_returns)
def test_sharpe_and_drawdown_agree_with_empyrical(r):
    ours, theirs = sharpe_ratio(r), empyrical.sharpe_ratio(r)
    if np.isfinite(theirs) and not _constant(r) and not _tiny(r):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9)
    assert max_drawdown(r) == pytest.approx(empyrical.max_drawdown(r), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(r=_returns)
def test_other_ratios_agree_with_empyrical(r):
    assert annual_return(r) == pytest.approx(empyrical.annual_return(r), rel=1e-9, abs=1e-12)
    theirs = empyrical.sortino_ratio(r)
    if np.isfinite(theirs) and not _constant(r) and not _tiny(r):
        assert sortino_ratio(r) == pytest.approx(theirs, rel=1e-9, abs=1e-9)
    theirs = empyrical.calmar_ratio(r)
    # a drawdown near machine precision makes Calmar a ratio of rounding errors
    if np.isfinite(theirs) and abs(max_drawdown(r)) > 1e-9:
        assert calmar_ratio(r) == pytest.approx(theirs, rel=1e-6, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(r=_returns)
def test_metric_properties(r):
    mdd = max_drawdown(r)
    assert -1.0 <= mdd <= 0.0
    # scaling returns keeps the Sharpe ratio; adding a loss never shallows the drawdown
    s = sharpe_ratio(r)
    if np.isfinite(s) and np.std(r) > 1e-6:
        assert sharpe_ratio(r * 0.5) == pytest.approx(s, rel=1e-6)
    assert max_drawdown(np.append(r, -0.1)) <= mdd + 1e-12
    pf, wl = profit_factor(r), win_loss_ratio(r)
    if (r > 0).any() and (r < 0).any():
        assert pf == pytest.approx(r[r > 0].sum() / -r[r < 0].sum())
        assert wl == pytest.approx(r[r > 0].mean() / -r[r < 0].mean())
    # hit rate of a prediction with itself, and with its negation
    nz = r[r != 0]
    if len(nz):
        assert hit_rate(nz, nz) == 1.0 and hit_rate(nz, -nz) == 0.0


def test_sharpe_with_risk_free_and_frequency():
    r = np.array([0.01, 0.02, -0.01, 0.005, 0.0])
    assert sharpe_ratio(r, periods_per_year=12, risk_free=0.001) == pytest.approx(
        empyrical.sharpe_ratio(r, risk_free=0.001, annualization=12)
    )


def test_constant_series_ratio_is_the_sign_of_its_mean():
    # np.std([0.001] * 10) is 1.8e-19 of rounding noise, not a deviation: the Sharpe
    # ratio was 6.9e16
    assert sharpe_ratio([0.001] * 10) == np.inf
    assert sharpe_ratio([-0.003] * 7, periods_per_year=12) == -np.inf
    assert sortino_ratio([0.001] * 10) == np.inf
    # a constant loss has a downside deviation, its size: the formula (and empyrical)
    # give -sqrt(periods_per_year); -inf jumped to -15.87 when one value moved by 1e-10
    assert sortino_ratio([-0.001] * 10) == pytest.approx(-np.sqrt(252), rel=1e-12)
    nudged = np.r_[[-0.001] * 9, -0.001 + 1e-10]
    assert sortino_ratio(nudged) == pytest.approx(sortino_ratio([-0.001] * 10), rel=1e-6)
    assert sortino_ratio([-0.001] * 10) == pytest.approx(
        empyrical.sortino_ratio(np.array([-0.001] * 10)), rel=1e-12
    )
    # constant after the risk-free rate / required return is taken off
    assert sharpe_ratio([0.002] * 5, risk_free=0.002) == 0.0
    assert sortino_ratio([0.002] * 5, required_return=0.003) == pytest.approx(-np.sqrt(252))
    # a genuine deviation, however small against the mean, still gives a finite ratio
    r = np.array([1.0, 1.0 + 1e-9, 1.0 - 1e-9])
    assert np.isfinite(sharpe_ratio(r)) and sharpe_ratio(r) > 1e9


@settings(max_examples=100, deadline=None)
@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    n=st.integers(2, 300),
    with_nan=st.booleans(),
)
def test_constant_series_property(value, n, with_nan):
    r = np.full(n, value)
    if with_nan:
        r = np.append(r, np.nan)  # NaN periods are dropped, the series stays constant
    expected = np.inf * np.sign(value) if value != 0 else 0.0
    assert sharpe_ratio(r) == expected
    assert sharpe_ratio(r, periods_per_year=52) == expected
    if value >= 0:  # a constant loss's Sortino ratio is -sqrt(periods_per_year)
        assert sortino_ratio(r) == expected
    else:
        assert sortino_ratio(r, periods_per_year=52) == pytest.approx(-np.sqrt(52))


def test_edge_cases():
    nan = float("nan")
    for f in (sharpe_ratio, max_drawdown, profit_factor, win_loss_ratio, annual_return):
        assert np.isnan(f([])), f.__name__
        assert np.isnan(f([nan, nan])), f.__name__
    zeros = np.zeros(10)
    assert sharpe_ratio(zeros) == 0.0 and sortino_ratio(zeros) == 0.0  # constant: sign of mean
    assert max_drawdown(zeros) == 0.0
    assert np.isnan(profit_factor(zeros)) and np.isnan(win_loss_ratio(zeros))
    assert np.isnan(calmar_ratio(zeros)) and annual_return(zeros) == 0.0
    # no losing period: inf, not an error
    gains = [0.01, 0.0, 0.02]
    assert profit_factor(gains) == np.inf and win_loss_ratio(gains) == np.inf
    assert sortino_ratio(gains) == np.inf and max_drawdown(gains) == 0.0
    # no winning period: 0
    assert profit_factor([-0.01, -0.02]) == 0.0 and win_loss_ratio([-0.01, 0.0]) == 0.0
    assert annual_return([99.0]) == np.inf  # +9900% in a day, annualised: inf, no OverflowError
    # NaN periods are dropped
    with_nan = [0.01, nan, -0.02, 0.03]
    assert sharpe_ratio(with_nan) == pytest.approx(sharpe_ratio([0.01, -0.02, 0.03]))
    assert max_drawdown(with_nan) == pytest.approx(empyrical.max_drawdown(np.array(with_nan)))
    assert np.isnan(sharpe_ratio([0.01]))  # one period has no deviation
    assert hit_rate([0.1, nan, -0.1], [1, 1, 1]) == 0.5
    assert np.isnan(hit_rate([], []))
    with pytest.raises(ValueError, match="returns must be 1-D"):
        sharpe_ratio(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="y_pred has 2"):
        hit_rate([1, 2, 3], [1, 2])


def test_information_coefficient_per_date():
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=3).to_numpy(), 4)
    y = np.array([1, 2, 3, 4, 4, 3, 2, 1, 1, 2, 3, 4], dtype=float)
    pred = np.array([1, 2, 3, 4, 1, 2, 3, 4, 2, 1, 3, 4], dtype=float)
    # per date: +1, -1, +0.8 -> mean 0.2667
    assert information_coefficient(y, pred, dates) == pytest.approx((1 - 1 + 0.8) / 3)
    index = pd.MultiIndex.from_arrays([dates, np.tile(list("ABCD"), 3)])
    assert information_coefficient(pd.Series(y, index=index), pred) == pytest.approx(0.8 / 3)
    # one row per date: rank correlation over time
    assert information_coefficient(y, pred) == pytest.approx(
        pd.Series(y).corr(pd.Series(pred), method="spearman")
    )
    # constant dates are skipped, and said to be; nothing left -> NaN
    with pytest.warns(UserWarning, match="undefined on 1 of 1 dates.*rests on 0 dates"):
        assert np.isnan(information_coefficient([1.0, 1.0], [1.0, 2.0], ["d", "d"]))


def test_information_coefficient_says_how_many_dates_its_mean_rests_on():
    # 6 dates of 5 symbols: constant predictions on the first, one row with a label on
    # the third; the mean of the other 4 was returned without a word
    rng = np.random.default_rng(1)
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=6).to_numpy(), 5)
    y = rng.normal(size=30)
    pred = y + rng.normal(size=30)
    pred[:5] = 1.0
    y[10:14] = np.nan
    with pytest.warns(UserWarning, match=r"undefined on 2 of 6 dates.*rests on 4 dates"):
        ic = information_coefficient(y, pred, dates)
    defined = [
        stats.spearmanr(y[rows], pred[rows])[0]
        for rows in (np.flatnonzero(dates == d) for d in np.unique(dates)[[1, 3, 4, 5]])
    ]
    assert ic == pytest.approx(np.mean(defined))
    with warnings.catch_warnings():  # every date defined: no warning
        warnings.simplefilter("error")
        information_coefficient(y[15:], pred[15:], dates[15:])


def _panel(n_dates=30, n_symbols=3, seed=0):
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2024-01-01", periods=n_dates), [f"S{i}" for i in range(n_symbols)]]
    )
    X = pd.DataFrame({"f": rng.normal(size=len(index))}, index=index)
    y = pd.Series(0.01 * X["f"].to_numpy() + 0.01 * rng.normal(size=len(index)), index=index)
    return X, y


def test_regression_scorer_trades_sign_with_equal_weight_per_date():
    X, y = _panel()
    model = LinearRegression().fit(X, y)
    position = np.sign(model.predict(X))
    daily = pd.Series(position * y.to_numpy()).groupby(X.index.get_level_values(0)).mean()
    assert get_scorer("sharpe")(model, X, y) == pytest.approx(sharpe_ratio(daily))
    assert get_scorer("max_drawdown")(model, X, y) == pytest.approx(max_drawdown(daily))
    assert get_scorer("hit_rate")(model, X, y) == pytest.approx(hit_rate(y, position))
    assert get_scorer("ic")(model, X, y) == pytest.approx(
        information_coefficient(y, model.predict(X))
    )
    # rows shuffled: the same dates, the same score
    shuffled = X.sample(frac=1.0, random_state=1)
    assert get_scorer("sharpe_ratio")(model, shuffled, y.loc[shuffled.index]) == pytest.approx(
        sharpe_ratio(daily)
    )


def test_drawdown_scorer_greater_is_better():
    X, y = _panel()
    good = LinearRegression().fit(X, y)
    bad = LinearRegression().fit(X, -y)  # trades against the signal
    scorer = get_scorer("max_drawdown")
    assert scorer(good, X, y) > scorer(bad, X, y)


def test_classifier_scorer_uses_probability_and_signed_classes():
    X, y = _panel()
    labels = (y > 0).astype(int)
    clf = DummyClassifier(strategy="prior").fit(X, labels)
    p1 = labels.mean()
    expected_position = 1.0 if p1 > 0.5 else -1.0
    outcome = np.where(labels == 1, 1.0, -1.0)
    daily = pd.Series(expected_position * outcome).groupby(X.index.get_level_values(0)).mean()
    assert get_scorer("sharpe")(clf, X, labels) == pytest.approx(sharpe_ratio(daily), nan_ok=True)
    assert get_scorer("hit_rate")(clf, X, labels) == pytest.approx(
        np.mean(np.sign(outcome) == expected_position)
    )
    multi = DummyClassifier().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="binary classifier"):
        get_scorer("sharpe")(multi, X, np.arange(len(X)) % 3)


def test_a_scorer_booking_an_overlapping_label_warns():
    """The README tour tuned on y = fwd_ret_5 with get_scorer("sharpe"): each 5-day
    return booked daily, silently (audit: Sharpe -0.46 against -0.23 on fwd_ret, max
    drawdown -0.53 against -0.12). A label that overlaps itself now warns: the lag-1
    autocorrelation of its mean per date (what the scorer books) is above 0.4."""
    X, y = _panel(n_dates=300)
    by_symbol = y.groupby(level=1)
    y5 = by_symbol.transform(lambda s: s[::-1].rolling(5, min_periods=1).sum()[::-1])
    model = LinearRegression().fit(X, y)
    for name in ("sharpe", "max_drawdown", "profit_factor"):
        with pytest.warns(UserWarning, match=f"'{name}' scorer .* overlaps itself: the lag-1"):
            get_scorer(name)(model, X, y5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("sharpe", "hit_rate", "ic"):  # a one-period return; no returns metric
            get_scorer(name)(model, X, y if name == "sharpe" else y5)
        # a long panel (dates repeat in a DatetimeIndex) of correlated one-period returns:
        # consecutive rows are other symbols on the same date (review: it warned, 0.57)
        rng = np.random.default_rng(0)
        market = np.repeat(rng.normal(0, 0.01, 300), 10)
        long_y = pd.Series(0.8 * market + 0.6 * rng.normal(0, 0.01, 3000),
                           index=pd.DatetimeIndex(np.repeat(pd.bdate_range("2020", periods=300), 10)))  # fmt: skip
        long_X = pd.DataFrame({"f": rng.normal(size=3000)}, index=long_y.index)
        get_scorer("sharpe")(LinearRegression().fit(long_X, long_y), long_X, long_y)
        # a symbol whose y is all NaN in the window: no "Mean of empty slice"
        spoilt = y.where(y.index.get_level_values(1) != "S0")
        get_scorer("sharpe")(model, X, spoilt)
    # a short window of one-period returns: the lag-1 autocorrelation of 24 iid values
    # passed 0.4 by chance in 1.75% of windows (seed 29: 0.48), and the scorer warned
    days = pd.bdate_range("2024-01-01", periods=24)
    short = pd.Series(np.random.default_rng(29).normal(0, 0.01, 24), index=days)
    short_X = pd.DataFrame({"f": np.ones(24)}, index=days)  # long every day: books y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_scorer("sharpe")(model, short_X, short)
    with pytest.warns(UserWarning, match="overlaps itself"):  # a 5-period one still warns
        get_scorer("sharpe")(model, X.iloc[:72], y5.iloc[:72])
    plain = LinearRegression().fit(X.to_numpy(), y.to_numpy())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # no dates: rows are periods, nothing overlaps
        get_scorer("sharpe")(plain, X.to_numpy(), y5.to_numpy())
    assert [w.category for w in caught] == [NoDatesWarning]


def test_a_scorer_warns_of_a_y_that_states_a_multi_period_horizon_in_short_folds():
    """The overlap warning relied on the lag-1 autocorrelation of y alone, which a short
    test window cannot show: cross_validate of fwd_ret_5 in 10-day walk-forward folds
    warned in 0 of 50 folds (21-day folds: 11 of 24). A y whose name or make_labels
    metadata states a horizon above 1 now warns from it, in any fold; a stated horizon
    of 1 does not."""
    from skquant import WalkForwardSplit, make_synthetic_panel
    from skquant.labels import LABELS_ATTR

    panel = make_synthetic_panel(n_symbols=4, n_days=300, random_state=0)
    X = panel[["ret_1", "ret_5", "alpha_1"]]
    cv = WalkForwardSplit(train_days=100, test_days=10, step_days=10, min_train_samples=1,
                          embargo_days=5)  # fmt: skip
    named = panel["fwd_ret_5"].copy()
    named.attrs = {}  # no make_labels metadata: the name tells
    labelled = panel["fwd_ret_5"].rename("label")  # a name that tells nothing
    labelled.attrs = {LABELS_ATTR: {"horizons": {"label": 5}}}
    for y, source in ((named, "name"), (labelled, "metadata")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cross_validate(Ridge(), X, y, cv=cv, scoring=get_scorer("sharpe"))
        overlap = [w for w in caught if "overlaps itself" in str(w.message)]
        assert len(overlap) == 1, (source, len(overlap))
        assert f"y {y.name!r} says a 5-period horizon (by its {source})" in str(overlap[0].message)
        assert overlap[0].filename == __file__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # a stated horizon of 1: no overlap
        cross_validate(Ridge(), X, panel["fwd_ret"], cv=cv, scoring=get_scorer("sharpe"))
    assert not [w for w in caught if "overlaps itself" in str(w.message)]


def test_the_autocorrelation_overlap_warning_comes_once_per_search():
    """The overlap warning of a y that states no horizon gave the fold's own lag-1
    autocorrelation, so its text differed fold by fold and the once-per-call dedupe
    never matched: 8 warnings from one GridSearchCV over 10 folds. Its text is now the
    same in every fold: one warning per call."""
    from sklearn.model_selection import GridSearchCV

    from skquant import WalkForwardSplit, make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=4, n_days=600, random_state=0)
    X = panel[["ret_1", "ret_5", "alpha_1"]]
    y = pd.Series(panel["fwd_ret_5"].to_numpy(), index=panel.index)  # states no horizon
    cv = WalkForwardSplit(train_days=100, test_days=50, step_days=50, min_train_samples=1,
                          embargo_days=5)  # fmt: skip
    search = GridSearchCV(Ridge(), {"alpha": [1, 10, 100]}, cv=cv, scoring=get_scorer("sharpe"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    overlap = [w for w in caught if "overlaps itself" in str(w.message)]
    assert len(overlap) == 1, len(overlap)
    assert "the lag-1 autocorrelation of its mean per date is above 0.4" in str(overlap[0].message)
    assert overlap[0].filename == __file__


def test_a_returns_scorer_on_rows_without_dates_warns():
    """RFECV hands the scorer arrays: each row became one period of a 252-period year,
    silently. A weekly series scored 0.92 as a DataFrame and 2.03 as an array
    (sqrt(252 / 52) = 2.2x, audit); a panel's rows of one date became separate periods."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2000-01-07", periods=600, freq="W-FRI")
    X = pd.DataFrame(rng.normal(size=(600, 2)), index=dates, columns=["a", "b"])
    y = pd.Series(0.004 * X["a"] + rng.normal(0, 0.02, 600), index=dates)
    model = LinearRegression().fit(X.to_numpy()[:300], y.to_numpy()[:300])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)
        framed = get_scorer("sharpe")(model, X.iloc[300:], y.iloc[300:])
    for name in ("sharpe", "max_drawdown", "profit_factor"):
        with pytest.warns(
            NoDatesWarning,
            match=rf"'{name}' scorer: X carries no dates.*periods_per_year=.*set_output",
        ):
            get_scorer(name)(model, X.to_numpy()[300:], y.to_numpy()[300:])
    bare = get_scorer("sharpe")(model, X.to_numpy()[300:], y.to_numpy()[300:])
    assert bare == pytest.approx(framed * np.sqrt(252 / 52))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a direction metric has no periods
        get_scorer("hit_rate")(model, X.to_numpy()[300:], y.to_numpy()[300:])
        # one series whose year is given: each row is a period, as the user says
        weekly = get_scorer("sharpe", periods_per_year=52)
        assert weekly(model, X.to_numpy()[300:], y.to_numpy()[300:]) == pytest.approx(framed)
    with pytest.warns(NoDatesWarning):  # an RFECV over the rows warns (once per fit)
        RFECV(Ridge(), cv=TimeSeriesSplit(3), scoring=get_scorer("sharpe")).fit(X, y)


def test_rfecv_on_one_job_says_a_scorer_warning_once_per_fit():
    """RFECV with n_jobs=1 runs its folds in a plain list, not joblib's Parallel, so
    the scorer's once-per-call dedupe found no loop: one fit on arrays printed the same
    NoDatesWarning 115 times (each elimination step of each fold). It now comes once
    per fit, at the caller's line, and again at the next fit (the same selector or a
    new one)."""
    from skquant import WalkForwardSplit, make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=5, n_days=300, random_state=0)
    X = panel[["ret_1", "ret_5", "ret_21", "vol_21", "alpha_1"]]
    y = panel["fwd_ret"]
    cv = WalkForwardSplit(train_days=100, test_days=50, step_days=50, min_train_samples=100)
    selector = RFECV(Ridge(), cv=cv, scoring=get_scorer("sharpe"), n_jobs=1)
    for fit in (lambda: selector.fit(X, y), lambda: selector.fit(X, y),
                lambda: RFECV(Ridge(), cv=cv, scoring=get_scorer("sharpe")).fit(X, y)):  # fmt: skip
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit()
        said = [w for w in caught if "'sharpe' scorer: X carries no dates" in str(w.message)]
        assert len(said) == 1, len(said)
        assert said[0].filename == __file__
        assert said[0].category is NoDatesWarning


def test_the_ic_scorer_on_rows_without_dates_warns():
    """RFECV hands the scorer arrays: on a panel the IC scorer ranked all rows of the
    fold together, silently, where with dates it is the mean over dates of the rank
    correlation across the symbols of each date (audit: an RFECV fold scored 0.100
    against 0.080 with the dates routed; one fold's IC flipped sign)."""
    X, y = _panel(n_dates=60, n_symbols=5)
    # a market-wide move the model times: pooled, it ranks one date against another
    market = np.repeat(np.random.default_rng(1).normal(0, 0.02, 60), 5)
    X = X.assign(m=market)
    y = y + pd.Series(market, index=y.index)
    model = LinearRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)
        framed = get_scorer("ic")(model, X, y)
    with pytest.warns(
        NoDatesWarning, match=r"'information_coefficient' scorer: X carries no dates.*groups"
    ):
        bare = get_scorer("ic")(model, X.to_numpy(), y.to_numpy())
    assert framed == pytest.approx(information_coefficient(y, model.predict(X)))
    assert bare != pytest.approx(framed, abs=0.05)  # what it would have said silently
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)  # the dates as groups: no warning
        routed = get_scorer("ic")(
            model, X.to_numpy(), y.to_numpy(), groups=X.index.get_level_values(0)
        )
    assert routed == pytest.approx(framed)


def test_a_scorer_on_dates_that_cannot_tell_the_calendar_warns():
    """Hourly 24/7 bars scored in one-day walk-forward windows: no fold holds or spans
    a weekend, so each was annualised as a weekday market's (24 * 252 = 6048 bars a
    year, not 8760), silently (audit: every fold's Sharpe 0.83x; daily 24/7 data in
    5-day windows mixed 252 and 365 across the folds of one search)."""
    from sklearn.model_selection import cross_validate

    from skquant import WalkForwardSplit

    rng = np.random.default_rng(0)
    index = pd.date_range("2022-01-03", periods=24 * 40, freq="h")  # from a Monday
    X = pd.DataFrame({"f": rng.normal(size=len(index))}, index=index)
    y = pd.Series(0.002 * X["f"] + rng.normal(0, 0.01, len(index)), index=index)
    cv = WalkForwardSplit(train_days=24 * 20, test_days=24, step_days=24, min_train_samples=10)
    # 24 iid returns a fold: a lag-1 autocorrelation above 0.4 happens by chance
    overlap = "ignore", ".*overlaps itself"
    with pytest.warns(UserWarning, match="cannot tell a weekday market .* 24/7 one"):
        guessed = cross_validate(LinearRegression(), X, y, cv=cv, scoring=get_scorer("sharpe"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings(*overlap)
        told = cross_validate(
            LinearRegression(), X, y, cv=cv, scoring=get_scorer("sharpe", periods_per_year=8760)
        )
        # windows that span a weekend tell the calendar; a non-annualised metric needs none
        week = WalkForwardSplit(train_days=24 * 20, test_days=24 * 7, step_days=24 * 7,
                                min_train_samples=10)  # fmt: skip
        cross_validate(LinearRegression(), X, y, cv=week, scoring=get_scorer("sharpe"))
        cross_validate(LinearRegression(), X, y, cv=cv, scoring=get_scorer("profit_factor"))
    ratio = guessed["test_score"] / told["test_score"]
    np.testing.assert_allclose(ratio, np.sqrt(6048 / 8760))  # what it said silently


def test_dates_reach_the_scorer_as_groups_by_metadata_routing():
    """RFECV and cross_validate hand the scorer arrays; with metadata routing on, the
    dates given as groups (for the splitter) reach the scorer too: each fold's Sharpe
    is booked per date, as on the DataFrame, and nothing warns."""
    import sklearn
    from sklearn.model_selection import cross_validate

    from skquant import WalkForwardSplit

    X, y = _panel(n_dates=120, n_symbols=4)
    dates = X.index.get_level_values(0)
    cv = WalkForwardSplit(train_days=40, test_days=20, step_days=20, min_train_samples=10)
    framed = cross_validate(LinearRegression(), X, y, cv=cv, scoring=get_scorer("sharpe"))
    Xa, ya = X.to_numpy(), y.to_numpy()
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)
        routed = cross_validate(
            LinearRegression(),
            Xa,
            ya,
            cv=cv,
            scoring=get_scorer("sharpe"),
            params={"groups": dates},
        )
        selector = RFECV(LinearRegression(), cv=cv, scoring=get_scorer("sharpe"))
        selector.fit(np.column_stack([Xa, np.ones(len(Xa))]), ya, groups=dates)
    np.testing.assert_allclose(routed["test_score"], framed["test_score"], rtol=1e-12)
    # RFECV's two-feature step is the DataFrame's model plus a constant column
    np.testing.assert_allclose(
        [
            selector.cv_results_[f"split{k}_test_score"][-1]
            for k in range(len(framed["test_score"]))
        ],
        framed["test_score"],
        rtol=1e-9,
    )
    with pytest.warns(NoDatesWarning, match="enable_metadata_routing"):  # routing off
        cross_validate(
            LinearRegression(), Xa, ya, cv=cv, groups=dates, scoring=get_scorer("sharpe")
        )
    fitted = LinearRegression().fit(Xa, ya)
    with pytest.raises(ValueError, match="groups has 3 rows but X has 480"):
        get_scorer("sharpe")(fitted, Xa, ya, groups=dates[:3])
    # date codes group the rows of a metric that does not annualise; one that does
    # needs datetimes, or its year
    codes = pd.factorize(dates)[0]
    for name in ("hit_rate", "ic"):
        assert get_scorer(name)(fitted, Xa, ya, groups=codes) == get_scorer(name)(fitted, X, y)
    with pytest.raises(ValueError, match="groups holds int64 values: pass datetimes"):
        get_scorer("sharpe")(fitted, Xa, ya, groups=codes)
    assert get_scorer("sharpe", periods_per_year=252)(fitted, Xa, ya, groups=codes) == (
        pytest.approx(get_scorer("sharpe")(fitted, X, y))
    )


def test_unknown_scorer_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown metric 'sharp'.*Did you mean 'sharpe'"):
        get_scorer("sharp")


# ------------------------------------------------------------- scorer costs
@pytest.mark.filterwarnings("ignore:summary ic rests on")
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_a_scorer_with_cost_bps_scores_a_fold_net_as_the_engine_books_it():
    """Found by a new user: the scorers booked gross P&L while the engine reports net, so
    a search favoured turnover (demo data, depth-6 tree, 18 folds: scorer mean fold
    Sharpe 0.149, the engine's at 5 bp -0.060). With cost_bps each fold's score is the
    engine's net fold Sharpe, whose book trades from flat at the fold's first date."""
    from sklearn.tree import DecisionTreeRegressor

    from skquant import WalkForwardEngine, WalkForwardSplit

    X, y = _panel(n_dates=100, n_symbols=3, seed=3)
    X.index.names = ["date", "symbol"]
    data = X.assign(ret=y.to_numpy())
    cv = WalkForwardSplit(
        train_days=40, test_days=20, step_days=20, min_train_samples=10, embargo_days=0
    )
    model = DecisionTreeRegressor(max_depth=3, random_state=0)
    # y is f's own period by construction (no forward label): no leak check
    engine = WalkForwardEngine(
        data, target="ret", features=["f"], cv=cv, cost_bps=30, leak_threshold=None
    )
    result = engine.run(estimator=model)
    assert result.summary["turnover"] > 0.1  # costs bite
    scored = {}
    for name in ("sharpe", "max_drawdown", "profit_factor", "sortino"):
        cv_result = cross_validate(model, X, y, cv=cv, scoring=get_scorer(name, cost_bps=30))
        scored[name] = cv_result["test_score"]
        net = result.evaluate(metrics=name).folds[name].to_numpy()
        np.testing.assert_allclose(scored[name], net, rtol=1e-9, atol=1e-12)
    gross = cross_validate(model, X, y, cv=cv, scoring=get_scorer("sharpe"))["test_score"]
    np.testing.assert_allclose(
        gross, result.evaluate(cost_bps=0).folds["sharpe"].to_numpy(), rtol=1e-9
    )
    assert np.all(scored["sharpe"] < gross)
    # the same from an array X beside a y that kept the panel's index, and rows shuffled
    fitted = LinearRegression().fit(X, y)
    shuffled = X.sample(frac=1.0, random_state=1)
    net = get_scorer("sharpe", cost_bps=30)(fitted, X, y)
    assert get_scorer("sharpe", cost_bps=30)(fitted, X.to_numpy(), y) == pytest.approx(net)
    assert get_scorer("sharpe", cost_bps=30)(
        fitted, shuffled, y.loc[shuffled.index]
    ) == pytest.approx(net)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_a_scorer_with_cost_bps_on_one_series_charges_its_turnover():
    dates = pd.bdate_range("2021-01-01", periods=60)
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"f": rng.normal(size=60)}, index=dates)
    y = pd.Series(0.01 * rng.normal(size=60), index=dates)
    model = LinearRegression().fit(X, y)
    position = np.sign(model.predict(X))
    turnover = np.abs(np.diff(position, prepend=0.0))  # the first date trades from flat
    net = position * y.to_numpy() - turnover * 20 / 10_000
    assert get_scorer("sharpe", cost_bps=20)(model, X, y) == pytest.approx(sharpe_ratio(net))
    assert get_scorer("annual_return", cost_bps=20)(model, X, y) == pytest.approx(
        annual_return(net)
    )
    # the dates given as groups tell one series' turnover too
    routed = get_scorer("sharpe", cost_bps=20)(model, X.to_numpy(), y.to_numpy(), groups=dates)
    assert routed == pytest.approx(sharpe_ratio(net))


def test_a_scorer_with_zero_cost_is_the_gross_scorer():
    X, y = _panel()
    model = LinearRegression().fit(X, y)
    for name in ("sharpe", "max_drawdown", "hit_rate", "ic", "calmar", "win_loss_ratio"):
        scorer = get_scorer(name, cost_bps=0)
        assert scorer.cost_bps == 0.0 and repr(scorer) == f"get_scorer({scorer.name!r})"
        np.testing.assert_equal(scorer(model, X, y), get_scorer(name)(model, X, y))
    daily = pd.Series(np.sign(model.predict(X)) * y.to_numpy()).groupby(level=0).mean()
    daily = daily.groupby(X.index.get_level_values(0).to_numpy()).mean()
    assert get_scorer("sharpe", cost_bps=0.0)(model, X, y) == pytest.approx(sharpe_ratio(daily))


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_a_scorer_with_cost_bps_refuses_what_it_cannot_charge():
    import pickle

    from sklearn.base import clone

    X, y = _panel()
    model = LinearRegression().fit(X, y)
    for bad in (-1, float("nan"), float("inf"), "5", True, None):
        with pytest.raises(ValueError, match="cost_bps must be a finite number >= 0"):
            get_scorer("sharpe", cost_bps=bad)
    for name in ("hit_rate", "ic"):  # costs do not change them
        with pytest.raises(ValueError, match="cost_bps=5 does not change the"):
            get_scorer(name, cost_bps=5)
    scorer = get_scorer("sharpe", cost_bps=5)
    assert repr(scorer) == "get_scorer('sharpe', cost_bps=5.0)"
    for copy in (pickle.loads(pickle.dumps(scorer)), clone(scorer, safe=False)):
        assert copy.cost_bps == 5.0 and copy(model, X, y) == scorer(model, X, y)
    with pytest.raises(ValueError, match=r"cost_bps=5\) charges costs .* no dates"):
        scorer(model, X.to_numpy(), y.to_numpy())
    dates = X.index.get_level_values(0)
    with pytest.raises(ValueError, match="without telling the symbols apart"):
        scorer(model, X.to_numpy(), y.to_numpy(), groups=dates)  # a panel's dates alone
    labels = (y > 0).astype(int)
    clf = DummyClassifier(strategy="prior").fit(X, labels)
    with pytest.raises(ValueError, match="classifier's outcome is \\+1/-1"):
        scorer(clf, X, labels)
    from skquant.metrics._scorer import TradingScorer

    with pytest.raises(ValueError, match="cost_bps must be a finite number >= 0"):
        TradingScorer("sharpe", cost_bps=-2)(model, X, y)


# ------------------------------------------------------------- validation costs
def _costed_by_hand(position, returns, dates, symbols, cost_bps):
    """The engine's "sign" portfolio, date by date: a symbol listed on a date without a
    return between dates with one (a halt) keeps its last weight (0 if it had no row
    on the previous period) and earns nothing, and the date's other weights are
    p / n * (1 - the carried |weights|); a symbol without a row is sold; the first date
    trades from 0; net = gross - turnover * cost."""
    frame = pd.DataFrame({"date": dates, "symbol": symbols, "p": position, "r": returns})
    known = frame[np.isfinite(frame["r"])]
    first_known = known.groupby("symbol")["date"].min()
    last_known = known.groupby("symbol")["date"].max()
    book, gross, turnover = {}, {}, {}
    for date, rows in frame.groupby("date", sort=True):
        tradable = rows[np.isfinite(rows["r"])]
        if tradable.empty:  # a date of no return is no period
            continue
        halted = rows[~np.isfinite(rows["r"])]
        inside = halted["symbol"].map(last_known).gt(date) & halted["symbol"].map(first_known).lt(
            date
        )
        halted = halted[inside.fillna(False).astype(bool)]
        carried = {s: book.get(s, 0.0) for s in halted["symbol"]}
        factor = max(0.0, 1.0 - sum(abs(w) for w in carried.values()))
        new = dict.fromkeys(rows["symbol"], 0.0)
        new.update(zip(tradable["symbol"], tradable["p"] / len(tradable) * factor, strict=True))
        new.update(carried)
        turnover[date] = sum(abs(new.get(s, 0.0) - book.get(s, 0.0)) for s in {*new, *book})
        gross[date] = sum(
            new[s] * r for s, r in zip(tradable["symbol"], tradable["r"], strict=True)
        )
        book = new
    gross, turnover = pd.Series(gross), pd.Series(turnover)
    return gross - turnover * cost_bps / 10_000, turnover


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.integers(2, 4),
    st.integers(3, 25),
    st.sampled_from([0.0, 5.0, 30.0]),
)
@example(seed=22146, n_sym=2, n_dates=3, bps=0.0)  # every return NaN before gaps[0]
def test_validation_metrics_are_net_of_costs_as_the_engine_books_them(seed, n_sym, n_dates, bps):
    from skquant.metrics import sharpe_ratio, validation_metrics

    rng = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product(
        [pd.bdate_range("2021-01-01", periods=n_dates), [f"S{i}" for i in range(n_sym)]],
        names=["date", "symbol"],
    )
    keep = rng.random(len(grid)) < 0.8  # symbols come and go
    keep[:n_sym] = True
    index = grid[keep]
    pred = rng.normal(size=len(index))
    returns = rng.normal(0, 0.01, size=len(index))
    gaps = rng.random(len(index)) < 0.15  # gaps in the return column
    gaps[0] = False  # one booked period at least (all NaN: the hand pivot is empty)
    returns[gaps] = np.nan
    out = validation_metrics(
        "regression", pred, pred, None, returns, index, periods_per_year=252, cost_bps=bps
    )["trading"]
    net, turnover = _costed_by_hand(
        np.sign(pred), returns, index.get_level_values(0), index.get_level_values(1), bps
    )
    assert out["cost_bps"] == bps
    np.testing.assert_allclose(out["turnover"], turnover.mean(), rtol=1e-12)
    np.testing.assert_allclose(
        out["sharpe"], sharpe_ratio(net.to_numpy(), periods_per_year=252), rtol=1e-9, atol=1e-12
    )
    gross, _ = _costed_by_hand(
        np.sign(pred), returns, index.get_level_values(0), index.get_level_values(1), 0.0
    )
    np.testing.assert_allclose(
        out["gross_sharpe"], sharpe_ratio(gross.to_numpy(), periods_per_year=252), rtol=1e-9
    )
    if bps == 0:
        np.testing.assert_equal(out["sharpe"], out["gross_sharpe"])  # NaN for one period


def test_validation_costs_on_one_series_and_bad_input():
    from skquant.metrics import validation_metrics

    dates = pd.bdate_range("2021-01-01", periods=4)
    pred = np.array([1.0, 1.0, -1.0, 1.0])  # trades 1, 0, 2, 2
    returns = np.zeros(4)
    out = validation_metrics("regression", pred, pred, None, returns, dates, cost_bps=100)
    assert out["trading"]["turnover"] == pytest.approx(5 / 4)
    assert out["trading"]["total_return"] == pytest.approx((1 - 0.01) * 1 * (1 - 0.02) ** 2 - 1)
    # a date without a return is no period: the next one trades against the last booked
    ret = np.array([0.01, 0.02, np.nan, -0.01, 0.005, 0.003])
    pos = np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0])
    six = pd.bdate_range("2021-01-01", periods=6)
    gap = validation_metrics("regression", pos, pos, None, ret, six, cost_bps=10)["trading"]
    assert gap["turnover"] == pytest.approx(9 / 5) and gap["n_periods"] == 5
    crash = np.array([-1.5, -1.5, 0.0, 0.0])  # two losses below -1 compound to no gain
    with pytest.warns(UserWarning, match="below -1"):
        wiped = validation_metrics("regression", pred, pred, None, crash, dates)["trading"]
    assert wiped["total_return"] == -1.0 and wiped["max_drawdown"] == -1.0
    for bad in (-1, float("nan"), float("inf"), "5", True):
        with pytest.raises(ValueError, match="cost_bps must be a finite number >= 0"):
            validation_metrics("regression", pred, pred, None, returns, dates, cost_bps=bad)
    two_rows_a_date = pd.DatetimeIndex([dates[0], dates[0], dates[1], dates[1]])
    with pytest.raises(ValueError, match=r"\(date, symbol\) MultiIndex"):
        validation_metrics("regression", pred, pred, None, returns, two_rows_a_date, cost_bps=5)
    free = validation_metrics("regression", pred, pred, None, returns, two_rows_a_date)
    assert np.isnan(free["trading"]["turnover"]) and free["trading"]["n_periods"] == 2
    twice = pd.MultiIndex.from_arrays([two_rows_a_date, ["A", "A", "A", "B"]])
    with pytest.raises(ValueError, match="one row per date and symbol"):
        validation_metrics("regression", pred, pred, None, returns, twice, cost_bps=5)
    with pytest.raises(ValueError, match="NaT"):
        validation_metrics(
            "regression", pred, pred, None, returns, pd.DatetimeIndex([*dates[:3], None])
        )


def test_bad_returns_are_refused_or_warned():
    """An infinite return is refused (PSR already did); a return below -1 warns and wipes
    equity out, so the drawdown stays in [-1, 0] (it was -1.6, and a second loss
    below -1 made compounded equity positive again); periods_per_year is checked."""
    for f in (sharpe_ratio, max_drawdown, profit_factor, win_loss_ratio, annual_return):
        with pytest.raises(ValueError, match="returns hold 1 infinite values"):
            f([0.01, np.inf, -0.02, 0.01])
    with pytest.warns(UserWarning, match="1 values below -1 .* not percent"):
        assert max_drawdown([0.1, -1.5, 0.2]) == -1.0
    with pytest.warns(UserWarning, match="2 values below -1"):
        assert annual_return([-1.5, -1.5]) == -1.0  # (1 - 1.5) ** 2 is positive
    for bad in (0, -252, "252", np.nan, True):
        with pytest.raises(ValueError, match="periods_per_year must be a positive number"):
            sharpe_ratio([0.01, -0.02, 0.03], periods_per_year=bad)
        with pytest.raises(ValueError, match="periods_per_year"):
            annual_return([0.01, -0.02], periods_per_year=bad)
    assert sharpe_ratio([0.01, -0.02, 0.03], periods_per_year=np.int64(52)) == pytest.approx(
        sharpe_ratio([0.01, -0.02, 0.03], periods_per_year=52.0)
    )


def test_infinite_periods_per_year_is_refused_everywhere():
    """One check for the metrics, the scorers, validation_metrics and the engine: an
    infinite year was refused by sharpe_ratio but passed by the others (the engine's
    annualised figures became inf or 0)."""
    from skquant.utils._time import periods_per_year_of

    for bad in (np.inf, np.nan, 0, True):
        with pytest.raises(ValueError, match="positive number or None, got"):
            periods_per_year_of(bad, None)
    assert periods_per_year_of(None, None) == 252.0
    assert periods_per_year_of(np.float32(12), None) == 12.0


def test_an_explicit_year_the_dates_contradict_warns():
    """An explicit periods_per_year was never checked against the dates: 252 given for
    weekly data inflated every annualised figure, a Sharpe ratio 2.2x (sqrt(252 / 52)),
    silently, in validation_metrics, the scorers and compute_metric alike. Years that
    are legitimate for the data (252, 260 or 365 for daily dates, weekday or 24/7;
    6048 or 8760 for hourly bars) stay silent, as do too few dates to tell."""
    from skquant.metrics import compute_metric, validation_metrics
    from skquant.utils._time import periods_per_year_of

    rng = np.random.default_rng(3)
    weeks = pd.date_range("2020-01-03", periods=120, freq="W-FRI")
    returns = rng.normal(0.002, 0.02, 120)
    pred = returns + rng.normal(0, 0.02, 120)
    inferred = validation_metrics("regression", pred, pred, None, returns, weeks)["trading"]
    assert inferred["periods_per_year"] == 52.0
    given = r"periods_per_year=252 was given, but the dates tell 52 periods a year"
    with pytest.warns(UserWarning, match=rf"{given} \(a median spacing of 7 days.*2.2x too high"):
        out = validation_metrics("regression", pred, pred, None, returns, weeks, 252)["trading"]
    assert out["sharpe"] == pytest.approx(inferred["sharpe"] * np.sqrt(252 / 52))
    X = pd.DataFrame({"f": pred}, index=weeks)
    model = LinearRegression().fit(X, returns)
    with pytest.warns(UserWarning, match=given):
        get_scorer("sharpe", periods_per_year=252)(model, X, pd.Series(returns, index=weeks))
    with pytest.warns(UserWarning, match=given):
        compute_metric("sharpe", returns, pred, np.sign(pred), weeks, periods_per_year=252)
    # each fold's dates tell the same: one message, at most once a fold (scikit-learn
    # resets the warning filters for each, as for the scorers' NoDatesWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        cross_validate(
            LinearRegression(), X, pd.Series(returns, index=weeks), cv=TimeSeriesSplit(4),
            scoring=get_scorer("sharpe", periods_per_year=252),
        )  # fmt: skip
    said = [str(w.message) for w in caught if "periods_per_year=252" in str(w.message)]
    assert len(set(said)) == 1 and 1 <= len(said) <= 4
    hours = pd.date_range("2024-01-01", periods=24 * 21, freq="h")  # 24/7, 3 weeks
    with pytest.warns(UserWarning, match=r"periods_per_year=252 .* 8760 .*too low"):
        periods_per_year_of(252, hours)
    monthly = pd.date_range("2015-01-31", periods=60, freq="ME")
    with pytest.warns(UserWarning, match=r"periods_per_year=52 .* 12 periods"):
        periods_per_year_of(52, monthly)
    weekdays = pd.bdate_range("2023-01-02", periods=300)
    three_a_week = weekdays[weekdays.dayofweek.isin([0, 2, 4])]  # 151.2: 252 is 1.67x
    with pytest.warns(UserWarning, match=r"periods_per_year=252 .* 151.2 periods"):
        periods_per_year_of(252, three_a_week)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        business = pd.bdate_range("2021-01-01", periods=300)
        calendar = pd.date_range("2021-01-01", periods=300, freq="D")  # 24/7
        for days in (business, calendar, business.tz_localize("UTC").to_numpy()):
            for year in (250, 252, 260, 365, 365.25):
                periods_per_year_of(year, days)
        for year in (24 * 252, 24 * 260, 8760):
            periods_per_year_of(year, hours)
        # 60 hourly bars from Tuesday to Thursday cannot tell 6048 (the weekday
        # inference) from 8760: a 24/7 year is no contradiction
        periods_per_year_of(8760, pd.date_range("2024-01-02", periods=60, freq="h"))
        periods_per_year_of(52, weeks)
        periods_per_year_of(252, weeks[:2])  # two dates: one gap tells no year
        # a short window around a Monday holiday (Thursday, Friday, Tuesday, ...): its
        # median gap was read as 2 trading days, 126 a year, and 252 warned
        holiday = pd.DatetimeIndex(["2024-01-11", "2024-01-12", "2024-01-16", "2024-01-17"])
        for n in (3, 4):
            periods_per_year_of(252, holiday[:n])
        periods_per_year_of(252, np.arange(120))  # integer groups are no dates
        periods_per_year_of(252, None)


def test_validation_metrics_without_dates_warns_as_the_scorers():
    """validation_metrics without dates booked each row as one period of a 252-period
    year silently, where a trading scorer given rows without dates warns
    NoDatesWarning: weekly rows scored a Sharpe ratio 2.2x the dated one."""
    from skquant.metrics import validation_metrics

    rng = np.random.default_rng(5)
    weeks = pd.date_range("2020-01-03", periods=120, freq="W-FRI")
    returns = rng.normal(0.002, 0.02, 120)
    pred = returns + rng.normal(0, 0.02, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dated = validation_metrics("regression", pred, pred, None, returns, weeks)["trading"]
        # the year given for one series: each row is a period, as the caller says
        weekly = validation_metrics("regression", pred, pred, None, returns, None, 52)
        validation_metrics("regression", pred, pred)  # no returns: nothing annualised
    assert weekly["trading"]["sharpe"] == pytest.approx(dated["sharpe"])
    with pytest.warns(
        NoDatesWarning, match=r"validation_metrics: no dates.*252-period year.*periods_per_year="
    ):
        bare = validation_metrics("regression", pred, pred, None, returns)["trading"]
    assert bare["sharpe"] == pytest.approx(dated["sharpe"] * np.sqrt(252 / 52))


def test_hit_rate_refuses_2d_and_warns_on_labels_against_probabilities():
    with pytest.raises(ValueError, match="hit_rate: y_pred must be 1-D, got shape \\(2, 2\\)"):
        hit_rate([0.1, -0.1, 0.2, 0.3], np.array([[0.3, 0.7], [0.6, 0.4]]))
    assert hit_rate([0.1, -0.2], np.array([[1.0], [-1.0]])) == 1.0  # one column is fine
    with pytest.warns(UserWarning, match="y_true holds only 0 and 1"):
        hit_rate([0, 1, 0, 1], [0.2, 0.8, 0.3, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hit_rate([0, 1, 0, 1], [0, 1, 0, 0]) == 0.75  # labels against labels
        assert hit_rate([0.01, -0.02], [0.6, 0.4]) == 0.5  # returns against probabilities


def test_a_scorer_reads_the_dates_of_y_when_x_is_an_array():
    """X handed over as an array beside a y that kept the panel's (date, symbol)
    index: the scorer warned "X carries no dates" and booked each row as a period."""
    X, y = _panel(n_dates=40, n_symbols=4)
    model = LinearRegression().fit(X, y)
    framed = get_scorer("sharpe")(model, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)
        assert get_scorer("sharpe")(model, X.to_numpy(), y) == pytest.approx(framed)
        ic = get_scorer("ic")
        assert ic(model, X.to_numpy(), y) == pytest.approx(ic(model, X, y))


def test_a_scorer_warns_when_the_model_reads_earlier_rows_than_the_fold_holds():
    """A scorer gets a test fold's rows alone: a causal feature model started afresh
    there (a change-point detector read the fold's first dates as a change, cp_prob 1)
    and a sequence net padded them, silently."""
    from sklearn.pipeline import make_pipeline

    from skquant import ChangePointTrainer

    X, y = _panel(n_dates=60, n_symbols=2)
    detector = ChangePointTrainer(hazard=0.01, max_run_length=10, window=3, threshold=0.5)
    model = make_pipeline(detector, LinearRegression()).set_output(transform="pandas")
    model.fit(X.iloc[:80], y.iloc[:80])
    with pytest.warns(UserWarning, match=r"reads 20 earlier periods.*WalkForwardEngine"):
        get_scorer("sharpe")(model, X.iloc[80:], y.iloc[80:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a model of one row at a time: nothing to say
        get_scorer("sharpe")(LinearRegression().fit(X, y), X.iloc[80:], y.iloc[80:])


# ----------------------------------------------- properties of the metrics (audit)
@settings(max_examples=80, deadline=None)
@given(r=_returns, factor=st.floats(1e-3, 1e3), shift=st.floats(-0.01, 0.01))
def test_sharpe_is_scale_free_odd_and_shifted_by_the_risk_free_rate(r, factor, shift):
    s = sharpe_ratio(r)
    if not np.isfinite(s) or np.std(r) <= 1e-9:
        return
    assert sharpe_ratio(r * factor) == pytest.approx(s, rel=1e-9, abs=1e-9)
    assert sharpe_ratio(-r) == pytest.approx(-s, rel=1e-12, abs=1e-12)
    assert sharpe_ratio(r + shift, risk_free=shift) == pytest.approx(s, rel=1e-6, abs=1e-6)
    assert sharpe_ratio(r, periods_per_year=52) == pytest.approx(
        s * np.sqrt(52 / 252), rel=1e-12, abs=1e-12
    )


@settings(max_examples=80, deadline=None)
@given(r=_returns)
def test_drawdown_and_profit_factor_properties(r):
    mdd = max_drawdown(r)
    assert -1.0 <= mdd <= 0.0
    assert max_drawdown(np.abs(r)) == 0.0  # equity that never falls
    # the worst single-period loss is a drawdown at least that deep
    assert mdd <= min(r.min(), 0.0) + 1e-12
    wins, losses = r[r > 0].sum(), -r[r < 0].sum()
    pf = profit_factor(r)
    if losses > 0:
        assert pf == pytest.approx(wins / losses, rel=1e-12)
        assert pf == pytest.approx(1.0 + r.sum() / losses, rel=1e-9, abs=1e-9)
    elif wins > 0:
        assert pf == np.inf and win_loss_ratio(r) == np.inf
    else:
        assert np.isnan(pf) and np.isnan(win_loss_ratio(r))
    assert profit_factor(r * 3.0) == pytest.approx(pf, rel=1e-12, nan_ok=True)


@settings(max_examples=60, deadline=None)
@given(
    r=_returns,
    pred=arrays(np.float64, 200, elements=st.floats(-1, 1, allow_subnormal=False)),
)
def test_hit_rate_splits_the_rows(r, pred):
    p = pred[: len(r)]
    with warnings.catch_warnings():  # all-zero r reads as 0/1 labels: not the point here
        warnings.simplefilter("ignore", UserWarning)
        hits, misses = hit_rate(r, p), hit_rate(r, -p)
    assert 0.0 <= hits <= 1.0
    # each row is a hit of p, a hit of -p, or neither (a zero on exactly one side)
    neither = np.mean((r == 0) != (p == 0))
    assert hits + misses + neither == pytest.approx(1.0 + np.mean((r == 0) & (p == 0)))


@settings(max_examples=60, deadline=None)
@given(
    n_dates=st.integers(2, 8),
    n_symbols=st.integers(3, 6),
    seed=st.integers(0, 2**16),
)
def test_information_coefficient_is_the_mean_of_per_date_rank_correlations(
    n_dates, n_symbols, seed
):
    rng = np.random.default_rng(seed)
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=n_dates).to_numpy(), n_symbols)
    y = rng.normal(size=len(dates))
    pred = np.round(y + rng.normal(size=len(dates)), 1)  # ties too
    assume(all(np.ptp(pred[dates == d]) > 0 for d in np.unique(dates)))
    ic = information_coefficient(y, pred, dates)
    expected = np.mean(
        [stats.spearmanr(y[dates == d], pred[dates == d])[0] for d in np.unique(dates)]
    )
    assert ic == pytest.approx(expected, abs=1e-12)
    assert -1.0 <= ic <= 1.0
    # ranks only: a strictly increasing map of the predictions keeps the IC
    assert information_coefficient(y, np.exp(3 * pred), dates) == pytest.approx(ic, abs=1e-12)
    assert information_coefficient(y, -pred, dates) == pytest.approx(-ic, abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert information_coefficient(y, y, dates) == pytest.approx(1.0)


def test_return_metrics_of_a_dated_series_warn_when_its_dates_contradict_the_year():
    """sharpe_ratio, sortino_ratio, annual_return and calmar_ratio of a Series of weekly
    returns (a DatetimeIndex) annualised it by the default 252 silently: a Sharpe ratio
    of 1.00 where the dates' own year, 52, gives 0.45 (2.2x too high), an annual return
    of 31% for 5.8%. A year the dates agree with, the per-period ratio
    (periods_per_year=1, as PSR and the ICIR take it) and undated input stay silent;
    periods_per_year=None, which the warning offers, takes the dates' year."""
    rng = np.random.default_rng(0)
    weeks = pd.date_range("2010-01-01", periods=300, freq="W-FRI")
    weekly = pd.Series(rng.normal(0.002, 0.02, 300), index=weeks)
    given = r"periods_per_year=252 was given, but the dates tell 52 periods a year"
    for f in (sharpe_ratio, sortino_ratio, annual_return, calmar_ratio):
        with pytest.warns(UserWarning, match=rf"{given}.*2.2x too high"):
            inflated = f(weekly)
        with pytest.warns(UserWarning, match=given):
            f(weekly, periods_per_year=252)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert f(weekly.to_numpy()) == inflated  # no dates: 252 as asked, silently
            assert f(weekly, periods_per_year=52) == f(weekly.to_numpy(), periods_per_year=52)
            assert f(weekly, periods_per_year=None) == f(weekly, periods_per_year=52)
        with pytest.raises(ValueError, match="periods_per_year=None .* carry none"):
            f(weekly.to_numpy(), periods_per_year=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sharpe_ratio(weekly, periods_per_year=1)  # per period: no year to contradict
        days = pd.Series(weekly.to_numpy(), index=pd.bdate_range("2010-01-01", periods=300))
        sharpe_ratio(days)
        sharpe_ratio(days.to_frame())  # a one-column frame of dated returns
    with pytest.warns(UserWarning, match=r"periods_per_year=252 .* 12 periods"):
        months = pd.date_range("2015-01-31", periods=60, freq="ME")
        sharpe_ratio(pd.Series(weekly.to_numpy()[:60], index=months))
    # through pandas (a frame of strategies, one column each): at the user's line
    for through in ("apply", "agg"):
        with pytest.warns(UserWarning, match=given) as w:
            getattr(weekly.to_frame("a").assign(b=-weekly), through)(sharpe_ratio)
        assert {x.filename for x in w} == {__file__}


def test_a_scorers_warning_comes_once_per_cross_validate_call():
    """scikit-learn scores each fold inside warnings.catch_warnings, which resets the
    registry of Python's "default" action: the scorer's NoDatesWarning came once per
    fold (5 identical warnings for 5 folds). Now once per call, and again in the next."""
    from skquant import WalkForwardSplit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = 0.01 * X[:, 0] + rng.normal(0, 0.01, 120)
    cv = WalkForwardSplit(train_days=40, test_days=16, step_days=16, min_train_samples=1)
    scorer = get_scorer("sharpe")

    def scorer_warnings():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            result = cross_validate(Ridge(), X, y, cv=cv, scoring=scorer)
        assert len(result["test_score"]) == 5
        return [w for w in caught if "'sharpe' scorer: X carries no dates" in str(w.message)]

    for _ in range(2):  # a second call says it again
        said = scorer_warnings()
        assert len(said) == 1
        assert said[0].category is NoDatesWarning and said[0].filename == __file__
    with warnings.catch_warnings():  # a filter that makes it an error still raises
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", NoDatesWarning)
        with pytest.raises(NoDatesWarning, match="'sharpe' scorer"):
            scorer(Ridge().fit(X, y), X, y)


def _warning_folds():
    from skquant import WalkForwardSplit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = 0.01 * X[:, 0] + rng.normal(0, 0.01, 120)
    return X, y, WalkForwardSplit(train_days=40, test_days=16, step_days=16, min_train_samples=1)


class _DeprecatedPredict(Ridge):
    def predict(self, X):
        warnings.warn("the 'legacy' predict is deprecated", DeprecationWarning, stacklevel=1)
        return super().predict(X)


def test_the_scorers_once_rule_keeps_the_filters_the_fold_and_a_reused_parallel(monkeypatch):
    """The scorer's say-once wrapper (a second reading of it): a fold whose scoring raised
    lost its warnings and marked them said, so no other fold gave them (the NoDatesWarning
    of 4 folds annualised rows as periods, silently); a warning given again by
    warn_explicit was matched against the file's path instead of its module, so a
    DeprecationWarning of the user's own model (shown for __main__ by Python's
    default filters) vanished; a user's Parallel called twice was one run, so its
    second cross_validate said nothing."""
    from joblib import Parallel, delayed

    import skquant.metrics._scorer as scorer_module

    X, y, cv = _warning_folds()
    real, calls = scorer_module.compute_metric, [0]

    def fails_first(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 1:
            raise ValueError("the first fold's scoring fails")
        return real(*args, **kwargs)

    monkeypatch.setattr(scorer_module, "compute_metric", fails_first)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        scores = cross_validate(Ridge(), X, y, cv=cv, scoring=get_scorer("sharpe"))["test_score"]
    assert np.isnan(scores[0]) and np.isfinite(scores[1:]).all()
    assert sum("'sharpe' scorer: X carries no dates" in str(w.message) for w in caught) == 1
    monkeypatch.undo()

    # the user's model's deprecation passes this module's filter as it did outside
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")
        warnings.filterwarnings("default", category=DeprecationWarning, module=__name__)
        cross_validate(_DeprecatedPredict(), X, y, cv=cv, scoring=get_scorer("sharpe"))
    assert sum("'legacy' predict" in str(w.message) for w in caught) >= 1

    with Parallel(n_jobs=1) as parallel:  # the scorer called from the user's own loop
        for _ in range(2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("default")
                parallel(delayed(get_scorer("sharpe"))(Ridge().fit(X, y), X, y) for _ in range(2))
            assert sum("'sharpe' scorer" in str(w.message) for w in caught) == 1
    with Parallel(n_jobs=1) as parallel:
        for _ in range(2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("default")
                parallel(
                    delayed(cross_validate)(Ridge(), X, y, cv=cv, scoring=get_scorer("sharpe"))
                    for _ in range(1)
                )
            assert sum("'sharpe' scorer" in str(w.message) for w in caught) == 1


def test_each_warning_once_keeps_the_warnings_of_a_block_that_raised_and_other_threads():
    """each_warning_once dropped every warning of a block that raised (those that say
    why); in two threads at once, catch_warnings' process-wide swap lost one thread's
    warnings, then every later warning of the process."""
    import threading

    from skquant.utils._warnings import each_warning_once

    with pytest.warns(UserWarning, match="why it fails"):
        with pytest.raises(ValueError, match="it failed"):
            with each_warning_once():
                warnings.warn("why it fails", UserWarning, stacklevel=1)
                raise ValueError("it failed")

    entered, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with each_warning_once():
            entered.set()
            second_in.wait(5)
            warnings.warn("from the first thread", UserWarning, stacklevel=1)
        first_out.set()

    def second():
        entered.wait(5)
        with each_warning_once():
            second_in.set()
            first_out.wait(5)
            warnings.warn("from the second thread", UserWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        warnings.warn("from the main thread afterwards", UserWarning, stacklevel=1)
    said = {str(w.message) for w in caught}
    assert said == {"from the first thread", "from the second thread",
                    "from the main thread afterwards"}  # fmt: skip


def test_return_metrics_of_a_panels_rows_warn_that_rows_are_not_periods():
    """A Series of a panel's returns (three symbols on each of 300 dates) read its 900
    rows as 900 periods, silently: Sharpe 0.19 where the equal-weight book of the same
    returns has 1.00; with periods_per_year=None the year came from the dates while
    the mean and deviation ran over the rows."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2010-01-01", periods=300)
    r = pd.Series(rng.normal(0.001, 0.01, 300), index=days)
    panel = pd.concat([r, 0.5 * r, -r])
    for f in (sharpe_ratio, sortino_ratio, annual_return, calmar_ratio):
        for year in (252, None):
            with pytest.warns(UserWarning, match="returns has 900 rows on 300 dates") as w:
                f(panel, periods_per_year=year)
            assert w[0].filename == __file__
    # a (date, symbol) index, as make_synthetic_panel's, is a panel's rows too
    stacked = panel.set_axis(pd.MultiIndex.from_arrays(
        [panel.index, np.repeat(["A", "B", "C"], 300)], names=["date", "symbol"]))  # fmt: skip
    with pytest.warns(UserWarning, match="returns has 900 rows on 300 dates"):
        sharpe_ratio(stacked)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sharpe_ratio(panel.groupby(level=0).mean())  # the book: one row a date
        sharpe_ratio(panel.to_numpy())  # no dates: rows are what the caller says
        # two unparseable dates (NaT) are no repeated date
        unknown = pd.DatetimeIndex([*days[:-2], pd.NaT, pd.NaT])
        sharpe_ratio(pd.Series(r.to_numpy(), index=unknown))


def test_drawdown_and_sharpe_significance_of_a_panels_rows_warn_as_sharpe_does():
    """max_drawdown, probabilistic_sharpe_ratio and deflated_sharpe_ratio read a panel's
    rows as periods, silently, where sharpe_ratio warned: on the demo's 2 symbols the
    drawdown of the rows compounded was -0.887 against the book's -0.655, and PSR
    0.963 against 0.905 (a track record twice as long). The figure itself is kept."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2010-01-01", periods=300)
    r = pd.Series(rng.normal(0.0005, 0.01, 300), index=days)
    panel = pd.concat([r, 0.5 * r + rng.normal(0, 0.01, 300)])  # 2 symbols a date
    stacked = panel.set_axis(pd.MultiIndex.from_arrays(
        [panel.index, np.repeat(["A", "B"], 300)], names=["date", "symbol"]))  # fmt: skip
    metrics = {
        max_drawdown: (),
        probabilistic_sharpe_ratio: (),
        deflated_sharpe_ratio: (10, 1e-4),
    }
    for f, args in metrics.items():
        for rows in (stacked, panel):  # a (date, symbol) index; repeated dates
            with pytest.warns(UserWarning, match="returns has 600 rows on 300 dates") as w:
                value = f(rows, *args)
            assert len(w) == 1 and w[0].filename == __file__
            assert value == f(rows.to_numpy(), *args)  # warned, not changed
        # through a user's frame.apply, at the user's line
        frame = stacked.to_frame("a").assign(b=stacked)
        with pytest.warns(UserWarning, match="returns has 600 rows") as w:
            frame.apply(f, args=args)
        assert {x.filename for x in w} == {__file__}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f(stacked.groupby(level=0).mean(), *args)  # the book: one row a date
            f(panel.to_numpy(), *args)  # no dates
    # skquant's own callers are not told: calmar_ratio warns once, not again from
    # its max_drawdown
    with pytest.warns(UserWarning, match="returns has 600 rows") as w:
        calmar_ratio(panel)
    assert len(w) == 1
    # ratios over rows (per trade) are neither compounded nor annualised: quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        profit_factor(stacked)
        win_loss_ratio(stacked)
        hit_rate(stacked, stacked.shift(1))


def test_the_calendar_warning_of_a_scorer_is_shown_once_per_cross_validate():
    """Its text named each fold's dates and year, so Python's default filter showed it
    once per fold: 13 times in one cross_validate (audit), where the README says a
    scorer's warning comes once."""
    from skquant import WalkForwardSplit

    rng = np.random.default_rng(1)
    days = pd.bdate_range("2024-01-01", periods=30)
    stamps = pd.DatetimeIndex([d + pd.Timedelta(9.5 + i, unit="h") for d in days for i in range(7)])
    X = pd.DataFrame({"f": rng.normal(size=len(stamps))}, index=stamps)
    y = pd.Series(0.002 * X["f"] + rng.normal(0, 0.003, len(stamps)), index=stamps)
    cv = WalkForwardSplit(train_days=100, test_days=7, step_days=7, min_train_samples=50)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        cross_validate(Ridge(), X, y, cv=cv, scoring=get_scorer("sharpe"))
    said = [str(w.message) for w in caught if "weekday market" in str(w.message)]
    assert cv.get_n_splits(X) > 10 and len(said) == 1, said


def test_validation_metrics_refuses_dates_it_would_sort_as_text():
    """Risk walk: dates as text ('12/31/2020', a CSV read without parse_dates) were
    booked in alphabetical order, January 2021 before December 2020, while the year was
    read from them as dates: Sharpe -1.1545, drawdown -0.0802, turnover 0.95 instead of
    -1.0965, -0.0697, 0.9167, silently. Period numbers without periods_per_year were
    read as nanoseconds (15,120 periods a year). ISO text and datetime.date objects,
    which book right, were refused too for a while; they follow period_returns' rule:
    text is refused when its alphabetical order is not its date order."""
    from skquant.metrics import validation_metrics

    days = pd.bdate_range("2020-12-01", periods=60)
    r = np.random.default_rng(0).normal(0.001, 0.01, 60)
    f = np.random.default_rng(1).normal(size=60)
    real = validation_metrics("regression", r, f, returns=r, dates=days, cost_bps=10)
    text = days.strftime("%m/%d/%Y")
    for dates in (text, list(text), pd.Index(days.to_period("D")), ["a", "b"] * 30):
        with pytest.raises(ValueError, match=r"dates holds .*pd.to_datetime|to_timestamp"):
            validation_metrics("regression", r, f, returns=r, dates=dates, cost_bps=10)
    panel = pd.MultiIndex.from_arrays([text, ["A"] * 60])  # a panel's text date level
    with pytest.raises(ValueError, match="alphabetical order is not their date order"):
        validation_metrics("regression", r, f, returns=r, dates=panel)
    # ISO text and date objects sort as their dates: booked as the datetimes are
    iso = days.strftime("%Y-%m-%d")
    for dates in (iso, list(iso), np.asarray(days.date), list(days.date)):
        same = validation_metrics("regression", r, f, returns=r, dates=dates, cost_bps=10)
        assert same["trading"] == pytest.approx(real["trading"], nan_ok=True), dates[:1]
    panel = pd.MultiIndex.from_arrays([days.date, ["A"] * 60])
    same = validation_metrics("regression", r, f, returns=r, dates=panel, cost_bps=10)
    assert same["trading"]["sharpe"] == pytest.approx(real["trading"]["sharpe"])
    with pytest.raises(ValueError, match="dates holds numbers.*periods_per_year"):
        validation_metrics("regression", r, f, returns=r, dates=np.arange(60))
    numbered = validation_metrics(
        "regression", r, f, returns=r, dates=np.arange(60), periods_per_year=252, cost_bps=10
    )["trading"]
    for key in ("sharpe", "max_drawdown", "turnover"):
        assert numbered[key] == pytest.approx(real["trading"][key]), key
    # period_returns (and compute_metric through it) sorted the text too
    from skquant.metrics import compute_metric, period_returns

    with pytest.raises(ValueError, match="alphabetical order is not their date order"):
        period_returns(r, text)
    with pytest.raises(ValueError, match="alphabetical order is not their date order"):
        compute_metric("max_drawdown", r, f, np.sign(f), text)
    iso = days.strftime("%Y-%m-%d")  # text in date order, and ids, are sorted right
    np.testing.assert_array_equal(period_returns(r, iso), period_returns(r, days))
    assert compute_metric("max_drawdown", r, f, np.sign(f), iso) == pytest.approx(
        compute_metric("max_drawdown", r, f, np.sign(f), days)
    )


def test_validation_metrics_refuses_an_unknown_task():
    """Risk walk: any task but exactly "classification" was scored as a regression, so
    a classifier's 0/1 labels became long/flat positions: "classifier",
    "Classification" and "banana" gave a Sharpe ratio of 2.369 instead of -1.144."""
    from skquant.metrics import validation_metrics

    rng = np.random.default_rng(0)
    r = rng.normal(0.001, 0.01, 50)
    y = (r > 0).astype(int)
    pred = np.where(rng.random(50) < 0.6, y, 1 - y)
    for task in ("classifier", "Classification", "banana", None):
        with pytest.raises(ValueError, match="task must be one of 'classification', 'regr"):
            validation_metrics(task, y, pred, returns=r, periods_per_year=252)
    out = validation_metrics("classification", y, pred, returns=r, periods_per_year=252)
    assert "accuracy" in out and "rmse" not in out
