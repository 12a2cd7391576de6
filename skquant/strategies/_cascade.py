"""A chain of models, each fed the out-of-fold predictions of the stages before it."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils.metaestimators import available_if

from skquant.leakage import label_horizon, resolve_embargo
from skquant.model_selection import chronological_oof_predict
from skquant.strategies._base import (
    BaseStrategy,
    as_frame,
    check_regression_target,
    check_target_names,
    fit_trainer,
    make_trainer,
    model_label,
    pandas_index,
    set_task,
    target_column,
)
from skquant.utils._docs import fill_doc
from skquant.utils._embargo import embargo_at_least
from skquant.utils._rows import take_rows
from skquant.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from skquant.utils._target import check_labels_not_features, choose_task
from skquant.utils._time import dates_of
from skquant.utils._validation import check_validation_pair
from skquant.utils._variant import in_cloning_variant


def _stage_output(estimator, task: str, X) -> np.ndarray:
    """A stage's prediction as one feature column: P(class 1) or the regression value."""
    if task == "classification":
        proba = np.asarray(estimator.predict_proba(X), dtype=float)
        return proba[:, -1]
    return np.asarray(estimator.predict(X), dtype=float).ravel()


def _with_columns(X, columns: dict[str, np.ndarray]):
    """``X`` plus the stage-prediction columns (a DataFrame keeps its index)."""
    if not columns:
        return X
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        out = X.copy()
        for name, values in columns.items():
            out[name] = values
        return out
    extra = [np.asarray(v, dtype=float).reshape(-1, 1) for v in columns.values()]
    return np.hstack([np.asarray(X, dtype=float), *extra])


def _cascade_classifier(cascade) -> bool:
    tasks = getattr(cascade, "stage_tasks_", None)
    return bool(tasks) and tasks[-1] == "classification"


class CascadeStrategy(BaseStrategy):
    """A cascade of models: stage ``k`` sees the features plus stages ``< k``'s predictions.

    With several target columns, stage ``k`` predicts target ``k`` (a chain: e.g.
    the peak probability feeds the time-to-high model, which feeds the drawdown
    model). With one target, every stage predicts it and each refines the one
    before it.

    During training, the predictions a stage passes on are **out-of-fold and
    chronological** (:func:`skquant.model_selection.chronological_oof_predict`):
    the rows are cut into ``n_splits + 1`` time blocks and block ``b`` is predicted
    by a model fitted on blocks ``< b`` only. In-sample predictions would be
    over-confident and teach the later stages to trust them; later rows would leak
    the future. The first block has no out-of-fold prediction, so each later stage
    trains on the rows that have one. Every stage is then refitted on all its rows;
    at predict time the stages run in order on new rows.

    Parameters
    ----------
    models : list of (str or estimator), default=("lightgbm", "xgboost")
        One model per stage: registry names or estimators (cloned).
    model_configs : list of (dict or None), default=None
        One config per stage (e.g. from :func:`skquant.load_model_config`).
    target_names : list of str, default=None
        With a DataFrame ``y``: the target of each stage, in order. ``None`` takes
        the first ``len(models)`` columns when ``y`` has several, else chains
        refinements of the single target.
    n_splits : int, default=5
        Number of chronological out-of-fold blocks (``n_splits + 1`` blocks in all).
    embargo_days : int or "auto", default="auto"
        Dates dropped from each out-of-fold training window just before the block it
        predicts: labels of horizon h need ``embargo_days >= h`` so that no stage is
        trained on a label computed from the prices of the block it predicts.
        ``"auto"`` is the longest label horizon among the earlier stages' targets
        (:func:`skquant.leakage.label_horizon`: make_labels metadata, the name,
        or the label's autocorrelation). A stage that takes ``embargo_days`` (a
        skquant trainer, also as a Pipeline step) drops at least as many dates
        before its own early-stopping tail, and with ``"auto"`` at least its own
        target's horizon. An int below an earlier stage's horizon - 1 warns. Run by
        :class:`~skquant.WalkForwardEngine`, ``"auto"`` is the engine's embargo.

    Attributes
    ----------
    stages_ : list of estimator
        The fitted model of each stage, in order.
    stage_targets_ : list of str
        The target each stage predicts.
    stage_tasks_ : list of str
        ``"classification"`` or ``"regression"`` per stage (a binary target is
        fitted as classification when the model supports it; a scikit-learn
        classifier always classifies). A classification stage passes on
        ``predict_proba``'s last column (P(class 1) of a binary target), its labels
        may be strings; a regression stage's target must be numbers.
    stage_feature_names_ : list of str
        The names of the prediction columns added for the later stages.
    embargo_days_ : int
        The embargo applied to the out-of-fold blocks (``"auto"`` resolved), and at
        least to each stage's own early-stopping tail.
    target_names_ : list of str
        The distinct targets, in stage order.
    oof_predictions_ : DataFrame of shape (n_samples, n_stages - 1)
        The out-of-fold prediction each earlier stage passed on for every training
        row (NaN where there was none), indexed like ``X``.
    config_ : dict
        The strategy's settings and each stage's resolved config.
    n_features_in_ : int
        Number of features of ``X`` (without stage predictions).
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skquant import CascadeStrategy
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    >>> y = pd.DataFrame({"y_will_peak": (X["a"] > 0).astype(int), "MFE": X["a"] + X["b"]})
    >>> fast = {"n_estimators": 20, "n_jobs": 1, "early_stopping_rounds": 0}
    >>> cascade = CascadeStrategy(["lightgbm", "lightgbm"], [fast, fast], n_splits=3)
    >>> model = cascade.train(X[:200], y[:200])
    >>> model.stage_tasks_
    ['classification', 'regression']
    >>> model.predict(X[200:]).columns.tolist()
    ['y_will_peak', 'MFE']
    """

    _parameter_constraints: dict = {
        "models": ["array-like"],
        "model_configs": ["array-like", None],
        "target_names": ["array-like", None],
        "n_splits": [Interval(Integral, 1, None, closed="left")],
        "embargo_days": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
    }

    def __init__(
        self,
        models=("lightgbm", "xgboost"),
        model_configs=None,
        target_names=None,
        n_splits=5,
        embargo_days="auto",
    ):
        self.models = models
        self.model_configs = model_configs
        self.target_names = target_names
        self.n_splits = n_splits
        self.embargo_days = embargo_days

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # validate_data accepts NaN for every stage, so every stage must accept it
        models = list(self.models)
        tags.input_tags.allow_nan = bool(models) and all(self._inner_allows_nan(m) for m in models)
        return tags

    def _stage_targets(self, y) -> tuple[list[str], pd.DataFrame]:
        models = list(self.models)
        frame = as_frame(y)
        if isinstance(y, pd.Series):
            # its name and attrs (make_labels' horizon) kept: a rebuilt frame lost them,
            # and "auto" estimated y_will_peak's horizon 5 as 10 from its autocorrelation
            frame = y.to_frame("y" if y.name is None else y.name)
        elif frame is None:
            frame = pd.DataFrame({"y": np.asarray(y)}, index=pandas_index(y))
        frame = frame.rename(columns=str)  # a copy: never rename the caller's y
        if self.target_names is not None:
            names = check_target_names(self.target_names, frame)
            if len(names) == 1:
                names = names * len(models)
            elif len(names) != len(models):
                raise ValueError(
                    f"target_names has {len(names)} names for {len(models)} models; give one "
                    "target per stage, or a single target for a refining cascade."
                )
            return names, frame
        if frame.shape[1] == 1:
            return [frame.columns[0]] * len(models), frame
        if frame.shape[1] < len(models):
            raise ValueError(
                f"y has {frame.shape[1]} target columns {list(frame.columns)} for "
                f"{len(models)} models; give target_names, one per stage."
            )
        return list(frame.columns[: len(models)]), frame

    @staticmethod
    def _val_targets(y_val, frame: pd.DataFrame, stage_targets) -> pd.DataFrame:
        """``y_val`` as a frame of ``y``'s target columns: a DataFrame's by name, an
        array's columns by position, a 1-D ``y_val`` as the one target of a refining
        cascade (a KeyError, or another stage's target, before: audit)."""
        targets = list(dict.fromkeys(stage_targets))
        if isinstance(y_val, pd.DataFrame):
            frame_val = y_val.rename(columns=str)  # a copy: never rename the caller's y_val
            check_target_names(targets, frame_val, "y_val", "the stages' targets")
            return frame_val
        if np.ndim(y_val) < 2:
            if len(targets) > 1:
                raise ValueError(
                    f"y_val has 1 column but the stages predict {len(targets)} targets "
                    f"{targets}; pass y_val with the target columns of y."
                )
            return pd.DataFrame({targets[0]: np.asarray(y_val)}, index=pandas_index(y_val))
        values = np.asarray(y_val)
        if values.shape[1] != frame.shape[1]:
            raise ValueError(
                f"y_val has {values.shape[1]} columns but y has {frame.shape[1]} target "
                f"columns {list(frame.columns)}; an array y_val takes them by position."
            )
        return pd.DataFrame(values, columns=frame.columns)

    def _resolve_embargo(self, X, frame: pd.DataFrame, stage_targets) -> tuple[int, list[int]]:
        """``embargo_days`` of the out-of-fold blocks ("auto": the longest horizon of the
        earlier stages' targets), and of each stage's early-stopping tail ("auto": at
        least its own target's horizon as well; the last stage's was 0 or the earlier
        stages' only, audit). An explicit int is kept as given, and warns when it is
        below the longest earlier horizon - 1 (:func:`skquant.leakage.resolve_embargo`)."""
        explicit = self.embargo_days != "auto"
        if explicit and len(stage_targets) < 2:  # no out-of-fold blocks to embargo
            return int(self.embargo_days), [int(self.embargo_days)] * len(stage_targets)
        if dates_of(frame) is None and dates_of(X) is not None:
            frame = frame.set_axis(X.index)  # the dates (and symbols) of the rows
        earlier_targets = dict.fromkeys(stage_targets[:-1])
        wanted = earlier_targets if explicit else dict.fromkeys(stage_targets)
        horizons = {t: label_horizon(frame, t) for t in wanted}
        oof = 0
        if earlier_targets:  # one stage: no out-of-fold predictions to embargo
            earlier = {t: horizons[t] for t in earlier_targets}
            target, longest = max(earlier.items(), key=lambda item: item[1].horizon)
            oof = resolve_embargo(self.embargo_days, longest, target)
        if explicit:
            return oof, [oof] * len(stage_targets)
        return oof, [max(oof, horizons[t].horizon) for t in stage_targets]

    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_doc
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Fit the stages in order on out-of-fold predictions of the earlier stages.

        {strategy.parameters}
        y : Series, DataFrame or array-like
            One target (a refining cascade) or several (a chain).
        X_val, y_val : default=None
            Early-stopping validation rows, later than the training rows; the
            earlier stages' predictions on them come from the fitted stages.

        {returns.strategy}
        """
        check_validation_pair(X_val, y_val)
        check_labels_not_features(X, y)
        models = list(self.models)
        if not models:
            raise ValueError("models must name at least one model.")
        configs = [None] * len(models) if self.model_configs is None else list(self.model_configs)
        if len(configs) != len(models):
            raise ValueError(
                f"model_configs has {len(configs)} entries for {len(models)} models; give one "
                "per stage (None for the defaults)."
            )
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        Xa, _ = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=False,
            dtype=None,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )
        if not isinstance(X, pd.DataFrame):
            X = Xa  # keep a DataFrame (and its dates) as given, else the validated array
        if not isinstance(y, (pd.Series, pd.DataFrame)):
            y = np.asarray(y)
        self.y_is_frame_ = isinstance(y, pd.DataFrame)
        stage_targets, frame = self._stage_targets(y)
        self.embargo_days_, tail_embargoes = self._resolve_embargo(X, frame, stage_targets)
        frame_val = None if y_val is None else self._val_targets(y_val, frame, stage_targets)

        for k, (model, config, target) in enumerate(
            zip(models, configs, stage_targets, strict=True)
        ):  # refuse a regression stage on labels before any stage is fitted
            trainer = make_trainer(model, config, param_name="models")
            if choose_task(trainer, frame[target], config) == "regression":
                check_regression_target(
                    frame[target], target, f"Stage {k} ({type(trainer).__name__})"
                )

        rows = np.arange(len(X))  # rows that still have every earlier stage's OOF prediction
        oof_columns: dict[str, np.ndarray] = {}  # full-length, NaN where no OOF prediction
        val_columns: dict[str, np.ndarray] = {}
        stages, tasks, names = [], [], []
        for k, (model, config, target) in enumerate(
            zip(models, configs, stage_targets, strict=True)
        ):
            X_k = _with_columns(X, oof_columns)
            X_rows = take_rows(X_k, rows)
            y_rows = take_rows(frame[target], rows)
            trainer = make_trainer(model, config, param_name="models")
            embargo_at_least(trainer, tail_embargoes[k])  # its own early-stopping tail
            task = choose_task(trainer, y_rows, config)
            if task == "regression":
                check_regression_target(y_rows, target, f"Stage {k} ({type(trainer).__name__})")
            set_task(trainer, task)
            Xv = yv = None
            if X_val is not None:
                Xv = _with_columns(X_val, val_columns)
                yv = frame_val[target]
            fit_trainer(trainer, X_rows, y_rows, Xv, yv)
            stages.append(trainer)
            tasks.append(task)
            if k == len(models) - 1:
                break
            name = f"stage{k}_{target}"
            while (hasattr(X, "columns") and name in X.columns) or name in oof_columns:
                name = "_" + name
            names.append(name)
            method = "predict_proba" if task == "classification" else "predict"
            with warnings.catch_warnings():
                # a short embargo_days was warned about once, by _resolve_embargo
                warnings.filterwarnings("ignore", "chronological_oof_predict holds out")
                oof, has_oof = chronological_oof_predict(
                    trainer,
                    X_rows,
                    y_rows,
                    n_splits=self.n_splits,
                    method=method,
                    embargo=self.embargo_days_,
                )
            if oof.ndim == 2:
                oof = oof[:, -1]
            column = np.full(len(X), np.nan)
            column[rows] = oof
            oof_columns[name] = column
            rows = rows[has_oof]
            if X_val is not None:
                val_columns[name] = _stage_output(trainer, task, Xv)

        self.oof_predictions_ = pd.DataFrame(oof_columns, index=pandas_index(X))
        self.stages_ = stages
        self.stage_targets_ = list(stage_targets)
        self.stage_tasks_ = tasks
        self.stage_feature_names_ = names
        self.target_names_ = list(dict.fromkeys(stage_targets))
        self.config_ = {
            "strategy": "cascade",
            "models": [model_label(m) for m in models],
            "stage_targets": self.stage_targets_,
            "stage_tasks": tasks,
            "n_splits": int(self.n_splits),
            "embargo_days": self.embargo_days_,
            "stages": [getattr(s, "config_", None) for s in stages],
        }
        return self

    def _validate_X(self, X):
        """Check ``X`` against the fit (features, shape); keep a DataFrame as given."""
        self._check_fitted()
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        Xa = validate_data(
            self, X, reset=False, dtype=None, ensure_all_finite="allow-nan" if allow_nan else True
        )
        return X if isinstance(X, pd.DataFrame) else Xa

    def predict_stages(self, X) -> pd.DataFrame:
        """Every stage's prediction, run in order on ``X``.

        Returns
        -------
        predictions : DataFrame of shape (n_samples, n_stages)
            Column ``stage{k}_{target}``: P(class 1) for a classification stage,
            the predicted value otherwise.
        """
        X = self._validate_X(X)
        columns: dict[str, np.ndarray] = {}
        out = {}
        for k, (stage, task, target) in enumerate(
            zip(self.stages_, self.stage_tasks_, self.stage_targets_, strict=True)
        ):
            values = _stage_output(stage, task, _with_columns(X, columns))
            out[f"stage{k}_{target}"] = values
            if k < len(self.stage_feature_names_):
                columns[self.stage_feature_names_[k]] = values
        return pd.DataFrame(out, index=pandas_index(X))

    def predict(self, X):
        """Predict the target(s): the last stage of each target.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or DataFrame
            For a single-target (refining) cascade, the last stage's prediction
            (class labels for classification); for a chain, a DataFrame with one
            column per target.
        """
        X = self._validate_X(X)
        columns: dict[str, np.ndarray] = {}
        final: dict[str, np.ndarray] = {}
        for k, (stage, task, target) in enumerate(
            zip(self.stages_, self.stage_tasks_, self.stage_targets_, strict=True)
        ):
            X_k = _with_columns(X, columns)
            final[target] = np.asarray(stage.predict(X_k))
            if k < len(self.stage_feature_names_):
                columns[self.stage_feature_names_[k]] = _stage_output(stage, task, X_k)
        if len(self.target_names_) == 1:
            return final[self.target_names_[0]]
        if not self.y_is_frame_:  # array in, array out
            return np.column_stack([final[t] for t in self.target_names_])
        return pd.DataFrame({t: final[t] for t in self.target_names_}, index=pandas_index(X))

    @available_if(_cascade_classifier)
    def predict_proba(self, X):
        """Class probabilities of the last stage (when it is a classification stage)."""
        return self.stages_[-1].predict_proba(self._stage_input(X, len(self.stages_) - 1))

    def _stage_input(self, X, k: int):
        """What stage ``k`` takes: ``X`` (validated) plus the predictions of the stages
        before it, each run on its own input in order."""
        X = self._validate_X(X)
        columns: dict[str, np.ndarray] = {}
        for j in range(k):
            columns[self.stage_feature_names_[j]] = _stage_output(
                self.stages_[j], self.stage_tasks_[j], _with_columns(X, columns)
            )
        return _with_columns(X, columns)

    def score(self, X, y, sample_weight=None) -> float:
        """R^2 of the predictions (accuracy for a single classification target).

        With several targets, the mean R^2 over the targets the stages predict.
        """
        from sklearn.metrics import accuracy_score, r2_score

        pred = self.predict(X)
        if len(self.target_names_) == 1:
            y_true = np.asarray(y)
            if y_true.ndim == 2:
                y_true = y_true[:, 0]
            if self.stage_tasks_[-1] == "classification":
                return float(accuracy_score(y_true, pred, sample_weight=sample_weight))
            return float(r2_score(y_true, pred, sample_weight=sample_weight))
        _, frame = self._stage_targets(y)
        y_true = frame[self.target_names_].to_numpy(dtype=float)
        return float(r2_score(y_true, np.asarray(pred, dtype=float), sample_weight=sample_weight))

    @fill_doc
    def get_feature_importance(self, target=None, kind="gain", X=None, y=None) -> pd.Series:
        """Importance in the last stage predicting ``target`` (default: the last stage).

        The earlier stages' prediction columns appear under their
        ``stage_feature_names_``. For ``"shap"`` and ``"permutation"`` the stage sees
        ``X`` with those columns added (the earlier stages run on ``X`` first, as in
        ``predict``); a shuffled feature is shuffled in that stage's input only, so
        the score measures the stage's direct use of it, as the gain does.

        Parameters
        ----------
        target : str, default=None
            The target whose last stage to explain.
        {strategy.kind_X}
        y : array-like or DataFrame, default=None
            The targets of ``X`` (``"permutation"``): ``target``'s column (a 2-D array's
            columns are ``y0, y1, ...``, as in ``fit``).

        {returns.importance}
        """
        self._check_fitted()
        if target is None:
            target = self.stage_targets_[-1]
        elif target not in self.stage_targets_:
            raise ValueError(f"Unknown target {target!r}; fitted targets: {self.target_names_}.")
        k = len(self.stage_targets_) - 1 - self.stage_targets_[::-1].index(target)
        X_k = self._stage_input(X, k) if X is not None and kind != "gain" else None
        if kind == "permutation":
            # a 2-D array's columns are y0, y1, ... as in fit: stage order need not be theirs
            y = target_column(y, target, self.target_names_, by_position=False)
        return self.stages_[k].get_feature_importance(kind=kind, X=X_k, y=y)
