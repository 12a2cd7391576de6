"""Validation metrics of a fitted model: prediction quality and the trades it implies."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from skquant.metrics._predictions import hit_rate, information_coefficient
from skquant.metrics._returns import max_drawdown, profit_factor, sharpe_ratio, win_loss_ratio
from skquant.metrics._scorer import SORTED_PERIODS, positions_from_scores
from skquant.metrics._significance import probabilistic_sharpe_ratio
from skquant.utils._portfolio import one_sided, one_value
from skquant.utils._time import (
    NoDatesWarning,
    check_text_dates,
    date_level,
    periods_per_year_of,
    symbol_values,
)
from skquant.utils._validation import one_dimensional
from skquant.utils._warnings import caller_stacklevel

__all__ = ["validation_metrics"]


_TASKS = ("classification", "regression")


def validation_metrics(
    task: str,
    y_val,
    pred,
    proba=None,
    returns=None,
    dates=None,
    periods_per_year: float | None = None,
    cost_bps: float = 0.0,
) -> dict[str, Any]:
    """Score predictions on a validation set: prediction metrics and trading metrics.

    The trading metrics trade the predictions by the walk-forward engine's position
    rule (:func:`~skquant.metrics.positions_from_scores`) and average the row returns
    of each date (:func:`~skquant.metrics.period_returns`), so they match what
    :class:`~skquant.walkforward.WalkForwardEngine` reports on the same rows.

    Parameters
    ----------
    task : {"classification", "regression"}
        The task the model was fitted for; any other value raises ``ValueError``.
    y_val : array-like of shape (n_samples,)
        The validation target (0/1 labels for classification). Rows whose label is
        NaN (a forward label not known yet at the end of the data) are left out of
        the prediction metrics, as a row without a return is left out of the
        trading metrics; the trading metrics do not use ``y_val``.
    pred : array-like of shape (n_samples,)
        The predictions (class labels for classification), finite numbers: a NaN
        or infinite one raises ``ValueError`` (drop the row, as the command line
        does), as does any length other than ``y_val``'s.
    proba : array-like of shape (n_samples,), default=None
        The probability of the positive class, in [0, 1] (one column,
        ``predict_proba(X)[:, 1]``, not both); with it a classifier's positions follow
        the probability (0 at exactly 0.5) and ROC AUC and log loss are reported.
    returns : array-like of shape (n_samples,), default=None
        The one-period return of each row (NaN: a row without one), as many as
        ``y_val``; without it there are no trading metrics.
    dates : array-like or Index of shape (n_samples,), default=None
        The date of each row, as datetimes (of a ``MultiIndex``, its datetime level,
        else its first); ``datetime.date`` objects are read as datetimes. Text
        (a CSV read without ``parse_dates``) is booked in its alphabetical order, as
        :func:`period_returns` books it: ISO text ("2020-12-31") passes, text whose
        alphabetical order is not its date order ("01/04/2021" before "12/31/2020")
        raises ``ValueError``, as do text that does not read as dates and Periods;
        convert them with ``pd.to_datetime``. Numbers (period numbers) need
        ``periods_per_year``.
    periods_per_year : float, default=None
        Annualisation of the Sharpe ratio; None infers it from ``dates`` (252
        without them, with a ``NoDatesWarning``, as the trading scorers). A value
        more than 1.5 times above or below the year of ``dates`` (10 distinct dates
        or more; fewer tell no year) warns:
        252 for weekly dates inflates the Sharpe ratio sqrt(252 / 52) = 2.2x.
    cost_bps : float, default=0.0
        Cost per unit of turnover in basis points, as the walk-forward engine's: each
        date's weights are the positions over the number of rows of the date (its
        ``"sign"`` portfolio), turnover is the sum over symbols of |weight - the
        symbol's last weight in the book| (the first date trades from 0; a symbol
        listed without a return on a date between dates with one, a halt, is carried
        at its last weight and the date's other weights shrink to keep the book's gross
        exposure; a symbol without a row on a date is sold there) and the trading
        metrics are on net = gross - turnover * cost_bps / 10,000. A panel's rows
        need ``dates`` as a (date, symbol) ``MultiIndex`` to tell the symbols apart.

    Returns
    -------
    metrics : dict
        ``constant_predictions`` (True when every prediction, or probability, is
        one value: the model learned nothing, and a Sharpe ratio of its positions is
        the market's, long or short); ``accuracy`` (and ``roc_auc``, ``log_loss`` with ``proba`` on a binary
        target) for classification; ``rmse``, ``mae``, ``r2``,
        ``information_coefficient`` (with ``dates`` of a panel, the mean over
        dates of the rank IC across each date's rows, as the engine's ``ic``) and
        ``hit_rate`` for regression, on the rows with a label (NaN when no row
        has one); with
        ``returns``, a ``trading`` dict of ``sharpe``, ``max_drawdown``, ``hit_rate``,
        ``profit_factor``, ``win_loss_ratio``, ``total_return``, ``n_periods``,
        ``periods_per_year``, ``turnover`` (mean per period), ``cost_bps``,
        ``gross_sharpe`` (the Sharpe ratio before costs; the other return metrics
        are net of them) and ``psr``, the probabilistic Sharpe ratio against 0 (the
        probability that the true Sharpe ratio is positive, given the periods;
        NaN below two), and ``one_sided`` (True when every position is long, or every
        one short: the P&L is then the market's, long or short, and says nothing of
        the model's skill).
    """

    if task not in _TASKS:  # "classifier" was scored as a regression, 0/1 as long/flat
        raise ValueError(f"task must be one of {', '.join(map(repr, _TASKS))}, got {task!r}.")
    y = _numbers(y_val, "y_val")
    pred_all = _numbers(pred, "pred", len(y), finite=True)
    if proba is not None:
        proba = _numbers(
            proba,
            "proba",
            len(y),
            finite=True,
            hint=": the probability of the positive class, predict_proba(X)[:, 1]",
        )
        if ((proba < 0) | (proba > 1)).any():
            raise ValueError(
                f"proba holds values outside [0, 1] ({proba.min():g} to {proba.max():g}): "
                "pass the probability of the positive class, predict_proba(X)[:, 1], not "
                "a decision score."
            )
    if returns is not None:
        returns = _numbers(returns, "returns", len(y))
    labelled = ~np.isnan(y)  # a NaN label: left out of the prediction metrics
    dates = _date_objects_as_datetimes(dates)
    if isinstance(dates, pd.MultiIndex):  # (date, symbol) in either order: the dates
        row_dates = dates.get_level_values(date_level(dates) or 0)
    else:
        row_dates = None if dates is None else pd.Index(np.asarray(dates).reshape(-1))
    if row_dates is not None and len(row_dates) != len(labelled):
        raise ValueError(f"dates has {len(row_dates)} values but y_val has {len(labelled)}.")
    if row_dates is not None:
        _check_dates(row_dates, periods_per_year)
    y, y_pred = y[labelled], pred_all[labelled]
    nan = float("nan")
    out: dict[str, Any] = {"constant_predictions": one_value(pred_all if proba is None else proba)}
    if task == "classification":
        out["accuracy"] = float(skm.accuracy_score(y, y_pred)) if len(y) else nan
        if proba is not None and len(np.unique(y)) == 2:
            p = proba[labelled]
            out["roc_auc"] = float(skm.roc_auc_score(y, p))
            out["log_loss"] = float(skm.log_loss(y, np.clip(p, 1e-12, 1 - 1e-12), labels=[0, 1]))
        # the engine's rule: +1 above P = 0.5, -1 below, 0 at exactly 0.5 (0/1 labels
        # without probabilities give +1/-1)
        position = positions_from_scores(pred_all if proba is None else proba, classifier=True)
    else:
        if len(y):
            out["rmse"] = float(np.sqrt(skm.mean_squared_error(y, y_pred)))
            out["mae"] = float(skm.mean_absolute_error(y, y_pred))
            out["r2"] = float(skm.r2_score(y, y_pred))
        else:
            out["rmse"] = out["mae"] = out["r2"] = nan
        # across the rows of each date on a panel, as the engine's IC (pooled, it
        # ranked one date's rows against another's)
        out["information_coefficient"] = float(
            information_coefficient(
                y, y_pred, None if row_dates is None else row_dates[labelled].to_numpy()
            )
        )
        out["hit_rate"] = float(hit_rate(y, y_pred))
        position = positions_from_scores(pred_all, classifier=False)
    if returns is not None:
        from skquant.utils._portfolio import check_portfolio

        cost_bps = check_portfolio("sign", 0.2, cost_bps)[2]  # the engine's check
        symbols = None
        if isinstance(dates, pd.MultiIndex):  # (date, symbol) in either order
            # without a datetime level, level 0 is taken as the dates
            symbols = symbol_values(dates, default_level=0)
            dates = dates.get_level_values(date_level(dates) or 0)
        gross, turn = _sign_portfolio(position, returns, dates, symbols)
        if turn is None and cost_bps:
            raise ValueError(
                "cost_bps on rows that share a date needs dates as a (date, symbol) "
                "MultiIndex with one row per date and symbol, to tell the symbols' "
                "positions apart."
            )
        period = gross if turn is None else gross - turn * float(cost_bps) / 10_000.0
        if dates is None and periods_per_year is None:  # as the trading scorers warn
            warnings.warn(
                "validation_metrics: no dates were given, so each row is booked as one "
                "period of a 252-period year: right for one daily series in time order, "
                "wrong on a panel (the rows of one date become separate periods) or for "
                "other data (weekly rows annualised by 252 inflate a Sharpe ratio 2.2x). "
                "Pass dates (each row's date, or the (date, symbol) MultiIndex), or "
                "periods_per_year=... for one series.",
                NoDatesWarning,
                stacklevel=caller_stacklevel(),
            )
        periods_per_year = periods_per_year_of(periods_per_year, dates)
        out["trading"] = {
            "sharpe": float(sharpe_ratio(period, periods_per_year=periods_per_year)),
            "max_drawdown": float(max_drawdown(period)),
            "hit_rate": float(hit_rate(returns, position)),
            "profit_factor": float(profit_factor(period)),
            "win_loss_ratio": float(win_loss_ratio(period)),
            # a period below -1 wipes equity out, as in max_drawdown
            "total_return": float(np.prod(np.maximum(1.0 + period, 0.0)) - 1.0),
            "n_periods": int(len(period)),
            "periods_per_year": float(periods_per_year),
            "turnover": float(turn.mean()) if turn is not None and len(turn) else float("nan"),
            "cost_bps": float(cost_bps),
            "gross_sharpe": float(sharpe_ratio(gross, periods_per_year=periods_per_year)),
            # how far a Sharpe ratio from so few periods can be trusted
            "psr": _psr(period),
            # long (or short) on every row: the P&L is the market's, whatever the model
            "one_sided": one_sided(position),
        }
    return out


def _numbers(
    values, name: str, n: int | None = None, *, finite: bool = False, hint: str = ""
) -> np.ndarray:
    """``values`` as one float per row, checked: 1-D (one column is flattened), of
    numbers, ``n`` of them (y_val's) when given, and finite with ``finite``. Each
    error names ``name``: a short returns raised numpy's IndexError, a two-column
    proba a boolean-index IndexError, a NaN prediction scikit-learn's "Input contains
    NaN."."""
    try:
        v = one_dimensional(values, name, hint)
    except (TypeError, ValueError) as exc:
        if "must be 1-D" in str(exc):
            raise
        raise ValueError(f"{name} must hold numbers: {exc}") from None
    if n is not None and len(v) != n:
        raise ValueError(f"y_val has {n} values but {name} has {len(v)}.")
    bad = int((~np.isfinite(v)).sum()) if finite else 0
    if bad:
        raise ValueError(
            f"{name} holds {bad} NaN or infinite values (of {len(v)}), where each row needs "
            "a model's output to take a position: drop those rows (from y_val, returns and "
            "dates as well) or fix the model."
        )
    return v


def _date_objects_as_datetimes(dates):
    """``dates`` with ``datetime.date`` objects (in an array, or a ``MultiIndex``
    level) as datetimes: unambiguous, they would otherwise be refused as objects."""
    if dates is None:
        return None
    if isinstance(dates, pd.MultiIndex):
        for i, level in enumerate(dates.levels):
            if pd.api.types.infer_dtype(level, skipna=True) == "date":
                dates = dates.set_levels(pd.to_datetime(level), level=i)
        return dates
    values = np.asarray(dates).reshape(-1)
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "date":
        return pd.DatetimeIndex(pd.to_datetime(values))
    return dates


def _check_dates(row_dates: pd.Index, periods_per_year) -> None:
    """Refuse ``dates`` that are not datetimes where the numbers would be wrong.

    The periods are booked in the values' own sort order, alphabetical for text,
    while the year is read from them as dates: text whose alphabetical order is its
    date order (ISO "2020-12-31") passes, as in :func:`period_returns`; other text
    ("01/04/2021" before "12/31/2020": P&L, turnover and drawdown out of order), text
    that does not read as dates and Periods are refused. Numbers (period numbers)
    sort right but tell no year: read as nanoseconds they gave 15,120 periods a year,
    so they need ``periods_per_year``.
    """
    if pd.api.types.is_datetime64_any_dtype(row_dates):
        return
    if pd.api.types.infer_dtype(row_dates, skipna=True) == "string":
        if check_text_dates(row_dates, "dates", SORTED_PERIODS) is not None:
            return  # dates as text, in date order: booked and read as dates
    numeric = pd.api.types.is_numeric_dtype(row_dates) and not pd.api.types.is_bool_dtype(row_dates)
    if numeric and periods_per_year is not None:
        return  # period numbers, in their order, with the year given
    first = row_dates[0] if len(row_dates) else None
    if numeric:
        raise ValueError(
            f"dates holds numbers ({first!r}), not datetimes, and periods_per_year=None "
            "takes the year from the dates: convert them with pd.to_datetime, or pass "
            "periods_per_year (252 daily, 52 weekly, 12 monthly) for period numbers."
        )
    kind = pd.api.types.infer_dtype(row_dates, skipna=True)
    what = {"string": "text", "bytes": "text", "period": "Periods"}.get(
        kind, f"{row_dates.dtype} values"
    )
    fix = "dates.to_timestamp()" if kind == "period" else "pd.to_datetime(dates)"
    raise ValueError(
        f"dates holds {what} ({first!r}), not datetimes: they would be booked in their "
        "own sort order (text alphabetically: '01/04/2021' before '12/31/2020'), so P&L, "
        f"turnover and drawdown would run out of date order. Convert them with {fix} "
        "(or read_csv(..., parse_dates=[...])); for a (date, symbol) MultiIndex, its "
        "date level."
    )


def _psr(period: np.ndarray) -> float:
    """The probabilistic Sharpe ratio against 0 of the finite periods (NaN below 2)."""
    finite = np.asarray(period, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(probabilistic_sharpe_ratio(finite)) if len(finite) >= 2 else float("nan")


def _sign_portfolio(position, returns, dates, symbols):
    """``(gross, turnover)`` per period of the walk-forward engine's ``"sign"``
    portfolio, in date order, by the engine's own functions.

    A date's weights are the positions over its rows with a known return (a row
    without one weighs 0); its gross return is the sum of weight * return, its
    turnover the sum over symbols of |weight - the previous period's weight| (the
    first trades from 0). A symbol listed on a date without a return between dates
    with one (a halt) is carried at its last weight, not sold and bought back, and the
    date's other weights are scaled by 1 - the carried |weights| (the engine's rule);
    a symbol without a row on a date is sold there. A date without any known return is
    no period and is left out. ``turnover`` is None where it cannot be told: rows that share a date without
    symbols, or a (date, symbol) pair given twice.
    """
    from skquant.utils._portfolio import (
        carry_halts,
        group_sum,
        group_turnover,
        portfolio_weights,
    )

    position = np.asarray(position, dtype=float)
    if dates is None:  # the rows are the periods, of one series
        group, n_groups = np.arange(len(position)), len(position)
    else:
        # the scorer's rule: text is sorted as it is
        check_text_dates(np.asarray(dates), "dates", SORTED_PERIODS)
        group, uniques = pd.factorize(np.asarray(dates), sort=True)
        if (group < 0).any():
            raise ValueError("dates must not hold missing values (NaT).")
        n_groups = len(uniques)
    if symbols is None:
        symbol_codes = None if n_groups != len(position) else np.zeros(len(position), np.int64)
    else:
        symbol_codes = pd.factorize(np.asarray(symbols))[0]
        pairs = group.astype(np.int64) * (int(symbol_codes.max(initial=0)) + 1) + symbol_codes
        if len(np.unique(pairs)) != len(pairs):
            symbol_codes = None
    order = np.argsort(group, kind="stable")  # the engine's rows come sorted by period
    group, position, returns = group[order], position[order], returns[order]
    tradable = np.isfinite(returns) & np.isfinite(position)
    weight, raw, scale = portfolio_weights(
        position, position, tradable, group, n_groups, "sign", 0.2
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        gross = group_sum(np.where(tradable, raw * returns, 0.0), group, n_groups) / scale
    has = np.bincount(group, weights=tradable, minlength=n_groups) > 0
    turn = None
    if symbol_codes is not None:
        segment = np.zeros(n_groups, dtype=int)
        codes = symbol_codes[order]
        # a halt, as the engine's: a row without a return whose symbol has one before
        # and after is
        # carried, and the date's other weights shrink to leave the book's exposure whole
        known = np.isfinite(returns)
        n = int(codes.max(initial=-1)) + 1
        first, last = np.full(n, n_groups, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        np.minimum.at(first, codes[known], group[known])
        np.maximum.at(last, codes[known], group[known])
        halted = ~known & (first[codes] < group) & (group < last[codes])
        weight, factor = carry_halts(weight, tradable, halted, group, n_groups, codes, segment)
        gross = gross * factor
        turn = group_turnover(weight, tradable, group, n_groups, codes, segment)
        turn = turn[has]
    return gross[has], turn
