"""LightGBM gradient boosting as a skquant trainer."""

from __future__ import annotations

import functools
import inspect
from numbers import Integral, Real

import numpy as np

from skquant.models._base import BaseSupervisedTrainer, BaseTrainer, FitData, TreeImportanceMixin
from skquant.models._explain import without_bias
from skquant.utils._docs import fill_doc
from skquant.utils._optional import import_optional
from skquant.utils._sklearn_compat import Interval, StrOptions

_BOOSTING_CONSTRAINTS = {
    "config": [dict, None],
    "task": [StrOptions({"regression", "classification"}), None],
    "n_estimators": [Interval(Integral, 1, None, closed="left"), None],
    "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
    "max_depth": [Interval(Integral, -1, None, closed="left"), None],
    "early_stopping_rounds": [Interval(Integral, 0, None, closed="left"), None],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
    "random_state": ["random_state"],
    "n_jobs": [Integral, None],
    # LightGBM's -1 ("silent") is quiet too: every value below 1 logs nothing
    "verbose": ["boolean", Integral, None],
}


def log_period(config) -> int:
    """The rounds between evaluation log lines of a resolved config's ``verbose``; 0
    (quiet) for None, False, 0 and the negative values (LightGBM's ``verbose=-1``)."""
    verbose = config.get("verbose")
    return int(verbose) if verbose is not None and int(verbose) > 0 else 0


# LightGBM's own spellings accepted in configs, mapped to the trainer parameter they set.
_LIGHTGBM_ALIASES = {
    "min_data_in_leaf": "min_child_samples",
    "num_iterations": "n_estimators",
    "bagging_fraction": "subsample",
    "bagging_freq": "subsample_freq",
    "feature_fraction": "colsample_bytree",
    "lambda_l1": "reg_alpha",
    "lambda_l2": "reg_lambda",
    "min_sum_hessian_in_leaf": "min_child_weight",
    "min_gain_to_split": "min_split_gain",
    "eta": "learning_rate",
    "shrinkage_rate": "learning_rate",
    "num_boost_round": "n_estimators",
    "num_rounds": "n_estimators",
    "num_trees": "n_estimators",
    "lambda": "reg_lambda",
    "early_stopping_round": "early_stopping_rounds",
    "seed": "random_state",
    "random_seed": "random_state",
    "num_threads": "n_jobs",
    "nthread": "n_jobs",
    "verbosity": "verbose",
}

# Tree-shape, sampling and regularisation parameters of every LightGBM-based trainer.
_LIGHTGBM_TREE_CONSTRAINTS = {
    "num_leaves": [Interval(Integral, 2, None, closed="left"), None],
    "min_child_samples": [Interval(Integral, 1, None, closed="left"), None],
    "min_child_weight": [Interval(Real, 0, None, closed="left"), None],
    "min_split_gain": [Interval(Real, 0, None, closed="left"), None],
    "subsample": [Interval(Real, 0, 1, closed="right"), None],
    "subsample_freq": [Interval(Integral, 0, None, closed="left"), None],
    "colsample_bytree": [Interval(Real, 0, 1, closed="right"), None],
    "reg_alpha": [Interval(Real, 0, None, closed="left"), None],
    "reg_lambda": [Interval(Real, 0, None, closed="left"), None],
    "importance_type": [StrOptions({"gain", "split"}), None],
}


# The keys of a LightGBM sklearn-API estimator that every LightGBM-based trainer takes
# (``verbose`` goes in LightGBM's own form, see ``_lightgbm_params``).
_LIGHTGBM_LIBRARY_KEYS = frozenset(
    {"n_estimators", "learning_rate", "max_depth", "random_state", "n_jobs"}
    | set(_LIGHTGBM_TREE_CONSTRAINTS)
)


def _lightgbm_params(trainer: BaseTrainer, config: dict) -> dict:
    """The LightGBM estimator's keyword arguments from a resolved config."""
    params = trainer._library_params(config)
    params["verbose"] = 1 if log_period(config) else -1
    return params


@functools.cache
def _takes_eval_xy(cls) -> bool:
    return "eval_X" in inspect.signature(cls.fit).parameters


def _fit_lightgbm(estimator, data: FitData, config: dict):
    """Fit a LightGBM sklearn-API estimator with train/valid curves and early stopping.

    Returns ``(evals_result, best_iteration)``; ``best_iteration`` counts the trees
    kept (1-based) and is None when early stopping did not run.
    """
    lgb = import_optional("lightgbm")
    eval_set, eval_names, eval_weights = [(data.X, data.y)], ["train"], [data.sample_weight]
    callbacks = []
    if data.X_val is not None:
        eval_set.append((data.X_val, data.y_val))
        eval_names.append("valid")
        eval_weights.append(data.sample_weight_val)
        if config.get("early_stopping_rounds"):
            callbacks.append(
                lgb.early_stopping(
                    config["early_stopping_rounds"], first_metric_only=True, verbose=False
                )
            )
    if log_period(config):
        callbacks.append(lgb.log_evaluation(period=log_period(config)))
    if _takes_eval_xy(type(estimator)):  # LightGBM >= 4.7 deprecates eval_set
        evals = {"eval_X": tuple(X for X, _ in eval_set), "eval_y": tuple(y for _, y in eval_set)}
    else:
        evals = {"eval_set": eval_set}
    estimator.fit(
        data.X,
        data.y,
        sample_weight=data.sample_weight,
        eval_names=eval_names,
        eval_sample_weight=eval_weights,
        callbacks=callbacks,
        **evals,
    )
    evals = {
        name: {m: list(v) for m, v in curves.items()}
        for name, curves in estimator.evals_result_.items()
    }
    stopped = data.X_val is not None and config.get("early_stopping_rounds")
    best = int(estimator.best_iteration_) if stopped and estimator.best_iteration_ else None
    return evals, best


def _lightgbm_contributions(model, Xa: np.ndarray) -> np.ndarray:
    """Exact SHAP values of a fitted LightGBM model's trees (``pred_contrib``), as
    (n_samples, n_features, n_outputs), bias dropped; the kept trees only, as in
    ``predict``."""
    return without_bias(model.predict(Xa, pred_contrib=True), Xa.shape[1])


class BoosterMixin:
    """The fit of a gradient-boosting trainer: the library's classifier or regressor.

    A subclass's ``_booster(config)`` returns ``(classifier class, regressor class,
    params, fit function)``; the fit function returns ``(evals_result,
    best_iteration)``. ``class_weight`` is a classifier's parameter only.
    """

    def _fit_model(self, data: FitData, config: dict) -> None:
        classifier, regressor, params, fit = self._booster(config)
        if config["task"] == "classification":
            if isinstance(params.get("class_weight"), dict):
                params["class_weight"] = self._encoded_class_weight(params["class_weight"])
            model = classifier(**params)
        else:
            params.pop("class_weight", None)
            model = regressor(**params)
        self.evals_result_, self.best_iteration_ = fit(model, data, config)
        self.model_ = model

    def _encoded_class_weight(self, class_weight: dict) -> dict:
        """``class_weight`` keyed by the codes 0..K-1 the library is fitted on, from the
        user's class labels (the keys meant the codes: labels {1, 2} weighted the wrong
        class, labels {-1, 1} raised KeyError); a class it omits weighs 1."""
        labels = self.classes_.tolist()
        # a key matches a label, or its text (a config through JSON or YAML: {"-1": 2})
        by_key = {key: label for label in labels for key in (label, str(label))}
        unknown = [key for key in class_weight if key not in by_key]
        if unknown:
            raise ValueError(
                f"class_weight names {unknown!r}, which are not classes of y ({labels})."
            )
        weights = {by_key[key]: float(value) for key, value in class_weight.items()}
        return {code: weights.get(label, 1.0) for code, label in enumerate(labels)}


@fill_doc
class LightGBMTrainer(BoosterMixin, TreeImportanceMixin, BaseSupervisedTrainer):
    """LightGBM gradient boosting, regressor or classifier.

    {defaults}

    Parameters
    ----------
    {config}
    {task}
    {boosting.n_estimators}
    {boosting.learning_rate}
    {lightgbm.trees}
    class_weight : dict or "balanced", default=None
        Class weights for classification: ``{class label: weight}`` (a class left out
        weighs 1), or ``"balanced"``.
    importance_type : {"gain", "split"}, default=None
        What ``feature_importances_`` counts.
    {boosting.early_stopping_rounds}
    {lightgbm.tail}

    Attributes
    ----------
    model_ : lightgbm.LGBMRegressor or lightgbm.LGBMClassifier
        The fitted LightGBM estimator, also readable as ``model``: a subclass
        whose ``evals_result()`` gives the curves in XGBoost's form
        (``validation_0`` training, ``validation_1`` validation, ``rmse`` beside
        LightGBM's ``l2``), so the user guide's learning-curve snippet runs.
    {attributes.config_}
    {attributes.task_}
    {boosting.evals_result_}
    best_iteration_ : int or None
        Trees kept by early stopping (1-based), None without early stopping.
    {attributes.classes_}
    {attributes.features_in}

    See Also
    --------
    XGBoostTrainer : the same role on XGBoost.
    QuantileLightGBMTrainer : quantile regression with LightGBM.

    Examples
    --------
    >>> from skquant import LightGBMTrainer, load_model_config
    >>> trainer = LightGBMTrainer(load_model_config("lightgbm", variant="conservative"))
    >>> trainer.train(X_train, y_train)  # doctest: +SKIP
    """

    _registry_name = "lightgbm"
    _tasks = ("regression", "classification")
    _allow_nan = True
    # Every variant keeps 20-200 rows per leaf (min_child_samples) for noisy daily
    # returns. On scikit-learn's 200-row toy data (160 rows left beside the
    # early-stopping tail) the balanced variant cannot split once: R^2 -0.00 on the
    # regression, a constant on the two-class subset of the classification data.
    _poor_score_tasks = frozenset(_tasks)
    _config_aliases = _LIGHTGBM_ALIASES
    _library_keys = _LIGHTGBM_LIBRARY_KEYS | {"class_weight"}
    _parameter_constraints = {
        **_BOOSTING_CONSTRAINTS,
        **_LIGHTGBM_TREE_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        config=None,
        *,
        task=None,
        n_estimators=None,
        learning_rate=None,
        max_depth=None,
        num_leaves=None,
        min_child_samples=None,
        min_child_weight=None,
        min_split_gain=None,
        subsample=None,
        subsample_freq=None,
        colsample_bytree=None,
        reg_alpha=None,
        reg_lambda=None,
        class_weight=None,
        importance_type=None,
        early_stopping_rounds=None,
        validation_fraction=None,
        embargo_days=None,
        random_state=None,
        n_jobs=None,
        verbose=None,
    ):
        self.config = config
        self.task = task
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.min_child_weight = min_child_weight
        self.min_split_gain = min_split_gain
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.class_weight = class_weight
        self.importance_type = importance_type
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.embargo_days = embargo_days
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _booster(self, config: dict):
        import_optional("lightgbm")  # the install hint, before the module imports it
        from skquant.models._lightgbm_curves import LGBMClassifier, LGBMRegressor

        return LGBMClassifier, LGBMRegressor, _lightgbm_params(self, config), _fit_lightgbm

    def _feature_importances(self, target) -> np.ndarray:
        return self.model_.feature_importances_

    def _tree_contributions(self, Xa: np.ndarray) -> np.ndarray:
        return _lightgbm_contributions(self.model_, Xa)
