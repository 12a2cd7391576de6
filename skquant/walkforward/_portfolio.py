"""Portfolio rules, turnover, costs and IC of walk-forward predictions, all vectorised.

Every computation here works on flat arrays of rows grouped into cross-sections (one
date of one fold's predictions), sorted by cross-section, with pandas ``groupby`` and
``np.bincount``: no Python loop runs per date.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skquant.metrics import (
    canonical_metric,
    compute_metric,
    metric_kind,
    probabilistic_sharpe_ratio,
    sharpe_ratio,
)
from skquant.utils._cross_section import cross_section_ic, group_ranks
from skquant.utils._portfolio import (
    carry_halts,
    check_portfolio,
    group_sum,
    group_turnover,
    min_cross_section,
    portfolio_weights,
)
from skquant.utils._warnings import caller_stacklevel

SUMMARY_EXTRAS = ("turnover", "ic", "icir", "psr", "benchmark_sharpe")


def _warn_unknown_returns(score, ret, tradable, group, n_groups: int, gap) -> None:
    """Warn when a predicted row without a return is left out of a date that trades.

    Leaving it out spreads the date's weight over the other symbols, a choice made with
    knowledge of the missing return (a delisting): survivorship. A date where no return
    is known is no period at all, and a halted row (``gap``: its symbol has a return
    before and after, :func:`_halted`) is carried, not left out, and not warned about
    here.
    """
    unknown = np.isfinite(score) & ~np.isfinite(ret) & ~gap
    if not unknown.any():
        return
    trades = np.bincount(group, weights=tradable, minlength=n_groups) > 0
    left_out = int((unknown & trades[group]).sum())
    if left_out:
        warnings.warn(
            f"{left_out} out-of-sample rows have a prediction but no return_col value on "
            "dates where other symbols have one; the portfolio leaves them out and "
            "spreads the weight over the rest, which uses knowledge of the missing "
            "return (survivorship). Fill those returns (e.g. with the delisting "
            "return) to book them.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _halted(bt: Backtest, listed) -> np.ndarray:
    """Per stacked row: the symbol is listed on the date (it has a row) but its return
    is unknown, between dates of the data where it has one: a trading halt, carried
    by every book (the served one and each fold's alike, so that a halt on a fold's
    last test date is no sale there). A symbol without a row on a date left the
    universe there; one without a later return was delisted (survivorship)."""
    known = np.isfinite(bt.returns)
    n = int(bt.symbols.max(initial=-1)) + 1
    first, last = np.full(n, np.iinfo(np.int64).max), np.full(n, -1, dtype=np.int64)
    np.minimum.at(first, bt.symbols[known], bt.date_codes[known])
    np.maximum.at(last, bt.symbols[known], bt.date_codes[known])
    symbols, codes = bt.symbols[bt.rows], bt.date_codes[bt.rows]
    return ~listed & (first[symbols] < codes) & (codes < last[symbols])


def _warn_halts(halted, listed, symbols, period, return_col: str | None) -> None:
    """Warn of the served symbol-dates listed without a return between dates with one
    (a halt): the position is carried, not traded; with the longest run of them in
    consecutive periods (``period``: each served row's date as a period number)."""
    if not halted.any():
        return
    order = np.lexsort((period, symbols))
    s, p = symbols[order][halted[order]], period[order][halted[order]]
    start = np.r_[True, (s[1:] != s[:-1]) | (p[1:] != p[:-1] + 1)]
    longest = int(np.bincount(np.cumsum(start)).max())
    column = "return_col" if return_col is None else f"return_col {return_col!r}"
    warnings.warn(
        f"{int(halted.sum())} out-of-sample symbol-dates (of {int(listed.sum())} with a "
        f"return) are listed without a {column} value between dates with one (a trading "
        f"halt; longest run {longest} period{'' if longest == 1 else 's'}): the position "
        "is carried unchanged, not sold and bought back (no turnover, no cost), earns 0 "
        "there, and the other symbols share the rest of the book. A symbol without a "
        "row on a date left the universe: it is sold. Fill those returns to book them.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _warn_missing_predictions(listed, tradable) -> None:
    """Warn when the model gave no finite prediction for rows with a return (``listed``
    but not ``tradable``): they hold no position and the date's weight goes to the
    other symbols (every number NaN when the model predicted nothing at all; it was
    silent, or an IndexError)."""
    missing = listed & ~tradable
    if missing.any():
        n, total = int(missing.sum()), int(listed.sum())
        what = "every" if n == total else f"{n} of {total}"
        warnings.warn(
            f"The model predicted NaN (or an infinity) for {what} out-of-sample rows with "
            "a return: they hold no position, and the weight of their dates goes to the "
            "other symbols.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _rule(portfolio: str, quantile: float) -> str:
    return f"portfolio={portfolio!r}" + (
        f" with quantile={quantile:g}" if portfolio == "quantile" else ""
    )


def check_enough_symbols(most: int, portfolio: str, quantile: float, where: str) -> None:
    """A ValueError when a date of ``most`` rows is too few for the rule to hold anything;
    ``where`` names the rows with its verb ("data has")."""
    need = min_cross_section(portfolio, quantile)
    if most < need:
        raise ValueError(
            f"{_rule(portfolio, quantile)} needs at least {need} symbols on a date to hold "
            f"anything; {where} at most {most}. Use portfolio='sign' or 'long_only'"
            + (", or a larger quantile." if portfolio == "quantile" else ".")
        )


def _check_cross_sections(rows_per_date, portfolio: str, quantile: float) -> None:
    """Refuse a rule that can hold nothing on any out-of-sample date; warn when it holds
    nothing on some, for too few symbols with a prediction and a return.

    ``rows_per_date`` is each served date's count of such rows. The flat dates would
    otherwise read as a strategy with no risk: Sharpe 0, drawdown 0, PSR 0.5 (audit: a
    3-symbol panel under ``"quantile"`` 0.2 never traded, silently).
    """
    need = min_cross_section(portfolio, quantile)
    counts = rows_per_date[rows_per_date > 0]
    if need <= 1 or not len(counts):
        return
    where = "the out-of-sample dates with a prediction and a return have"
    check_enough_symbols(int(counts.max()), portfolio, quantile, where)
    flat = int(np.sum(counts < need))
    if flat:
        warnings.warn(
            f"{_rule(portfolio, quantile)} holds nothing on {flat} of {len(counts)} "
            f"out-of-sample dates, which have fewer than {need} symbols with a prediction "
            "and a return; those dates are booked as flat (return 0).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _warn_undefined_ic(n_known, n_defined: int) -> None:
    """Warn when the summary's ``ic`` and ``icir`` rest on fewer test dates than hold a
    known prediction and target: the dates whose IC is undefined (fewer than 2 such
    rows, or predictions or targets constant across the date's rows) are left out of
    both, which read as the model's IC over the whole run (a model flat on most dates
    printed the IC of the few it ranked).

    ``n_known`` is each served date's count of rows with both values known. No date
    with an IC leaves ``ic`` NaN, which misleads no one, and is not warned about: one
    series (no date of 2 such rows) has no cross-sectional IC at all, and a model that
    predicted one constant everywhere is warned about by the engine.
    """
    dated = int(np.sum(n_known > 0))
    if n_defined == 0 or n_defined >= dated:
        return
    undefined = dated - n_defined
    warnings.warn(
        f"summary ic rests on {n_defined} of {dated} test dates (with a known prediction "
        f"and target); {undefined} date{'' if undefined == 1 else 's'} had an undefined IC "
        "(constant predictions or targets across the date's symbols, or one row) and "
        f"{'is' if undefined == 1 else 'are'} left out of ic and icir.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


@dataclass
class Backtest:
    """What a walk-forward run predicted, kept so that a result can be re-evaluated.

    Rows are "stacked": each fold's whole test window, fold after fold, each sorted by
    date then symbol; ``served`` marks the rows ``predictions`` keeps (the most recent
    model's). Per-row arrays of the data (``returns``, ``target``, ``dates``,
    ``symbols``, ``date_codes``) are indexed by ``rows``.
    """

    rows: np.ndarray
    fold: np.ndarray
    served: np.ndarray
    score: np.ndarray
    position: np.ndarray
    label: np.ndarray | None
    returns: np.ndarray
    target: np.ndarray
    dates: np.ndarray
    date_codes: np.ndarray
    symbols: np.ndarray
    index: pd.Index
    fold_info: list
    periods_per_year: float
    fit_seconds: np.ndarray | None = None
    return_col: str | None = None


def _frame(gross, benchmark, turn, cost_bps, index=None) -> pd.DataFrame:
    cost = turn * cost_bps / 10_000.0
    columns = {"gross": gross, "cost": cost, "net": gross - cost, "turnover": turn}
    return pd.DataFrame({**columns, "benchmark": benchmark}, index=index)


def _metric(name, net, outcome, score, position, dates, periods_per_year) -> float:
    """A metric of the net per-period returns, or of the rows' predictions."""
    if metric_kind(name) == "returns":
        return compute_metric(name, net, net, np.ones(len(net)), None, periods_per_year)
    return compute_metric(name, outcome, score, position, dates, periods_per_year)


def _carried_book(weight, tradable, halted, group, n_groups: int, symbols, group_fold):
    """A book's weights with its halted rows carried (:func:`carry_halts`), each
    group's scale of the rest, and each group's turnover. ``group_fold`` numbers the
    book each group belongs to: a new book trades from nothing at its first group."""
    carried, factor = carry_halts(weight, tradable, halted, group, n_groups, symbols, group_fold)
    return carried, factor, group_turnover(carried, tradable, group, n_groups, symbols, group_fold)


def evaluate(bt: Backtest, portfolio, quantile, cost_bps, metrics, *, check: bool = True):
    """The result of trading ``bt``'s predictions by a portfolio rule, net of costs.

    ``check=False`` skips the refusal and the warning of dates the rule cannot hold
    (:func:`_check_cross_sections`): for one fold evaluated alone, whose dates may
    all precede the symbols that make the whole run tradable.
    """
    from skquant.walkforward._result import WalkForwardResult

    portfolio, quantile, cost_bps = check_portfolio(portfolio, quantile, cost_bps)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("metrics is empty; name at least one metric.")
    metrics = [canonical_metric(m) for m in metrics]
    ret = bt.returns[bt.rows]
    listed = np.isfinite(ret)  # the benchmark's rows: every symbol with a known return
    tradable = listed & np.isfinite(bt.score)
    # one cross-section per (fold, date): stacked rows are sorted by fold then date
    change = (np.diff(bt.fold) != 0) | (np.diff(bt.date_codes[bt.rows]) != 0)
    group = np.concatenate([[0], np.cumsum(change)])
    n_groups = int(group[-1]) + 1 if len(group) else 0
    halted = _halted(bt, listed)
    _warn_unknown_returns(bt.score, ret, tradable, group, n_groups, halted)
    _warn_missing_predictions(listed, tradable)
    target = bt.target[bt.rows]
    known = np.isfinite(bt.score) & np.isfinite(target)
    # the IC and the rank rule share the scores' ranks when both use the same rows
    ranks = group_ranks(np.where(known, bt.score, np.nan), group)
    shared = ranks if np.array_equal(known, tradable) else None
    weight, raw, scale = portfolio_weights(
        bt.score, bt.position, tradable, group, n_groups, portfolio, quantile, shared
    )
    symbols = bt.symbols[bt.rows]
    n = np.bincount(group, weights=tradable, minlength=n_groups)
    # the benchmark holds every symbol with a known return, whatever the model predicted
    # (it averaged the symbols with a prediction, so it moved with the model's NaN)
    n_listed = np.bincount(group, weights=listed, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        # sum(raw * r) / scale: for "sign" the mean of position * r over the date's rows
        gross = group_sum(np.where(tradable, raw * ret, 0.0), group, n_groups) / scale
        benchmark = group_sum(np.where(listed, ret, 0.0), group, n_groups) / n_listed
    gross[scale == 0] = 0.0  # too few symbols for the rule: nothing held
    gross[n == 0] = np.nan  # no known return: no period
    first_rows = np.r_[0, np.flatnonzero(change) + 1] if n_groups else np.zeros(0, dtype=int)
    group_fold = bt.fold[first_rows]
    # the served portfolio: one group per date, turnover across model changes; each
    # fold's own backtest of its whole test window trades from 0 at its first date
    served = bt.served
    served_first = np.r_[True, np.diff(group[served]) != 0]
    served_groups = group[served][served_first]
    if check:  # one count per served date (group) of tradable rows
        _check_cross_sections(n[served_groups], portfolio, quantile)
    # a halted symbol is carried, not traded, and the rest of its date is scaled so
    # that the book's gross exposure stays a full one's: the fold books, then the served
    _, fold_factor, fold_turn = _carried_book(
        weight, tradable, halted, group, n_groups, symbols, group_fold
    )
    if served.all():  # then served_groups is every group, in order
        book = (weight, tradable, halted, group, n_groups, symbols)
    else:
        remap = np.full(n_groups, -1)
        remap[served_groups] = np.arange(len(served_groups))
        book = (
            weight[served],
            tradable[served],
            halted[served],
            remap[group[served]],
            len(served_groups),
            symbols[served],
        )
    # one model book across the served dates: turnover runs on over model changes
    served_weight, served_factor, served_turn = _carried_book(*book, np.zeros(book[4], dtype=int))
    del book
    if check:
        period = np.cumsum(served_first) - 1  # each served row's date, numbered
        _warn_halts(halted[served], listed[served], symbols[served], period, bt.return_col)
    served_gross = gross[served_groups] * served_factor
    gross = gross * fold_factor
    per_fold = _frame(gross, benchmark, fold_turn, cost_bps)
    rows = bt.rows[served]
    by_date = _frame(
        served_gross,
        benchmark[served_groups],
        served_turn,
        cost_bps,
        index=pd.DatetimeIndex(bt.dates[rows][served_first], name="date"),
    )
    ic = cross_section_ic(bt.score, target, group, n_groups, known, ranks)
    n_known = np.bincount(group, weights=known, minlength=n_groups)
    # free the per-row arrays no longer needed before the predictions frame is built
    del target, known, ranks, shared, raw, tradable, listed, symbols, group

    ppy = bt.periods_per_year
    fold_rows = []
    bounds = np.r_[0, np.flatnonzero(np.diff(bt.fold)) + 1, len(bt.fold)]
    group_bounds = np.r_[0, np.flatnonzero(np.diff(group_fold)) + 1, n_groups]
    for k, info in enumerate(bt.fold_info):
        a, b = bounds[k], bounds[k + 1]
        net = per_fold["net"].to_numpy()[group_bounds[k] : group_bounds[k + 1]]
        # the periods the fold's return metrics rest on: its dates with a booked return
        row = {**info, "n_periods": int(np.isfinite(net).sum())}
        for m in metrics:
            row[m] = _metric(
                m, net, ret[a:b], bt.score[a:b], bt.position[a:b], bt.dates[bt.rows[a:b]], ppy
            )
        fold_rows.append(row)

    net = by_date["net"].to_numpy()
    summary = {
        m: _metric(m, net, ret[served], bt.score[served], bt.position[served], bt.dates[rows], ppy)
        for m in metrics
    }
    daily_ic = pd.Series(ic[served_groups]).dropna()
    if check:
        _warn_undefined_ic(n_known[served_groups], len(daily_ic))
    finite_net = net[np.isfinite(net)]
    summary.update(
        turnover=float(by_date["turnover"].mean()),
        ic=float(daily_ic.mean()),
        # mean / standard deviation (ddof=1), a constant series +-inf or 0 as for Sharpe
        icir=sharpe_ratio(daily_ic, periods_per_year=1) if len(daily_ic) > 1 else float("nan"),
        psr=probabilistic_sharpe_ratio(finite_net) if len(finite_net) > 1 else float("nan"),
        benchmark_sharpe=sharpe_ratio(by_date["benchmark"], periods_per_year=ppy),
    )

    classifier = bt.label is not None
    columns = {"prediction": (bt.label if classifier else bt.score)[served]}
    if classifier:
        columns["proba"] = bt.score[served]
    columns.update(
        position=bt.position[served],
        weight=served_weight,
        strategy_return=served_weight * ret[served],
        fold=bt.fold[served],
    )
    predictions = pd.DataFrame(columns, index=bt.index[rows])
    return WalkForwardResult(
        folds=pd.DataFrame(fold_rows),
        summary=summary,
        predictions=predictions,
        dates=bt.dates[rows],
        metrics=tuple(metrics),
        periods_per_year=ppy,
        returns=by_date,
        portfolio=portfolio,
        quantile=quantile,
        cost_bps=cost_bps,
        fit_seconds=bt.fit_seconds,
        backtest=bt,
    )
