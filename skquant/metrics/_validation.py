"""Validation metrics of a fitted model: prediction quality and the trades it implies."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from skquant.metrics._predictions import hit_rate, information_coefficient
from skquant.metrics._returns import max_drawdown, profit_factor, sharpe_ratio, win_loss_ratio
from skquant.metrics._scorer import period_returns, positions_from_scores
from skquant.utils._time import periods_per_year_of

__all__ = ["validation_metrics"]


def validation_metrics(
    task: str,
    y_val,
    pred,
    proba=None,
    returns=None,
    dates=None,
    periods_per_year: float | None = None,
) -> dict[str, Any]:
    """Score predictions on a validation set: prediction metrics and trading metrics.

    The trading metrics trade the predictions by the walk-forward engine's position
    rule (:func:`~skquant.metrics.positions_from_scores`) and average the row returns
    of each date (:func:`~skquant.metrics.period_returns`), so they match what
    :class:`~skquant.walkforward.WalkForwardEngine` reports on the same rows.

    Parameters
    ----------
    task : {"classification", "regression"}
        The task the model was fitted for.
    y_val : array-like of shape (n_samples,)
        The validation target (0/1 labels for classification).
    pred : array-like of shape (n_samples,)
        The predictions (class labels for classification).
    proba : array-like of shape (n_samples,), default=None
        The probability of the positive class; with it a classifier's positions follow
        the probability (0 at exactly 0.5) and ROC AUC and log loss are reported.
    returns : array-like of shape (n_samples,), default=None
        The one-period return of each row; without it there are no trading metrics.
    dates : array-like or Index of shape (n_samples,), default=None
        The date of each row (a ``MultiIndex``'s first level is taken as the date).
    periods_per_year : float, default=None
        Annualisation of the Sharpe ratio; None infers it from ``dates``.

    Returns
    -------
    metrics : dict
        ``accuracy`` (and ``roc_auc``, ``log_loss`` with ``proba`` on a binary
        target) for classification; ``rmse``, ``mae``, ``r2``,
        ``information_coefficient`` and ``hit_rate`` for regression; with
        ``returns``, a ``trading`` dict of ``sharpe``, ``max_drawdown``, ``hit_rate``,
        ``profit_factor``, ``win_loss_ratio``, ``total_return``, ``n_periods`` and
        ``periods_per_year``.
    """

    y = np.asarray(y_val, dtype=float)
    out: dict[str, Any] = {}
    if task == "classification":
        out["accuracy"] = float(skm.accuracy_score(y, pred))
        if proba is not None and len(np.unique(y)) == 2:
            out["roc_auc"] = float(skm.roc_auc_score(y, proba))
            out["log_loss"] = float(
                skm.log_loss(y, np.clip(proba, 1e-12, 1 - 1e-12), labels=[0, 1])
            )
        # the engine's rule: +1 above P = 0.5, -1 below, 0 at exactly 0.5 (0/1 labels
        # without probabilities give +1/-1)
        position = positions_from_scores(pred if proba is None else proba, classifier=True)
    else:
        out["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
        out["mae"] = float(skm.mean_absolute_error(y, pred))
        out["r2"] = float(skm.r2_score(y, pred))
        out["information_coefficient"] = float(information_coefficient(y, pred))
        out["hit_rate"] = float(hit_rate(y, pred))
        position = positions_from_scores(pred, classifier=False)
    if returns is not None:
        if isinstance(dates, pd.MultiIndex):
            dates = dates.get_level_values(0)
        # one return per date: the mean over the rows of each date
        period = period_returns(position * np.asarray(returns, dtype=float), dates)
        periods_per_year = periods_per_year_of(periods_per_year, dates)
        out["trading"] = {
            "sharpe": float(sharpe_ratio(period, periods_per_year=periods_per_year)),
            "max_drawdown": float(max_drawdown(period)),
            "hit_rate": float(hit_rate(np.asarray(returns, dtype=float), position)),
            "profit_factor": float(profit_factor(period)),
            "win_loss_ratio": float(win_loss_ratio(period)),
            "total_return": float(np.prod(1.0 + period) - 1.0),
            "n_periods": int(len(period)),
            "periods_per_year": float(periods_per_year),
        }
    return out
