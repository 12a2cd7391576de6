"""How much history a fitted model needs before the rows it predicts or transforms."""

from __future__ import annotations

# Where a meta-estimator keeps the models it predicts or transforms with, fitted
# (read when any is set) and as given: a search's best_estimator_, RFE's and
# SelectFromModel's estimator_, bagging's, voting's, stacking's or a multi-output
# wrapper's estimators_, TransformedTargetRegressor's regressor_, a chain's
# base_estimator, a ColumnTransformer's transformers_, a FeatureUnion's
# transformer_list, a skquant wrapper's model_ (RewardBasedTrainer).
_FITTED_PARTS = (
    "best_estimator_",
    "estimator_",
    "estimators_",
    "regressor_",
    "base_estimator_",
    "transformers_",
    "transformer_list",
    "model_",
)
_GIVEN_PARTS = (
    "estimator",
    "estimators",
    "regressor",
    "base_estimator",
    "transformers",
    "transformer_list",
)
# Where a meta-estimator keeps a chain of models, each taking the earlier ones' output
# as input (a CascadeStrategy's stages_, fitted, and models, given): like a Pipeline's
# steps, each needs the history of those before it.
_FITTED_CHAIN = "stages_"
_GIVEN_CHAIN = "models"


def _models_in(value) -> list:
    """The estimators in an attribute: itself, or the items (or ``(name, model, ...)``
    tuples' models) of a list, or the values of a dict (a SingleTaskStrategy's
    ``estimators_``, one per target)."""
    if hasattr(value, "get_params"):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        return []
    models = []
    for item in value:
        if hasattr(item, "get_params"):
            models.append(item)
        elif isinstance(item, tuple) and len(item) >= 2 and hasattr(item[1], "get_params"):
            models.append(item[1])
    return models


def _parts(model, names) -> list:
    return [part for name in names for part in _models_in(getattr(model, name, None))]


def history_periods(model) -> int:
    """The earlier periods a fitted model needs: ``history_periods_`` when it declares
    it, ``seq_len - 1`` for a sequence model, else 0; for a Pipeline the sum over its
    steps (each step's first rows need the history of the steps before it; a scaler
    before an LSTM got no history: the first ``seq_len - 1`` dates of each test window
    were zero-padded), for a FeatureUnion or ColumnTransformer the most of its parts.

    A meta-estimator needs what the models it wraps need: GridSearchCV its
    ``best_estimator_``, RFECV its ``estimator_``, TransformedTargetRegressor its
    ``regressor_``, bagging or voting the most of its ``estimators_``, stacking that
    plus its ``final_estimator_`` (the fitted models when it holds any, else the ones
    it was given). A causal pipeline inside GridSearchCV got 0, so the walk-forward
    engine started it cold in every test window (Sharpe 0.626 against -0.024 for the
    same pipeline alone). A SingleTaskStrategy needs the most of its ``estimators_``
    (a dict, one per target); a CascadeStrategy the sum over its ``stages_`` (or the
    ``models`` it was given), as each stage reads the earlier stages' predictions: two
    causal stages of 100 periods each got 0.
    """
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        return sum(history_periods(step) for _, step in steps if hasattr(step, "get_params"))
    declared = getattr(model, "history_periods_", None)
    if declared is not None:
        return int(declared)
    chain = _models_in(getattr(model, _FITTED_CHAIN, None)) or _models_in(
        getattr(model, _GIVEN_CHAIN, None)
    )
    parts = _parts(model, _FITTED_PARTS) or _parts(model, _GIVEN_PARTS)
    periods = max(
        max((history_periods(part) for part in parts), default=0),
        sum(history_periods(stage) for stage in chain),
    )
    final = getattr(model, "final_estimator_", None)
    if final is None:
        final = getattr(model, "final_estimator", None)
    if hasattr(final, "get_params"):  # stacking: its final model reads the others' output
        periods += history_periods(final)
    config = getattr(model, "config_", None)
    seq_len = config.get("seq_len") if isinstance(config, dict) else None
    return max(periods, int(seq_len) - 1 if seq_len else 0)
