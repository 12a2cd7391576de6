"""The shared base of every skquant trainer.

A trainer is a plain scikit-learn estimator: ``__init__`` stores its arguments and
nothing else. At ``fit`` time the hyper-parameters are resolved in three layers, each
winning over the one before:

1. the YAML variant of the family (``MODEL_VARIANT`` or ``balanced``),
2. the ``config`` dict given as first argument (usually from ``load_model_config``),
3. every parameter set explicitly, e.g. by ``GridSearchCV``: not ``None``, or, for the
   few parameters whose ``None`` means something to the library (default ``UNSET``),
   not ``UNSET``.

Keys no layer sets take the family's ``_defaults``. The result, checked against
``_parameter_constraints``, is stored in ``config_``; the task comes from the same
layers, for the tags before ``fit`` too.
"""

from __future__ import annotations

import copy
import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

from skquant.models._explain import (
    as_model_input,
    check_kind,
    check_rows_explainable,
    mean_abs,
    package_shap_values,
    permutation_scores,
)
from skquant.utils._docs import fill_doc
from skquant.utils._sklearn_compat import (
    ClassifierTags,
    RegressorTags,
    _check_sample_weight,
    _fit_context,
    check_is_fitted,
    validate_data,
    validate_parameter_constraints,
)
from skquant.utils._target import (
    check_labels_not_features,
    is_binary_target,
    tail_embargo,
    validation_gap,
)
from skquant.utils._time import (
    chronological_tail_split,
    dates_of,
    holds_out_tail,
    warn_if_validation_not_after,
)
from skquant.utils._validation import (
    check_validation_pair,
    several_outputs_error,
    validate_named,
)
from skquant.utils._variant import in_cloning_variant, record_cloning_process
from skquant.utils._warnings import caller_stacklevel

TASKS = ("regression", "classification")

# Keys of a resolved config that are skquant's own and reach no library estimator: the
# config itself, the task, and the early-stopping split (patience, tail share, embargo
# before the tail), which the trainers apply themselves. A trainer's ``_library_keys``
# (the allow-list of keys its library estimator takes) may hold none of them.
SKQUANT_ONLY_KEYS = frozenset(
    {"config", "task", "early_stopping_rounds", "validation_fraction", "embargo_days"}
)


class _UnsetType(type):
    def __repr__(cls) -> str:
        return "UNSET"


class UNSET(metaclass=_UnsetType):
    """The default of a parameter whose ``None`` means something to the library.

    ``EnsembleTrainer(rf_max_depth=None)`` asks for unlimited depth, which must win
    over the YAML variant's depth; leaving the parameter at ``UNSET`` takes it from
    ``config``, else from the YAML variant. A class, so that it is one object through
    ``clone``, ``copy`` and ``pickle``.
    """


@functools.cache
def _init_parameters(cls) -> frozenset[str]:
    """The parameter names of ``cls.__init__``."""
    return frozenset(inspect.signature(cls.__init__).parameters) - {"self"}


@functools.cache
def _none_is_a_value(cls) -> frozenset[str]:
    """The parameters of ``cls`` whose default is ``UNSET``: for them ``None`` is a value."""
    params = inspect.signature(cls.__init__).parameters.values()
    return frozenset(p.name for p in params if p.default is UNSET)


class FitData(NamedTuple):
    """Training rows and the early-stopping validation rows, as validated arrays.

    ``dates`` and ``index`` belong to the training rows (``X``): the per-row dates of
    a date-indexed ``X`` (see ``dates_of``) and its pandas index, None for arrays.
    """

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    sample_weight_val: np.ndarray | None
    dates: np.ndarray | None = None
    index: pd.Index | None = None


def _threads_from_env() -> int | None:
    """``OMP_NUM_THREADS`` as an int, or None.

    LightGBM and XGBoost ignore ``OMP_NUM_THREADS`` when ``n_jobs`` is left unset and
    take every core, which under joblib or pytest-xdist oversubscribes the machine. A
    trainer whose ``n_jobs`` resolves to None therefore honours the variable.
    """
    import os

    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class BinaryTargetWarning(UserWarning):
    """A regression-task trainer was fitted on a target with two distinct values."""


def warn_if_binary_regression(estimator, y, task: str) -> None:
    """Warn once per fit when a trainer that can classify regresses on a 0/1-like target.

    A binary label (``y_will_peak``) fitted with the default task, regression, is
    regressed on as numbers, and ``classification_report`` then fails on the mix of
    binary labels and continuous predictions. A task set explicitly (as a parameter or
    in ``config``) is the user's choice and is not warned about; the strategies set it
    themselves, so a fold of theirs whose target happens to hold two values is quiet.
    """
    explicit = getattr(estimator, "task", None) is not None or (
        isinstance(estimator.config, Mapping) and estimator.config.get("task") is not None
    )
    if (
        task == "regression"
        and not explicit
        and "classification" in estimator._tasks
        and is_binary_target(y)
    ):
        warnings.warn(
            f"{type(estimator).__name__} is regressing on a target with exactly two "
            f'distinct values; pass task="classification" to fit a classifier '
            "(predict_proba, class labels from predict).",
            BinaryTargetWarning,
            stacklevel=caller_stacklevel(),
        )


def target_names_of(y) -> list[str] | None:
    """``[y.name]`` for a named Series (the ``target_names_`` of a one-target model), else None."""
    return [y.name] if isinstance(getattr(y, "name", None), str) else None


def _is_classification(estimator) -> bool:
    return estimator._effective_task() == "classification"


class ConfigMixin:
    """Config resolution of a trainer: YAML variant < ``config`` < explicit parameters.

    ``fit`` stores the resolved dict in ``config_``. A family sets the class
    attributes below and ``_parameter_constraints``, which the resolved dict is
    checked against.

    Class attributes
    ----------------
    _registry_name : str
        The family's registry name, which is also its YAML file in ``configs/``.
    _config_aliases : dict
        Library spellings accepted in configs (``min_data_in_leaf``) mapped to the
        parameter they set (``min_child_samples``).
    _tasks : tuple of str
        The tasks the family supports, the first the default; empty for the feature
        trainers, whose config has no task.
    _defaults : dict
        The value of each key that neither parameter, ``config`` nor YAML variant
        sets (the family's fallback defaults; the boosters have none: the library's
        own default applies).
    _library_keys : frozenset of str
        The config keys the wrapped library estimator takes (see ``_library_params``).
    """

    _registry_name: ClassVar[str]
    _config_aliases: ClassVar[dict[str, str]] = {}
    _tasks: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    # ``embargo_days`` embargoes out-of-fold blocks (a stacking ensemble), not only an
    # early-stopping tail: resolved (None is the label horizon) on every fit
    _embargoes_out_of_fold: ClassVar[bool] = False
    _library_keys: ClassVar[frozenset[str]] = frozenset()

    # ------------------------------------------------------------------ config
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        leaked = SKQUANT_ONLY_KEYS & set(cls._library_keys)
        if leaked:
            raise TypeError(
                f"{cls.__name__}._library_keys holds skquant-only keys {sorted(leaked)}; "
                "no library estimator may receive them."
            )

    def __new__(cls, *args, **kwargs):
        """Refuse a library's spelling of a parameter (``verbosity``, ``seed``) passed as
        a keyword with the parameter to use: Python's own TypeError named neither."""
        aliases = cls._config_aliases
        for key, value in kwargs.items():
            if key in aliases and key not in _init_parameters(cls):
                raise TypeError(
                    f"{cls.__name__}() got an unexpected keyword argument {key!r}: it is "
                    f"the library's name of {aliases[key]!r}; pass {aliases[key]}={value!r} "
                    f"(or {key!r} as a key of config)."
                )
        return super().__new__(cls)

    def _explicit_params(self) -> dict[str, Any]:
        """The parameters set explicitly: not None (not UNSET where None is a value)."""
        none_is_a_value = _none_is_a_value(type(self))
        return {
            key: value
            for key, value in self.get_params(deep=False).items()
            if key != "config"
            and value is not UNSET
            and (value is not None or key in none_is_a_value)
        }

    def __sklearn_clone__(self):
        """A clone (``sklearn.base.clone``) that records this process's ``MODEL_VARIANT``:
        fitted in a joblib worker, which keeps the environment it started with, it
        reads that variant (see :mod:`skquant.utils._variant`)."""
        new = super().__sklearn_clone__()
        record_cloning_process(new)
        return new

    def _config_layers(self) -> dict[str, Any]:
        """YAML variant < ``config`` < explicit parameters, merged but not validated."""
        from skquant.config import load_model_config, validate_config_keys

        layers = load_model_config(self._registry_name)
        if self.config is not None:
            if not isinstance(self.config, Mapping):
                raise ValueError(
                    f"The 'config' parameter of {type(self).__name__} must be a dict "
                    f"(e.g. from load_model_config), got {type(self.config).__name__}."
                )
            given = dict(self.config)
            if "task" in given and self._tasks and "task" not in _init_parameters(type(self)):
                # a resolved config_ (a saved model's config.json) records the family's
                # one task, which is no parameter of it: the same task is accepted
                if given["task"] not in self._tasks:
                    raise ValueError(
                        f"{type(self).__name__} supports task in {list(self._tasks)}, got "
                        f"task={given['task']!r} in config."
                    )
                del given["task"]
            layers.update(validate_config_keys(self._registry_name, given, "config"))
        layers.update(self._explicit_params())
        return layers

    def _task_of(self, layers: Mapping[str, Any]) -> str | None:
        """The task of merged config layers: the latest layer that sets one, else the default."""
        return layers.get("task") or (self._tasks[0] if self._tasks else None)

    def _effective_task(self) -> str | None:
        """The task ``fit`` will use, from the same layers (for the tags before fit).

        A config or variant that ``fit`` would reject leaves the tags to the layers that
        can be read (the parameter, then ``config``), so that ``fit`` raises the error.
        """
        try:
            layers = self._config_layers()
        except ValueError:
            layers = dict(self.config) if isinstance(self.config, Mapping) else {}
            layers.update(self._explicit_params())
        return self._task_of(layers)

    def _resolve_config(self) -> dict[str, Any]:
        """The config layers, validated, with the family's ``_defaults`` for unset keys.

        A default fills a key that no layer sets (or that a layer leaves None), unless
        the key's parameter was set explicitly (an explicit None where None is a value).
        """
        resolved = self._config_layers()
        explicit = self._explicit_params()
        for key, default in self._defaults.items():
            if resolved.get(key) is None and key not in explicit:
                resolved[key] = copy.deepcopy(default)
        validate_parameter_constraints(
            self._parameter_constraints, resolved, caller_name=type(self).__name__
        )
        if self._tasks:
            task = self._task_of(resolved)
            if task not in self._tasks:
                raise ValueError(
                    f"{type(self).__name__} supports task in {list(self._tasks)}, "
                    f"got task={task!r}."
                )
            resolved["task"] = task
        if "n_jobs" in self.get_params(deep=False) and resolved.get("n_jobs") is None:
            resolved["n_jobs"] = _threads_from_env()
        return resolved

    def _library_params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The library estimator's keyword arguments: the ``_library_keys`` that are set.

        Only allow-listed keys pass, so a skquant-only key (``SKQUANT_ONLY_KEYS``) or a
        key the library does not take never reaches it; keys the library spells its
        own way (``verbose``) are added by the trainer.
        """
        return {key: config[key] for key in self._library_keys if config.get(key) is not None}


_NOTHING_USED = {
    "gain": "the model never used a feature (e.g. every tree is a single leaf)",
    "shap": "no feature moved the model's output (e.g. every tree is a single leaf)",
    "permutation": (
        "shuffling no feature changed the score (the model never used a feature, e.g. "
        "every tree is a single leaf, or its predictions are constant)"
    ),
}


def warn_if_all_zero(importance: pd.Series, kind: str, owner: str) -> None:
    """Warn that ``importance`` ranks nothing when every value is 0.

    Sorting ties keeps the column order, so ``importance.head(60)`` would select the
    first 60 columns of the file as if they were the best.
    """
    values = importance.to_numpy(dtype=float)
    if values.size and np.all(values == 0):
        warnings.warn(
            f"{owner}.get_feature_importance(kind={kind!r}): every importance is 0: "
            f"{_NOTHING_USED.get(kind, _NOTHING_USED['gain'])}, so the order is "
            "meaningless (the column order): do not select features from it.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


class BaseTrainer(ConfigMixin, BaseEstimator):
    """The root of every skquant trainer (not for direct use): config and inspection.

    A trainer derives from one base per role: ``BaseSupervisedTrainer`` (regressors
    and classifiers) or ``BaseFeatureTrainer`` (feature transformers). Every trainer
    implements ``_feature_importances(target)``.

    Class attributes
    ----------------
    _allow_nan : bool
        Whether ``X`` may hold NaN (the library handles missing values).
    """

    _allow_nan: ClassVar[bool] = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allow_nan
        return tags

    # ------------------------------------------------------------------ inspection
    @property
    def model(self):
        """The fitted underlying library model (read-only view of ``model_``)."""
        check_is_fitted(self)
        return self.model_

    def _feature_names(self) -> np.ndarray:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return np.asarray(names, dtype=object)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    def _check_target(self, target) -> None:
        names = getattr(self, "target_names_", None)
        if target is not None and names is not None and target not in names:
            raise ValueError(f"Unknown target {target!r}; this model was fitted on {names}.")

    def get_feature_importance(self, target=None, kind="gain", X=None, y=None) -> pd.Series:
        """Feature importance as a Series indexed by feature name, sorted descending.

        Parameters
        ----------
        target : str, default=None
            For multi-target models, the target whose importance to return. A
            single-target model accepts its own target name or None.
        kind : {"gain", "shap", "permutation"}, default="gain"
            ``"gain"``: the model's own importance (what ``feature_importances_``
            holds for tree models; each family documents its own). ``"shap"``: the
            mean absolute SHAP value of each feature over the rows of ``X``; LightGBM,
            XGBoost and quantile LightGBM give exact values of their trees
            (``pred_contrib``, in raw score units: log-odds for a classifier), every
            other family needs the ``shap`` package (``pip install 'skquant[shap]'``),
            which explains ``predict_proba`` (classifiers), ``predict`` (regressors)
            or ``transform`` (feature models) with at most 50 rows of ``X`` as
            background, calling it about 10 times per row of ``X`` (pass a few
            hundred rows at most); a model whose output for a row reads earlier rows
            (``history_periods_``, a sequence net's ``seq_len``) is refused, as the
            package explains rows one at a time. Several outputs (classes, quantiles,
            targets when ``target`` is None) are averaged. ``"permutation"``: the mean
            decrease, over 5 shuffles (seed 0), of a trading score on ``(X, y)`` when one
            feature is shuffled: the Sharpe ratio of the sign of the predictions for a
            regressor, the hit rate of the direction calls for a binary classifier,
            accuracy for a multiclass one (supervised single-target models only). A
            shuffle draws from all the rows of ``X``, across dates (and symbols, on a
            panel), which keep their index: returns are still booked per date.
        X : array-like of shape (n_samples, n_features), default=None
            The rows to explain (``"shap"``) or score (``"permutation"``), with the
            features the model was fitted on; rows it was not fitted on (its
            training rows reward what it memorised; the model keeps no record of them,
            so this is not checked: :func:`skquant.inspection.walk_forward_importance`
            refits it fold by fold and scores each fold's test rows).
        y : array-like of shape (n_samples,), default=None
            The targets of ``X`` (``"permutation"`` only).

        Returns
        -------
        importance : pandas.Series
            ``importance.head(60).index.tolist()`` selects the top 60 features.

        Raises
        ------
        ValueError
            For an unknown ``kind``; when ``X`` (``"shap"``, ``"permutation"``) or
            ``y`` (``"permutation"``) is missing; when ``X`` does not have the
            fitted features.
        ImportError
            For ``kind="shap"`` on a family without tree contributions when the
            ``shap`` package is not installed.

        Warns
        -----
        UserWarning
            When every importance is 0: the model never used a feature (e.g. every
            tree is a single leaf, as when ``min_child_samples`` exceeds the rows), so
            the order is the order of the columns and ``head(60)`` would select the
            first 60 columns of the file.
        """
        series = self._importance_series(target, kind, X, y)
        warn_if_all_zero(series, kind, type(self).__name__)
        return series

    def _importance_series(self, target, kind="gain", X=None, y=None) -> pd.Series:
        """``get_feature_importance`` without its warning (for a model that wraps this one)."""
        check_is_fitted(self)
        self._check_target(target)
        check_kind(kind)
        if kind == "gain":
            values = self._feature_importances(target)
        else:
            needs = {"X": X} if kind == "shap" else {"X": X, "y": y}
            missing = [name for name, value in needs.items() if value is None]
            if missing:
                raise ValueError(
                    f"kind={kind!r} needs {' and '.join(needs)}; {' and '.join(missing)} "
                    "missing: pass the rows to explain, preferably rows the model was not "
                    "fitted on."
                )
            Xa = self._validate_X_like_fit(X)
            if kind == "shap":
                values = mean_abs(self._shap_values(Xa, target))
            else:
                values = self._permutation_importances(X, y)
        series = pd.Series(np.asarray(values, dtype=float), index=self._feature_names())
        series.name, series.index.name = "importance", "feature"
        return series.sort_values(ascending=False, kind="stable")

    def _feature_importances(self, target) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _validate_X_like_fit(self, X) -> np.ndarray:
        """``X`` checked against the fitted features, as ``predict`` checks it."""
        return validate_data(
            self, X, reset=False, ensure_all_finite="allow-nan" if self._allow_nan else True
        )

    def _target_index(self, target) -> int | None:
        """The output column of ``target`` for a multi-output model, else None."""
        return None

    def _tree_contributions(self, Xa: np.ndarray) -> np.ndarray | None:
        """Exact SHAP values of a tree model, bias dropped: (n_samples, n_features[,
        n_outputs]); None for a family without them (the ``shap`` package is used)."""
        return None

    def _explained_output(self, target) -> Callable[[np.ndarray], np.ndarray]:
        """The function of the rows that ``kind="shap"`` explains (see
        ``get_feature_importance``)."""
        method = self._explained_method()
        column = self._target_index(target)
        names = getattr(self, "feature_names_in_", None)

        def output(rows: np.ndarray) -> np.ndarray:
            out = np.asarray(method(as_model_input(rows, names)), dtype=float)
            return out[:, column] if column is not None and out.ndim == 2 else out

        return output

    def _explained_method(self) -> Callable:
        """A feature model's SHAP values explain its features (``transform``)."""
        return self.transform

    def _shap_values(self, Xa: np.ndarray, target) -> np.ndarray:
        values = self._tree_contributions(Xa)
        if values is None:
            check_rows_explainable(self)
            values = package_shap_values(self._explained_output(target), Xa, self._feature_names())
        return values

    def _permutation_importances(self, X, y) -> np.ndarray:
        raise ValueError(
            f"kind='permutation' scores predictions against y; {type(self).__name__} is a "
            "feature model without a score. Use kind='shap' or kind='gain'."
        )


class BaseSupervisedTrainer(BaseTrainer):
    """Base class of the regressors and classifiers (not for direct use).

    The fit template resolves the config, validates the data into a ``FitData``
    (with the early-stopping rows, the dates and the index of the training rows) and
    calls ``_fit_model(data, config)``, which subclasses implement: it sets
    ``model_`` (and, for iterative models, ``evals_result_`` and ``best_iteration_``).
    ``train`` returns the fitted trainer.

    Class attributes
    ----------------
    _poor_score_tasks : frozenset of str
        The tasks in which the default config is not expected to learn scikit-learn's
        200-row toy data (the ``poor_score`` tag); each family says why beside it.
    """

    _tasks: ClassVar[tuple[str, ...]] = ("regression",)
    _poor_score_tasks: ClassVar[frozenset[str]] = frozenset()

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        task = self._effective_task()
        poor_score = task in self._poor_score_tasks
        if task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(poor_score=poor_score)
            tags.regressor_tags = None
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags(poor_score=poor_score)
            tags.classifier_tags = None
        tags.target_tags.required = True
        return tags

    # ------------------------------------------------------------------ data
    def _validate_fit_data(self, X, y, sample_weight, X_val, y_val, config) -> FitData:
        """Validate the training data and cut the early-stopping validation rows.

        With ``X_val``/``y_val`` those are the validation rows. Otherwise, when
        ``early_stopping_rounds`` is positive, the latest ``validation_fraction`` of
        the training dates (never a shuffled or leading slice) is held out, from
        ``MIN_ROWS_FOR_TAIL`` (10) training rows up (see ``holds_out_tail``).
        """
        check_validation_pair(X_val, y_val)
        check_labels_not_features(X, y)
        classification = config["task"] == "classification"
        ensure_finite = "allow-nan" if self._allow_nan else True
        Xa, ya = validate_data(
            self,
            X,
            y,
            ensure_all_finite=ensure_finite,
            y_numeric=not classification,
            multi_output=False,
        )
        self.target_names_ = target_names_of(y)
        warn_if_binary_regression(self, ya, config["task"])
        ya = self._encode_target(ya, classification, fit=True)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, Xa, ensure_non_negative=True)
            if not np.any(w > 0):
                raise ValueError("sample_weight is zero for every row; nothing to fit.")
        if X_val is not None:
            Xv = validate_named(self, X_val, "X_val", ensure_all_finite=ensure_finite)
            yv = column_or_1d(
                check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val"), warn=True
            )
            if len(yv) != len(Xv):
                raise ValueError(f"X_val has {len(Xv)} rows but y_val has {len(yv)}.")
            if not classification:
                yv = check_array(yv, ensure_2d=False, dtype="numeric", input_name="y_val")
        dates = dates_of(X)
        index = X.index if isinstance(X, pd.DataFrame) else None
        if self._embargoes_out_of_fold:  # config_ says what the blocks were embargoed by
            config["embargo_days"] = tail_embargo(
                self,
                y,
                config.get("embargo_days"),
                held_out="chronological out-of-fold blocks of its training rows",
            )
        if X_val is not None:
            warn_if_validation_not_after(X, X_val, *validation_gap(y))
            yv = self._encode_target(yv, classification)
            return FitData(Xa, ya, w, Xv, yv, None, dates, index)
        if holds_out_tail(
            len(Xa), config.get("early_stopping_rounds"), config.get("validation_fraction")
        ):
            embargo = tail_embargo(self, y, config.get("embargo_days"))
            config["embargo_days"] = embargo  # config_ says what the tail was embargoed by
            train, tail = chronological_tail_split(X, config["validation_fraction"], embargo)
            return FitData(
                Xa[train],
                ya[train],
                None if w is None else w[train],
                Xa[tail],
                ya[tail],
                None if w is None else w[tail],
                None if dates is None else dates[train],
                None if index is None else index[train],
            )
        return FitData(Xa, ya, w, None, None, None, dates, index)

    def _encode_target(self, y, classification: bool, fit: bool = False):
        if not classification:
            return np.asarray(y, dtype=np.float64)
        if fit:
            check_classification_targets(y)
            self.label_encoder_ = LabelEncoder().fit(y)
            self.classes_ = self.label_encoder_.classes_
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y_val holds classes {unknown.tolist()} not seen in y: {self.classes_.tolist()}."
            )
        return self.label_encoder_.transform(y)

    # ------------------------------------------------------------------ fit/predict
    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=True)
    @fill_doc
    def fit(self, X, y, *, sample_weight=None, X_val=None, y_val=None):
        """Fit the model, early-stopping on a validation set when configured.

        {fit.parameters}

        {returns.self}
        """
        config = self._resolve_config()
        data = self._validate_fit_data(X, y, sample_weight, X_val, y_val, config)
        self.config_ = config
        self.task_ = config["task"]
        self._fit_model(data, config)
        return self

    @fill_doc
    def train(self, X_train, y_train, X_val=None, y_val=None):
        """Fit as in the user guide: early-stop on ``(X_val, y_val)`` or a chronological tail.

        The return rule of a supervised trainer: ``train`` returns the fitted trainer
        (a feature trainer's returns the features of ``X_train``).

        {returns.self}
        """
        return self.fit(X_train, y_train, X_val=X_val, y_val=y_val)

    def _validate_predict_X(self, X):
        check_is_fitted(self)
        return self._validate_X_like_fit(X)

    def _permutation_importances(self, X, y) -> np.ndarray:
        n_outputs = np.shape(np.asarray(self.predict(X)))[1:]
        if n_outputs not in ((), (1,)):
            raise several_outputs_error(self, int(np.prod(n_outputs)), "kind='permutation'")
        if np.ndim(y) > 1 and np.shape(y)[1] != 1:
            raise ValueError(
                f"kind='permutation' trades one target; y has shape {np.shape(y)}. Pass "
                "the column of the target to explain."
            )
        return permutation_scores(self, X, y)

    def _explained_method(self) -> Callable:
        """Class probabilities for a classifier, predictions for a regressor."""
        return self.predict_proba if _is_classification(self) else self.predict

    @fill_doc
    def predict(self, X):
        """Predict the target (class labels for classification).

        {parameters.X}

        {returns.y_pred}
        """
        Xa = self._validate_predict_X(X)
        if self.task_ == "classification":
            proba = self.model_.predict_proba(Xa)
            return self.classes_[np.argmax(proba, axis=1)]
        return self.model_.predict(Xa)

    @available_if(_is_classification)
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        Xa = self._validate_predict_X(X)
        return self.model_.predict_proba(Xa)

    def score(self, X, y, sample_weight=None):
        """Accuracy for classification, R^2 for regression (as scikit-learn's mixins)."""
        metric = accuracy_score if _is_classification(self) else r2_score
        return metric(y, self.predict(X), sample_weight=sample_weight)

    def _fit_model(self, data: FitData, config: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class TreeImportanceMixin:
    """Expose ``feature_importances_`` (as RFECV and SelectFromModel expect)."""

    @property
    def feature_importances_(self) -> np.ndarray:
        """Importance of each feature, in the order of the columns of ``X``."""
        check_is_fitted(self)
        return np.asarray(self._feature_importances(None), dtype=float)
