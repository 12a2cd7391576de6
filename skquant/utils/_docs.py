"""Docstring fragments shared by the estimators, and :func:`fill_doc` that inserts them.

A class, method or function docstring names a fragment on a line of its own,
``{embargo_days}``, at the indentation of the entries around it. :func:`fill_doc` first dedents the docstring
(``inspect.cleandoc``: Python 3.13 dedents at compile time, 3.10-3.12 do not), then
replaces each such line by the fragment, indented like the line. The result reads
the same through ``inspect.getdoc`` and numpydoc on every Python.

Fragments are numpydoc entries written at column 0 (descriptions indented by four
spaces). ``{model}`` inside a fragment becomes the class's registry name. Names
with a dot belong to one family (``boosting.``, ``lightgbm.``, ``nets.``,
``sequence.``), to methods (``fit.``; ``parameters.`` and ``returns.`` are whole
sections, header included) or to the return metrics (``metrics.``); names without
one are shared by every trainer that has the parameter or attribute.
"""

from __future__ import annotations

import inspect
import re
import textwrap


def _entries(text: str) -> dict[str, str]:
    """Split numpydoc entries (``name : type`` at column 0) into ``{name: entry}``.

    An entry documenting several names (``mean_, scale_ : ...``) is keyed by the first.
    """
    entries: dict[str, list[str]] = {}
    for line in inspect.cleandoc(text).splitlines():
        if line and not line[0].isspace():
            name = line.split(" : ")[0].split(",")[0].strip()
            entries[name] = [line]
        else:
            entries[name].append(line)
    return {name: "\n".join(lines) for name, lines in entries.items()}


_SHARED = _entries(
    """
    config : dict, default=None
        Hyper-parameters, usually ``load_model_config("{model}", variant=...)``.
        ``None`` uses the variant named by ``MODEL_VARIANT`` (read at fit), else
        ``"balanced"``. Explicit parameters below win over it.
    task : {"regression", "classification"}, default=None
        Regression (default) or classification; decides ``predict_proba`` and tags.
    validation_fraction : float, default=None
        Share of the latest training dates held out for early stopping when
        ``train``/``fit`` gets no ``X_val``.
    embargo_days : int, default=None
        Dates dropped between the training rows and the chronological early-stopping
        tail: labels of horizon h need ``embargo_days >= h`` so that no training label
        is computed from prices inside the tail. None is the horizon the target tells
        (``make_labels`` metadata in its ``attrs``, else its name, e.g. ``fwd_ret_5``),
        else 0; a smaller explicit value than horizon - 1 warns. ``config_`` holds
        the value used when a tail was held out. Not used with ``X_val``/``y_val``,
        which the caller embargoes: fewer than horizon - 1 periods between the
        training dates and ``X_val`` warn.
    """
)

# the ensemble and meta-learning embargo their out-of-fold blocks, not a tail
_OUT_OF_FOLD = _entries(
    """
    embargo_days : int, default=None
        Dates dropped from each out-of-fold training window just before the block it
        predicts: labels of horizon h need ``embargo_days >= h`` so no base model is
        trained on a label computed from the block's prices. None is the horizon the
        target tells (``make_labels`` metadata, else its name), else 0; a smaller
        explicit value than horizon - 1 warns. ``config_`` holds the value used.
    """
)

_ATTRIBUTES = _entries(
    """
    config_ : dict
        The resolved hyper-parameters actually used.
    task_ : str
        The task fitted.
    classes_ : ndarray of shape (n_classes,)
        Class labels (classification only).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame with string columns.
    """
)

_BOOSTING = _entries(
    """
    n_estimators : int, default=None
        Maximum boosting rounds.
    learning_rate : float, default=None
        Shrinkage per round.
    early_stopping_rounds : int, default=None
        Stop when the validation metric has not improved for this many rounds;
        0 trains all ``n_estimators`` rounds.
    verbose : int, default=None
        Log the evaluation every ``verbose`` rounds; quiet when 0, negative
        (LightGBM's ``-1``) or None. The library's ``verbosity`` is accepted in
        configs.
    evals_result_ : dict
        ``{"train": {metric: [...]}, "valid": {metric: [...]}}`` per round;
        ``"valid"`` only when there was a validation set.
    """
)

_LIGHTGBM = _entries(
    """
    max_depth : int, default=None
        Maximum tree depth, -1 for none.
    num_leaves : int, default=None
        Maximum leaves per tree.
    min_child_samples : int, default=None
        Minimum rows in a leaf (LightGBM's ``min_data_in_leaf``, also accepted in configs).
    min_child_weight : float, default=None
        Minimum sum of hessians in a leaf.
    min_split_gain : float, default=None
        Minimum loss reduction to split.
    subsample : float, default=None
        Row subsampling fraction per bagging round.
    subsample_freq : int, default=None
        Bagging every ``subsample_freq`` rounds (0 disables row subsampling).
    colsample_bytree : float, default=None
        Column subsampling fraction per tree.
    reg_alpha, reg_lambda : float, default=None
        L1 and L2 regularisation of leaf values.
    random_state : int, RandomState or None, default=None
        Seed.
    n_jobs : int, default=None
        Threads. None uses ``OMP_NUM_THREADS`` when set, else LightGBM's default
        (every physical core).
    """
)

_NETS = _entries(
    """
    epochs : int, default=None
        Maximum passes over the training rows.
    batch_size : int, default=None
        Rows per mini-batch (mini-batches are drawn shuffled from the training rows;
        the validation rows are always a chronological hold-out).
    lr : float, default=None
        AdamW learning rate.
    weight_decay : float, default=None
        AdamW decoupled weight decay.
    dropout : float, default=None
        Dropout probability in the hidden layers.
    early_stopping_rounds : int, default=None
        Patience: stop when the validation loss has not improved for this many
        epochs and restore the best epoch's weights; 0 trains all ``epochs``.
    grad_clip : float, default=None
        Clip the gradient norm to this value; 0 disables clipping.
    device : {"cpu", "cuda", "auto"}, default=None
        Where to train; ``"auto"`` takes the GPU when torch sees one.
    random_state : int, RandomState or None, default=None
        Seed of the weights, dropout and batch order. The same seed gives the same
        predictions on the CPU.
    standardize : bool, default=None
        Standardise the inputs with the mean and standard deviation of the training
        rows (never the validation rows). Regression targets are always
        standardised inside the net and mapped back by ``predict``.
    verbose : int, default=None
        Print one log line per epoch when positive; quiet by default.
    """
)

_NET_ATTRIBUTES = _entries(
    """
    model_ : skorch.NeuralNet
        The fitted skorch net, also readable as ``model``; ``model_.module_`` is the
        PyTorch module.
    evals_result_ : dict
        ``{"train": {"loss": [...]}, "valid": {"loss": [...]}}``, one value per
        epoch; ``"valid"`` only when there were validation rows. Regression losses
        are mean squared errors of the standardised target.
    best_iteration_ : int or None
        The epoch (1-based) whose weights were kept by early stopping, None
        without early stopping.
    n_epochs_ : int
        Epochs actually run.
    device_ : str
        The device the net was trained on.
    mean_, scale_ : ndarray of shape (n_features_in_,)
        Input standardisation learnt on the training rows.
    permutation_importance_ : ndarray of shape (n_features_in_, n_heads)
        Rise of each head's loss (one head per target) when a feature is permuted
        on the validation rows (the last 256; the training rows without them),
        computed in ``fit``; ``get_feature_importance`` reads it.
    input_ndim_ : int
        2 for row input (windows built inside), 3 for window input.
    seq_len_in_ : int
        The window length (second axis) of 3-D input; ``predict`` refuses windows
        of another length. Only set when fitted on 3-D windows.
    """
)

_SEQUENCE = _entries(
    """
    seq_len : int, default=None
        Rows per window: the prediction for row t uses rows t-seq_len+1..t of the
        same symbol. Ignored for 3-D input, whose second axis is the window.
    """
)

# the methods' parameters and returns, shared by the trainers that have them
_FIT = _entries(
    """
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Training features, rows in time order (or indexed by date).
    y : array-like of shape (n_samples,)
        Target.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    X_val, y_val : array-like, default=None
        Early-stopping validation rows, dated after the training rows (else a
        warning), with the embargo between them (``skquant.time_train_test_split``).
        Without them and with ``early_stopping_rounds > 0``, the latest
        ``validation_fraction`` of the training dates are held out instead.
    """
)

# the strategies' fit
_STRATEGY = _entries(
    """
    X : DataFrame or array-like of shape (n_samples, n_features)
        Features, rows in time order (or indexed by date).
    X_val, y_val : default=None
        Early-stopping validation rows (later than the training rows).
    """
)

# get_feature_importance's kind and X, shared by the three strategies
_STRATEGY_IMPORTANCE = _entries(
    """
    kind : {"gain", "shap", "permutation"}, default="gain"
        As the trainers' ``get_feature_importance``: the model's own importance,
        the mean absolute SHAP value over ``X``, or the mean decrease of a trading
        score on ``(X, y)`` when one feature is shuffled.
    X : array-like of shape (n_samples, n_features), default=None
        The rows to explain or score (``"shap"``, ``"permutation"``), with the
        strategy's features.
    """
)

_RETURNS_METRICS = _entries(
    """
    returns : array-like of shape (n_periods,)
        Per-period simple returns; NaN periods are dropped.
    periods_per_year : float or None, default=252
        Periods in a year (252 daily, 52 weekly, 12 monthly). None takes it from
        the dates of ``returns`` (a Series or frame indexed by a DatetimeIndex);
        a year those dates clearly contradict warns (252 for weekly returns: a
        Sharpe ratio 2.2x too high).
    pnl : array-like of shape (n_periods,)
        Per-period returns (or per-trade P&L); NaN periods are dropped.
    """
)


def _section(title: str, body: str) -> str:
    """A numpydoc section: ``title``, its underline, then ``body``."""
    return f"{title}\n{'-' * len(title)}\n{textwrap.dedent(body).strip()}"


def _join(entries: dict[str, str], names: str) -> str:
    """The entries named (space-separated), in that order, as one fragment."""
    return "\n".join(entries[name] for name in names.split())


# the attributes of every net trainer (the VAE and GAN document their own)
_NET_ATTRIBUTE_NAMES = (
    "model_ config_ task_ evals_result_ best_iteration_ n_epochs_ device_ mean_ "
    "permutation_importance_ classes_ n_features_in_ feature_names_in_"
)

FRAGMENTS: dict[str, str] = {
    "defaults": (
        'Every hyper-parameter defaults to ``None``, meaning "take it from ``config``,\n'
        'else from the YAML variant" (see :func:`skquant.load_model_config`).'
    ),
    **_SHARED,
    "oof_embargo_days": _OUT_OF_FOLD["embargo_days"],
    **{f"attributes.{name}": entry for name, entry in _ATTRIBUTES.items()},
    "attributes.features_in": _join(_ATTRIBUTES, "n_features_in_ feature_names_in_"),
    **{f"boosting.{name}": entry for name, entry in _BOOSTING.items()},
    **{f"lightgbm.{name}": entry for name, entry in _LIGHTGBM.items()},
    "lightgbm.trees": _join(
        _LIGHTGBM,
        "max_depth num_leaves min_child_samples min_child_weight min_split_gain "
        "subsample subsample_freq colsample_bytree reg_alpha",
    ),
    # the parameters after early_stopping_rounds, shared by both LightGBM trainers
    "lightgbm.tail": _join(
        {**_SHARED, **_LIGHTGBM, **_BOOSTING},
        "validation_fraction embargo_days random_state n_jobs verbose",
    ),
    **{f"nets.{name}": entry for name, entry in _NET_ATTRIBUTES.items()},
    "nets.params": _join(
        {**_NETS, **_SHARED},
        "epochs batch_size lr weight_decay dropout early_stopping_rounds "
        "validation_fraction embargo_days grad_clip device random_state standardize verbose",
    ),
    "nets.attributes": _join({**_NET_ATTRIBUTES, **_ATTRIBUTES}, _NET_ATTRIBUTE_NAMES),
    "fit.X_y": _join(_FIT, "X y"),
    "fit.X_val": _FIT["X_val"],
    "fit.parameters": _section("Parameters", _join(_FIT, "X y sample_weight X_val")),
    "fit.X_rows": _section(
        "Parameters",
        """
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows in time order.
        """,
    ),
    "returns.self": _section("Returns", "self : object\n    The fitted trainer."),
    "parameters.X": _section(
        "Parameters", "X : {array-like, DataFrame} of shape (n_samples, n_features)"
    ),
    "returns.y_pred": _section("Returns", "y_pred : ndarray of shape (n_samples,)"),
    "strategy.parameters": _section("Parameters", _STRATEGY["X"]),
    "strategy.X_val": _STRATEGY["X_val"],
    "strategy.kind_X": _join(_STRATEGY_IMPORTANCE, "kind X"),
    "returns.importance": _section(
        "Returns", "importance : pandas.Series\n    Indexed by feature name, sorted descending."
    ),
    "returns.strategy": _section("Returns", "self : object\n    The fitted strategy."),
    "splitter.dates": inspect.cleandoc(
        """
        Dates come from ``groups`` when given, else from a ``DatetimeIndex`` or a
        datetime level of a ``MultiIndex`` of ``X``, else every row is its own date in
        row order.
        """
    ),
    "metrics.returns": _RETURNS_METRICS["returns"],
    # returns that may be per-trade P&L: the parameter is still named returns
    "metrics.pnl": _RETURNS_METRICS["pnl"].replace("pnl", "returns", 1),
    "metrics.parameters": _section(
        "Parameters", _join(_RETURNS_METRICS, "returns periods_per_year")
    ),
    "sequence.seq_len": _SEQUENCE["seq_len"],
    # Attributes, See Also and Notes: the three sequence nets share all of them
    "sequence.sections": "\n\n".join(
        [
            _section(
                "Attributes",
                _join(
                    {**_NET_ATTRIBUTES, **_ATTRIBUTES},
                    _NET_ATTRIBUTE_NAMES + " input_ndim_ seq_len_in_",
                ),
            ),
            _section(
                "See Also",
                """
                LSTMTrainer, TransformerTrainer, CNN1DTrainer : the nets over windows of past rows.
                MLPTrainer : each row on its own.
                """,
            ),
            _section(
                "Notes",
                """
                ``X`` is 2-D and time-ordered, as for every trainer (or a 3-D array of windows
                of shape (n_samples, seq_len, n_features)). Windows are built inside ``fit`` and
                ``predict`` from the rows they are given: the first ``seq_len - 1`` rows of each
                symbol in a ``predict`` call see zero padding, so pass enough history before the
                rows you need. A row's prediction depends on the rows before it in the same
                call, never on later ones. The windows of an ``X_val`` whose dates all follow
                the training rows' reach back into them (as those of the validation tail the
                trainer cuts itself do); other ``X_val`` windows are built from ``X_val`` alone.
                """,
            ),
        ]
    ),
}

_PLACEHOLDER = re.compile(r"( *)\{([\w.]+)\}")


def fill_doc(obj):
    """Dedent ``obj.__doc__`` and replace its ``{fragment}`` lines; return ``obj``.

    Use as a class, method or function decorator (below ``_fit_context``, which
    copies the docstring). A line holding only ``{name}`` is replaced by
    ``FRAGMENTS[name]`` at that line's indentation; braces anywhere else are left
    alone. An unknown name raises ``KeyError`` at import time. Without a docstring
    (``python -OO``) ``obj`` is returned as it is.
    """
    if obj.__doc__ is None:
        return obj
    lines = []
    for line in inspect.cleandoc(obj.__doc__).splitlines():
        match = _PLACEHOLDER.fullmatch(line)
        if match is None:
            lines.append(line)
            continue
        indent, name = match.groups()
        if name not in FRAGMENTS:
            raise KeyError(
                f"{obj.__name__}'s docstring names the unknown fragment {{{name}}}; "
                f"known: {', '.join(sorted(FRAGMENTS))}."
            )
        text = FRAGMENTS[name]
        if "{model}" in text:
            text = text.replace("{model}", obj._registry_name)
        lines += [indent + part if part else part for part in text.splitlines()]
    obj.__doc__ = "\n".join(lines) + "\n"
    return obj
