"""The registry of model families: one name, one trainer class.

The table holds module paths as strings so that reading it imports nothing heavy;
:func:`get_trainer` imports the one module it needs. ``skquant.config`` uses the same
table to find a family's YAML file and its valid parameters.
"""

from __future__ import annotations

import importlib
import importlib.util

# registry name -> (module, class name). Keep sorted by name within each group.
_REGISTRY: dict[str, tuple[str, str]] = {
    # gradient boosting and stacking
    "ensemble": ("skquant.models._ensemble", "EnsembleTrainer"),
    "lightgbm": ("skquant.models._lightgbm", "LightGBMTrainer"),
    "ngboost": ("skquant.models._ngboost", "NGBoostTrainer"),
    "quantile_lightgbm": ("skquant.models._quantile", "QuantileLightGBMTrainer"),
    "xgboost": ("skquant.models._xgboost", "XGBoostTrainer"),
    # neural nets (skorch + PyTorch)
    "cnn1d": ("skquant.models._nets._sequence", "CNN1DTrainer"),
    "gan": ("skquant.models._nets._gan", "GANTrainer"),
    "lstm": ("skquant.models._nets._sequence", "LSTMTrainer"),
    "mlp": ("skquant.models._nets._mlp", "MLPTrainer"),
    "multi_task": ("skquant.models._nets._multitask", "MultiTaskTrainer"),
    "transformer": ("skquant.models._nets._sequence", "TransformerTrainer"),
    "vae": ("skquant.models._nets._vae", "VAETrainer"),
    # regimes, change points, online and meta models
    "change_point": ("skquant.models._changepoint", "ChangePointTrainer"),
    "gmm_regime": ("skquant.models._regime", "GMMRegimeTrainer"),
    "ftrl_proximal": ("skquant.models._ftrl", "FTRLProximalTrainer"),
    "meta_learning": ("skquant.models._meta", "MetaLearningTrainer"),
    "reward_based": ("skquant.models._reward", "RewardBasedTrainer"),
}


# trainer module prefix -> the optional modules its families import when they fit
_OPTIONAL_NEEDS: dict[str, tuple[str, ...]] = {"skquant.models._nets.": ("torch", "skorch")}
# the families whose kind="shap" importance is their trees' own exact contributions
# (pred_contrib); every other family's goes through the shap package
_TREE_SHAP = frozenset({"lightgbm", "quantile_lightgbm", "xgboost"})


def registered_names() -> list[str]:
    """Registry names, sorted."""
    return sorted(_REGISTRY)


def trainer_class_names() -> dict[str, str]:
    """Map each trainer class name to the module that defines it."""
    return {cls: module for module, cls in _REGISTRY.values()}


def is_registered(name: object) -> bool:
    """Whether ``name`` is a registry name."""
    return isinstance(name, str) and name in _REGISTRY


def unknown_model_error(name: object) -> ValueError:
    """The error for a name that is not registered: close matches and the valid names."""
    import difflib

    close = difflib.get_close_matches(str(name), _REGISTRY, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return ValueError(
        f"Unknown model {name!r}.{hint} Valid models: {', '.join(registered_names())}."
    )


def missing_dependencies(name: str, *, importance: str | None = None) -> list[str]:
    """The optional modules family ``name`` needs that this install lacks.

    Empty when the family can be fitted (and explained by ``importance``). The nets
    (``mlp``, ``lstm``, ``vae``, ...) need the ``nets`` extra (torch and skorch); the
    other families need only skquant's own dependencies. Nothing is imported: the
    modules are looked up.

    Parameters
    ----------
    name : str
        A registry name.
    importance : {"gain", "shap", "permutation"}, default=None
        Also the needs of ``get_feature_importance(kind=importance)``: ``"shap"``
        needs the ``shap`` package except for LightGBM, XGBoost and quantile LightGBM,
        whose trees give exact SHAP values themselves.

    Raises
    ------
    ValueError
        If ``name`` is not registered, or ``importance`` is not a kind.
    """
    needed = _required_modules(name, importance)
    return [m for m in needed if importlib.util.find_spec(m) is None]


def _required_modules(name: str, importance: str | None = None) -> list[str]:
    """The optional modules family ``name`` needs, installed or not (see
    :func:`missing_dependencies`; the test suite skips by them)."""
    try:
        module = _REGISTRY[name][0]
    except (KeyError, TypeError):
        raise unknown_model_error(name) from None
    if importance not in (None, "gain", "shap", "permutation"):
        raise ValueError(
            f"Unknown importance={importance!r}; allowed: None, 'gain', 'shap', 'permutation'."
        )
    needed = [
        m for prefix, mods in _OPTIONAL_NEEDS.items() if module.startswith(prefix) for m in mods
    ]
    if importance == "shap" and name not in _TREE_SHAP:
        needed.append("shap")
    return needed


def get_trainer(name: str) -> type:
    """Return the trainer class registered under ``name``.

    Parameters
    ----------
    name : str
        A registry name such as ``"lightgbm"`` (see :func:`skquant.list_models`).

    Returns
    -------
    cls : type
        The trainer class, a scikit-learn estimator.

    Raises
    ------
    ValueError
        If ``name`` is not registered; the message lists the valid names.
    """
    try:
        module, cls = _REGISTRY[name]
    except (KeyError, TypeError):
        raise unknown_model_error(name) from None
    return getattr(importlib.import_module(module), cls)


def all_estimators() -> list[tuple[str, type]]:
    """Return ``(registry name, trainer class)`` for every registered family, sorted by name."""
    return [(name, get_trainer(name)) for name in registered_names()]
