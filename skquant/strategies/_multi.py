"""One multi-output model over correlated targets."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd

from skquant.strategies._base import (
    BaseStrategy,
    as_frame,
    check_target_names,
    fit_trainer,
    make_trainer,
    model_label,
)
from skquant.utils._docs import fill_doc
from skquant.utils._embargo import embargo_at_least
from skquant.utils._sklearn_compat import HasMethods, Interval, _fit_context
from skquant.utils._target import check_labels_not_features, is_zero_one_target
from skquant.utils._validation import check_validation_pair
from skquant.utils._variant import in_cloning_variant


def _sets_binary_targets(params: dict) -> bool:
    """Whether a trainer's parameters or config name its binary targets (``[]`` too)."""
    config = params.get("config")
    return params["binary_targets"] is not None or (
        isinstance(config, Mapping) and config.get("binary_targets") is not None
    )


def _zero_one_targets(targets: pd.DataFrame) -> list:
    """The targets holding only 0 and 1, by name (by position when a column is unnamed,
    as the multi-task net names them)."""
    columns = list(targets.columns)
    by_name = all(isinstance(c, str) for c in columns)
    return [
        c if by_name else i for i, c in enumerate(columns) if is_zero_one_target(targets.iloc[:, i])
    ]


class MultiTaskStrategy(BaseStrategy):
    """One multi-task model over several correlated targets (e.g. TTH, MDD, MFE).

    Parameters
    ----------
    model_name : str or estimator, default="multi_task"
        A multi-output model family (a registry name such as ``"multi_task"``) or
        an estimator to clone.
    target_names : list of str, default=None
        The target columns to fit, in order. ``None`` takes every column of ``y``.
    loss_weights : list of float or dict, default=None
        One weight per target in the model's loss, in target order, or a dict of
        target name to weight (a target it leaves out weighs 1); passed to the
        model's ``loss_weights`` parameter. ``None`` keeps the model's own (equal)
        weights.
    model_config : dict, default=None
        The model's config (e.g. from :func:`skquant.load_model_config`). A model
        with a ``binary_targets`` parameter (the multi-task net) that sets none, in
        its parameters or this config, is given the targets holding only 0 and 1
        (e.g. ``y_will_peak``), as :class:`SingleTaskStrategy` classifies a binary
        target; ``binary_targets=[]`` keeps every head a regression.
    embargo_days : int, default=None
        Dates the model drops at least before its own early-stopping tail (0 when
        None; a larger embargo in its config is kept): labels of horizon h need
        ``embargo_days >= h``. The walk-forward engine sets it to its folds' embargo.

    Attributes
    ----------
    estimator_ : estimator
        The fitted multi-output model.
    target_names_ : list of str
        The fitted target names, the columns of :meth:`predict`.
    config_ : dict
        The strategy's settings and the model's resolved config.
    y_named_ : bool
        Whether the targets were picked by name (``y`` a DataFrame, or
        ``target_names`` given): ``y_val`` and :meth:`score`'s ``y`` are then read
        by column name, else by position.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` had string column names.

    See Also
    --------
    SingleTaskStrategy : one model per target.

    Examples
    --------
    >>> from skquant import MultiTaskStrategy  # doctest: +SKIP
    >>> strategy = MultiTaskStrategy(target_names=["TTH", "MDD", "MFE"],
    ...                              loss_weights=[1.0, 0.5, 0.5])  # doctest: +SKIP
    >>> model = strategy.train(X_train, y_train[["TTH", "MDD", "MFE"]],
    ...                        X_val, y_val[["TTH", "MDD", "MFE"]])  # doctest: +SKIP
    >>> model.predict(X_val).columns.tolist()  # doctest: +SKIP
    ['TTH', 'MDD', 'MFE']
    """

    _parameter_constraints: dict = {
        "model_name": [str, HasMethods(["fit"])],
        "target_names": ["array-like", None],
        "loss_weights": ["array-like", dict, None],
        "model_config": [dict, None],
        "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        model_name="multi_task",
        target_names=None,
        loss_weights=None,
        model_config=None,
        embargo_days=None,
    ):
        self.model_name = model_name
        self.target_names = target_names
        self.loss_weights = loss_weights
        self.model_config = model_config
        self.embargo_days = embargo_days

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = False
        return tags

    def _select_targets(self, y, what: str, names=None) -> pd.DataFrame:
        """The target columns of ``y``: ``names`` (those fitted on ``y``, for ``y_val``),
        else ``target_names``, else every column; a DataFrame's by name, a 2-D array's
        by position."""
        source = "target_names" if names is None else "the targets fitted on y"
        names = self.target_names if names is None else names
        frame = as_frame(y, list(names) if names is not None else None)
        if frame is None:
            raise ValueError(
                f"{what} must have one column per target (a DataFrame or a 2-D array), "
                f"got shape {np.shape(y)}."
            )
        if names is None:
            return frame
        frame = frame.rename(columns=str)
        return frame[check_target_names(names, frame, what, source)]

    @staticmethod
    def _names(frame: pd.DataFrame) -> list[str]:
        return [str(c) for c in frame.columns]

    def _weights_by_position(self, targets: pd.DataFrame) -> np.ndarray:
        """``loss_weights`` as one weight per column of ``targets``: a dict maps target
        names to weights (a target it leaves out weighs 1, as in the multi-task net)."""
        if not isinstance(self.loss_weights, dict):
            return np.asarray(self.loss_weights, dtype=float).ravel()
        names = self._names(targets)
        unknown = [k for k in self.loss_weights if str(k) not in names]
        if unknown:
            raise ValueError(
                f"loss_weights names {unknown}, which are not targets; the targets are {names}."
            )
        given = {str(k): v for k, v in self.loss_weights.items()}
        try:
            return np.array([float(given.get(name, 1.0)) for name in names])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"loss_weights must map target names to numbers ({exc}).") from exc

    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_doc
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Fit the multi-output model on the selected targets.

        {strategy.parameters}
        y : DataFrame or array-like of shape (n_samples, n_targets)
            Targets; ``target_names`` picks and orders the columns.
        {strategy.X_val}

        {returns.strategy}
        """
        check_validation_pair(X_val, y_val)
        check_labels_not_features(X, y)
        targets = self._select_targets(y, "y")
        # y_val's targets by the names fitted on y: a y_val with its columns in another
        # order early-stopped each head on another target's labels (audit)
        named = isinstance(y, pd.DataFrame) or self.target_names is not None
        targets_val = (
            None
            if y_val is None
            else self._select_targets(y_val, "y_val", self._names(targets) if named else None)
        )
        n_targets = targets.shape[1]
        if n_targets < 2:
            raise ValueError(
                f"MultiTaskStrategy needs at least two targets, got {n_targets}; use "
                "SingleTaskStrategy for one."
            )
        trainer = make_trainer(self.model_name, self.model_config)
        embargo_at_least(trainer, self.embargo_days)  # its own early-stopping tail
        params = trainer.get_params(deep=False)
        if self.loss_weights is not None:
            weights = self._weights_by_position(targets)
            if len(weights) != n_targets:
                raise ValueError(
                    f"loss_weights has {len(weights)} values but there are {n_targets} "
                    f"targets {list(targets.columns)}; give one weight per target."
                )
            if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not np.any(weights > 0):
                raise ValueError(
                    f"loss_weights must be finite, non-negative and not all zero, got "
                    f"{weights.tolist()}."
                )
            if "loss_weights" not in params:
                raise ValueError(
                    f"model_name={self.model_name!r} has no loss_weights parameter; use a "
                    "multi-task model such as 'multi_task', or leave loss_weights=None."
                )
            trainer.set_params(loss_weights=[float(w) for w in weights])
        if not trainer.__sklearn_tags__().target_tags.multi_output:
            raise ValueError(
                f"model_name={self.model_name!r} does not fit several targets at once; use a "
                "multi-output model such as 'multi_task', or SingleTaskStrategy for one model "
                "per target."
            )
        if "binary_targets" in params and not _sets_binary_targets(params):
            binary = _zero_one_targets(targets)
            if binary:
                trainer.set_params(binary_targets=binary)
        if "target_names" in params and params["target_names"] is None:
            trainer.set_params(target_names=[str(c) for c in targets.columns])
        fit_trainer(trainer, X, targets, X_val, targets_val)
        self.estimator_ = trainer
        self.target_names_ = self._names(targets)
        self.y_named_ = named
        self.config_ = {
            "strategy": "multi_task",
            "model_name": model_label(self.model_name),
            "target_names": self.target_names_,
            "loss_weights": None if self.loss_weights is None else weights.tolist(),
            "model": getattr(trainer, "config_", None),
        }
        self._copy_feature_info(trainer, X)
        return self

    def predict(self, X) -> pd.DataFrame:
        """Predict every target.

        Returns
        -------
        y_pred : DataFrame of shape (n_samples, n_targets)
            One column per target, named by ``target_names_``, indexed like ``X``.
        """
        self._check_fitted()
        pred = self.estimator_.predict(X)
        if isinstance(pred, pd.DataFrame):
            pred = pred.to_numpy()
        pred = np.asarray(pred, dtype=float).reshape(len(pred), -1)
        return pd.DataFrame(pred, columns=self.target_names_, index=getattr(X, "index", None))

    def score(self, X, y, sample_weight=None) -> float:
        """Mean R^2 over the targets."""
        from sklearn.metrics import r2_score

        self._check_fitted()
        y = self._select_targets(y, "y", self.target_names_ if self.y_named_ else None)
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))

    @fill_doc
    def get_feature_importance(self, target=None, kind="gain", X=None, y=None) -> pd.Series:
        """Feature importance of the model (for one target where the model supports it).

        Parameters
        ----------
        target : str, default=None
            One target's importance where the model tells them apart; None: all.
        {strategy.kind_X}
        y : array-like or DataFrame, default=None
            The targets of ``X`` (``"permutation"``), passed to the model as given. The
            multi-task net refuses ``"permutation"`` (it trades one predicted target);
            its ``"gain"`` is already the permutation importance of each target's loss.

        {returns.importance}
        """
        self._check_fitted()
        if target is not None and target not in self.target_names_:
            raise ValueError(f"Unknown target {target!r}; fitted targets: {self.target_names_}.")
        return self.estimator_.get_feature_importance(target=target, kind=kind, X=X, y=y)
