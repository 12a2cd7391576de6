"""An ensemble that learns, out of sample, which base model to trust (and when)."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone

from skquant.model_selection import chronological_oof_predict
from skquant.models._base import (
    BaseSupervisedTrainer,
    BaseTrainer,
    BinaryTargetWarning,
    target_names_of,
)
from skquant.models._feature_base import select_columns
from skquant.utils._docs import fill_doc
from skquant.utils._embargo import embargo_at_least
from skquant.utils._sklearn_compat import (
    Interval,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from skquant.utils._target import check_labels_not_features, tail_embargo
from skquant.utils._variant import in_cloning_variant

_DEFAULT_BASES = ("lightgbm", "xgboost", "ridge")


def _make_base(spec, position):
    """``(name, unfitted estimator)`` from a registry name, an estimator or a pair.

    ``position`` names the parameter in error messages (an index of ``estimators``
    or a parameter name).
    """
    from skquant.registry import get_trainer, registered_names

    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        return spec[0], clone(spec[1])
    if isinstance(spec, str):
        if spec == "ridge":
            from sklearn.linear_model import Ridge

            return "ridge", Ridge()
        if spec not in registered_names():
            raise ValueError(
                f"{_where(position)}={spec!r} is neither 'ridge' nor a registry name; "
                f"valid names: {', '.join(registered_names())}."
            )
        return spec, get_trainer(spec)()
    if hasattr(spec, "fit") and hasattr(spec, "predict"):
        name = getattr(spec, "_registry_name", None) or type(spec).__name__.lower()
        return name, clone(spec)
    raise ValueError(
        f"{_where(position)} must be a registry name, an estimator with fit/predict "
        f"or a (name, estimator) pair, got {spec!r}."
    )


def _where(position) -> str:
    return position if isinstance(position, str) else f"estimators[{position}]"


@fill_doc
class MetaLearningTrainer(BaseSupervisedTrainer):
    """Ensemble that learns which base model to trust, optionally per context.

    The base models (registry names such as ``"lightgbm"`` or ``"xgboost"``,
    ``"ridge"`` for scikit-learn's Ridge, or any regressor) are fitted on
    expanding, chronological folds (:func:`chronological_oof_predict`): the rows
    are cut into ``n_splits + 1`` time blocks and every block after the first is
    predicted by models fitted on earlier blocks only. **No prediction used to
    train the meta-model comes from a model that saw that row**; the first block
    only trains the bases.

    The meta-model is a feature-weighted linear stack (Sill et al. 2009): the
    weight of base ``m`` on a row is linear in the row's context features ``c``
    (standardised; a constant alone without context)::

        y_hat = sum_m w_m(c) f_m(x),    w_m(c) = v_m0 + sum_j v_mj c_j

    and ``v`` minimises the ridge-penalised squared **out-of-sample** error of the
    combination on the out-of-fold rows. With context features such as the regime
    probabilities of :class:`GMMRegimeTrainer`, the ensemble can trust a different
    base model in each regime. The bases are then refitted on all rows.

    Parameters
    ----------
    {config}
    estimators : list, default=None
        Base models: registry names, ``"ridge"``, estimators, or ``(name, estimator)``
        pairs. None means ``["lightgbm", "xgboost", "ridge"]``. An estimator is named
        by its registry name (skquant trainers) or its lower-cased class name;
        repeated names get a position suffix.
    context_features : list of str or int, default=None
        Columns of ``X`` the weights depend on (names for DataFrame input, or
        positions); the base models still see every column. None: constant weights.
    n_splits : int, default=None
        Out-of-fold time blocks (``n_splits + 1`` blocks in all).
    {oof_embargo_days}
        A base that takes ``embargo_days`` (a skquant trainer, also as a Pipeline
        step) drops at least as many dates before its own early-stopping tail.
    meta_alpha : float, default=None
        Ridge penalty of the meta-model's weights.

    Attributes
    ----------
    estimators_ : list of (str, estimator)
        The base models refitted on all rows.
    model_ : sklearn.linear_model.Ridge
        The meta-model on the context-weighted out-of-fold predictions.
    weights_ : pandas.DataFrame of shape (n_estimators, 1 + n_context)
        The learned weighting: row ``m`` holds ``v_m``, column ``"const"`` the
        weight at the average context, the other columns the change of the weight
        per standard deviation of each context feature.
    base_errors_ : pandas.Series
        Out-of-sample mean squared error of each base model on the meta-model's rows.
    oof_predictions_ : ndarray of shape (n_samples, n_estimators)
        The bases' out-of-fold predictions (NaN on the first block).
    config_ : dict
        The resolved hyper-parameters actually used (estimators appear by name).
    {attributes.features_in}

    See Also
    --------
    EnsembleTrainer : stacking with a fixed meta-learner.
    GMMRegimeTrainer : regime probabilities to use as context.

    References
    ----------
    J. Sill, G. Takacs, L. Mackey and D. Lin, "Feature-Weighted Linear Stacking",
    arXiv:0911.0460, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression, Ridge
    >>> from skquant import MetaLearningTrainer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 3))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=600)
    >>> meta = MetaLearningTrainer(estimators=[Ridge(), ("mean", Ridge(alpha=1e6))])
    >>> meta.fit(X, y).weights_.shape
    (2, 1)
    """

    _registry_name = "meta_learning"
    _parameter_constraints = {
        "config": [dict, None],
        "estimators": [list, tuple, None],
        "context_features": ["array-like", str, Integral, None],
        "n_splits": [Interval(Integral, 1, None, closed="left"), None],
        "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
        "meta_alpha": [Interval(Real, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        config=None,
        *,
        estimators=None,
        context_features=None,
        n_splits=None,
        embargo_days=None,
        meta_alpha=None,
    ):
        self.config = config
        self.estimators = estimators
        self.context_features = context_features
        self.n_splits = n_splits
        self.embargo_days = embargo_days
        self.meta_alpha = meta_alpha

    def _bases(self, config) -> list[tuple[str, object]]:
        """The unfitted bases, each embargoing its own early-stopping tail at least as
        long as the out-of-fold blocks are."""
        specs = config.get("estimators") or list(_DEFAULT_BASES)
        bases = [_make_base(spec, i) for i, spec in enumerate(specs)]
        names = [name for name, _ in bases]
        for i, name in enumerate(names):  # unique names
            if names.count(name) > 1:
                names[i] = f"{name}_{i}"
        return [
            (name, embargo_at_least(est, config.get("embargo_days")))
            for name, (_, est) in zip(names, bases, strict=True)
        ]

    def _context(self, Xa: np.ndarray) -> np.ndarray:
        C = (Xa[:, self.context_] - self.context_mean_) / self.context_scale_
        return np.column_stack([np.ones(len(Xa)), C])

    @staticmethod
    def _design(F: np.ndarray, C: np.ndarray) -> np.ndarray:
        # column (m, j) = f_m * c_j, m-major
        return (F[:, :, None] * C[:, None, :]).reshape(len(F), -1)

    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_doc
    def fit(self, X, y):
        """Fit the bases on chronological folds, the meta-model on their OOF errors.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows in time order (or indexed by date).
        y : array-like of shape (n_samples,)
            Target.

        {returns.self}
        """
        from sklearn.linear_model import Ridge

        config = self._resolve_config()
        Xa, ya = validate_data(self, X, y, y_numeric=True, multi_output=False, ensure_min_samples=2)
        check_labels_not_features(X, y)
        self.target_names_ = target_names_of(y)
        config["embargo_days"] = tail_embargo(
            self,
            y,
            config.get("embargo_days"),
            held_out="chronological out-of-fold blocks of its training rows",
        )
        bases = self._bases(config)
        self.context_ = (
            np.arange(0)
            if config.get("context_features") is None
            else select_columns(self, config["context_features"], "context_features")
        )
        # keep a DataFrame (column names, dates for the folds); anything else as validated
        X_fit = X if isinstance(X, pd.DataFrame) else Xa
        y_fit = y if isinstance(y, pd.Series) else ya
        oof, has = [], np.ones(len(ya), dtype=bool)
        with warnings.catch_warnings():
            # the meta-model regresses whatever the target; its bases would warn once
            # per fold about a two-valued target
            warnings.simplefilter("ignore", BinaryTargetWarning)
            # a short embargo_days was warned about above, once, by this trainer's name
            warnings.filterwarnings("ignore", "chronological_oof_predict holds out")
            for _, est in bases:
                pred, has_oof = chronological_oof_predict(
                    est,
                    X_fit,
                    y_fit,
                    n_splits=config["n_splits"],
                    embargo=config["embargo_days"],
                )
                oof.append(np.asarray(pred, dtype=float).reshape(len(ya)))
                has &= has_oof
            self.estimators_ = [(name, clone(est).fit(X_fit, y_fit)) for name, est in bases]
        F = np.column_stack(oof)
        ctx = Xa[has][:, self.context_]
        self.context_mean_ = ctx.mean(axis=0)
        scale = ctx.std(axis=0)
        self.context_scale_ = np.where(scale > 0, scale, 1.0)
        C = self._context(Xa[has])
        meta = Ridge(alpha=config["meta_alpha"], fit_intercept=False)
        meta.fit(self._design(F[has], C), ya[has])
        names = [name for name, _ in bases]
        ctx_names = [str(n) for n in self._feature_names()[self.context_]]
        self.weights_ = pd.DataFrame(
            meta.coef_.reshape(len(bases), C.shape[1]),
            index=pd.Index(names, name="estimator"),
            columns=["const", *ctx_names],
        )
        self.base_errors_ = pd.Series(
            ((F[has] - ya[has, None]) ** 2).mean(axis=0), index=names, name="oof_mse"
        )
        self.oof_predictions_ = F
        self.model_ = meta
        config["estimators"] = names
        self.config_ = config
        self.task_ = config["task"]
        return self

    @fill_doc
    def train(self, X_train, y_train, X_val=None, y_val=None):
        """Fit as in the user guide; the folds are chronological, ``X_val`` is not used.

        {returns.self}
        """
        return self.fit(X_train, y_train)

    def _base_predictions(self, X) -> np.ndarray:
        return np.column_stack(
            [np.asarray(est.predict(X), dtype=float).ravel() for _, est in self.estimators_]
        )

    @fill_doc
    def predict_weights(self, X):
        """The weight of each base model on each row (depends on the context).

        {parameters.X}

        Returns
        -------
        weights : ndarray of shape (n_samples, n_estimators)
        """
        check_is_fitted(self)
        Xa = validate_data(self, X, reset=False)
        return self._context(Xa) @ self.weights_.to_numpy().T

    @fill_doc
    def predict(self, X):
        """The context-weighted combination of the base models' predictions.

        {parameters.X}

        {returns.y_pred}
        """
        check_is_fitted(self)
        Xa = validate_data(self, X, reset=False)
        F = self._base_predictions(X if isinstance(X, pd.DataFrame) else Xa)
        return np.sum(F * (self._context(Xa) @ self.weights_.to_numpy().T), axis=1)

    def _feature_importances(self, target) -> np.ndarray:
        """Base models' importances averaged with their mean absolute weights."""
        total = np.zeros(self.n_features_in_)
        mean_w = np.abs(self.weights_["const"].to_numpy())
        for (_, est), weight in zip(self.estimators_, mean_w, strict=True):
            if isinstance(est, BaseTrainer):
                imp = est._importance_series(None).reindex(self._feature_names()).to_numpy()
            elif hasattr(est, "feature_importances_"):
                imp = np.asarray(est.feature_importances_, dtype=float)
            elif hasattr(est, "coef_") and np.size(est.coef_) == self.n_features_in_:
                imp = np.abs(np.ravel(est.coef_))
            else:
                continue
            imp = np.nan_to_num(imp)
            if imp.sum() > 0:
                total += weight * imp / imp.sum()
        return total
