"""A multi-layer perceptron on skorch/PyTorch as a skquant trainer."""

from __future__ import annotations

from skquant.models._nets._base import (
    NET_CONSTRAINTS,
    NET_DEFAULTS,
    BaseNetTrainer,
    module_kwargs,
)
from skquant.utils._docs import fill_doc


@fill_doc
class MLPTrainer(BaseNetTrainer):
    """Multi-layer perceptron, regressor or classifier, each row on its own.

    A plain scikit-learn estimator that builds a ``skorch.NeuralNet`` inside ``fit``.
    {defaults}

    Parameters
    ----------
    {config}
    {task}
    hidden_layer_sizes : list of int, default=None
        Width of each hidden ReLU layer.
    {nets.params}

    Attributes
    ----------
    {nets.attributes}

    See Also
    --------
    LSTMTrainer, TransformerTrainer, CNN1DTrainer : nets over windows of past rows.
    MultiTaskTrainer : one shared trunk, one head per target.

    Examples
    --------
    >>> from skquant import MLPTrainer, load_model_config
    >>> config = load_model_config("mlp", overrides={"epochs": 100})
    >>> trainer = MLPTrainer(config)
    >>> trainer.train(X_train, y_train, X_val, y_val)  # doctest: +SKIP
    >>> trainer.get_feature_importance().head(10)  # doctest: +SKIP
    """

    _registry_name = "mlp"
    _defaults = {**NET_DEFAULTS, "hidden_layer_sizes": [128, 64]}
    _parameter_constraints = {**NET_CONSTRAINTS, "hidden_layer_sizes": [list, tuple, None]}

    def __init__(
        self,
        config=None,
        *,
        task=None,
        epochs=None,
        batch_size=None,
        lr=None,
        weight_decay=None,
        dropout=None,
        hidden_layer_sizes=None,
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
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.hidden_layer_sizes = hidden_layer_sizes
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.embargo_days = embargo_days
        self.grad_clip = grad_clip
        self.device = device
        self.random_state = random_state
        self.standardize = standardize
        self.verbose = verbose

    def _module(self, config, n_features, n_outputs):
        from skquant.models._nets._modules import MLPModule

        return MLPModule, {
            **module_kwargs(config, n_features, n_outputs),
            "hidden_layer_sizes": [int(s) for s in config["hidden_layer_sizes"]],
        }
