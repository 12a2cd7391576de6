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
from skquant.metrics._scorer import get_scorer

__all__ = [
    "annual_return",
    "calmar_ratio",
    "get_scorer",
    "hit_rate",
    "information_coefficient",
    "max_drawdown",
    "profit_factor",
    "sharpe_ratio",
    "sortino_ratio",
    "win_loss_ratio",
]
