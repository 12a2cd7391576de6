"""Trading metrics of a series of per-period strategy returns.

Conventions shared by every function here:

- ``returns`` are simple (not log) per-period returns, e.g. daily, as a 1-D
  array-like. NaN periods are missing and dropped before computing, except in the
  length of the track record that annualises compounded growth: annual return
  (and Calmar, through it) counts a NaN period as a flat one, as empyrical's
  ``cum_returns`` does.
- Empty input (or only NaN) gives NaN; an infinite return raises ``ValueError``.
- A return below -1 (losing more than everything in one period: a leveraged book,
  or returns in percent) warns; compounded equity counts as wiped out (0) from it on.
- Rows that repeat a date (a panel's (date, symbol) rows, or a ``DatetimeIndex``
  with repeated dates) warn in Sharpe, Sortino, annual return, max drawdown and
  Calmar (and in the probabilistic and deflated Sharpe ratios): each row counts as
  a period, so the figure is no portfolio's. Profit factor and win/loss ratio do
  not: they are ratios over rows (a row may be a trade's P&L) that neither compound
  nor annualise, so a panel's rows give their figure per position, not the book's.
- Sharpe, Sortino, annual return, max drawdown and Calmar follow empyrical's
  definitions (sample standard deviation with ``ddof=1``, compounded equity).
- A constant series has Sharpe ``+inf``, ``-inf`` or 0 by the sign of its mean
  (Sortino: ``+inf`` or 0, and ``-sqrt(periods_per_year)`` for a constant loss, see
  :func:`sortino_ratio`): a standard deviation below ``1e-12`` of the mean's size
  is the rounding noise of a constant (``np.std([0.001] * 10)`` is 1.8e-19), not a
  deviation to divide by.
- Sharpe and Sortino do not depend on the scale of the returns, so they are
  computed on the excess returns divided by a power of two near their largest
  magnitude: exact, and no overflow of the squares for values beyond 1e154.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd

from skquant.utils._docs import fill_doc
from skquant.utils._equity import drawdown_curve, log_equity
from skquant.utils._time import (
    check_periods_per_year,
    infer_periods_per_year,
    warn_if_year_disagrees,
)
from skquant.utils._validation import one_dimensional
from skquant.utils._warnings import called_from_skquant, caller_stacklevel

__all__ = [
    "annual_return",
    "calmar_ratio",
    "max_drawdown",
    "profit_factor",
    "sharpe_ratio",
    "sortino_ratio",
    "win_loss_ratio",
]


def _clean(returns) -> np.ndarray:
    return _clean_counted(returns)[0]


def _clean_counted(returns) -> tuple[np.ndarray, int]:
    """The returns without NaN periods, and the number of periods with them."""
    r = one_dimensional(returns, "returns")
    n_periods = len(r)
    r = r[~np.isnan(r)]
    if np.isinf(r).any():
        raise ValueError(
            f"returns hold {int(np.isinf(r).sum())} infinite values; a one-period return "
            "is finite (a price of 0 makes inf: drop or fix those periods)."
        )
    return r, n_periods


def _year_of(returns, periods_per_year) -> float:
    """``periods_per_year`` checked, or the year of the dates of ``returns`` when None.

    Dates are the ``DatetimeIndex`` of a Series or frame of returns. A given year
    they clearly contradict warns (:func:`~skquant.utils._time.warn_if_year_disagrees`):
    weekly returns annualised by the default 252 have a Sharpe ratio
    sqrt(252 / 52) = 2.2x too high. 1, the per-period ratio (as PSR and the ICIR
    take it), annualises nothing and is not compared, nor is the year skquant's own
    callers pass: they took it from the data, and warned where they did.

    Rows that repeat a date warn as well (:func:`_warn_if_rows_repeat_dates`).
    """
    index = getattr(returns, "index", None)
    dated = isinstance(index, pd.DatetimeIndex)
    internal = called_from_skquant(2)  # the metric's caller is skquant
    dates = _warn_if_rows_repeat_dates(returns, "its annualisation counts rows, not dates", 3)
    if periods_per_year is None:
        if not dated:
            raise ValueError(
                "periods_per_year=None takes the year from the dates of returns, but "
                "returns carry none (a Series or frame indexed by a DatetimeIndex "
                "does): pass periods_per_year (252 daily, 52 weekly, 12 monthly)."
            )
        return infer_periods_per_year(dates.unique())
    periods_per_year = check_periods_per_year(periods_per_year)
    if periods_per_year != 1 and dated and not internal:
        # (a user's frame.apply(sharpe_ratio) is told at its own line, not pandas')
        warn_if_year_disagrees(periods_per_year, index, also=("pandas",))
    return periods_per_year


def _warn_if_rows_repeat_dates(returns, counted: str, depth: int = 2) -> pd.DatetimeIndex | None:
    """Warn when rows of ``returns`` repeat a date; return the rows' dates (:func:`_row_dates`).

    Rows that repeat a date (a panel's symbols one after another, in a
    ``DatetimeIndex`` or the date level of a (date, symbol) ``MultiIndex``) are each
    counted as a period, so the figure is no portfolio's; ``counted`` says what else
    that does to the metric (its annualisation, its compounding, the length of its
    track record). skquant's own callers are not told (they pass one row per date):
    the metric's caller is ``depth`` frames out from here (2 when the public metric
    calls this itself). The warning points at the user's line, through a
    ``frame.apply(metric)`` as well.
    """
    dates = _row_dates(getattr(returns, "index", None))
    if dates is not None and dates.has_duplicates and not called_from_skquant(depth):
        warnings.warn(
            f"returns has {len(dates)} rows on {dates.nunique()} dates: each row counts "
            "as a period (a panel's symbols one after another), so this is not the "
            f"figure of any portfolio, and {counted}. Combine each date's rows first "
            "(returns.groupby(level=0).mean() for an equal-weight book).",
            UserWarning,
            stacklevel=caller_stacklevel(("pandas",)),
        )
    return dates


def _row_dates(index) -> pd.DatetimeIndex | None:
    """The known dates of the rows of returns: a ``DatetimeIndex``, or the date level of
    a (date, symbol) ``MultiIndex``, without NaT; None when the rows carry none."""
    if isinstance(index, pd.MultiIndex):
        level = next(
            (i for i, values in enumerate(index.levels) if isinstance(values, pd.DatetimeIndex)),
            None,
        )
        index = None if level is None else index.get_level_values(level)
    if not isinstance(index, pd.DatetimeIndex):
        return None
    return index[index.notna()]


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, with x/0 = +-inf for x != 0 and 0/0 = NaN."""
    if denominator == 0:
        return float(np.sign(numerator) * np.inf) if numerator != 0 else float("nan")
    return float(numerator / denominator)


# A standard deviation at most this share of |mean| is rounding noise: the series is constant.
_CONSTANT_RTOL = 1e-12


def _constant_ratio(r: np.ndarray) -> float | None:
    """``+-inf`` or 0 by the sign of the mean when ``r`` is constant, else None."""
    with np.errstate(over="ignore", invalid="ignore"):  # |values| near the float maximum
        mean, std = np.mean(r), np.std(r, ddof=1)
    if r.max() == r.min() or std <= _CONSTANT_RTOL * abs(mean):
        return float(np.sign(mean) * np.inf) if mean != 0 else 0.0
    return None


def _excess(returns, level: float, name: str) -> tuple[np.ndarray, float | None]:
    """The excess returns ``r - level``, and the ratio when they alone decide it.

    That ratio is NaN for fewer than 2 periods and :func:`_constant_ratio`'s for a
    constant series; None means the caller divides by a deviation. ``level`` (the
    parameter ``name``) must be a finite number: NaN gave a NaN ratio and inf a
    ratio of -inf (Sharpe) or NaN (Sortino), silently.
    """
    if isinstance(level, np.ndarray) and level.ndim == 0:  # np.array(0.01), a number
        level = level.item()
    if isinstance(level, bool) or not isinstance(level, Real) or not np.isfinite(level):
        raise ValueError(f"{name} must be a finite number, a return per period, got {level!r}.")
    d = _clean(returns) - float(level)
    if len(d) < 2:
        return d, float("nan")
    d = _rescaled(d)
    return d, _constant_ratio(d)


def _rescaled(d: np.ndarray) -> np.ndarray:
    """``d`` divided by the power of two just above its largest magnitude.

    A ratio of mean to deviation does not change, and a power of two scales every
    value exactly (but for values below 1e-308 of the largest): the ratios are
    those of ``d`` itself, but its squares cannot overflow
    (``np.std([1e200, 2e200, 3e200])`` is inf, so its Sharpe ratio was 0).
    """
    largest = float(np.max(np.abs(d)))
    if largest == 0 or not np.isfinite(largest):
        return d
    return np.ldexp(d, -np.frexp(largest)[1])


@fill_doc
def sharpe_ratio(returns, periods_per_year: float | None = 252, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio: ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods_per_year)``.

    Parameters
    ----------
    {metrics.returns}
    periods_per_year : float or None, default=252
        Periods in a year (252 for daily, 52 weekly, 12 monthly). None takes it
        from the dates of ``returns`` (a Series or frame indexed by a
        DatetimeIndex); a year those dates clearly contradict warns (252 for
        weekly returns: a Sharpe ratio 2.2x too high).
    risk_free : float, default=0.0
        Risk-free return per period, subtracted from every return.

    Returns
    -------
    sharpe : float
        NaN with fewer than 2 periods. Constant excess returns give ``+inf``,
        ``-inf`` or 0 by the sign of their mean, a standard deviation below
        ``1e-12`` of the mean's size counting as zero.

    Examples
    --------
    >>> from skquant import sharpe_ratio
    >>> round(sharpe_ratio([0.01, -0.005, 0.02, 0.0]), 4)
    8.949
    """
    periods_per_year = _year_of(returns, periods_per_year)
    r, decided = _excess(returns, risk_free, "risk_free")
    if decided is not None:
        return decided
    return _ratio(np.mean(r), np.std(r, ddof=1)) * float(np.sqrt(periods_per_year))


@fill_doc
def max_drawdown(returns) -> float:
    """Worst peak-to-trough fall of compounded equity, as a negative fraction.

    Equity starts at 1 and compounds: ``E_t = prod_{i<=t} (1 + r_i)``; the drawdown
    at t is ``E_t / max(1, max_{i<=t} E_i) - 1``; the result is its minimum.

    Parameters
    ----------
    {metrics.returns}

    Returns
    -------
    max_drawdown : float
        In ``[-1, 0]``: 0 when equity never falls (all-zero returns included),
        NaN for empty input. Greater (closer to 0) is better.

    Examples
    --------
    >>> from skquant import max_drawdown
    >>> round(max_drawdown([0.1, -0.5, 0.2]), 4)
    -0.5
    """
    _warn_if_rows_repeat_dates(returns, "its equity compounds every row as a period")
    r = _clean(returns)
    if len(r) == 0:
        return float("nan")
    # log E_t - log max E_i, finite or -inf (wiped out): never inf - inf
    return float(min(np.min(drawdown_curve(r)), 0.0))


def annual_return(returns, periods_per_year: float | None = 252) -> float:
    """Compound annual growth rate: ``E_T ** (periods_per_year / T) - 1``.

    ``E_T`` is the compounded equity at the end and ``T`` the number of periods,
    NaN periods included: a missing period is a flat one (return 0), so it takes
    its place in the year, as in empyrical's ``annual_return``.

    Parameters
    ----------
    returns : array-like of shape (n_periods,)
        Per-period simple returns; a NaN period counts as flat (return 0).
    periods_per_year : float or None, default=252
        Periods in a year; None takes it from the dates of ``returns``, and a
        year they clearly contradict warns (as :func:`sharpe_ratio`).

    Returns
    -------
    annual_return : float
        NaN for empty (or all-NaN) input; -1 when equity is wiped out.

    Examples
    --------
    >>> from skquant import annual_return
    >>> round(annual_return([0.1, float("nan")], periods_per_year=2), 4)
    0.1
    """
    periods_per_year = _year_of(returns, periods_per_year)
    r, n_periods = _clean_counted(returns)
    if len(r) == 0:
        return float("nan")
    log_ending = float(log_equity(r)[-1])
    if log_ending == -np.inf:
        return -1.0
    with np.errstate(over="ignore"):  # an absurd growth rate is inf, not an error
        return float(np.expm1(log_ending * periods_per_year / n_periods))


@fill_doc
def sortino_ratio(
    returns, periods_per_year: float | None = 252, required_return: float = 0.0
) -> float:
    """Annualised Sortino ratio: mean excess return over downside deviation.

    ``mean(d) * periods_per_year / (sqrt(mean(min(d, 0) ** 2)) * sqrt(periods_per_year))``
    with ``d = r - required_return`` (empyrical's definition).

    {metrics.parameters}
    required_return : float, default=0.0
        Minimum acceptable return per period.

    Returns
    -------
    sortino : float
        NaN for fewer than 2 periods; ``+inf`` when there is no period below
        ``required_return``. Constant excess returns give ``+inf`` or 0 by the sign
        of their mean (as :func:`sharpe_ratio`), but a constant negative one is
        ``-sqrt(periods_per_year)`` by the formula: its downside deviation is its size.
    """
    periods_per_year = _year_of(returns, periods_per_year)
    d, decided = _excess(returns, required_return, "required_return")
    if decided is not None and not decided < 0:  # NaN, +inf or 0
        return decided
    downside = np.sqrt(np.mean(np.minimum(d, 0.0) ** 2)) * np.sqrt(periods_per_year)
    return _ratio(np.mean(d) * periods_per_year, downside)


def calmar_ratio(returns, periods_per_year: float | None = 252) -> float:
    """Annual return divided by the absolute max drawdown.

    Parameters
    ----------
    returns : array-like of shape (n_periods,)
        Per-period simple returns; a NaN period counts as flat (return 0), in the
        annual return's year as in the drawdown (as empyrical).
    periods_per_year : float or None, default=252
        Periods in a year; None takes it from the dates of ``returns``, and a
        year they clearly contradict warns (as :func:`sharpe_ratio`).

    Returns
    -------
    calmar : float
        NaN for empty input or when there is no drawdown (as empyrical).
    """
    periods_per_year = _year_of(returns, periods_per_year)
    mdd = max_drawdown(returns)
    if np.isnan(mdd) or mdd == 0:
        return float("nan")
    return annual_return(returns, periods_per_year) / abs(mdd)


@fill_doc
def profit_factor(returns) -> float:
    """Gross profit over gross loss: ``sum(r[r > 0]) / -sum(r[r < 0])``.

    Parameters
    ----------
    {metrics.pnl}

    Returns
    -------
    profit_factor : float
        ``inf`` when there are gains but no losing period, 0 with losses and no
        gains, NaN with neither (empty or all-zero input).
    """
    r = _clean(returns)
    return _ratio(r[r > 0].sum(), -r[r < 0].sum())


@fill_doc
def win_loss_ratio(returns) -> float:
    """Average win over average loss: ``mean(r[r > 0]) / -mean(r[r < 0])``.

    Parameters
    ----------
    {metrics.pnl}
        Zero periods count as neither win nor loss.

    Returns
    -------
    win_loss_ratio : float
        ``inf`` with wins and no losing period, 0 with losses and no wins, NaN
        with neither (empty or all-zero input).
    """
    r = _clean(returns)
    wins, losses = r[r > 0], r[r < 0]
    avg_win = wins.mean() if len(wins) else 0.0
    avg_loss = -losses.mean() if len(losses) else 0.0
    return _ratio(avg_win, avg_loss)
