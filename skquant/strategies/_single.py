"""One model per target."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils.metaestimators import available_if

from skquant.strategies._base import (
    BaseStrategy,
    as_frame,
    check_regression_target,
    fit_trainer,
    make_trainer,
    model_label,
    set_task,
    target_column,
)
from skquant.utils._docs import fill_doc
from skquant.utils._embargo import embargo_at_least
from skquant.utils._sklearn_compat import HasMethods, Interval, _fit_context
from skquant.utils._target import check_labels_not_features, choose_task
from skquant.utils._validation import check_validation_pair
from skquant.utils._variant import in_cloning_variant


def _single_classifier(strategy) -> bool:
    return getattr(strategy, "task_", None) == "classification"


class SingleTaskStrategy(BaseStrategy):
    """One model per target, with the task chosen from the target.

    A binary target (two distinct values, such as ``y_will_peak``) is fitted as a
    classification task when the model family supports it, so ``predict_proba``
    works; any other target as regression. With a DataFrame of several targets,
    one model is fitted per column.

    Parameters
    ----------
    model_name : str or estimator, default="lightgbm"
        A registry name (see :func:`skquant.list_models`) or an estimator to clone.
    model_config : dict, default=None
        The trainer's config (e.g. from :func:`skquant.load_model_config`). A
        ``task`` key here overrides the automatic choice.
    embargo_days : int, default=None
        Dates the model drops at least before its own early-stopping tail (0 when
        None; a larger embargo in its config is kept): labels of horizon h need
        ``embargo_days >= h``. The walk-forward engine sets it to its folds' embargo.

    Attributes
    ----------
    estimator_ : estimator
        The fitted model (single target).
    estimators_ : dict of str to estimator
        The fitted model of each target, by target name.
    task_ : str or dict
        ``"classification"`` or ``"regression"``; with several targets, a dict by
        target name.
    target_names_ : list of str
        The target names (``["y"]`` for an unnamed 1-D target).
    classes_ : ndarray
        Class labels, for a single classification target.
    config_ : dict
        The strategy, the task(s) and each model's resolved config.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` had string column names.
    y_is_frame_ : bool
        Whether ``y`` was a DataFrame (several targets are then predicted as one).

    See Also
    --------
    MultiTaskStrategy : one multi-output model over several targets.
    CascadeStrategy : a chain of models feeding each other's predictions.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skquant import SingleTaskStrategy
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    >>> y = (X["a"] > 0).astype(int).rename("y_will_peak")
    >>> strategy = SingleTaskStrategy("lightgbm", {"n_estimators": 20, "n_jobs": 1})
    >>> model = strategy.train(X[:200], y[:200], X[200:], y[200:])
    >>> model.task_
    'classification'
    >>> model.predict_proba(X[200:]).shape
    (100, 2)
    """

    _parameter_constraints: dict = {
        "model_name": [str, HasMethods(["fit"])],
        "model_config": [dict, None],
        "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, model_name="lightgbm", model_config=None, embargo_days=None):
        self.model_name = model_name
        self.model_config = model_config
        self.embargo_days = embargo_days

    def _is_classifier(self) -> bool:
        return _single_classifier(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._inner_allows_nan(self.model_name)
        return tags

    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_doc
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Fit one model per target.

        {strategy.parameters}
        y : Series, DataFrame or array-like of shape (n_samples,) or (n_samples, n_targets)
            Target(s).
        {strategy.X_val}

        {returns.strategy}
        """
        check_validation_pair(X_val, y_val)
        check_labels_not_features(X, y)
        frame = as_frame(y)
        if frame is not None and frame.shape[1] == 1:
            y = frame.iloc[:, 0]
            if y_val is not None:
                y_val = as_frame(y_val).iloc[:, 0]
            frame = None
        self.y_is_frame_ = isinstance(y, pd.DataFrame)
        if frame is None:
            name = getattr(y, "name", None)
            name = str(name) if name is not None else "y"
            targets = {name: (y, y_val)}
        else:
            val_frame = as_frame(y_val, list(frame.columns)) if y_val is not None else None
            if val_frame is not None and list(val_frame.columns) != list(frame.columns):
                raise ValueError(
                    f"y_val must have the columns of y {list(frame.columns)}, got "
                    f"{list(val_frame.columns)}."
                )
            targets = {
                str(col): (frame[col], None if val_frame is None else val_frame[col])
                for col in frame.columns
            }
        estimators, tasks = {}, {}
        for name, (yt, yv) in targets.items():
            trainer = make_trainer(self.model_name, self.model_config)
            embargo_at_least(trainer, self.embargo_days)  # its own early-stopping tail
            task = choose_task(trainer, yt, self.model_config)
            if task == "regression":
                check_regression_target(yt, name, f"{type(trainer).__name__} (SingleTaskStrategy)")
            set_task(trainer, task)
            estimators[name] = fit_trainer(trainer, X, yt, X_val, yv)
            tasks[name] = task
        self.estimators_ = estimators
        self.target_names_ = list(estimators)
        single = len(estimators) == 1
        first = next(iter(estimators.values()))
        if single:
            self.estimator_ = first
            self.task_ = tasks[self.target_names_[0]]
            if self.task_ == "classification":
                self.classes_ = first.classes_
        else:
            self.task_ = tasks
        self.config_ = {
            "strategy": "single_task",
            "model_name": model_label(self.model_name),
            "task": self.task_,
            "models": {name: getattr(est, "config_", None) for name, est in estimators.items()},
        }
        self._copy_feature_info(first, X)
        return self

    def predict(self, X):
        """Predict each target.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets), or DataFrame
            An array for one target; for several, a DataFrame with a column per
            target when ``y`` was a DataFrame, else a 2-D array.
        """
        self._check_fitted()
        if len(self.estimators_) == 1:
            return self.estimator_.predict(X)
        columns = {name: np.asarray(est.predict(X)) for name, est in self.estimators_.items()}
        if not self.y_is_frame_:  # array in, array out (as scikit-learn's multi-output models)
            return np.column_stack(list(columns.values()))
        return pd.DataFrame(columns, index=getattr(X, "index", None))

    @available_if(_single_classifier)
    def predict_proba(self, X):
        """Class probabilities of a single classification target.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        self._check_fitted()
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R^2 (regression) of a single target."""
        self._check_fitted()
        if len(self.estimators_) != 1:
            raise ValueError("score is defined for a single target; score each estimator instead.")
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    @fill_doc
    def get_feature_importance(self, target=None, kind="gain", X=None, y=None) -> pd.Series:
        """Feature importance of one target's model (the only one when ``target`` is None).

        Parameters
        ----------
        target : str, default=None
            The target whose model to explain; required with several targets.
        {strategy.kind_X}
        y : array-like or DataFrame, default=None
            The targets of ``X`` (``"permutation"``): ``target``'s column (a 2-D
            array's columns in ``target_names_`` order).

        {returns.importance}
        """
        self._check_fitted()
        if target is None:
            if len(self.estimators_) != 1:
                raise ValueError(
                    f"Pass target=, one of {self.target_names_}, for a multi-target strategy."
                )
            target = self.target_names_[0]
        if target not in self.estimators_:
            raise ValueError(f"Unknown target {target!r}; fitted targets: {self.target_names_}.")
        if kind == "permutation":
            y = target_column(y, target, self.target_names_)
        return self.estimators_[target].get_feature_importance(kind=kind, X=X, y=y)
