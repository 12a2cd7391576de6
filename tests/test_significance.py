"""Probabilistic and deflated Sharpe ratios: hand computations, the papers' numbers, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from skquant import deflated_sharpe_ratio, probabilistic_sharpe_ratio
from skquant.metrics._significance import _psr, expected_max_sharpe

_returns = arrays(
    np.float64,
    st.integers(3, 120),
    elements=st.floats(-0.1, 0.1, allow_nan=False, allow_subnormal=False),
)


def _by_hand_psr(r: np.ndarray, benchmark: float) -> float:
    sr = r.mean() / r.std(ddof=1)
    g3 = stats.skew(r)
    g4 = stats.kurtosis(r, fisher=False)
    z = (sr - benchmark) * math.sqrt(len(r) - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    return stats.norm.cdf(z)


def _by_hand_expected_max(n: int, variance: float) -> float:
    g = 0.5772156649015329  # Euler-Mascheroni
    return math.sqrt(variance) * (
        (1 - g) * stats.norm.ppf(1 - 1 / n) + g * stats.norm.ppf(1 - 1 / (n * math.e))
    )


@pytest.fixture
def series() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.standard_t(df=4, size=500) * 0.01 + 0.0008


@pytest.mark.parametrize("benchmark", [0.0, 0.03, -0.02])
def test_psr_matches_a_hand_computation(series, benchmark):
    expected = _by_hand_psr(series, benchmark)
    assert probabilistic_sharpe_ratio(series, benchmark) == pytest.approx(expected, rel=1e-12)
    assert 0.0 < expected < 1.0


def test_dsr_matches_a_hand_computation(series):
    benchmark = _by_hand_expected_max(20, 0.002)
    expected = _by_hand_psr(series, benchmark)
    assert deflated_sharpe_ratio(series, 20, 0.002) == pytest.approx(expected, rel=1e-12)


def test_deflated_sharpe_paper_example():
    # Bailey and Lopez de Prado (2014), numerical example: N = 100 trials whose annualised
    # Sharpe ratios have variance 1/2, the selected one with annualised SR = 2.5 over
    # T = 1250 daily returns with skewness -3 and kurtosis 10 (250 days a year).
    # The paper finds SR0 = 0.1132 per day and DSR = 0.9004.
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert _psr(2.5 / math.sqrt(250), 1250, -3.0, 10.0, sr0) == pytest.approx(0.9004, abs=5e-4)


def test_normal_returns_give_the_t_test_like_probability():
    # Gaussian moments (g3 = 0, g4 = 3): PSR(0) = Phi(SR sqrt(n - 1) / sqrt(1 + SR^2 / 2))
    sr, n = 0.1, 400
    assert _psr(sr, n, 0.0, 3.0, 0.0) == pytest.approx(
        stats.norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 + sr**2 / 2))
    )


def test_one_trial_deflates_nothing(series):
    assert deflated_sharpe_ratio(series, 1, 0.5) == probabilistic_sharpe_ratio(series)
    assert deflated_sharpe_ratio(series, 50, 0.0) == probabilistic_sharpe_ratio(series)


def test_constant_returns_have_an_exact_sharpe():
    assert probabilistic_sharpe_ratio([0.001] * 10) == 1.0
    assert probabilistic_sharpe_ratio([-0.001] * 10) == 0.0
    assert probabilistic_sharpe_ratio([0.0] * 10) == 0.5
    assert probabilistic_sharpe_ratio([0.0] * 10, benchmark_sharpe=-0.1) > 0.5


@pytest.mark.filterwarnings("ignore:.*looks annualised:UserWarning")  # large draws
@settings(max_examples=60, deadline=None)
@given(r=_returns, low=st.floats(-0.5, 0.5), step=st.floats(0.001, 0.5))
def test_psr_decreases_as_the_benchmark_grows(r, low, step):
    assume(np.std(r) > 1e-6)
    lower, higher = (probabilistic_sharpe_ratio(r, b) for b in (low, low + step))
    assert 0.0 <= higher <= lower <= 1.0


@pytest.mark.filterwarnings("ignore:.*looks annualised:UserWarning")  # large draws
@settings(max_examples=60, deadline=None)
@given(r=_returns, n_trials=st.integers(2, 10_000), variance=st.floats(1e-6, 1.0))
def test_dsr_is_at_most_psr_of_zero(r, n_trials, variance):
    assume(np.std(r) > 1e-6)
    dsr = deflated_sharpe_ratio(r, n_trials, variance)
    assert 0.0 <= dsr <= probabilistic_sharpe_ratio(r) <= 1.0


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 5000), variance=st.floats(1e-6, 1.0))
def test_expected_max_sharpe_grows_with_trials(n, variance):
    assert 0 <= expected_max_sharpe(n, variance) < expected_max_sharpe(n + 1, variance)


@settings(max_examples=50, deadline=None)
@given(r=_returns, power=st.integers(-1000, 1000))
def test_psr_does_not_depend_on_the_scale_of_the_returns(r, power):
    """The moments of returns near 1e77 overflowed and those near 1e-90 underflowed:
    PSR was NaN (or 1, a deviation rounded to 0) for returns it should rank as any."""
    assume(np.ptp(r) > 1e-6 * np.abs(r).max())
    scaled = np.ldexp(r, power)  # exact: a power of two
    assert probabilistic_sharpe_ratio(scaled) == pytest.approx(
        probabilistic_sharpe_ratio(r), rel=1e-12, abs=1e-15
    )


def test_expected_max_sharpe_stays_exact_for_a_huge_number_of_trials():
    """Phi^-1(1 - 1/N) rounded 1 - 1/N: a relative error of 9e-4 at N = 1e15 and inf
    from N = 1e16 on (deflated_sharpe_ratio then blamed benchmark_sharpe). Against
    mpmath's quantiles at 50 digits."""
    mpmath = pytest.importorskip("mpmath")

    def quantile(p_upper):  # Phi^-1(1 - p) = sqrt(2) erfinv(1 - 2p)
        return mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * p_upper)

    with mpmath.workdps(80):  # 1 - 2p holds p of 1e-21 with 60 digits to spare
        g = mpmath.euler
        for n in (10**3, 10**9, 10**15, 10**16, 10**20):
            exact = (1 - g) * quantile(mpmath.mpf(1) / n) + g * quantile(1 / (n * mpmath.e))
            assert expected_max_sharpe(n, 1.0) == pytest.approx(float(exact), rel=1e-12)
    assert np.isfinite(deflated_sharpe_ratio(np.linspace(-0.01, 0.02, 50), 10**16, 0.01))


@pytest.mark.parametrize(
    ("returns", "match"),
    [
        ([0.01], "at least 2 returns.*got 1"),
        ([], "at least 2 returns.*got 0"),
        ([0.01, np.nan, 0.02], "NaN"),
        ([[0.01, 0.02], [0.0, 0.01]], "1-D"),
    ],
)
def test_bad_returns_are_named(returns, match):
    with pytest.raises(ValueError, match=match):
        probabilistic_sharpe_ratio(returns)
    with pytest.raises(ValueError, match=match):
        deflated_sharpe_ratio(returns, 5, 0.1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_trials": 0, "trials_sharpe_variance": 0.1}, "n_trials"),
        ({"n_trials": 2.5, "trials_sharpe_variance": 0.1}, "n_trials"),
        ({"n_trials": True, "trials_sharpe_variance": 0.1}, "n_trials"),
        ({"n_trials": 5, "trials_sharpe_variance": -0.1}, "trials_sharpe_variance"),
        ({"n_trials": 5, "trials_sharpe_variance": float("nan")}, "trials_sharpe_variance"),
    ],
)
def test_bad_trial_parameters_are_named(series, kwargs, match):
    with pytest.raises(ValueError, match=match):
        deflated_sharpe_ratio(series, **kwargs)


def test_bad_benchmark_is_named(series):
    with pytest.raises(ValueError, match="benchmark_sharpe"):
        probabilistic_sharpe_ratio(series, benchmark_sharpe=float("nan"))


@settings(max_examples=60, deadline=None)
@given(r=_returns, benchmark=st.floats(-0.5, 0.5))
def test_psr_of_the_mirrored_returns_is_the_complement(r, benchmark):
    """Negating the returns negates SR and the skewness and keeps the kurtosis, so
    PSR(-r, -SR*) = 1 - PSR(r, SR*); the PSR is above one half exactly when the
    Sharpe ratio beats the benchmark."""
    assume(np.ptp(r) > 1e-6)
    psr = probabilistic_sharpe_ratio(r, benchmark)
    assert probabilistic_sharpe_ratio(-r, -benchmark) == pytest.approx(1.0 - psr, abs=1e-12)
    sharpe = r.mean() / r.std(ddof=1)
    if abs(sharpe - benchmark) > 1e-9:
        assert (psr > 0.5) == (sharpe > benchmark)
    assert psr == pytest.approx(_by_hand_psr(r, benchmark), abs=1e-9)


def test_a_benchmark_or_variance_that_looks_annualised_warns():
    """probabilistic_sharpe_ratio(r, benchmark_sharpe=1.0) gave 1.4e-46 for a good daily
    strategy, deflated_sharpe_ratio(r, 10, 1.0) 1.3e-120, silently: per period, 1 is an
    annualised 15.9 on daily data, the usual slip of passing the annualised figure."""
    import warnings

    r = np.random.default_rng(0).normal(0.001, 0.01, size=500)
    with pytest.warns(UserWarning, match=r"benchmark_sharpe=1 gives a per-period .* annual") as w:
        probabilistic_sharpe_ratio(r, benchmark_sharpe=1.0)
    assert len(w) == 1 and w[0].filename == __file__
    with pytest.warns(UserWarning, match=r"trials_sharpe_variance=1 \(with n_trials=10\)") as w:
        deflated_sharpe_ratio(r, n_trials=10, trials_sharpe_variance=1.0)
    assert len(w) == 1 and w[0].filename == __file__  # not again from its PSR
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilistic_sharpe_ratio(r, benchmark_sharpe=0.1)  # 1.6 a year: per period
        deflated_sharpe_ratio(r, n_trials=10, trials_sharpe_variance=0.01)


def test_a_typical_annualised_benchmark_or_variance_warns_too():
    """Risk walk: the check fired only at benchmark_sharpe (trials_sharpe_variance) >= 1,
    so the typical annualised figures passed silently: on three years of daily returns
    with an annual Sharpe ratio of 0.85, probabilistic_sharpe_ratio(r, 0.5) gave
    1.4e-34 and deflated_sharpe_ratio(r, 10, 0.25) 6.8e-90. A benchmark far beyond the
    returns' own Sharpe ratio (in standard errors) and beyond a plausible per-period
    level warns; a monthly benchmark of 0.3 does not."""
    import warnings

    import pandas as pd

    r = np.random.default_rng(0).normal(0.0008, 0.01, size=756)
    with pytest.warns(
        UserWarning, match=r"benchmark_sharpe=0.5 .*an annualised 7.94 on daily"
    ) as w:
        assert probabilistic_sharpe_ratio(r, 0.5) < 1e-30
    assert len(w) == 1 and w[0].filename == __file__
    with pytest.warns(UserWarning, match=r"trials_sharpe_variance=0.25 .*looks annualised") as w:
        assert deflated_sharpe_ratio(r, 10, 0.25) < 1e-80
    assert len(w) == 1 and w[0].filename == __file__
    daily = pd.Series(r, index=pd.bdate_range("2020-01-01", periods=756))
    with pytest.warns(UserWarning, match=r"an annualised 4.76 by the dates' 252 a year"):
        probabilistic_sharpe_ratio(daily, 0.3)  # known daily dates: 0.3 a day is 4.8 a year
    rng = np.random.default_rng(1)
    months = pd.date_range("1970-01-31", periods=600, freq="ME")
    monthly = pd.Series(rng.normal(0.01, 0.04, 600), index=months)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for returns in (monthly, monthly.to_numpy()):
            probabilistic_sharpe_ratio(returns, 0.3)  # 1.04 a year: a per-month benchmark
        probabilistic_sharpe_ratio(r, 0.05)  # 0.79 a year on daily data, per day
        deflated_sharpe_ratio(r, 10, 0.001)
        probabilistic_sharpe_ratio(r, 0.1)  # near the returns' own Sharpe ratio (0.054)
    with pytest.warns(UserWarning, match=r"an annualised 3.46 by the dates' 12 a year"):
        probabilistic_sharpe_ratio(monthly, 1.0)  # 1 a month: still caught
