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
from skquant.metrics._significance import deflated_sharpe_ratio, probabilistic_sharpe_ratio

__all__ = [
    "annual_return",
    "calmar_ratio",
    "deflated_sharpe_ratio",
    "get_scorer",
    "hit_rate",
    "information_coefficient",
    "max_drawdown",
    "probabilistic_sharpe_ratio",
    "profit_factor",
    "sharpe_ratio",
    "sortino_ratio",
    "win_loss_ratio",
]
