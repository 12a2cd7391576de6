"""Sequence nets (LSTM, causal Transformer, causal 1-D CNN) over windows of past rows.

They take the same 2-D, time-ordered ``X`` as every other trainer and build the
windows themselves: the input for row t is rows t-seq_len+1..t of the same symbol
(rows before the first one are zeros, the mean of the standardised inputs). With a
(date, symbol) ``MultiIndex`` windows never cross symbols. Nothing later than row t
reaches row t's prediction, so ``WalkForwardSplit`` and Pipelines work unchanged.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd

from skquant.models._nets._base import (
    NET_CONSTRAINTS,
    NET_DEFAULTS,
    BaseNetTrainer,
    module_kwargs,
)
from skquant.utils._docs import fill_doc
from skquant.utils._panel import refuse_repeated_dates
from skquant.utils._sklearn_compat import Interval
from skquant.utils._time import validation_span, warn_rows_as_one_series
from skquant.utils._warnings import caller_stacklevel


def window_index(X, n_rows: int, seq_len: int, *, pad: int = -1) -> np.ndarray:
    """Row positions of each row's window, shape (n_rows, seq_len), ``pad`` for padding.

    Column ``seq_len - 1`` is the row itself, column ``seq_len - 1 - k`` the k-th
    earlier row of the same symbol. Symbols come from the non-datetime levels of a
    ``MultiIndex``; time order within a symbol from its datetime level. Without a
    datetime level the levels after the first are taken as the symbol and the rows
    are in time order: right for (period, symbol), but a (symbol, period) index makes
    each row a series of its own, its window padding and itself (no look-ahead, no
    history either).
    """
    index = getattr(X, "index", None)
    rows = np.arange(n_rows)
    codes = dates = None
    if isinstance(index, pd.MultiIndex) and len(index) == n_rows:
        levels = [index.get_level_values(i) for i in range(index.nlevels)]
        date_levels = [i for i, v in enumerate(levels) if isinstance(v, pd.DatetimeIndex)]
        others = [i for i in range(index.nlevels) if i not in date_levels] or list(
            range(1, index.nlevels)
        )
        if date_levels:
            dates = levels[date_levels[0]]
        if others:
            keys = pd.MultiIndex.from_arrays([levels[i] for i in others])
            codes = pd.factorize(keys)[0].astype(np.int64)
    elif isinstance(index, pd.DatetimeIndex) and len(index) == n_rows:
        dates = index
    back = rows[:, None] - np.arange(seq_len - 1, -1, -1)  # each row's earlier positions
    if codes is None and dates is None:  # one series in row order: no sort needed
        head = back[: seq_len - 1]  # only the first rows reach back before row 0
        head[head < 0] = pad
        return back
    if codes is None:
        codes = np.zeros(n_rows, dtype=np.int64)
    order = np.lexsort((rows, codes) if dates is None else (rows, dates.asi8, codes))
    g = codes[order]
    if dates is not None:  # a window must not reach across symbols sharing one series
        refuse_repeated_dates(dates[order], g, panel=isinstance(index, pd.MultiIndex))
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, n_rows]))
    # in symbol-then-time order, a window is the positions back from its row, kept
    # while they stay within the row's symbol
    inside = back >= group_start[:, None]
    idx = np.empty((n_rows, seq_len), dtype=np.int64)
    idx[order] = np.where(inside, order[np.where(inside, back, 0)], pad)
    return idx


class Windows:
    """Windows of past rows, gathered only when asked for.

    Holds the standardised rows (float32, a zero row appended for the padding) and
    each window's row positions (the zero row's for padding), ``n_rows * n_features``
    values instead of the ``n_rows * seq_len * n_features`` of the windows themselves. Indexing (a slice or
    row positions) gives another ``Windows``; ``np.asarray`` gathers the 3-D array.
    The nets' batch loader gathers one mini-batch at a time.
    """

    def __init__(self, rows: np.ndarray, index: np.ndarray):
        self.rows = rows
        self.index = index

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.index), self.index.shape[1], self.rows.shape[1])

    def __getitem__(self, key) -> Windows:
        return Windows(self.rows, self.index[key])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = np.take(self.rows, self.index, axis=0)
        return out if dtype is None else out.astype(dtype, copy=False)


def lazy_windows(Xs: np.ndarray, X, seq_len: int) -> Windows:
    """The windows of 2-D rows (see ``window_index``), zero-padded, not yet gathered."""
    padded = np.zeros((len(Xs) + 1, Xs.shape[1]), dtype=np.float32)
    padded[:-1] = Xs
    # padding points at the zero row: a position a batch loader can take
    return Windows(padded, window_index(X, len(Xs), seq_len, pad=len(Xs)))


def make_windows(Xs: np.ndarray, X, seq_len: int) -> np.ndarray:
    """Windows of shape (n_rows, seq_len, n_features) from 2-D rows, zero-padded."""
    return np.asarray(lazy_windows(Xs, X, seq_len))


SEQUENCE_DEFAULTS = {**NET_DEFAULTS, "seq_len": 20}
SEQUENCE_CONSTRAINTS = {
    **NET_CONSTRAINTS,
    "seq_len": [Interval(Integral, 1, None, closed="left"), None],
}


class BaseSequenceTrainer(BaseNetTrainer):
    """Windowing shared by the sequence nets (not for direct use)."""

    _accepts_3d = True

    def _window_length(self, config) -> int:
        """Rows per window: the fitted 3-D input's, else ``seq_len``."""
        if getattr(self, "input_ndim_", 2) == 3:
            return int(self.seq_len_in_)
        return int(config["seq_len"])

    def _net_inputs(self, Xs, X_orig, fitting=False):
        if Xs.ndim == 3:
            return np.ascontiguousarray(Xs, dtype=np.float32)
        seq_len = int(self.config_["seq_len"])
        # window_index's one series in row order: no panel or dates in the index
        index = getattr(X_orig, "index", None)
        if seq_len > 1 and len(Xs) > 1 and not isinstance(index, (pd.MultiIndex, pd.DatetimeIndex)):
            warn_rows_as_one_series(f"{type(self).__name__}'s windows of past rows")
        windows = lazy_windows(Xs, X_orig, seq_len)
        pad = len(Xs)
        if fitting and len(Xs) and (windows.index[:, 0] == pad).all():
            longest = int((windows.index != pad).sum(axis=1).max())
            warnings.warn(
                f"{type(self).__name__}: seq_len={seq_len} is longer than every series "
                f"of the training rows (the longest holds {longest} rows), so every "
                "window is partly zero padding and the net never sees a whole one: "
                "lower seq_len, or train on longer series.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return windows

    def _val_net_inputs(self, scaled, X, Xv, X_val):
        """``X_val``'s windows: when ``X_val``'s dates all follow the training rows', a
        window reaches back into the training rows of its symbol, as in the unbroken
        series (the trainer's own validation tail does the same); else from ``X_val``
        alone, its first ``seq_len - 1`` rows of each symbol zero-padded (they were,
        whatever the dates: the net early-stopped on windows it never trained on)."""
        scaled_val = self._scale_X(Xv, "X_val", X_val)
        if Xv.ndim == 3 or int(self.config_["seq_len"]) <= 1 or not _follows(X, X_val):
            return self._net_inputs(scaled_val, X_val)
        both = pd.concat([X, X_val])
        rows = np.concatenate([scaled, scaled_val])
        return self._net_inputs(rows, both)[len(scaled) :]


def _follows(X, X_val) -> bool:
    """Whether ``X`` and ``X_val`` are dated frames of one layout, every ``X_val`` date
    after every ``X`` date."""
    if not (isinstance(X, pd.DataFrame) and isinstance(X_val, pd.DataFrame)):
        return False
    if list(X.index.names) != list(X_val.index.names) or list(X.columns) != list(X_val.columns):
        return False
    span = validation_span(X, X_val)
    return span is not None and span[3] > span[2]  # first validation date > last training


@fill_doc
class LSTMTrainer(BaseSequenceTrainer):
    """LSTM over windows of past rows, regressor or classifier.

    Parameters
    ----------
    {config}
    {task}
    {sequence.seq_len}
    hidden_size : int, default=None
        LSTM hidden units.
    num_layers : int, default=None
        Stacked LSTM layers.
    gradient_checkpointing : bool, default=None
        Recompute the LSTM's activations in the backward pass instead of storing
        them: less memory, more compute (the answer to memory errors). Training
        only; the fit and its predictions are the same as without it.
    {nets.params}

    {sequence.sections}

    Examples
    --------
    >>> from skquant import LSTMTrainer, load_model_config
    >>> trainer = LSTMTrainer(load_model_config("lstm"))
    >>> trainer.train(X_train, y_train)  # doctest: +SKIP
    """

    _registry_name = "lstm"
    _defaults = {
        **SEQUENCE_DEFAULTS,
        "hidden_size": 64,
        "num_layers": 1,
        "gradient_checkpointing": False,
    }
    _parameter_constraints = {
        **SEQUENCE_CONSTRAINTS,
        "hidden_size": [Interval(Integral, 1, None, closed="left"), None],
        "num_layers": [Interval(Integral, 1, None, closed="left"), None],
        "gradient_checkpointing": ["boolean", None],
    }

    def __init__(
        self,
        config=None,
        *,
        task=None,
        seq_len=None,
        hidden_size=None,
        num_layers=None,
        gradient_checkpointing=None,
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
        self.task = task
        self.seq_len = seq_len
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.gradient_checkpointing = gradient_checkpointing
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

    def _module(self, config, n_features, n_outputs):
        from skquant.models._nets._modules import LSTMModule

        return LSTMModule, {
            **module_kwargs(config, n_features, n_outputs),
            "hidden_size": int(config["hidden_size"]),
            "num_layers": int(config["num_layers"]),
            "gradient_checkpointing": bool(config["gradient_checkpointing"]),
        }


@fill_doc
class TransformerTrainer(BaseSequenceTrainer):
    """Causal Transformer encoder over windows of past rows, regressor or classifier.

    The rows of a window are projected to ``d_model``, given a sinusoidal
    positional encoding and passed through pre-norm encoder layers under a causal
    mask (a position attends to itself and earlier positions only); the last
    position's output feeds the head.

    Parameters
    ----------
    {config}
    {task}
    {sequence.seq_len}
    d_model : int, default=None
        Width of the attention layers; a multiple of ``n_heads``.
    n_heads : int, default=None
        Attention heads.
    num_layers : int, default=None
        Encoder layers.
    dim_feedforward : int, default=None
        Width of each layer's feed-forward block.
    gradient_checkpointing : bool, default=None
        Recompute each encoder layer's activations in the backward pass instead of
        storing them: less memory, more compute (the answer to memory errors;
        ``benchmarks/bench_checkpointing.py`` measures both). Training only; the fit
        and its predictions are the same as without it.
    {nets.params}

    {sequence.sections}

    Examples
    --------
    >>> from skquant import TransformerTrainer, load_model_config
    >>> trainer = TransformerTrainer(load_model_config("transformer"), seq_len=60)
    >>> trainer.train(X_train, y_train, X_val, y_val)  # doctest: +SKIP
    """

    _registry_name = "transformer"
    _defaults = {
        **SEQUENCE_DEFAULTS,
        "d_model": 32,
        "n_heads": 4,
        "num_layers": 2,
        "dim_feedforward": 64,
        "gradient_checkpointing": False,
    }
    _parameter_constraints = {
        **SEQUENCE_CONSTRAINTS,
        "d_model": [Interval(Integral, 1, None, closed="left"), None],
        "n_heads": [Interval(Integral, 1, None, closed="left"), None],
        "num_layers": [Interval(Integral, 1, None, closed="left"), None],
        "dim_feedforward": [Interval(Integral, 1, None, closed="left"), None],
        "gradient_checkpointing": ["boolean", None],
    }

    def __init__(
        self,
        config=None,
        *,
        task=None,
        seq_len=None,
        d_model=None,
        n_heads=None,
        num_layers=None,
        dim_feedforward=None,
        gradient_checkpointing=None,
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
        self.task = task
        self.seq_len = seq_len
        self.d_model = d_model
        self.n_heads = n_heads
        self.num_layers = num_layers
        self.dim_feedforward = dim_feedforward
        self.gradient_checkpointing = gradient_checkpointing
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

    def _module(self, config, n_features, n_outputs):
        from skquant.models._nets._modules import TransformerModule

        d_model, n_heads = int(config["d_model"]), int(config["n_heads"])
        if d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be a multiple of n_heads={n_heads} in "
                f"{type(self).__name__}."
            )
        return TransformerModule, {
            **module_kwargs(config, n_features, n_outputs),
            "d_model": d_model,
            "n_heads": n_heads,
            "num_layers": int(config["num_layers"]),
            "dim_feedforward": int(config["dim_feedforward"]),
            "gradient_checkpointing": bool(config["gradient_checkpointing"]),
            # the positional encoding spans the window (it stopped at 512 rows)
            "max_len": max(self._window_length(config), 512),
        }


@fill_doc
class CNN1DTrainer(BaseSequenceTrainer):
    """Causal 1-D convolutions over windows of past rows, regressor or classifier.

    Each layer pads on the left only, so an output step sees its own and earlier
    steps; the last step's channels feed the head. The receptive field is
    ``1 + len(channels) * (kernel_size - 1)`` rows.

    Parameters
    ----------
    {config}
    {task}
    {sequence.seq_len}
    channels : list of int, default=None
        Output channels of each convolution layer.
    kernel_size : int, default=None
        Width of every convolution kernel, in rows.
    gradient_checkpointing : bool, default=None
        Recompute each convolution layer's activations in the backward pass instead
        of storing them: less memory, more compute (the answer to memory errors).
        Training only; the fit and its predictions are the same as without it.
    {nets.params}

    {sequence.sections}

    Examples
    --------
    >>> from skquant import CNN1DTrainer, load_model_config
    >>> trainer = CNN1DTrainer(load_model_config("cnn1d"), kernel_size=5)
    >>> trainer.fit(X_train, y_train).predict(X_test)  # doctest: +SKIP
    """

    _registry_name = "cnn1d"
    _defaults = {
        **SEQUENCE_DEFAULTS,
        "channels": [32, 32],
        "kernel_size": 3,
        "gradient_checkpointing": False,
    }
    _parameter_constraints = {
        **SEQUENCE_CONSTRAINTS,
        "channels": [list, tuple, None],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), None],
        "gradient_checkpointing": ["boolean", None],
    }

    def __init__(
        self,
        config=None,
        *,
        task=None,
        seq_len=None,
        channels=None,
        kernel_size=None,
        gradient_checkpointing=None,
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
        self.task = task
        self.seq_len = seq_len
        self.channels = channels
        self.kernel_size = kernel_size
        self.gradient_checkpointing = gradient_checkpointing
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

    def _module(self, config, n_features, n_outputs):
        from skquant.models._nets._modules import CNN1DModule

        return CNN1DModule, {
            **module_kwargs(config, n_features, n_outputs),
            "channels": [int(c) for c in config["channels"]],
            "kernel_size": int(config["kernel_size"]),
            "gradient_checkpointing": bool(config["gradient_checkpointing"]),
        }
