"""Quantile regression with LightGBM: one quantile, or several that never cross."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.metrics import mean_pinball_loss

from skquant.models._base import BaseSupervisedTrainer, FitData, TreeImportanceMixin
from skquant.models._lightgbm import (
    _BOOSTING_CONSTRAINTS,
    _LIGHTGBM_ALIASES,
    _LIGHTGBM_LIBRARY_KEYS,
    _LIGHTGBM_TREE_CONSTRAINTS,
    _fit_lightgbm,
    _lightgbm_contributions,
    _lightgbm_params,
)
from skquant.utils._docs import fill_doc
from skquant.utils._optional import import_optional
from skquant.utils._sklearn_compat import Interval


def _quantiles(alpha) -> tuple[np.ndarray, bool]:
    """Validated quantile levels, sorted ascending, and whether ``alpha`` was a scalar."""
    scalar = isinstance(alpha, (Real, np.floating)) and not isinstance(alpha, bool)
    values = np.atleast_1d(np.asarray(alpha, dtype=object))
    ok = values.ndim == 1 and len(values) > 0
    ok = ok and all(isinstance(a, (Real, np.floating)) and not isinstance(a, bool) for a in values)
    levels = np.asarray(values, dtype=float) if ok else np.array([])
    if not ok or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(
            f"The 'alpha' parameter of QuantileLightGBMTrainer must be a float in (0, 1) "
            f"or a non-empty list of such floats, got {alpha!r}."
        )
    if len(np.unique(levels)) != len(levels):
        raise ValueError(f"The 'alpha' parameter lists a quantile twice: {alpha!r}.")
    return np.sort(levels), scalar


@fill_doc
class QuantileLightGBMTrainer(TreeImportanceMixin, BaseSupervisedTrainer):
    """LightGBM quantile regression (pinball loss) for one or several quantiles.

    With one quantile (``alpha=0.5``) this is one ``LGBMRegressor(objective=
    "quantile")`` and ``predict`` returns shape ``(n_samples,)``. With several
    (``alpha=[0.1, 0.5, 0.9]``) one model is fitted per quantile and ``predict``
    returns shape ``(n_samples, n_quantiles)``, columns in ascending quantile order
    and each row sorted, so the predicted quantiles never cross (the sorting is the
    monotone rearrangement of Chernozhukov et al., which never increases the
    pinball loss).

    {defaults}

    Parameters
    ----------
    {config}
    alpha : float or list of float, default=None
        Quantile level(s) in (0, 1) (LightGBM's ``alpha``).
    n_estimators : int, default=None
        Maximum boosting rounds per quantile.
    {boosting.learning_rate}
    {lightgbm.trees}
    importance_type : {"gain", "split"}, default=None
        What ``feature_importances_`` counts (averaged over the quantile models).
    early_stopping_rounds : int, default=None
        Stop a quantile's model when its validation pinball loss has not improved
        for this many rounds; 0 trains all ``n_estimators`` rounds.
    {lightgbm.tail}

    Attributes
    ----------
    model_ : lightgbm.LGBMRegressor or list of lightgbm.LGBMRegressor
        The fitted model (one quantile) or the models in ``quantiles_`` order
        (several), also readable as ``model``.
    quantiles_ : ndarray of shape (n_quantiles,)
        The quantile levels, ascending (the column order of ``predict``).
    {attributes.config_}
    evals_result_ : dict
        ``{"train": {metric: [...]}, "valid": {metric: [...]}}``. With one quantile
        the metric is LightGBM's ``"quantile"``; with several, each quantile's
        curve is under ``"quantile_<level>"`` (e.g. ``"quantile_0.1"``).
    best_iteration_ : int, list of int or None
        Trees kept by early stopping (1-based); with several quantiles a list in
        ``quantiles_`` order; None without early stopping.
    {attributes.features_in}

    See Also
    --------
    LightGBMTrainer : mean regression with LightGBM.
    NGBoostTrainer : a full predictive distribution instead of a few quantiles.

    Examples
    --------
    >>> from skquant import QuantileLightGBMTrainer, load_model_config
    >>> config = load_model_config("quantile_lightgbm", overrides={"alpha": 0.5})
    >>> trainer = QuantileLightGBMTrainer(config)
    >>> band = QuantileLightGBMTrainer(config, alpha=[0.1, 0.5, 0.9])
    >>> band.train(X_train, y_train).predict(X_test)  # doctest: +SKIP
    """

    _registry_name = "quantile_lightgbm"
    _tasks = ("regression",)
    _allow_nan = True
    _config_aliases = {**_LIGHTGBM_ALIASES, "quantiles": "alpha"}
    _library_keys = _LIGHTGBM_LIBRARY_KEYS  # alpha is set per quantile model
    _defaults = {"alpha": 0.5}
    _parameter_constraints = {
        **{k: v for k, v in _BOOSTING_CONSTRAINTS.items() if k != "task"},
        **_LIGHTGBM_TREE_CONSTRAINTS,
        "alpha": [Interval(Real, 0, 1, closed="neither"), list, tuple, None],
    }

    def __init__(
        self,
        config=None,
        *,
        alpha=None,
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
        importance_type=None,
        early_stopping_rounds=None,
        validation_fraction=None,
        embargo_days=None,
        random_state=None,
        n_jobs=None,
        verbose=None,
    ):
        self.config = config
        self.alpha = alpha
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
        self.importance_type = importance_type
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.embargo_days = embargo_days
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # score is the negative pinball loss, not R^2: no R^2 > 0.5 to expect
        tags.regressor_tags.poor_score = True
        return tags

    def _resolve_config(self):
        config = super()._resolve_config()
        levels, scalar = _quantiles(config["alpha"])
        config["alpha"] = float(levels[0]) if scalar else levels.tolist()
        return config

    def _fit_model(self, data: FitData, config: dict) -> None:
        lgb = import_optional("lightgbm")
        levels, scalar = _quantiles(config["alpha"])
        params = _lightgbm_params(self, config)
        params["objective"] = "quantile"
        models, evals, best = [], {}, []
        for level in levels:
            params["alpha"] = float(level)
            model = lgb.LGBMRegressor(**params)
            curves, stop = _fit_lightgbm(model, data, config)
            models.append(model)
            best.append(stop)
            for split, metrics in curves.items():
                for metric, values in metrics.items():
                    key = metric if scalar else f"{metric}_{level:g}"
                    evals.setdefault(split, {})[key] = values
        self.quantiles_ = levels
        self.evals_result_ = evals
        if scalar:
            self.model_, self.best_iteration_ = models[0], best[0]
        else:
            self.model_ = models
            self.best_iteration_ = None if all(b is None for b in best) else best

    def _models(self) -> list:
        return self.model_ if isinstance(self.model_, list) else [self.model_]

    @fill_doc
    def predict(self, X):
        """Predict the quantile(s).

        {parameters.X}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_quantiles)
            One column per entry of ``quantiles_`` (ascending) when ``alpha`` is a
            list; each row is sorted so the quantiles never cross.
        """
        Xa = self._validate_predict_X(X)
        if not isinstance(self.model_, list):
            return self.model_.predict(Xa)
        return np.sort(np.column_stack([m.predict(Xa) for m in self.model_]), axis=1)

    def score(self, X, y, sample_weight=None):
        """Negative mean pinball loss, averaged over the quantiles (higher is better).

        This is the loss the models minimise, so ``GridSearchCV`` tunes the
        quantiles themselves rather than a mean prediction (as R^2 would).

        Returns
        -------
        score : float
        """
        pred = self.predict(X)
        pred = pred.reshape(len(pred), -1)
        losses = [
            mean_pinball_loss(y, pred[:, j], alpha=level, sample_weight=sample_weight)
            for j, level in enumerate(self.quantiles_)
        ]
        return -float(np.mean(losses))

    def _feature_importances(self, target) -> np.ndarray:
        return np.mean([m.feature_importances_ for m in self._models()], axis=0)

    def _tree_contributions(self, Xa: np.ndarray) -> np.ndarray:
        """One output per quantile model (averaged by ``kind="shap"``)."""
        return np.concatenate([_lightgbm_contributions(m, Xa) for m in self._models()], axis=2)
