"""Significance of a Sharpe ratio: probabilistic and deflated Sharpe ratios.

References
----------
Bailey, D. and Lopez de Prado, M. (2012), "The Sharpe Ratio Efficient Frontier",
Journal of Risk 15(2): the probabilistic Sharpe ratio (PSR).

Bailey, D. and Lopez de Prado, M. (2014), "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio
Management 40(5): the deflated Sharpe ratio (DSR), a PSR whose benchmark is the
expected maximum Sharpe ratio of ``n_trials`` trials.

Every Sharpe ratio here is per period (not annualised): divide an annualised
Sharpe by ``sqrt(periods_per_year)`` and an annualised variance of Sharpe ratios
by ``periods_per_year`` before passing them.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import stats

from skquant.metrics._returns import (
    _constant_ratio,
    _rescaled,
    _warn_if_rows_repeat_dates,
    sharpe_ratio,
)
from skquant.utils._time import MIN_DATES_FOR_YEAR, infer_periods_per_year
from skquant.utils._validation import one_dimensional
from skquant.utils._warnings import called_from_skquant, caller_stacklevel

__all__ = ["deflated_sharpe_ratio", "probabilistic_sharpe_ratio"]


def _returns_checked(returns, name: str) -> np.ndarray:
    r = one_dimensional(returns, f"{name}: returns")
    if len(r) < 2:
        raise ValueError(
            f"{name} needs at least 2 returns (a Sharpe ratio and its standard error "
            f"need two periods), got {len(r)}."
        )
    if not np.isfinite(r).all():
        raise ValueError(
            f"{name}: returns hold {int((~np.isfinite(r)).sum())} NaN or infinite values; "
            "drop or fill them first (the track record's length enters the statistic)."
        )
    return r


# what counting a panel's rows as periods does to PSR and DSR
_TRACK_RECORD = "its track record counts rows, not dates (a longer one, a surer Sharpe ratio)"


def _finite_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return float(value)


def _exact_psr(sharpe: float, benchmark: float) -> float:
    """PSR of a Sharpe ratio known exactly (constant returns): 1 above, 0 below, 0.5 at."""
    if sharpe == benchmark:
        return 0.5
    return 1.0 if sharpe > benchmark else 0.0


def _psr(sharpe: float, n: int, skew: float, kurtosis: float, benchmark: float) -> float:
    """PSR from the moments: ``Phi((SR - SR*) sqrt(n - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))``."""
    if np.isinf(sharpe):  # constant returns: the Sharpe ratio is known exactly
        return _exact_psr(sharpe, benchmark)
    variance = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    difference = (sharpe - benchmark) * np.sqrt(n - 1)
    # variance >= (1 - skew SR / 2)^2 >= 0 for the biased moments (Pearson's inequality)
    if variance <= 0:
        return 0.5 if difference == 0 else float(difference > 0)
    return float(stats.norm.cdf(difference / np.sqrt(variance)))


def probabilistic_sharpe_ratio(returns, benchmark_sharpe: float = 0.0) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark_sharpe``.

    Bailey and Lopez de Prado (2012)::

        PSR = Phi((SR - SR*) * sqrt(n - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR**2))

    with ``SR`` the per-period Sharpe ratio of ``returns`` (``mean / std``, ``ddof=1``,
    as :func:`sharpe_ratio` with ``periods_per_year=1``), ``n`` the number of returns,
    ``g3`` their sample skewness and ``g4`` their sample (non-excess) kurtosis, both
    the moment estimators (``scipy.stats.skew`` and ``scipy.stats.kurtosis(fisher=False)``
    with ``bias=True``), and ``Phi`` the standard normal CDF.

    Parameters
    ----------
    returns : array-like of shape (n_periods,)
        Per-period returns (in excess of the risk-free rate, if any); at least 2,
        without NaN.
    benchmark_sharpe : float, default=0.0
        The benchmark ``SR*``, a per-period (not annualised) Sharpe ratio. One that
        looks annualised warns: 5 or more standard errors beyond the returns' own
        Sharpe ratio and beyond a per-period level no benchmark reaches, 4 a year by
        the year of the dates of ``returns`` (0.25 on daily dates, 1 at most), 0.5
        without dates (7.9 a year on daily data; 0.3 a month stays quiet).

    Returns
    -------
    psr : float
        In ``[0, 1]``. Constant returns have an exact Sharpe ratio (``+-inf`` or
        0, as :func:`sharpe_ratio`), with no estimation error: 1 when it exceeds
        the benchmark, 0 below it, 0.5 when equal (all-zero returns against a
        benchmark of 0). A mean of exactly 0 from returns that vary is an estimate
        and gets the normal approximation.

    Raises
    ------
    ValueError
        Fewer than 2 returns, NaN or infinite returns, a non-finite benchmark.

    Warns
    -----
    UserWarning
        When rows of ``returns`` repeat a date (a panel's (date, symbol) rows, or a
        ``DatetimeIndex`` with repeated dates): each row counts as a period, so the
        track record looks longer than it is; combine each date's rows first
        (``returns.groupby(level=0).mean()`` for an equal-weight book). When
        ``benchmark_sharpe`` looks annualised (see above): against it the
        probability is near 0 whatever the track record.

    See Also
    --------
    deflated_sharpe_ratio : the PSR against the expected best of many trials.

    Examples
    --------
    >>> from skquant import probabilistic_sharpe_ratio
    >>> round(probabilistic_sharpe_ratio([0.01, -0.005, 0.02, 0.0, 0.004]), 4)
    0.9084
    """
    r = _returns_checked(returns, "probabilistic_sharpe_ratio")
    dates = _warn_if_rows_repeat_dates(returns, _TRACK_RECORD)
    benchmark = _finite_number(benchmark_sharpe, "benchmark_sharpe")
    moments = _moments(r)
    if not called_from_skquant():
        _warn_if_annualised(benchmark, moments, dates, f"benchmark_sharpe={benchmark:g}")
    return _psr_of(moments, benchmark)


def _moments(r: np.ndarray) -> tuple[float, int, float, float] | float:
    """``(sharpe, n, skew, kurtosis)`` of returns ``r`` (per period, moment
    estimators), or the exact Sharpe ratio of constant returns (no estimation error)."""
    # scaled by a power of two (exact): the moments of returns near 1e77 overflowed and
    # those near 1e-90 underflowed, giving NaN (a ratio of moments is scale-free)
    r = _rescaled(r)
    exact = _constant_ratio(r)
    if exact is not None:  # constant returns (all zero included)
        return exact
    sharpe = sharpe_ratio(r, periods_per_year=1)
    if sharpe == 0:
        return sharpe, len(r), 0.0, 3.0  # the moments multiply SR = 0
    skew = float(stats.skew(r, bias=True))
    return sharpe, len(r), skew, float(stats.kurtosis(r, fisher=False, bias=True))


def _psr_of(moments, benchmark: float) -> float:
    """The PSR against ``benchmark`` of returns of these :func:`_moments`."""
    if not isinstance(moments, tuple):
        return _exact_psr(moments, benchmark)
    return _psr(*moments, benchmark)


def expected_max_sharpe(n_trials: int, trials_sharpe_variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` independent zero-skill trials.

    ``sqrt(V) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))`` with
    ``gamma`` the Euler-Mascheroni constant (Bailey and Lopez de Prado 2014); 0 for
    a single trial (nothing was selected).
    """
    if n_trials == 1:
        return 0.0
    gamma = np.euler_gamma
    # the upper quantiles by isf: ppf(1 - 1/N) rounds 1 - 1/N (inf from N = 1e16 on)
    z = (1.0 - gamma) * stats.norm.isf(1.0 / n_trials) + gamma * stats.norm.isf(
        1.0 / (n_trials * np.e)
    )
    return float(np.sqrt(trials_sharpe_variance) * z)


def deflated_sharpe_ratio(returns, n_trials: int, trials_sharpe_variance: float) -> float:
    """Probability that the Sharpe ratio beats the best of ``n_trials`` unskilled trials.

    Bailey and Lopez de Prado (2014): the :func:`probabilistic_sharpe_ratio` of
    ``returns`` against the benchmark::

        SR* = sqrt(V) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))

    the expected maximum of ``N = n_trials`` per-period Sharpe ratios of zero mean
    and variance ``V = trials_sharpe_variance`` (``gamma`` is the Euler-Mascheroni
    constant). Use it on the selected (best) trial's returns.

    Parameters
    ----------
    returns : array-like of shape (n_periods,)
        Per-period returns of the selected strategy; at least 2, without NaN.
    n_trials : int
        Number of independent trials the strategy was selected from (>= 1). One
        trial selects nothing: the benchmark is 0 and DSR equals PSR.
    trials_sharpe_variance : float
        Variance (>= 0) across the trials of their per-period (not annualised)
        Sharpe ratios; an annualised variance divided by ``periods_per_year``. A
        benchmark ``SR*`` that looks annualised warns, by the rule of
        :func:`probabilistic_sharpe_ratio`'s ``benchmark_sharpe``.

    Returns
    -------
    dsr : float
        In ``[0, 1]``; at most ``probabilistic_sharpe_ratio(returns)`` when
        ``n_trials > 1``. Constant returns follow the PSR's rule: their exact
        Sharpe ratio against the benchmark gives 1, 0 or 0.5 (all-zero returns
        give 0 against a positive benchmark, 0.5 with ``trials_sharpe_variance=0``).

    Raises
    ------
    ValueError
        Bad ``returns`` (as :func:`probabilistic_sharpe_ratio`), ``n_trials`` not an
        integer >= 1, ``trials_sharpe_variance`` negative or not finite.

    Warns
    -----
    UserWarning
        When rows of ``returns`` repeat a date, as :func:`probabilistic_sharpe_ratio`,
        and when the benchmark ``SR*`` looks annualised (its rule).

    Examples
    --------
    >>> from skquant import deflated_sharpe_ratio
    >>> r = [0.01, -0.005, 0.02, 0.0, 0.004]
    >>> round(deflated_sharpe_ratio(r, n_trials=10, trials_sharpe_variance=0.01), 4)
    0.837
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, Integral) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}.")
    variance = _finite_number(trials_sharpe_variance, "trials_sharpe_variance")
    if variance < 0:
        raise ValueError(f"trials_sharpe_variance must be >= 0, got {trials_sharpe_variance!r}.")
    r = _returns_checked(returns, "deflated_sharpe_ratio")
    dates = _warn_if_rows_repeat_dates(returns, _TRACK_RECORD)
    benchmark = expected_max_sharpe(int(n_trials), variance)
    moments = _moments(r)
    # skquant's own callers (tune, benchmark) pass per-period variances they measured
    if not called_from_skquant():
        given = f"trials_sharpe_variance={variance:g} (with n_trials={n_trials})"
        _warn_if_annualised(benchmark, moments, dates, given)
    return _psr_of(moments, benchmark)


# A per-period benchmark looks annualised when it lies this many standard errors of
# the returns' own per-period Sharpe ratio beyond it (the PSR is below 2.9e-7, or
# above 1 - 2.9e-7 for a negative one: decided whatever the track record) ...
_ANNUALISED_ERRORS = 5.0
# ... and beyond a per-period level that no benchmark reaches: an annual Sharpe ratio of
# 4 by the dates' own year (0.25 per day, 0.55 per week), at most 1 (1.15 per month
# would let an annualised 1 pass on monthly data); without dates 0.5, 7.9 a year on
# daily data, while a monthly benchmark of 0.3 (1.04 a year) stays plausible.
_ANNUAL_LIMIT = 4.0
_LIMIT_WITHOUT_DATES = 0.5


def _warn_if_annualised(benchmark: float, moments, dates, given: str) -> None:
    """Warn when the per-period ``benchmark`` (made by ``given``) looks annualised.

    It does when it lies ``_ANNUALISED_ERRORS`` (5) standard errors of the
    returns' own per-period Sharpe ratio beyond it, on its own side of 0, and beyond a
    plausible per-period level: 4 / sqrt(periods per year) (at most 1) when the returns
    carry dates (a ``DatetimeIndex`` of 10 or more dates), else 0.5. Against such a
    benchmark the probability is near 0 (1.4e-34 for an annualised 0.5 on three years
    of a good daily strategy) whatever the track record. Constant returns have no
    standard error and are not judged.
    """
    if not isinstance(moments, tuple) or benchmark == 0:
        return
    sharpe, n, skew, kurtosis = moments
    variance = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    error = np.sqrt(max(variance, 0.0) / (n - 1))
    beyond = (benchmark - sharpe) * np.sign(benchmark)
    if beyond < _ANNUALISED_ERRORS * error:
        return
    year = None
    if dates is not None and dates.nunique() >= MIN_DATES_FOR_YEAR:
        year = infer_periods_per_year(dates.unique())
    limit = _LIMIT_WITHOUT_DATES if year is None else min(_ANNUAL_LIMIT / np.sqrt(year), 1.0)
    if abs(benchmark) < limit:
        return
    if year is None:
        reading = f"an annualised {benchmark * np.sqrt(252):.3g} on daily data"
    else:
        reading = f"an annualised {benchmark * np.sqrt(year):.3g} by the dates' {year:g} a year"
    warnings.warn(
        f"{given} gives a per-period benchmark Sharpe ratio of {benchmark:.3g} ({reading}), "
        f"{beyond / error:.0f} standard errors beyond the returns' own {sharpe:.3g} per "
        "period: it looks annualised, and the probability against it is near 0 whatever "
        "the track record. Divide an annualised Sharpe ratio by sqrt(periods per year), "
        "a variance of annualised Sharpe ratios by periods per year.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
