"""Walk-forward validation: refit per fold, trade out-of-sample predictions, report; and
the hyper-parameter search (Optuna) whose every trial is a walk-forward evaluation."""

from skquant.walkforward._benchmark import Leaderboard, benchmark, default_models
from skquant.walkforward._engine import WalkForwardEngine
from skquant.walkforward._result import WalkForwardResult
from skquant.walkforward._tune import save_tuning, trials_table, tune, tuning_summary

__all__ = [
    "Leaderboard",
    "WalkForwardEngine",
    "WalkForwardResult",
    "benchmark",
    "default_models",
    "save_tuning",
    "trials_table",
    "tune",
    "tuning_summary",
]
