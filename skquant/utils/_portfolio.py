"""The walk-forward engine's portfolio arithmetic on flat arrays of rows grouped into
cross-sections (one date's rows, or one date of one fold's), sorted by cross-section.

Shared by the engine (``skquant.walkforward``) and the validation metrics
(``skquant.metrics.validation_metrics``), so that both book weights, turnover and
costs the same way; pandas ``groupby`` and ``np.bincount``, no Python loop per date.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import pandas as pd

from skquant.utils._cross_section import group_ranks

PORTFOLIOS = ("sign", "long_only", "rank", "quantile")


def one_value(predictions) -> bool:
    """Whether every finite prediction (row of predictions) is one value, of at least
    two: the model learned nothing, and positions taken from it hold the market."""
    values = np.asarray(predictions, dtype=np.float64).reshape(len(predictions), -1)
    values = values[np.isfinite(values).all(axis=1)]
    return bool(len(values) > 1 and (values == values[0]).all())


def one_sided(position, portfolio: str = "sign") -> bool:
    """Whether ``portfolio`` holds the market with these positions: long on every row
    (``"sign"``, ``"long_only"``), or short on every row (``"sign"``; ``"long_only"``
    then holds nothing)."""
    position = np.asarray(position)
    if not len(position):
        return False
    return bool(np.all(position > 0) or (portfolio == "sign" and np.all(position < 0)))


def check_portfolio(portfolio, quantile, cost_bps) -> tuple[str, float, float]:
    """``(portfolio, quantile, cost_bps)`` checked, or a ValueError naming the parameter."""
    if not isinstance(portfolio, str) or portfolio not in PORTFOLIOS:
        raise ValueError(f"portfolio must be one of {', '.join(PORTFOLIOS)}; got {portfolio!r}.")
    for name, value, ok, expected in (
        ("quantile", quantile, lambda v: 0 < v <= 0.5, "a number in (0, 0.5]"),
        ("cost_bps", cost_bps, lambda v: 0 <= v < math.inf, "a finite number >= 0"),
    ):
        if isinstance(value, bool) or not isinstance(value, Real) or not ok(value):
            raise ValueError(f"{name} must be {expected}, got {value!r}.")
    return portfolio, float(quantile), float(cost_bps)


def group_sum(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of ``values`` per group (pandas' compensated sum, as its ``mean``)."""
    sums = pd.Series(values, copy=False).groupby(group, sort=True).sum()
    out = np.zeros(n_groups)
    out[sums.index.to_numpy()] = sums.to_numpy()
    return out


def portfolio_weights(
    score, position, tradable, group, n_groups: int, portfolio: str, quantile: float, ranks=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's weight in its cross-section (``group``) by the portfolio rule.

    Returns ``(weight, raw, scale)``: ``weight = raw / scale[group]`` (0 where the
    group's scale is 0), so that a group's gross return can be summed as
    ``sum(raw * r) / scale`` (for ``"sign"`` exactly the mean of ``position * r``).
    ``ranks``, if given, are the tradable scores' average ranks in their group.

    ``"sign"``: position / number of rows; ``"long_only"``: 1 for a positive call
    (position +1) else 0, over the number of rows; ``"rank"``: rank - mean rank,
    scaled so the absolute weights sum to 1; ``"quantile"``: the top ``quantile``
    share of rows (``floor(quantile * n)`` places by score) long and the bottom share
    short, each leg 0.5; rows with equal scores that straddle a leg's edge share its
    last places equally, so that a tie is never broken by row (symbol) order. Rows
    that are not ``tradable`` weigh 0 and do not count; a group with too few rows for
    its rule (:func:`min_cross_section`) or with every score equal holds nothing.
    """
    n = np.bincount(group, weights=tradable, minlength=n_groups)
    if portfolio == "sign":
        raw = position
    elif portfolio == "long_only":
        raw = (position > 0).astype(np.float64)
    else:
        masked = np.where(tradable, score, np.nan)
        if portfolio == "rank":
            ranks = group_ranks(masked, group) if ranks is None else ranks
            raw = ranks - (n[group] + 1.0) / 2.0
        else:
            raw = _quantile_legs(masked, group, n, quantile)
    raw = np.where(tradable, raw, 0.0)
    if portfolio in ("sign", "long_only"):
        scale = n
    else:
        scale = np.bincount(group, weights=np.abs(raw), minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale[group] > 0, raw / scale[group], 0.0), raw, scale


def min_cross_section(portfolio: str, quantile: float) -> int:
    """The fewest rows a cross-section needs for ``portfolio`` to hold anything."""
    if portfolio == "rank":
        return 2
    if portfolio == "quantile":  # the least n with floor(quantile * n) >= 1
        return int(math.ceil((1.0 - 1e-9) / quantile))
    return 1


def _quantile_legs(masked, group, n, quantile: float) -> np.ndarray:
    """+1 for the top ``floor(quantile * n)`` places of each group, -1 for the bottom.

    A block of ``m`` equal scores at places ``lo..hi`` (its average rank is
    ``(lo + hi) / 2``) that a leg's edge cuts gets, on each row, the share of its
    places inside the leg: with every score equal, both legs are the whole group at
    ``k / n`` and cancel. Before, ties were broken by row order, so a constant model
    was always long the last symbols and short the first (audit: Sharpe 5.87 on
    symbol drifts with an information-free model).
    """
    avg, size = group_ranks(masked, group, return_ties=True)  # size: the tied block's
    lo, hi = avg - (size - 1) / 2, avg + (size - 1) / 2
    rows, k = n[group], np.floor(quantile * n + 1e-9)[group]
    top = np.clip(hi - np.maximum(lo, rows - k + 1) + 1, 0, None)
    bottom = np.clip(np.minimum(hi, k) - lo + 1, 0, None)
    return (top - bottom) / size


def turnover(weight, period, symbol, continues, n_periods: int) -> np.ndarray:
    """Sum over symbols of |weight - the symbol's last weight in the book|, per period.

    ``period`` are consecutive int codes, ascending over the rows; a symbol without a
    row in a period weighs 0 there (it left the universe: sold, and bought back if it
    returns), and a period whose ``continues`` is False (the first, or a fold's first)
    starts a new book, which trades from 0. A halted symbol (a row without a return)
    keeps its row with the carried weight (:func:`carry_halts`), so it is not traded.
    """
    order = np.argsort(symbol, kind="stable")  # rows come sorted by period
    w, p, s = weight[order], period[order], symbol[order]
    follows = (s[1:] == s[:-1]) & (p[1:] == p[:-1] + 1) & continues[p[1:]]
    previous = np.zeros_like(w)
    previous[1:][follows] = w[:-1][follows]
    total = np.bincount(p, weights=np.abs(w - previous), minlength=n_periods)
    # a symbol held in one period and absent from the next is sold in the next
    exits = ~np.append(follows, False) & (p + 1 < n_periods)
    exits[exits] &= continues[p[exits] + 1]
    total += np.bincount(p[exits] + 1, weights=np.abs(w[exits]), minlength=n_periods)
    return total


def _periods(tradable, group, n_groups, segment):
    """``(has, codes, continues)``: the groups that are periods (a tradable row), their
    consecutive codes, and whether each period continues the previous one's book."""
    has = np.bincount(group, weights=tradable, minlength=n_groups) > 0
    codes = np.full(n_groups, -1)
    codes[has] = np.arange(int(has.sum()))
    kept = segment[has]
    continues = np.r_[False, kept[1:] == kept[:-1]]
    return has, codes, continues


# a weight that moves by less than this between two passes of carry_halts has settled
_CARRY_ATOL = 1e-12


def carry_halts(weight, tradable, halted, group, n_groups, symbols, segment):
    """``(weight, factor)``: the book's weights with each halted row carried.

    A ``halted`` row (the symbol is listed on the date but its return is unknown: a
    trading halt) keeps the symbol's last weight in its book (0 where the book held
    none; a symbol absent from a date breaks the chain: it was sold there), and the
    other rows of its date are scaled by ``factor[group]`` = 1 - the sum of the
    date's |carried weights| (0 once that reaches 1), so the gross exposure stays a
    full book's. The carried weights depend on earlier scaled ones, so the rule is
    applied until no weight moves by more than 1e-12: each pass fixes one more link
    of a chain of carries and shrinks the error of the links beyond it by their
    scale factors, so a halt on every date converges in a few dozen passes.
    ``segment`` marks the books as for :func:`group_turnover`.
    """
    has, codes, continues = _periods(tradable, group, n_groups, segment)
    keep = has[group]
    rows = np.flatnonzero(keep)
    order = rows[np.argsort(symbols[rows], kind="stable")]  # by symbol, then period
    s, p = symbols[order], codes[group[order]]
    follows = np.r_[False, (s[1:] == s[:-1]) & (p[1:] == p[:-1] + 1) & continues[p[1:]]]
    run = np.cumsum(~follows)
    h = np.asarray(halted, dtype=bool)[order] & np.asarray(keep)[order]
    factor = np.ones(n_groups)
    final = np.asarray(weight, dtype=float).copy()
    if not h.any():
        return final, factor
    for _ in range(n_groups + 1):
        last = pd.Series(np.where(h, np.nan, final[order]))
        carried = last.groupby(run).ffill().fillna(0.0).to_numpy()[h]
        held = np.bincount(group[order][h], weights=np.abs(carried), minlength=n_groups)
        factor = np.clip(1.0 - held, 0.0, None)
        new = np.asarray(weight, dtype=float) * factor[group]
        new[order[h]] = carried
        # to rounding: a chain of carries can flip the last bit back and forth
        # (c = 0.5 * (1 - c)), and exact equality then waited for every date
        if np.allclose(new, final, rtol=0.0, atol=_CARRY_ATOL):
            final = new
            break
        final = new
    return final, factor


def group_turnover(weight, tradable, group, n_groups, symbols, segment) -> np.ndarray:
    """Turnover per group; NaN for a group without a tradable row, which is no period.

    ``segment[g]`` is the backtest group ``g`` belongs to (a fold, or one for the
    served portfolio): the first period of a segment trades from 0. ``weight`` holds
    halted rows' carried weights (:func:`carry_halts`).
    """
    has, codes, continues = _periods(tradable, group, n_groups, segment)
    keep = has[group]
    turn = np.full(n_groups, np.nan)
    turn[has] = turnover(weight[keep], codes[group[keep]], symbols[keep], continues, len(continues))
    return turn
