"""Stacking of HistGradientBoosting and RandomForest with chronological folds."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn import config_context
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from skquant.model_selection import chronological_oof_predict
from skquant.models._base import (
    UNSET,
    BaseSupervisedTrainer,
    FitData,
    TreeImportanceMixin,
)
from skquant.models._stacking import _FittedStack, openmp_threads, stack_features
from skquant.utils._docs import fill_doc
from skquant.utils._sklearn_compat import Hidden, Interval, Options, StrOptions

# the default of the depths, whose None (unlimited) must win over the YAML variant
_NOT_SET = Hidden(Options(type, {UNSET}))


@fill_doc
class EnsembleTrainer(TreeImportanceMixin, BaseSupervisedTrainer):
    """Stacking: HistGradientBoosting + RandomForest, then Ridge or LogisticRegression.

    The meta-learner (Ridge for regression, LogisticRegression for classification)
    is trained on *out-of-fold* predictions of the two base models, and those folds
    are chronological: the rows are cut into ``n_splits + 1`` consecutive time
    blocks (by distinct dates when ``X`` is indexed by date) and each block is
    predicted by base models fitted only on the blocks before it (see
    :func:`skquant.model_selection.chronological_oof_predict`). scikit-learn's
    ``StackingRegressor`` with its default KFold would feed the meta-learner
    predictions from models that had seen the future. The first block, which has
    no out-of-fold prediction, is not used by the meta-learner. Its inputs are
    standardised on its own rows first, so that its penalty does not depend on the
    target's scale (on returns of about 1e-2, a Ridge with ``meta_alpha`` 1 on raw
    base predictions shrank every weight to about 1e-3: the stack predicted its
    training mean). Finally both base models are refitted on every row.

    Every hyper-parameter defaults to ``None``, meaning "take it from ``config``,
    else from the YAML variant" (see :func:`skquant.load_model_config`). ``X`` may
    hold NaN (both base models route missing values). The model is not iterative:
    ``train``'s ``X_val``/``y_val`` are validated but not used for fitting.

    Parameters
    ----------
    {config}
    task : {"regression", "classification"}, default=None
        Regression (default) or classification; decides the meta-learner,
        ``predict_proba`` and tags.
    n_splits : int, default=None
        Out-of-fold time blocks predicted for the meta-learner (there are
        ``n_splits + 1`` blocks; fewer when there are fewer distinct dates).
    {oof_embargo_days}
    hgb_max_iter : int, default=None
        Boosting rounds of the HistGradientBoosting base model (no early stopping:
        its internal validation split would be shuffled).
    hgb_learning_rate : float, default=None
        Shrinkage of the HistGradientBoosting base model.
    hgb_max_depth, rf_max_depth : int or None, default=UNSET
        Maximum tree depth of the HistGradientBoosting and the RandomForest base
        models. ``UNSET`` (not given) takes the config's value; an explicit ``None``
        means unlimited, over the config.
    hgb_min_samples_leaf, rf_min_samples_leaf : int, default=None
        Minimum rows per leaf of the HistGradientBoosting and the RandomForest base
        models.
    hgb_l2_regularization : float, default=None
        L2 penalty of the HistGradientBoosting base model.
    rf_n_estimators : int, default=None
        Trees of the RandomForest base model.
    rf_max_features : float, default=None
        Share of the features tried at each RandomForest split.
    meta_alpha : float, default=None
        L2 penalty of the Ridge meta-learner (regression), on standardised inputs.
    meta_C : float, default=None
        Inverse L2 penalty of the LogisticRegression meta-learner (classification),
        on standardised inputs.
    passthrough : bool, default=None
        Also give the raw features to the meta-learner; a missing one takes the
        median of the meta-learner's training rows.
    random_state : int, RandomState or None, default=None
        Seed of the base models.
    n_jobs : int, default=None
        Threads of the RandomForest, and the OpenMP thread limit of the
        HistGradientBoosting model. None uses ``OMP_NUM_THREADS`` when set, else
        one thread per core.

    Attributes
    ----------
    model_ : object
        The fitted stack, also readable as ``model``: ``model_.predict(X)`` (and
        ``model_.predict_proba(X)`` for classification) give the trainer's
        predictions; ``model_.named_estimators_`` holds the refitted ``"hgb"`` and
        ``"rf"`` base models, ``model_.final_estimator_`` the meta-learner (a
        ``Pipeline`` of a ``StandardScaler`` and the Ridge or LogisticRegression, after a
        median ``SimpleImputer`` with ``passthrough``).
    {attributes.config_}
    {attributes.task_}
    n_splits_ : int
        The number of out-of-fold blocks actually used.
    meta_train_mask_ : ndarray of bool of shape (n_samples,)
        Rows whose out-of-fold predictions trained the meta-learner (False for the
        first time block).
    {attributes.classes_}
    {attributes.features_in}

    See Also
    --------
    LightGBMTrainer : a single gradient-boosting model.

    Examples
    --------
    >>> from skquant import EnsembleTrainer, load_model_config
    >>> trainer = EnsembleTrainer(load_model_config("ensemble"))
    >>> trainer.train(X_train, y_train)  # doctest: +SKIP
    """

    _registry_name = "ensemble"
    _tasks = ("regression", "classification")
    _allow_nan = True
    _config_aliases = {"cv": "n_splits", "final_estimator__alpha": "meta_alpha"}
    _embargoes_out_of_fold = True
    _defaults = {
        "n_splits": 5,
        "hgb_max_iter": 200,
        "hgb_learning_rate": 0.05,
        "hgb_min_samples_leaf": 20,
        "hgb_l2_regularization": 0.0,
        "rf_n_estimators": 200,
        "rf_min_samples_leaf": 1,
        "rf_max_features": 1.0,
        "meta_alpha": 1.0,
        "meta_C": 1.0,
        "passthrough": False,
    }
    _parameter_constraints = {
        "config": [dict, None],
        "task": [StrOptions({"regression", "classification"}), None],
        "n_splits": [Interval(Integral, 1, None, closed="left"), None],
        "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
        "hgb_max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "hgb_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "hgb_max_depth": [Interval(Integral, 1, None, closed="left"), None, _NOT_SET],
        "hgb_min_samples_leaf": [Interval(Integral, 1, None, closed="left"), None],
        "hgb_l2_regularization": [Interval(Real, 0, None, closed="left"), None],
        "rf_n_estimators": [Interval(Integral, 1, None, closed="left"), None],
        "rf_max_depth": [Interval(Integral, 1, None, closed="left"), None, _NOT_SET],
        "rf_min_samples_leaf": [Interval(Integral, 1, None, closed="left"), None],
        "rf_max_features": [Interval(Real, 0, 1, closed="right"), None],
        "meta_alpha": [Interval(Real, 0, None, closed="left"), None],
        "meta_C": [Interval(Real, 0, None, closed="neither"), None],
        "passthrough": ["boolean", None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        config=None,
        *,
        task=None,
        n_splits=None,
        embargo_days=None,
        hgb_max_iter=None,
        hgb_learning_rate=None,
        hgb_max_depth=UNSET,
        hgb_min_samples_leaf=None,
        hgb_l2_regularization=None,
        rf_n_estimators=None,
        rf_max_depth=UNSET,
        rf_min_samples_leaf=None,
        rf_max_features=None,
        meta_alpha=None,
        meta_C=None,
        passthrough=None,
        random_state=None,
        n_jobs=None,
    ):
        self.config = config
        self.task = task
        self.n_splits = n_splits
        self.embargo_days = embargo_days
        self.hgb_max_iter = hgb_max_iter
        self.hgb_learning_rate = hgb_learning_rate
        self.hgb_max_depth = hgb_max_depth
        self.hgb_min_samples_leaf = hgb_min_samples_leaf
        self.hgb_l2_regularization = hgb_l2_regularization
        self.rf_n_estimators = rf_n_estimators
        self.rf_max_depth = rf_max_depth
        self.rf_min_samples_leaf = rf_min_samples_leaf
        self.rf_max_features = rf_max_features
        self.meta_alpha = meta_alpha
        self.meta_C = meta_C
        self.passthrough = passthrough
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _base_models(self, config: dict, classification: bool):
        rng = check_random_state(config.get("random_state"))
        seeds = rng.randint(np.iinfo(np.int32).max, size=2)
        hgb_cls = (
            HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        )
        rf_cls = RandomForestClassifier if classification else RandomForestRegressor
        hgb = hgb_cls(
            max_iter=config["hgb_max_iter"],
            learning_rate=config["hgb_learning_rate"],
            max_depth=config.get("hgb_max_depth"),
            min_samples_leaf=config["hgb_min_samples_leaf"],
            l2_regularization=config["hgb_l2_regularization"],
            early_stopping=False,
            random_state=int(seeds[0]),
        )
        rf = rf_cls(
            n_estimators=config["rf_n_estimators"],
            max_depth=config.get("rf_max_depth"),
            min_samples_leaf=config["rf_min_samples_leaf"],
            max_features=config["rf_max_features"],
            n_jobs=config.get("n_jobs"),
            random_state=int(seeds[1]),
        )
        return [("hgb", hgb), ("rf", rf)]

    def _fit_model(self, data: FitData, config: dict) -> None:
        with openmp_threads(config.get("n_jobs")):
            self._fit_stack(data, config)

    def _fit_stack(self, data: FitData, config: dict) -> None:
        classification = config["task"] == "classification"
        X, y, w = data.X, data.y, data.sample_weight
        if len(y) < 2:
            raise ValueError(
                "EnsembleTrainer needs at least 2 training rows for a chronological "
                f"stacking fold, got n_samples = {len(y)}."
            )
        if classification and w is not None:
            weighted = np.unique(y[np.asarray(w) > 0])
            if len(weighted) < 2:
                raise ValueError(
                    "EnsembleTrainer needs at least 2 classes among the rows with a "
                    f"positive sample_weight, got only {self.classes_[weighted].tolist()}."
                )
        # stacking folds follow the dates of X when it had them, else the row order
        dates = data.dates
        n_periods = len(np.unique(dates)) if dates is not None else len(y)
        n_splits = min(config["n_splits"], n_periods - 1)
        if dates is not None:
            import pandas as pd

            X_folds = pd.DataFrame(X, index=pd.DatetimeIndex(dates))
        else:
            X_folds = X
        fit_params = {} if w is None else {"sample_weight": w}
        method = "predict_proba" if classification else "predict"
        bases = self._base_models(config, classification)
        columns, has_oof = [], None
        for name, base in bases:
            oof, mask = chronological_oof_predict(
                base,
                X_folds,
                y,
                n_splits=n_splits,
                method=method,
                fit_params=fit_params,
                embargo=config["embargo_days"],
            )
            if not np.isfinite(oof[mask]).all():
                raise ValueError(
                    f"EnsembleTrainer's base model {name!r} gave non-finite out-of-fold "
                    "predictions (a stacking fold with no usable rows, e.g. all "
                    "sample_weight zero); use more rows or fewer n_splits."
                )
            columns.append(oof)
            has_oof = mask if has_oof is None else has_oof & mask
        passthrough = bool(config["passthrough"])
        meta_X = stack_features([c[has_oof] for c in columns], X[has_oof], passthrough)
        meta_y = y[has_oof]
        if classification:
            learner = LogisticRegression(C=config["meta_C"], max_iter=1000)
            meta_y = self.classes_[meta_y]
            if len(np.unique(meta_y)) < 2:
                raise ValueError(
                    "EnsembleTrainer's meta-learner needs at least 2 classes among the rows "
                    "after the first time block, got only "
                    f"{np.unique(meta_y).tolist()}; use more rows or fewer n_splits."
                )
        else:
            learner = Ridge(alpha=config["meta_alpha"])
        steps = [("scale", StandardScaler()), ("meta", learner)]
        if passthrough:
            # the raw features may hold NaN (the bases take them); the linear
            # meta-learner gets the median of its own training rows instead
            steps.insert(0, ("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
        meta = Pipeline(steps)
        meta_w = None if w is None else w[has_oof]
        # the steps' weights by name, which metadata routing (when a user turned it on)
        # would refuse: the meta-learner is skquant's own, its weights are the fit's
        with config_context(enable_metadata_routing=False):
            meta.fit(meta_X, meta_y, scale__sample_weight=meta_w, meta__sample_weight=meta_w)
        for _, base in bases:
            base.fit(X, y, **fit_params)
        self.model_ = _FittedStack(
            bases,
            meta,
            method,
            passthrough,
            classes=self.classes_ if classification else None,
            n_jobs=config.get("n_jobs"),
        )
        self.n_splits_ = n_splits
        self.meta_train_mask_ = has_oof

    def _feature_importances(self, target) -> np.ndarray:
        """Impurity importance of the refitted RandomForest base model."""
        return self.model_.named_estimators_["rf"].feature_importances_
