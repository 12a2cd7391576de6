"""Shared pieces of the strategies: building trainers, target handling, ``train``."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from skquant.utils._sklearn_compat import ClassifierTags, RegressorTags, check_is_fitted
from skquant.utils._variant import record_cloning_process
from skquant.utils._warnings import caller_stacklevel


def make_trainer(model, model_config=None, *, param_name="model_name"):
    """A fresh, unfitted trainer from a registry name or an estimator (cloned)."""
    from skquant.registry import get_trainer

    if isinstance(model, str):
        cls = get_trainer(model)
        if model_config is not None and not isinstance(model_config, Mapping):
            raise ValueError(
                f"model_config must be a dict (e.g. from load_model_config), got "
                f"{type(model_config).__name__}."
            )
        return cls(dict(model_config)) if model_config is not None else cls()
    if hasattr(model, "fit") and hasattr(model, "get_params"):
        if model_config is not None:
            return clone(model).set_params(**dict(model_config))
        return clone(model)
    raise ValueError(
        f"{param_name} must be a registry name such as 'lightgbm' or a scikit-learn "
        f"estimator, got {model!r}."
    )


def model_label(model) -> str:
    """How ``config_`` names a model: its registry name, else its ``repr``."""
    return model if isinstance(model, str) else repr(model)


def set_task(trainer, task: str):
    """Set ``task`` on a trainer that has the parameter (a no-op for regression-only ones)."""
    if "task" in trainer.get_params(deep=False):
        trainer.set_params(task=task)
    return trainer


def _fit_takes_X_val(trainer) -> bool:
    """Whether ``trainer.fit`` names an ``X_val`` parameter (a Pipeline's ``**params``
    would route it to no step, and refuse it)."""
    try:
        return "X_val" in inspect.signature(trainer.fit).parameters
    except (TypeError, ValueError):
        return False


def check_regression_target(y, target: str, who: str) -> None:
    """A model fitted as a regression needs a target of numbers: labels are refused
    naming the model (``who``) and the target (numpy's bare "could not convert string
    to float: 'flat'" came from the model's fit or the out-of-fold blocks before)."""
    try:
        np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        value = next((v for v in np.asarray(y).ravel() if not _is_number(v)), None)
        raise ValueError(
            f"{who} is fitted as a regression, but its target {target!r} holds "
            f"{value!r}, which is not a number. Give it a classifier (a scikit-learn "
            "classifier, or a skquant trainer with task='classification' in its config) "
            "or encode the target as numbers."
        ) from None


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def fit_trainer(trainer, X, y, X_val=None, y_val=None):
    """Fit through the guide's ``train`` when the trainer has it, else ``fit``.

    A model whose ``fit`` takes no ``X_val`` (a scikit-learn estimator, a Pipeline)
    is fitted without the validation rows, with a warning: it has nothing to stop
    early (``Ridge.fit() got an unexpected keyword argument 'X_val'`` before, audit).
    """
    if hasattr(trainer, "train"):
        trainer.train(X, y, X_val, y_val)
    elif X_val is not None and _fit_takes_X_val(trainer):
        trainer.fit(X, y, X_val=X_val, y_val=y_val)
    else:
        if X_val is not None:
            warnings.warn(
                f"{type(trainer).__name__}.fit takes no X_val: it is fitted on the training "
                "rows without the validation rows (nothing to stop early on).",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        trainer.fit(X, y)
    return trainer


def pandas_index(obj):
    """The index of a pandas object, else None (a list's ``index`` is a method)."""
    return obj.index if isinstance(obj, (pd.Series, pd.DataFrame)) else None


def as_frame(y, names=None) -> pd.DataFrame | None:
    """``y`` as a DataFrame when it has several columns (or is already one)."""
    if isinstance(y, pd.DataFrame):
        return y
    arr = np.asarray(y)
    if arr.ndim == 2:
        cols = names if names is not None else [f"y{i}" for i in range(arr.shape[1])]
        return pd.DataFrame(arr, columns=cols, index=pandas_index(y))
    return None


def target_column(y, target: str, target_names: list[str], *, by_position: bool = True):
    """The part of ``y`` that holds ``target``, for scoring ``target``'s model.

    A DataFrame gives its column named ``target``, or its only column when that is
    not named after another target. A 1-D ``y`` is taken as it is, unless it is a
    Series named after another target. A 2-D array's columns are ``target_names``
    when ``by_position`` and there is one per target, else ``y0, y1, ...`` as ``fit``
    names an array's columns.

    Raises
    ------
    ValueError
        When ``y`` holds other targets but not ``target``.
    """
    if y is None:
        return None
    if np.ndim(y) < 2:
        name = getattr(y, "name", None)
        if name is not None and str(name) != target and str(name) in target_names:
            raise ValueError(f"y is the target {str(name)!r}, not {target!r}; pass {target!r}.")
        return y
    if isinstance(y, pd.DataFrame):
        frame = y.rename(columns=str)
    else:
        names = list(target_names) if by_position and np.shape(y)[1] == len(target_names) else None
        frame = as_frame(y, names)
    if target in frame.columns:
        return frame[target]
    if frame.shape[1] == 1 and frame.columns[0] not in target_names:
        return frame.iloc[:, 0]
    raise ValueError(
        f"y has no column {target!r} to score it on; its columns are {list(frame.columns)}."
    )


def check_target_names(
    target_names, frame: pd.DataFrame, what: str = "y", source: str = "target_names"
) -> list[str]:
    """``target_names`` as strings; a ValueError names those that are not columns of
    ``frame``, and where they came from (``source``: the parameter, or ``y``'s columns
    when the user gave none)."""
    names = [str(n) for n in target_names]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(
            f"{source} {missing} are not columns of {what}; its columns are "
            f"{[str(c) for c in frame.columns]}."
        )
    return names


class BaseStrategy(BaseEstimator):
    """Base of the strategies (not for direct use): ``train`` and fitted checks."""

    def __sklearn_clone__(self):
        """A clone that records this process's ``MODEL_VARIANT``, which its models read
        when it is fitted in a joblib worker (see :mod:`skquant.utils._variant`)."""
        new = super().__sklearn_clone__()
        record_cloning_process(new)
        return new

    def train(self, X_train, y_train, X_val=None, y_val=None):
        """Fit as in the user guide, early-stopping on ``(X_val, y_val)`` when given.

        Parameters
        ----------
        X_train : DataFrame or array-like of shape (n_samples, n_features)
            Training features, rows in time order (or indexed by date).
        y_train : Series, DataFrame or array-like
            Training target(s).
        X_val, y_val : default=None
            Validation rows, later than the training rows, for early stopping.

        Returns
        -------
        model : object
            The fitted strategy (``self``), ready to ``predict``.
        """
        return self.fit(X_train, y_train, X_val=X_val, y_val=y_val)

    def _is_classifier(self) -> bool:
        """Whether the strategy reports itself as a classifier (else a regressor)."""
        return False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        classifier = self._is_classifier()
        tags.estimator_type = "classifier" if classifier else "regressor"
        tags.classifier_tags = ClassifierTags() if classifier else None
        tags.regressor_tags = None if classifier else RegressorTags()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_features_in_")

    def _inner_allows_nan(self, model) -> bool:
        """Whether the (first) model accepts NaN in ``X``; the strategy says the same."""
        try:
            return bool(make_trainer(model).__sklearn_tags__().input_tags.allow_nan)
        except (ValueError, TypeError, AttributeError):
            return False

    def _copy_feature_info(self, fitted, X) -> None:
        n = getattr(fitted, "n_features_in_", None)
        self.n_features_in_ = int(n) if n is not None else int(np.shape(X)[1])
        names = getattr(fitted, "feature_names_in_", None)
        if names is None and hasattr(X, "columns"):
            names = np.asarray([str(c) for c in X.columns], dtype=object)
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)

    def _check_fitted(self) -> None:
        check_is_fitted(self)
