"""Walk-forward validation: refit per fold, trade out-of-sample predictions, report."""

from skquant.walkforward._benchmark import Leaderboard, benchmark, default_models
from skquant.walkforward._engine import WalkForwardEngine
from skquant.walkforward._result import WalkForwardResult

__all__ = ["Leaderboard", "WalkForwardEngine", "WalkForwardResult", "benchmark", "default_models"]
