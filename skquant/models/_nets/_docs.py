"""Docstring fragments shared by the net trainers (numpydoc Parameters/Attributes)."""

COMMON_PARAMS = """\
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
    validation_fraction : float, default=None
        Share of the latest training dates held out for early stopping when
        ``train``/``fit`` gets no ``X_val``.
    embargo_days : int, default=None
        Dates dropped between the training rows and the chronological early-stopping
        tail (0 when None): labels of horizon h need ``embargo_days >= h`` so that no
        training label is computed from prices inside the tail. Not used with
        ``X_val``/``y_val``, which the caller embargoes.
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
        Print one log line per epoch when positive; quiet by default."""

COMMON_ATTRIBUTES = """\
    model_ : skorch.NeuralNet
        The fitted skorch net, also readable as ``model``; ``model_.module_`` is the
        PyTorch module.
    config_ : dict
        The resolved hyper-parameters actually used.
    task_ : str
        The task fitted.
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
        on the validation rows (the last 1000; the training rows without them),
        computed in ``fit``; ``get_feature_importance`` reads it.
    classes_ : ndarray of shape (n_classes,)
        Class labels (classification only).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame with string columns."""


def fill(doc: str) -> str:
    """Put the shared fragments into a class docstring."""
    return doc.replace("{common_params}", COMMON_PARAMS).replace(
        "{common_attributes}", COMMON_ATTRIBUTES
    )
