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
        The benchmark ``SR*``, a per-period (not annualised) Sharpe ratio; 1 or
        more warns that it looks annualised.

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
        (``returns.groupby(level=0).mean()`` for an equal-weight book).

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
    _warn_if_rows_repeat_dates(returns, _TRACK_RECORD)
    benchmark = _finite_number(benchmark_sharpe, "benchmark_sharpe")
    if abs(benchmark) >= 1 and not called_from_skquant():
        _warn_annualised(f"benchmark_sharpe={benchmark:g}", "a Sharpe ratio")
    # scaled by a power of two (exact): the moments of returns near 1e77 overflowed and
    # those near 1e-90 underflowed, giving NaN (a ratio of moments is scale-free)
    r = _rescaled(r)
    exact = _constant_ratio(r)
    if exact is not None:  # constant returns (all zero included): no estimation error
        return _exact_psr(exact, benchmark)
    sharpe = sharpe_ratio(r, periods_per_year=1)
    if sharpe == 0:
        skew, kurtosis = 0.0, 3.0  # the moments multiply SR = 0
    else:
        skew = float(stats.skew(r, bias=True))
        kurtosis = float(stats.kurtosis(r, fisher=False, bias=True))
    return _psr(sharpe, len(r), skew, kurtosis, benchmark)


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
        Sharpe ratios; an annualised variance divided by ``periods_per_year``. 1 or
        more warns that it looks annualised.

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
        When rows of ``returns`` repeat a date, as :func:`probabilistic_sharpe_ratio`.

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
    _warn_if_rows_repeat_dates(returns, _TRACK_RECORD)
    # skquant's own callers (tune, benchmark) pass per-period variances they measured
    if variance >= 1 and not called_from_skquant():
        _warn_annualised(f"trials_sharpe_variance={variance:g}", "the variance of Sharpe ratios")
    return probabilistic_sharpe_ratio(r, expected_max_sharpe(int(n_trials), variance))


def _warn_annualised(given: str, what: str) -> None:
    """Warn that ``given`` looks annualised where a per-period figure is expected: a
    per-period Sharpe ratio of 1 is 15.9 a year on daily returns, and against it any
    track record has a probability near 0 (1.4e-46 for a good daily strategy)."""
    warnings.warn(
        f"{given} is {what} per period (per day for daily returns), where 1 is an "
        "annualised 15.9 on daily data: it looks annualised, and the probability against "
        "it is near 0 whatever the track record. Divide an annualised Sharpe ratio by "
        "sqrt(periods per year), its variance by periods per year (unless each period "
        "is a year).",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
