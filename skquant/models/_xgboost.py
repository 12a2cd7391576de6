"""XGBoost gradient boosting as a skquant trainer."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from skquant.models._base import BaseSupervisedTrainer, BaseTrainer, FitData, TreeImportanceMixin
from skquant.models._explain import without_bias
from skquant.models._lightgbm import _BOOSTING_CONSTRAINTS, BoosterMixin, log_period
from skquant.utils._docs import fill_doc
from skquant.utils._optional import import_optional
from skquant.utils._sklearn_compat import Interval, StrOptions


def _seed(random_state):
    """An int seed for XGBoost (which takes no RandomState), None stays None."""
    if random_state is None or isinstance(random_state, (Integral, np.integer)):
        return random_state
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _xgboost_params(trainer: BaseTrainer, config: dict) -> dict:
    """The XGBoost estimator's keyword arguments from a resolved config."""
    params = trainer._library_params(config)
    params["random_state"] = _seed(config.get("random_state"))
    params["verbosity"] = 1 if log_period(config) else 0
    return params


def _fit_xgboost(estimator, data: FitData, config: dict):
    """Fit an XGBoost sklearn-API estimator on ``eval_set=[train, valid]``.

    The raw estimator keeps XGBoost's own names (``validation_0`` is the training
    rows, ``validation_1`` the validation rows), so ``model.evals_result()`` works as
    in the user guide. Returns ``(evals_result, best_iteration)`` in skquant's form:
    ``{"train": ..., "valid": ...}`` and the number of rounds kept (1-based), None
    when early stopping did not run.
    """
    eval_set, weights = [(data.X, data.y)], [data.sample_weight]
    stopping = data.X_val is not None and bool(config.get("early_stopping_rounds"))
    if data.X_val is not None:
        eval_set.append((data.X_val, data.y_val))
        weights.append(data.sample_weight_val)
    estimator.set_params(
        early_stopping_rounds=config["early_stopping_rounds"] if stopping else None
    )
    verbose = log_period(config)
    estimator.fit(
        data.X,
        data.y,
        sample_weight=data.sample_weight,
        eval_set=eval_set,
        sample_weight_eval_set=weights if any(w is not None for w in weights) else None,
        verbose=verbose or False,
    )
    raw = estimator.evals_result()
    names = {"validation_0": "train", "validation_1": "valid"}
    evals = {
        names[key]: {metric: list(values) for metric, values in curves.items()}
        for key, curves in raw.items()
    }
    best = int(estimator.best_iteration) + 1 if stopping else None
    return evals, best


@fill_doc
class XGBoostTrainer(BoosterMixin, TreeImportanceMixin, BaseSupervisedTrainer):
    """XGBoost gradient boosting, regressor or classifier.

    Every hyper-parameter defaults to ``None``, meaning "take it from ``config``,
    else from the YAML variant" (see :func:`skquant.load_model_config`). ``X`` may
    hold NaN (XGBoost learns a default direction for missing values). XGBoost
    spellings ``eta``, ``lambda``, ``alpha``, ``min_split_loss``,
    ``num_boost_round``, ``nthread``, ``seed`` and ``verbosity`` are accepted as
    config keys.

    Parameters
    ----------
    {config}
    task : {"regression", "classification"}, default=None
        Regression (default, squared error) or classification (logistic /
        softprob); decides ``predict_proba`` and tags.
    {boosting.n_estimators}
    learning_rate : float, default=None
        Shrinkage per round (``eta``).
    max_depth : int, default=None
        Maximum tree depth (0: no limit).
    min_child_weight : float, default=None
        Minimum sum of hessians in a child.
    subsample : float, default=None
        Row subsampling fraction per round.
    {lightgbm.colsample_bytree}
    reg_alpha, reg_lambda : float, default=None
        L1 (``alpha``) and L2 (``lambda``) regularisation of leaf weights.
    gamma : float, default=None
        Minimum loss reduction to make a split (``min_split_loss``).
    tree_method : {"hist", "approx", "exact"}, default=None
        Tree construction algorithm.
    max_bin : int, default=None
        Histogram bins per feature (``hist``/``approx``).
    device : {"cpu", "cuda"}, default=None
        Where to train; ``"cuda"`` needs a CUDA build of XGBoost.
    importance_type : {"gain", "weight", "cover", "total_gain", "total_cover"}, default=None
        What ``feature_importances_`` measures.
    {boosting.early_stopping_rounds}
    {validation_fraction}
    {embargo_days}
    random_state : int, RandomState or None, default=None
        Seed (a RandomState draws an int seed).
    n_jobs : int, default=None
        Threads. None uses ``OMP_NUM_THREADS`` when set, else XGBoost's default
        (every core).
    {boosting.verbose}

    Attributes
    ----------
    model_ : xgboost.XGBRegressor or xgboost.XGBClassifier
        The fitted XGBoost estimator, also readable as ``model``. It was fitted with
        ``eval_set=[(train), (valid)]``, so ``model.evals_result()`` holds
        ``validation_0`` (train) and ``validation_1`` (valid) curves.
    {attributes.config_}
    {attributes.task_}
    {boosting.evals_result_}
    best_iteration_ : int or None
        Rounds kept by early stopping (1-based: XGBoost's ``best_iteration + 1``),
        None without early stopping. ``predict`` uses only these rounds.
    {attributes.classes_}
    {attributes.features_in}

    See Also
    --------
    LightGBMTrainer : the same role on LightGBM.

    Examples
    --------
    >>> from skquant import XGBoostTrainer, load_model_config
    >>> trainer = XGBoostTrainer(load_model_config("xgboost", variant="balanced"))
    >>> trainer.train(X_train, y_train)  # doctest: +SKIP
    >>> history = trainer.model.evals_result()  # doctest: +SKIP
    >>> history["validation_1"]["rmse"][:3]  # doctest: +SKIP
    """

    _registry_name = "xgboost"
    _tasks = ("regression", "classification")
    _allow_nan = True
    _config_aliases = {
        "eta": "learning_rate",
        "lambda": "reg_lambda",
        "alpha": "reg_alpha",
        "min_split_loss": "gamma",
        "num_boost_round": "n_estimators",
        "nthread": "n_jobs",
        "seed": "random_state",
        "random_seed": "random_state",
        "verbosity": "verbose",
    }
    # XGBoost's own keys; random_state and verbose go in its form (see _xgboost_params)
    _library_keys = frozenset(
        {
            "n_estimators",
            "learning_rate",
            "max_depth",
            "min_child_weight",
            "subsample",
            "colsample_bytree",
            "reg_alpha",
            "reg_lambda",
            "gamma",
            "tree_method",
            "max_bin",
            "device",
            "importance_type",
            "n_jobs",
        }
    )
    _parameter_constraints = {
        **_BOOSTING_CONSTRAINTS,
        "max_depth": [Interval(Integral, 0, None, closed="left"), None],
        "min_child_weight": [Interval(Real, 0, None, closed="left"), None],
        "subsample": [Interval(Real, 0, 1, closed="right"), None],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right"), None],
        "reg_alpha": [Interval(Real, 0, None, closed="left"), None],
        "reg_lambda": [Interval(Real, 0, None, closed="left"), None],
        "gamma": [Interval(Real, 0, None, closed="left"), None],
        "tree_method": [StrOptions({"hist", "approx", "exact"}), None],
        "max_bin": [Interval(Integral, 2, None, closed="left"), None],
        "device": [StrOptions({"cpu", "cuda"}), None],
        "importance_type": [
            StrOptions({"gain", "weight", "cover", "total_gain", "total_cover"}),
            None,
        ],
    }

    def __init__(
        self,
        config=None,
        *,
        task=None,
        n_estimators=None,
        learning_rate=None,
        max_depth=None,
        min_child_weight=None,
        subsample=None,
        colsample_bytree=None,
        reg_alpha=None,
        reg_lambda=None,
        gamma=None,
        tree_method=None,
        max_bin=None,
        device=None,
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
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.gamma = gamma
        self.tree_method = tree_method
        self.max_bin = max_bin
        self.device = device
        self.importance_type = importance_type
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.embargo_days = embargo_days
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _booster(self, config: dict):
        xgb = import_optional("xgboost")
        return xgb.XGBClassifier, xgb.XGBRegressor, _xgboost_params(self, config), _fit_xgboost

    def _feature_importances(self, target) -> np.ndarray:
        return np.nan_to_num(np.asarray(self.model_.feature_importances_, dtype=float))

    def _tree_contributions(self, Xa: np.ndarray) -> np.ndarray:
        """Exact SHAP values of the kept trees (``pred_contribs``), bias dropped."""
        xgb = import_optional("xgboost")
        booster = self.model_.get_booster()
        kept = (0, self.best_iteration_ or 0)  # (0, 0): every tree
        contrib = booster.predict(xgb.DMatrix(Xa), pred_contribs=True, iteration_range=kept)
        return without_bias(contrib, Xa.shape[1])
