"""A variational autoencoder on skorch/PyTorch: latent features as a transformer."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np

from skquant.models._feature_base import BaseFeatureTrainer
from skquant.models._nets._base import (
    _IMPORTANCE_ROWS,
    NET_CONSTRAINTS,
    NET_DEFAULTS,
    fit_skorch_net,
    mean_and_std,
    module_outputs,
    standardize,
)
from skquant.utils._docs import fill_doc
from skquant.utils._sklearn_compat import (
    Interval,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from skquant.utils._target import check_labels_not_features
from skquant.utils._time import (
    chronological_tail_split,
    holds_out_tail,
    warn_if_validation_not_after,
)
from skquant.utils._validation import validate_named
from skquant.utils._variant import in_cloning_variant
from skquant.utils._warnings import caller_stacklevel


@fill_doc
class VAETrainer(BaseFeatureTrainer):
    """Variational autoencoder whose latent means are features (a transformer).

    An MLP encoder maps each (standardised) row to a Gaussian over ``latent_dim``
    latent variables; an MLP decoder maps latent values back to the row. Training
    minimises the squared reconstruction error plus ``beta`` times the KL divergence
    from the standard normal prior (a beta-VAE; ``beta=1`` is the classic VAE).
    Each row is encoded on its own, so ``transform`` is causal: row t's features
    depend on row t only (and on the fitted weights).

    Parameters
    ----------
    {config}
    latent_dim : int, default=None
        Number of latent features (``vae0`` .. ``vae{latent_dim-1}``); ``fit`` warns
        when it is not below the number of input features (no compression).
    hidden_layer_sizes : list of int, default=None
        Encoder widths; the decoder mirrors them.
    beta : float, default=None
        Weight of the KL term.
    {nets.params}

    Attributes
    ----------
    model_ : skorch.NeuralNet
        The fitted skorch net, also readable as ``model``; ``model_.module_`` is the
        PyTorch ``VAEModule``.
    {attributes.config_}
    evals_result_ : dict
        ``{"train": {"loss": [...]}, "valid": {"loss": [...]}}``: the negative ELBO
        per row, per epoch (``"valid"`` only with validation rows).
    best_iteration_ : int or None
        The epoch (1-based) whose weights were kept by early stopping.
    {nets.n_epochs_}
    {nets.device_}
    {nets.mean_}
    permutation_importance_ : ndarray of shape (n_features_in_,)
        Rise of the reconstruction error when a column is permuted on the
        validation rows (the last 256; the training rows without them), computed
        in ``fit``; ``get_feature_importance`` reads it.
    {attributes.features_in}

    See Also
    --------
    GANTrainer : synthetic rows and discriminator features.

    Examples
    --------
    >>> from skquant import VAETrainer, load_model_config
    >>> trainer = VAETrainer(load_model_config("vae"))
    >>> latent = trainer.train(X_train, y_train)  # doctest: +SKIP
    >>> trainer.get_feature_names_out()[:2]  # doctest: +SKIP
    array(['vae0', 'vae1'], dtype=object)
    """

    _registry_name = "vae"
    _train_takes_X_val = True
    _defaults = {**NET_DEFAULTS, "latent_dim": 8, "hidden_layer_sizes": [64, 32], "beta": 1.0}
    _parameter_constraints = {
        **{k: v for k, v in NET_CONSTRAINTS.items() if k != "task"},
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_layer_sizes": [list, tuple, None],
        "beta": [Interval(Real, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        config=None,
        *,
        latent_dim=None,
        hidden_layer_sizes=None,
        beta=None,
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
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.beta = beta
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

    # ------------------------------------------------------------------ fit
    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=True)
    @fill_doc
    def fit(self, X, y=None, *, X_val=None):
        """Fit the VAE on ``X``, early-stopping on ``X_val`` or a chronological tail.

        {fit.X_rows}
        y : array-like of shape (n_samples,), default=None
            Not fitted (present for API consistency: Pipelines pass it); a column of
            ``X`` that holds it raises (label-like names warn, with or without ``y``),
            as in a supervised trainer's fit.
        X_val : array-like of shape (n_val, n_features), default=None
            Early-stopping rows. Without them and with ``early_stopping_rounds > 0``
            the latest ``validation_fraction`` of the training dates are held out.

        {returns.self}
        """
        from skquant.models._nets._modules import VAELoss, VAEModule

        check_labels_not_features(X, y)
        config = self._resolve_config()
        self.config_ = config
        Xa = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        if int(config["latent_dim"]) >= self.n_features_in_:
            warnings.warn(
                f"{type(self).__name__}: latent_dim={int(config['latent_dim'])} is not below "
                f"n_features_in_={self.n_features_in_}, the number of input features: a "
                "latent space at least as wide as its input cannot compress it, so the "
                "latent features are a noisy copy of the inputs; use a latent_dim below "
                f"{self.n_features_in_}.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        patience = config["early_stopping_rounds"]
        fraction = config["validation_fraction"]
        train_rows = np.arange(len(Xa))
        val_rows = None
        if X_val is None and holds_out_tail(len(Xa), patience, fraction):
            train_rows, val_rows = chronological_tail_split(
                X, fraction, config["embargo_days"] or 0
            )
        if config["standardize"]:
            self.mean_, scale = mean_and_std(Xa[train_rows])
            self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        else:
            self.mean_, self.scale_ = np.zeros(Xa.shape[1]), np.ones(Xa.shape[1])
        inputs = self._scaled(Xa)
        if X_val is not None:
            Xv = validate_named(self, X_val, "X_val", dtype=np.float64, ensure_all_finite=False)
            warn_if_validation_not_after(X, X_val)
            valid = self._scaled(Xv, "X_val", X_val)
        elif val_rows is not None:
            valid, inputs = inputs[val_rows], inputs[train_rows]
        else:
            valid = None
        module_kwargs = {
            "n_features": Xa.shape[1],
            "hidden_layer_sizes": [int(s) for s in config["hidden_layer_sizes"]],
            "latent_dim": int(config["latent_dim"]),
            "dropout": float(config["dropout"]),
        }
        fit_skorch_net(
            self,
            config,
            VAEModule,
            module_kwargs,
            VAELoss,
            {"beta": float(config["beta"])},
            (inputs, inputs),
            None if valid is None else (valid, valid),
        )
        self.permutation_importance_ = self._permutation_importance(
            (valid if valid is not None else inputs)[-_IMPORTANCE_ROWS:]
        )
        return self

    # ------------------------------------------------------------------ transform
    def _scaled(self, Xa, name="X", source=None):
        """Standardised float32 rows; NaN or infinity raises naming ``name`` (and the
        columns of ``source``, ``Xa`` as passed, that hold them)."""
        return standardize(Xa, self.mean_, self.scale_, name=name, source=source)

    def _module_call(self, method, values: np.ndarray):
        return module_outputs(
            self.model_.module_, values, batch_size=4096, device=self.device_, method=method
        )

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self._module_call("encode", self._scaled(X))

    def _output_names(self) -> list[str]:
        return [f"vae{i}" for i in range(int(self.config_["latent_dim"]))]

    def inverse_transform(self, X):
        """Decode latent values back to rows in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Latent values, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            The decoder's reconstruction, un-standardised.
        """
        check_is_fitted(self)
        from sklearn.utils.validation import check_array

        Z = check_array(X, dtype=np.float64, input_name="X")
        latent_dim = len(self._output_names())
        if Z.shape[1] != latent_dim:
            raise ValueError(
                f"X has {Z.shape[1]} columns but inverse_transform expects latent_dim={latent_dim}."
            )
        decoded = self._module_call("decode", np.ascontiguousarray(Z, dtype=np.float32))
        return decoded * self.scale_ + self.mean_

    def _reconstruction_error(self, scaled: np.ndarray) -> float:
        latent = self._module_call("encode", scaled)
        decoded = self._module_call("decode", latent.astype(np.float32))
        return float(np.mean((decoded - scaled) ** 2))

    def score(self, X, y=None):
        """Negative mean squared reconstruction error of the standardised rows.

        Higher is better, so ``GridSearchCV(VAETrainer(), ...)`` picks the model that
        reconstructs held-out rows best.

        Returns
        -------
        score : float
        """
        Xa = self._validate_X(X)
        return -self._reconstruction_error(self._scaled(Xa))

    def _permutation_importance(self, values: np.ndarray) -> np.ndarray:
        """Rise of the reconstruction error when one input column is permuted."""
        base = self._reconstruction_error(values)
        rng = np.random.RandomState(0)
        out = np.zeros(values.shape[1])
        for j in range(values.shape[1]):
            shuffled = values.copy()
            shuffled[:, j] = values[rng.permutation(len(values)), j]
            out[j] = self._reconstruction_error(shuffled) - base
        return out

    def _feature_importances(self, target) -> np.ndarray:
        return self.permutation_importance_
