"""The shared base of the skquant neural nets (skorch + PyTorch, imported lazily).

Each net trainer is a plain scikit-learn estimator. ``fit`` resolves the config
(``BaseTrainer``), validates the data, holds out the early-stopping rows (the given
``X_val``/``y_val`` or the chronological tail of the training rows, never a leading or
shuffled slice), standardises the inputs on the training rows only, and builds and
fits ``self.model_``, a ``skorch.NeuralNet``. Subclasses only name their module and
its sizes; sequence models also turn rows into windows (``_net_inputs``).

Every target goes to skorch packed with the row weight (see ``PackedLoss``), so the
same net handles regression, classification, several heads and sample weights.
"""

from __future__ import annotations

import contextlib
import threading
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, column_or_1d

from skquant.models._base import (
    BaseSupervisedTrainer,
    _is_classification,
    target_names_of,
    warn_if_binary_regression,
)
from skquant.utils._docs import fill_doc
from skquant.utils._numba import numba_enabled
from skquant.utils._optional import import_optional
from skquant.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    _non_finite_columns,
    check_is_fitted,
    validate_data,
)
from skquant.utils._target import check_labels_not_features, tail_embargo, validation_gap
from skquant.utils._time import (
    chronological_tail_split,
    holds_out_tail,
    warn_if_validation_not_after,
)
from skquant.utils._validation import check_validation_pair, validate_named
from skquant.utils._variant import in_cloning_variant

# Keys every net trainer takes, with the value used when neither parameter, config nor
# YAML variant sets one.
NET_DEFAULTS: dict[str, Any] = {
    "epochs": 50,
    "batch_size": 256,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "dropout": 0.1,
    "early_stopping_rounds": 10,
    "validation_fraction": 0.2,
    "embargo_days": None,  # the target's label horizon when it tells one (tail_embargo)
    "grad_clip": 0.0,
    "device": "cpu",
    "standardize": True,
    "verbose": 0,
}

NET_CONSTRAINTS: dict[str, list] = {
    "config": [dict, None],
    "task": [StrOptions({"regression", "classification"}), None],
    "epochs": [Interval(Integral, 1, None, closed="left"), None],
    "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    "lr": [Interval(Real, 0, None, closed="neither"), None],
    "weight_decay": [Interval(Real, 0, None, closed="left"), None],
    "dropout": [Interval(Real, 0, 1, closed="left"), None],
    "early_stopping_rounds": [Interval(Integral, 0, None, closed="left"), None],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
    "grad_clip": [Interval(Real, 0, None, closed="left"), None],
    "device": [StrOptions({"cpu", "cuda", "auto"}), None],
    "random_state": ["random_state"],
    "standardize": ["boolean", None],
    "verbose": ["verbose", None],
}

# Validation rows (at most) and shuffles per feature of the permutation importance
# computed at the end of fit. Its forward passes (n_features * 3 * 256 rows) cost about
# 2% of a two-epoch LSTM fit on 100,000 rows (1,000 rows cost 8%).
_IMPORTANCE_ROWS = 256
_IMPORTANCE_REPEATS = 3
# Rows standardised at a time (a float64 block that stays in cache).
_SCALE_BLOCK = 8192


def resolve_device(device: str) -> str:
    """``"auto"`` to ``"cuda"`` when available else ``"cpu"``; a missing GPU raises."""
    torch = import_optional("torch")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but torch.cuda.is_available() is False; "
            "use device='cpu' or device='auto'."
        )
    return device


# Held by every seeded block (every net fit) of this process. torch draws weight
# initialisation, dropout masks, the VAE's samples and the loader's shuffles from its one
# global generator, and neither skorch nor torch.nn's modules take a per-fit
# torch.Generator, so fits in threads at once (joblib's threading backend, Dask with
# processes=False) drew from and restored each other's state: their predictions changed
# from run to run. They now fit one at a time (each still uses torch's intra-op threads).
_TORCH_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded_torch(seed: int, device: str):
    """Seed torch inside the block and make it deterministic, restoring global state after.

    The block holds a process-wide lock: torch's generator and cuDNN flags are global,
    so seeded blocks in other threads wait, and a fit gives in a thread what it gives
    alone. Code outside skquant that draws from torch's global generator in another
    thread at the same time can still change the fit.
    """
    torch = import_optional("torch")
    # torch.manual_seed reseeds every CUDA device: fork (and so restore) all of them
    devices = list(range(torch.cuda.device_count())) if device == "cuda" else []
    cudnn = torch.backends.cudnn
    with _TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
        previous = (cudnn.deterministic, cudnn.benchmark)
        torch.manual_seed(seed)
        cudnn.deterministic, cudnn.benchmark = True, False
        try:
            yield
        finally:
            cudnn.deterministic, cudnn.benchmark = previous


def _not_finite_error(name: str, source=None) -> ValueError:
    """The error for NaN or infinity in ``name``; a frame ``source`` (the rows as the
    user passed them) has its columns holding them named."""
    where = _non_finite_columns(source, name=name)
    where = "" if where is None else f"Its {where}. "
    return ValueError(
        f"{name} contains NaN or infinity; neural nets cannot take missing values. {where}"
        "Impute or drop them first (e.g. with sklearn.impute.SimpleImputer in a Pipeline)."
    )


def _check_finite(name: str, values: np.ndarray) -> None:
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        raise _not_finite_error(name)


def _standardize_blocks(X, mean, inv, out) -> bool:
    """The NumPy path of ``standardize_rows``: the same float64 operations, block by block
    (a float64 block that stays in cache, no float64 copy of every row)."""
    block = np.empty((min(len(X), _SCALE_BLOCK), X.shape[1]))
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite value is refused below
        for start in range(0, len(X), _SCALE_BLOCK):
            rows = X[start : start + _SCALE_BLOCK]
            part = block[: len(rows)]
            np.subtract(rows, mean, out=part)
            part *= inv
            if not np.isfinite(part).all():
                return False
            out[start : start + len(part)] = part
    return True


def mean_and_std(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) standard deviation of each column over every other axis.

    Two passes like ``np.std``, the second block by block in a buffer that stays in
    cache instead of a float64 copy of every row. NaN or infinity gives NaN, without
    a warning (``standardize`` refuses those rows by name).
    """
    flat = values.reshape(-1, values.shape[-1])
    block = np.empty((min(len(flat), _SCALE_BLOCK), flat.shape[1]))
    squares = np.zeros(flat.shape[1])
    with np.errstate(invalid="ignore", over="ignore"):
        mean = flat.mean(axis=0)
        for start in range(0, len(flat), _SCALE_BLOCK):
            rows = flat[start : start + _SCALE_BLOCK]
            part = block[: len(rows)]
            np.subtract(rows, mean, out=part)
            part *= part
            squares += part.sum(axis=0)
    return mean, np.sqrt(squares / len(flat))


def standardize(values: np.ndarray, mean, scale, *, name: str = "X", source=None) -> np.ndarray:
    """``(values - mean) / scale`` over the last axis, computed in float64, as float32.

    One pass over ``values`` that also checks them: NaN or infinity raises a
    ``ValueError`` naming ``name`` (and the columns of ``source``, the frame the values
    came from, that hold them). Compiled with numba when it is installed (see
    ``skquant.utils._numba.numba_enabled``), else NumPy, with the same results: both
    multiply by ``1 / scale``.
    """
    shape = values.shape
    flat = values.reshape(-1, shape[-1])  # windows (n, seq_len, f) as rows; a view
    mean = np.ascontiguousarray(mean, dtype=np.float64)
    inv = np.ascontiguousarray(1.0 / np.asarray(scale, dtype=np.float64))
    out = np.empty(flat.shape, dtype=np.float32)
    if numba_enabled():
        from skquant.models._nets._scale_numba import standardize_rows

        finite = standardize_rows(flat, mean, inv, out)
    else:
        finite = _standardize_blocks(flat, mean, inv, out)
    if not finite:
        raise _not_finite_error(name, source)
    return out.reshape(shape)


def fit_skorch_net(owner, config, module, module_kwargs, criterion, criterion_kwargs, train, valid):
    """Build and fit ``owner.model_``, a ``skorch.NeuralNet``; set the fitted curves.

    ``train`` and ``valid`` are ``(inputs, targets)`` array pairs (``valid`` may be
    None). Early stopping (``early_stopping_rounds`` > 0 with validation rows)
    restores the best epoch's weights. Sets ``model_``, ``evals_result_``,
    ``best_iteration_``, ``n_epochs_`` and ``device_`` on ``owner``.
    """
    torch = import_optional("torch")
    import_optional("skorch")
    from skorch.callbacks import EarlyStopping, GradientNormClipping
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    from skquant.models._nets._modules import FastLoader, LeanNet

    device = resolve_device(config["device"])
    seed = int(check_random_state(config.get("random_state")).randint(np.iinfo(np.int32).max))
    patience = config["early_stopping_rounds"]
    callbacks = []
    early = None
    if valid is not None and patience:
        early = EarlyStopping(monitor="valid_loss", patience=int(patience), load_best=True)
        callbacks.append(("early_stopping", early))
    if config["grad_clip"]:
        clip = GradientNormClipping(gradient_clip_value=config["grad_clip"])
        callbacks.append(("grad_clip", clip))
    net = LeanNet(
        module=module,
        **{f"module__{k}": v for k, v in module_kwargs.items()},
        criterion=criterion,
        **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=float(config["weight_decay"]),
        lr=float(config["lr"]),
        max_epochs=int(config["epochs"]),
        batch_size=int(config["batch_size"]),
        iterator_train=FastLoader,
        iterator_train__shuffle=True,
        iterator_train__device=device,
        iterator_valid=FastLoader,
        iterator_valid__device=device,
        train_split=None if valid is None else predefined_split(Dataset(*valid)),
        callbacks=callbacks,
        predict_nonlinearity=None,
        device=device,
        verbose=int(bool(config["verbose"])),
    )
    with seeded_torch(seed, device):
        net.fit(*train)
    history = net.history
    owner.evals_result_ = {"train": {"loss": [float(v) for v in history[:, "train_loss"]]}}
    if valid is not None:
        owner.evals_result_["valid"] = {"loss": [float(v) for v in history[:, "valid_loss"]]}
    owner.best_iteration_ = int(early.best_epoch_) if early is not None else None
    owner.n_epochs_ = len(history)
    owner.device_ = device
    owner.model_ = net


def module_outputs(module, values: np.ndarray, *, batch_size: int, device: str, method=None):
    """What ``module`` (or its ``method``) returns for ``values``, float64 on the CPU.

    Runs in eval mode under ``torch.inference_mode`` over mini-batches of
    ``batch_size`` rows (each sent to ``device``); of a tuple output, the first item.
    """
    torch = import_optional("torch")
    call = module if method is None else getattr(module, method)
    module.eval()
    if isinstance(values, np.ndarray):
        values = torch.as_tensor(values)  # no copy; lazy windows are gathered per batch
    on_cpu = torch.device(device).type == "cpu"  # no per-batch transfers to make
    outs = []
    with torch.inference_mode():
        for start in range(0, len(values), batch_size):
            batch = values[start : start + batch_size]
            if not isinstance(batch, torch.Tensor):
                batch = torch.as_tensor(np.asarray(batch))
            out = call(batch if on_cpu else batch.to(device))
            out = out[0] if isinstance(out, tuple) else out
            outs.append(out if on_cpu else out.to("cpu"))
    return torch.cat(outs).double().numpy() if outs else np.zeros((0, 0))


def module_kwargs(config, n_features: int, n_outputs: int) -> dict[str, Any]:
    """The keyword arguments every module takes: input width, dropout and outputs."""
    return {"n_features": n_features, "dropout": float(config["dropout"]), "n_outputs": n_outputs}


class BaseNetTrainer(BaseSupervisedTrainer):
    """Base class of the skorch/PyTorch trainers (not for direct use).

    Subclasses set ``_registry_name``, ``_parameter_constraints`` (``NET_CONSTRAINTS``
    plus their sizes), ``_defaults`` (``NET_DEFAULTS`` plus their sizes) and implement
    ``_module(config, n_features, n_outputs)`` returning ``(module class, module kwargs)``.
    """

    _tasks = ("regression", "classification")
    _defaults = NET_DEFAULTS
    # The variants are sized for thousands of rows: batch_size 256 or 512 gives one
    # AdamW step (lr 1e-3 or less) per epoch on scikit-learn's 200-row toy data, and
    # whether that reaches the checks' bar depends on the net and its widths. Measured
    # with the balanced variant: LSTM R^2 0.00, CNN1D R^2 0.11 and accuracy 0.81, an
    # 8-unit MLP R^2 0.06 (0.75 at its full widths after 100 epochs).
    _poor_score_tasks = frozenset(_tasks)
    _accepts_3d: ClassVar[bool] = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.three_d_array = self._accepts_3d
        return tags

    # ------------------------------------------------------------------ data
    def _validate_X(self, X, *, reset: bool, name: str = "X") -> np.ndarray:
        """Validate features; sequence models also take a 3-D array of windows.

        Windows must have the length and width of the fitted ones (``seq_len_in_``,
        ``n_features_in_``): a net fitted on 5-row windows predicted 3-row windows
        silently, with other numbers.

        NaN and infinity are refused when the rows are standardised (``_scale_X``),
        in the same pass.
        """
        if self._accepts_3d and getattr(X, "ndim", None) == 3:
            Xa = check_array(
                X, allow_nd=True, dtype=np.float64, ensure_all_finite=False, input_name=name
            )
            if reset:
                self.n_features_in_ = Xa.shape[2]
                self.seq_len_in_ = Xa.shape[1]
                self.input_ndim_ = 3
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            elif (
                getattr(self, "input_ndim_", 2) != 3
                or Xa.shape[2] != self.n_features_in_
                or Xa.shape[1] != self.seq_len_in_
            ):
                raise ValueError(
                    f"{name} has shape {Xa.shape}; this model was fitted on "
                    f"{self._fitted_shape()} input."
                )
            return Xa
        if not reset and getattr(self, "input_ndim_", 2) == 3:
            raise ValueError(
                f"{name} is 2-D but this model was fitted on 3-D windows "
                f"(n_samples, seq_len, {self.n_features_in_})."
            )
        if not reset:
            return validate_named(self, X, name, dtype=np.float64, ensure_all_finite=False)
        Xa = validate_data(self, X, dtype=np.float64, ensure_all_finite=False)
        self.input_ndim_ = 2
        if hasattr(self, "seq_len_in_"):  # a refit on rows: windows are built inside
            del self.seq_len_in_
        return Xa

    def _fitted_shape(self) -> str:
        if getattr(self, "input_ndim_", 2) == 3:
            return f"3-D (n_samples, {self.seq_len_in_}, {self.n_features_in_})"
        return f"2-D (n_samples, {self.n_features_in_})"

    def _validate_y(self, y, n_rows: int, *, fit: bool, name: str = "y") -> np.ndarray:
        """Targets as a float array of shape (n_rows, n_heads), classes label-encoded."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        classification = self.task_ == "classification"
        ya = check_array(
            y, ensure_2d=False, dtype=None if classification else np.float64, input_name=name
        )
        ya = column_or_1d(ya, warn=True)
        if len(ya) != n_rows:
            raise ValueError(f"{name} has {len(ya)} rows but the features have {n_rows}.")
        if fit:
            self.target_names_ = target_names_of(y)
        return self._encode_target(ya, classification, fit=fit).astype(np.float64)[:, None]

    def _heads(self) -> list[tuple[str, int]]:
        if self.task_ == "classification":
            return [("ce", max(len(self.classes_), 1))]
        return [("mse", 1)]

    def _net_inputs(self, Xs: np.ndarray, X_orig, fitting: bool = False) -> np.ndarray:
        """The arrays the module takes (for the training rows when ``fitting``); rows as
        they are for feed-forward nets."""
        return np.ascontiguousarray(Xs, dtype=np.float32)

    def _scale_X(self, Xa: np.ndarray, name: str = "X", source=None) -> np.ndarray:
        """The standardised float32 inputs; NaN or infinity raises naming ``name`` (and
        the columns of ``source``, ``Xa`` as passed, that hold them)."""
        return standardize(Xa, self.mean_, self.scale_, name=name, source=source)

    # ------------------------------------------------------------------ fit
    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=True)
    @fill_doc
    def fit(self, X, y, *, sample_weight=None, X_val=None, y_val=None):
        """Fit the net, early-stopping on the validation rows when configured.

        Parameters
        ----------
        {fit.X_y}
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights (scaled to mean 1 over the training rows).
        {fit.X_val}

        {returns.self}
        """
        config = self._resolve_config()
        self.config_ = config
        self.task_ = config["task"]
        check_validation_pair(X_val, y_val)
        check_labels_not_features(X, y)
        Xa = self._validate_X(X, reset=True)
        Y = self._validate_y(y, len(Xa), fit=True)
        _check_finite("y", Y)
        if Y.shape[1] == 1:
            warn_if_binary_regression(self, Y, self.task_)
        w = np.ones(len(Xa))
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, Xa, ensure_non_negative=True)
        val_rows = None
        patience = config["early_stopping_rounds"]
        fraction = config["validation_fraction"]
        if X_val is None and holds_out_tail(len(Xa), patience, fraction):
            config["embargo_days"] = tail_embargo(self, y, config["embargo_days"])
            train_rows, val_rows = chronological_tail_split(X, fraction, config["embargo_days"])
        else:
            train_rows = np.arange(len(Xa))
        if not np.any(w[train_rows] > 0):
            raise ValueError("sample_weight is zero for every training row; nothing to fit.")
        w = w / w[train_rows].mean()

        # standardise on the training rows only
        if config["standardize"]:
            # NaN or infinity in X makes these NaN; _scale_X then refuses X by name
            self.mean_, scale = mean_and_std(Xa if len(train_rows) == len(Xa) else Xa[train_rows])
            self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        else:
            self.mean_, self.scale_ = np.zeros(Xa.shape[-1]), np.ones(Xa.shape[-1])
        heads = self._heads()
        self.y_mean_ = np.zeros(Y.shape[1])
        self.y_scale_ = np.ones(Y.shape[1])
        for i, (kind, _) in enumerate(heads):
            if kind == "mse":
                self.y_mean_[i] = Y[train_rows, i].mean()
                std = Y[train_rows, i].std()
                self.y_scale_[i] = std if std > 1e-12 else 1.0
        packed = np.column_stack([(Y - self.y_mean_) / self.y_scale_, w]).astype(np.float32)
        scaled = self._scale_X(Xa, source=X)
        inputs = self._net_inputs(scaled, X, fitting=True)

        if X_val is not None:
            Xv = self._validate_X(X_val, reset=False, name="X_val")
            warn_if_validation_not_after(X, X_val, *validation_gap(y))
            Yv = self._validate_y(y_val, len(Xv), fit=False, name="y_val")
            _check_finite("y_val", Yv)
            val_inputs = self._val_net_inputs(scaled, X, Xv, X_val)
            val_packed = np.column_stack(
                [(Yv - self.y_mean_) / self.y_scale_, np.ones(len(Yv))]
            ).astype(np.float32)
        elif val_rows is not None:
            val_inputs, val_packed = inputs[val_rows], packed[val_rows]
            inputs, packed = inputs[train_rows], packed[train_rows]
        else:
            val_inputs = val_packed = None

        self._fit_net(config, heads, inputs, packed, val_inputs, val_packed)
        imp_X, imp_y = (val_inputs, val_packed) if val_inputs is not None else (inputs, packed)
        self.permutation_importance_ = self._permutation_importance(
            imp_X[-_IMPORTANCE_ROWS:], imp_y[-_IMPORTANCE_ROWS:]
        )
        return self

    def _loss_weights(self, config) -> list[float] | None:
        return None

    def _val_net_inputs(self, scaled: np.ndarray, X, Xv: np.ndarray, X_val):
        """The net inputs of the validated ``X_val`` rows ``Xv`` (a sequence net's
        reach back into ``scaled``, the standardised training rows of ``X``)."""
        return self._net_inputs(self._scale_X(Xv, "X_val", X_val), X_val)

    def _fit_net(self, config, heads, inputs, packed, val_inputs, val_packed) -> None:
        from skquant.models._nets._modules import PackedLoss

        module, module_kwargs = self._module(config, inputs.shape[-1], sum(n for _, n in heads))
        weighted = np.any(packed[:, -1] != 1.0) or (
            val_packed is not None and np.any(val_packed[:, -1] != 1.0)
        )
        fit_skorch_net(
            self,
            config,
            module,
            module_kwargs,
            PackedLoss,
            {"heads": heads, "loss_weights": self._loss_weights(config), "weighted": weighted},
            (inputs, packed),
            None if val_inputs is None else (val_inputs, val_packed),
        )

    def _module(self, config, n_features: int, n_outputs: int):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ predict
    def _raw(self, inputs: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Module outputs for prepared inputs, as float64 on the CPU."""
        batch_size = batch_size or int(self.config_["batch_size"])
        out = module_outputs(
            self.model_.module_, inputs, batch_size=batch_size, device=self.device_
        )
        return out.reshape(len(inputs), -1)

    def _inputs_for(self, X) -> np.ndarray:
        check_is_fitted(self)
        Xa = self._validate_X(X, reset=False)
        return self._net_inputs(self._scale_X(Xa, source=X), X)

    def _outputs_to_predictions(self, raw: np.ndarray) -> np.ndarray:
        if self.task_ == "classification":
            return self.classes_[np.argmax(raw, axis=1)]
        return raw[:, 0] * self.y_scale_[0] + self.y_mean_[0]

    @fill_doc
    def predict(self, X):
        """Predict the target (class labels for classification).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows in time order; sequence models also take 3-D windows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._outputs_to_predictions(self._raw(self._inputs_for(X)))

    @available_if(_is_classification)
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        raw = self._raw(self._inputs_for(X))
        raw = raw - raw.max(axis=1, keepdims=True)
        proba = np.exp(raw)
        return proba / proba.sum(axis=1, keepdims=True)

    # ------------------------------------------------------------------ importance
    def _head_losses(self, inputs, packed) -> np.ndarray:
        """Mean loss of each head (unweighted by rows), shape (n_heads,)."""
        torch = import_optional("torch")
        raw = torch.as_tensor(
            self._raw(inputs, batch_size=max(len(inputs), 1)), dtype=torch.float32
        )
        with torch.inference_mode():
            losses = self.model_.criterion_.per_head(raw, torch.as_tensor(packed))
        return np.array([float(loss.mean()) for loss in losses])

    def _permutation_importance(self, inputs, packed) -> np.ndarray:
        """Rise of each head's loss when one feature is permuted, (n_features, n_heads).

        Computed once in ``fit`` on the validation rows (the training rows without
        them), so the fitted net keeps no rows. The rise is averaged over
        ``_IMPORTANCE_REPEATS`` shuffles, all scored in one pass over the stacked copies.
        """
        inputs = np.asarray(inputs)
        base = self._head_losses(inputs, packed)
        rng = np.random.RandomState(0)
        n = len(inputs)
        stacked = np.repeat(inputs[None], _IMPORTANCE_REPEATS, axis=0)
        flat = stacked.reshape((-1,) + inputs.shape[1:])  # a view: the copies one after another
        targets = np.tile(packed, (_IMPORTANCE_REPEATS, 1))
        rise = np.zeros((inputs.shape[-1], len(base)))
        for j in range(inputs.shape[-1]):
            for copy in stacked:
                copy[..., j] = inputs[rng.permutation(n), ..., j]
            rise[j] = self._head_losses(flat, targets) - base
            stacked[..., j] = inputs[..., j]
        return rise

    def _feature_importances(self, target) -> np.ndarray:
        """Permutation importance of one head, or of the weighted loss over all heads."""
        head = self._target_index(target)
        if head is not None:
            return self.permutation_importance_[:, head]
        weights = np.asarray(self.model_.criterion_.loss_weights, dtype=float)
        return self.permutation_importance_ @ weights

    def _target_index(self, target) -> int | None:
        return None
