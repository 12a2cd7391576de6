"""Trading metrics of strategy returns and predictions, and scorers built on them."""

from skquant.metrics._predictions import hit_rate, information_coefficient
from skquant.metrics._returns import (
    annual_return,
    calmar_ratio,
    max_drawdown,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
    win_loss_ratio,
)
from skquant.metrics._scorer import (
    canonical_metric,
    compute_metric,
    get_scorer,
    metric_kind,
    period_returns,
    positions_from_scores,
    predict_positions,
)
from skquant.metrics._significance import deflated_sharpe_ratio, probabilistic_sharpe_ratio
from skquant.metrics._validation import validation_metrics

__all__ = [
    "annual_return",
    "calmar_ratio",
    "canonical_metric",
    "compute_metric",
    "deflated_sharpe_ratio",
    "get_scorer",
    "hit_rate",
    "information_coefficient",
    "max_drawdown",
    "metric_kind",
    "period_returns",
    "positions_from_scores",
    "predict_positions",
    "probabilistic_sharpe_ratio",
    "profit_factor",
    "sharpe_ratio",
    "sortino_ratio",
    "validation_metrics",
    "win_loss_ratio",
]
