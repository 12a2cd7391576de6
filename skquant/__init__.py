"""skquant: scikit-learn estimators for quant models on labeled market data.

``import skquant`` is light: torch, skorch, lightgbm, xgboost and ngboost are
imported only when a trainer that needs them is fitted. Every public name is
reachable from here and resolved lazily on first access.
"""

from __future__ import annotations

import importlib

from skquant.registry import trainer_class_names

__version__ = "0.1.0"

# public name -> module that defines it (trainers are added from the registry)
_LAZY: dict[str, str] = {
    "load_model_config": "skquant.config",
    "list_models": "skquant.config",
    "list_variants": "skquant.config",
    "get_trainer": "skquant.registry",
    "all_estimators": "skquant.registry",
    "WalkForwardSplit": "skquant.model_selection",
    "PurgedKFold": "skquant.model_selection",
    "CombinatorialPurgedCV": "skquant.model_selection",
    "time_train_test_split": "skquant.model_selection",
    "sharpe_ratio": "skquant.metrics",
    "max_drawdown": "skquant.metrics",
    "hit_rate": "skquant.metrics",
    "profit_factor": "skquant.metrics",
    "win_loss_ratio": "skquant.metrics",
    "annual_return": "skquant.metrics",
    "sortino_ratio": "skquant.metrics",
    "calmar_ratio": "skquant.metrics",
    "information_coefficient": "skquant.metrics",
    "get_scorer": "skquant.metrics",
    "probabilistic_sharpe_ratio": "skquant.metrics",
    "deflated_sharpe_ratio": "skquant.metrics",
    "make_labels": "skquant.labels",
    "label_horizon": "skquant.leakage",
    "leak_scores": "skquant.leakage",
    "select_features": "skquant.leakage",
    "make_features": "skquant.labels",
    "load_demo": "skquant.datasets",
    "make_synthetic_panel": "skquant.datasets",
    "WalkForwardEngine": "skquant.walkforward",
    "WalkForwardResult": "skquant.walkforward",
    "tune": "skquant.walkforward",
    "save_model": "skquant.persistence",
    "load_model": "skquant.persistence",
    "SingleTaskStrategy": "skquant.strategies",
    "MultiTaskStrategy": "skquant.strategies",
    "CascadeStrategy": "skquant.strategies",
    **trainer_class_names(),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'skquant' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
