"""A multi-task net: one shared trunk, one head per target (e.g. TTH, MDD, MFE)."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array

from skquant.models._base import BinaryTargetWarning
from skquant.models._nets._base import NET_CONSTRAINTS, NET_DEFAULTS, BaseNetTrainer
from skquant.utils._docs import fill_doc
from skquant.utils._sklearn_compat import Interval
from skquant.utils._target import is_zero_one_target
from skquant.utils._warnings import caller_stacklevel


@fill_doc
class MultiTaskTrainer(BaseNetTrainer):
    """Multi-output net: a shared MLP trunk and one head per target.

    Regression heads minimise the squared error of their standardised target; a
    head named in ``binary_targets`` (a 0/1 target such as ``y_will_peak``)
    minimises the logistic loss. The training loss is the ``loss_weights``-weighted
    sum over heads.

    Parameters
    ----------
    {config}
    hidden_layer_sizes : list of int, default=None
        Widths of the shared trunk's ReLU layers.
    head_size : int, default=None
        Hidden width of each target's head; 0 makes each head a single linear layer.
    loss_weights : list of float or dict, default=None
        Weight of each target's loss, in the order of ``y``'s columns, or a dict
        ``{target name: weight}`` (missing names weigh 1). Equal weights when None.
    binary_targets : list of str or int, default=None
        Targets (column names, or positions for array ``y``) that are 0/1 labels,
        given a logistic head. ``predict`` returns their probability of 1 (the
        target's expected value). When None (in the parameter and the config), a
        target holding only 0 and 1 is fitted as a regression on numbers, with a
        ``BinaryTargetWarning`` naming it; ``[]`` regresses on every target quietly.
        :class:`~skquant.MultiTaskStrategy` names the 0/1 targets itself.
    {nets.params}

    Attributes
    ----------
    {nets.attributes}
    target_names_ : list of str or None
        The columns of a DataFrame ``y``.
    n_targets_ : int
        Number of targets (heads).
    binary_mask_ : ndarray of bool of shape (n_targets_,)
        Which heads are binary.

    Notes
    -----
    ``predict`` returns a DataFrame with one column per target, named after them,
    when ``fit`` was given a DataFrame ``y`` (indexed like ``X`` when ``X`` is a
    DataFrame), a 2-D array for array ``y``, and a 1-D array for 1-D ``y``.
    ``get_feature_importance(target="MDD")`` ranks features by the rise of that
    head's loss when the feature is permuted on the validation rows.

    Examples
    --------
    >>> from skquant import MultiTaskTrainer, load_model_config
    >>> trainer = MultiTaskTrainer(load_model_config("multi_task"), loss_weights=[1.0, 0.5, 0.5])
    >>> trainer.train(X_train, y_train[["TTH", "MDD", "MFE"]],
    ...               X_val, y_val[["TTH", "MDD", "MFE"]])  # doctest: +SKIP
    >>> trainer.predict(X_val)["MDD"]  # doctest: +SKIP
    >>> trainer.get_feature_importance(target="MDD").head(10)  # doctest: +SKIP
    """

    _registry_name = "multi_task"
    _tasks = ("regression",)
    _defaults = {**NET_DEFAULTS, "hidden_layer_sizes": [128, 64], "head_size": 16}
    _parameter_constraints = {
        **{k: v for k, v in NET_CONSTRAINTS.items() if k != "task"},
        "hidden_layer_sizes": [list, tuple, None],
        "head_size": [Interval(Integral, 0, None, closed="left"), None],
        "loss_weights": [list, tuple, dict, None],
        "binary_targets": [list, tuple, None],
    }

    def __init__(
        self,
        config=None,
        *,
        hidden_layer_sizes=None,
        head_size=None,
        loss_weights=None,
        binary_targets=None,
        epochs=None,
        batch_size=None,
        lr=None,
        weight_decay=None,
        dropout=None,
        early_stopping_rounds=None,
        validation_fraction=None,
        embargo_days=None,
        grad_clip=None,
        device=None,
        random_state=None,
        standardize=None,
        verbose=None,
    ):
        self.config = config
        self.hidden_layer_sizes = hidden_layer_sizes
        self.head_size = head_size
        self.loss_weights = loss_weights
        self.binary_targets = binary_targets
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.embargo_days = embargo_days
        self.grad_clip = grad_clip
        self.device = device
        self.random_state = random_state
        self.standardize = standardize
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # ------------------------------------------------------------------ targets
    def _validate_y(self, y, n_rows, *, fit, name="y"):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        ya = check_array(y, ensure_2d=False, dtype=np.float64, input_name=name)
        y_ndim = ya.ndim
        if ya.ndim == 1:
            ya = ya[:, None]
        if len(ya) != n_rows:
            raise ValueError(f"{name} has {len(ya)} rows but the features have {n_rows}.")
        if fit:
            self.y_ndim_ = y_ndim
            self.y_is_frame_ = isinstance(y, pd.DataFrame)
            names = list(y.columns) if self.y_is_frame_ else None
            self.target_names_ = (
                [str(c) for c in names]
                if names and all(isinstance(c, str) for c in names)
                else None
            )
            self.n_targets_ = ya.shape[1]
            self.binary_mask_ = self._binary_mask(self.config_)
            if self.config_.get("binary_targets") is None:
                self._warn_zero_one_regression(ya)
        elif ya.shape[1] != self.n_targets_:
            raise ValueError(f"{name} has {ya.shape[1]} targets but y had {self.n_targets_}.")
        for i in np.flatnonzero(self.binary_mask_):
            values = ya[:, i][np.isfinite(ya[:, i])]
            if not np.isin(values, (0.0, 1.0)).all():
                raise ValueError(
                    f"Binary target {self._target_label(i)!r} in {name} must hold only 0 and "
                    f"1, got values such as {np.unique(values)[:5].tolist()}."
                )
        return ya

    def _warn_zero_one_regression(self, ya: np.ndarray) -> None:
        """Warn once per fit about targets holding only 0 and 1 that get an MSE head
        because ``binary_targets`` was not set (the multi-task twin of the single-target
        trainers' ``task="classification"`` warning)."""
        labels = [
            self._target_label(i)
            for i in range(ya.shape[1])
            if not self.binary_mask_[i] and is_zero_one_target(ya[:, i])
        ]
        if labels:
            warnings.warn(
                f"{type(self).__name__} is regressing on target(s) {labels} as numbers "
                "(a squared error on the standardised target), though each holds only 0 "
                f"and 1; pass binary_targets={labels!r} to give them a logistic head "
                "(predict then returns the probability of 1), or binary_targets=[] to "
                "regress on every target.",
                BinaryTargetWarning,
                stacklevel=caller_stacklevel(),
            )

    def _target_label(self, i: int):
        return self.target_names_[i] if self.target_names_ else i

    def _position(self, target, what: str) -> int:
        if self.target_names_ and target in self.target_names_:
            return self.target_names_.index(target)
        if isinstance(target, Integral) and 0 <= target < self.n_targets_:
            return int(target)
        raise ValueError(
            f"Unknown target {target!r} in {what}; the targets are "
            f"{self.target_names_ or list(range(self.n_targets_))}."
        )

    def _binary_mask(self, config) -> np.ndarray:
        mask = np.zeros(self.n_targets_, dtype=bool)
        for target in config.get("binary_targets") or ():
            mask[self._position(target, "binary_targets")] = True
        return mask

    def _heads(self):
        return [("bce" if b else "mse", 1) for b in self.binary_mask_]

    def _loss_weights(self, config):
        weights = config.get("loss_weights")
        if weights is None:
            return [1.0] * self.n_targets_
        if isinstance(weights, dict):
            out = [1.0] * self.n_targets_
            for target, value in weights.items():
                out[self._position(target, "loss_weights")] = float(value)
            return out
        if len(weights) != self.n_targets_:
            raise ValueError(
                f"loss_weights has {len(weights)} values but y has {self.n_targets_} targets."
            )
        return [float(v) for v in weights]

    def _module(self, config, n_features, n_outputs):
        from skquant.models._nets._modules import MultiTaskModule

        return MultiTaskModule, {
            "n_features": n_features,
            "hidden_layer_sizes": [int(s) for s in config["hidden_layer_sizes"]],
            "head_size": int(config["head_size"]),
            "dropout": float(config["dropout"]),
            "n_heads": n_outputs,
        }

    # ------------------------------------------------------------------ predict
    @fill_doc
    def predict(self, X):
        """Predict every target: one column per target.

        {parameters.X}

        Returns
        -------
        y_pred : DataFrame, ndarray of shape (n_samples, n_targets) or (n_samples,)
            A DataFrame named by target when ``y`` was a DataFrame; binary targets
            hold the probability of 1.
        """
        raw = self._raw(self._inputs_for(X))
        out = raw * self.y_scale_ + self.y_mean_
        binary = self.binary_mask_
        out[:, binary] = 1.0 / (1.0 + np.exp(-raw[:, binary]))
        if self.y_is_frame_:
            index = X.index if isinstance(X, pd.DataFrame) else None
            columns = self.target_names_ or list(range(self.n_targets_))
            return pd.DataFrame(out, columns=columns, index=index)
        return out[:, 0] if self.y_ndim_ == 1 else out

    def _check_target(self, target) -> None:
        if target is not None:
            self._position(target, "get_feature_importance")

    def _target_index(self, target):
        return None if target is None else self._position(target, "get_feature_importance")
