"""Compounded equity and its drawdown from per-period returns, in log space.

Shared by the metrics (``max_drawdown``, ``annual_return``) and the walk-forward
equity columns and plots, so that they count equity one way.
"""

from __future__ import annotations

import warnings

import numpy as np

from skquant.utils._warnings import caller_stacklevel


def log_equity(r: np.ndarray) -> np.ndarray:
    """Log of the compounded equity from 1 (-inf once wiped out by a return of -1 or
    below): a sum, where the product overflowed to inf (a long intraday run, a
    growth of 10x a period) and made the drawdown NaN."""
    _warn_below_minus_one(r)
    with np.errstate(divide="ignore"):  # log1p(-1) = -inf: wiped out
        return np.cumsum(np.log1p(np.maximum(r, -1.0)))


def equity_curve(returns) -> np.ndarray:
    """Compounded equity from 1 after each period, as ``max_drawdown`` counts it: a NaN
    period is flat (the equity carried), a return of -1 or below wipes it out (0 from
    there on), beyond float64 it is inf. For the equity columns and plots."""
    r = np.nan_to_num(np.asarray(returns, dtype=np.float64), nan=0.0, posinf=np.inf)
    with np.errstate(over="ignore"):
        return np.exp(log_equity(r))


def drawdown_curve(returns) -> np.ndarray:
    """The fall of :func:`equity_curve` from its running peak (the start, 1, included)
    after each period, in ``[-1, 0]``; computed from the log equity, so an equity past
    float64 still has its drawdown (inf / inf was NaN)."""
    r = np.nan_to_num(np.asarray(returns, dtype=np.float64), nan=0.0, posinf=np.inf)
    logs = log_equity(r)
    return np.expm1(logs - np.maximum(np.maximum.accumulate(logs), 0.0))


def _warn_below_minus_one(r: np.ndarray) -> None:
    below = int((r < -1).sum())
    if below:
        warnings.warn(
            f"returns hold {below} values below -1 (a loss of more than everything in "
            f"one period, the lowest {r.min():g}): returns are fractions (0.01 for 1%), "
            "not percent. Equity counts as wiped out from the first.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
