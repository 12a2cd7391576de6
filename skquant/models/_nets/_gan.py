"""A tabular GAN (WGAN-GP) as a skquant trainer: synthetic rows and discriminator features."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from skquant.models._feature_base import BaseFeatureTrainer
from skquant.models._nets._base import resolve_device, seeded_torch
from skquant.utils._docs import fill_doc
from skquant.utils._optional import import_optional
from skquant.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from skquant.utils._target import check_labels_not_features
from skquant.utils._variant import in_cloning_variant

# Values used when neither parameter, config nor YAML variant sets a key.
_GAN_DEFAULTS: dict[str, Any] = {
    "epochs": 300,
    "batch_size": 128,
    "lr": 1e-3,
    "latent_dim": 16,
    "generator_layer_sizes": [64, 64],
    "discriminator_layer_sizes": [64, 64],
    "n_critic": 5,
    "gp_weight": 10.0,
    "ema_decay": 0.99,
    "conditional": False,
    "device": "cpu",
    "standardize": "quantile",
    "verbose": 0,
}

_CHUNK = 65536  # rows per forward pass in transform/sample


def _make_scaler(standardize, n_samples: int):
    """The column transform the networks see (fitted on the training rows; sample inverts it).

    ``"quantile"``: each column's empirical quantiles mapped to standard normal
    scores. A generator of ReLU layers fed Gaussian noise is Lipschitz, so its rows
    have Gaussian-like tails: on fat-tailed columns (returns) mean/std-scaled
    samples came out too wide in the middle and too narrow in the tails (a
    standard-deviation ratio of 0.7 on Student-t data). In normal scores every
    column is Gaussian-like, and the inverse map gives back each column's own tails.
    ``"standard"`` or ``True``: mean and standard deviation. ``False``: nothing.
    """
    from sklearn.preprocessing import FunctionTransformer, QuantileTransformer, StandardScaler

    if standardize == "quantile":
        scaler = QuantileTransformer(
            n_quantiles=min(1000, n_samples), output_distribution="normal", subsample=None
        )
    elif standardize == "standard" or standardize is True:
        scaler = StandardScaler()
    else:
        scaler = FunctionTransformer()
    return scaler.set_output(transform="default")  # arrays, whatever sklearn's global config


@fill_doc
class GANTrainer(BaseFeatureTrainer):
    """Tabular generative adversarial network (WGAN-GP): synthetic rows like ``X``.

    A generator MLP maps Gaussian noise to rows and a discriminator MLP (a
    Wasserstein critic) scores rows as real or synthetic. They are trained with the
    WGAN-GP objective of Gulrajani et al. (2017): the critic minimises
    ``critic(fake) - critic(real)`` plus ``gp_weight`` times the gradient penalty
    ``(||grad critic(x_hat)|| - 1)^2`` on random interpolates, taking ``n_critic``
    steps per generator step; Adam with ``betas=(0.5, 0.9)``. Sampling uses an
    exponential moving average of the generator's weights (``ema_decay``), which
    damps the oscillation of adversarial training.

    By default each column is mapped through its empirical quantiles to standard
    normal scores before training (``standardize="quantile"``), and :meth:`sample`
    maps the generator's output back through them: a generator fed Gaussian noise
    draws Gaussian-like tails, so fat-tailed columns such as returns keep their
    tails only this way. Synthetic values then stay within each column's training
    range.

    - :meth:`sample` returns ``n_samples`` synthetic rows with ``X``'s columns (a
      DataFrame when fitted on one); with ``conditional=True`` it returns
      ``(X, y)``, labels drawn from the training class frequencies or given.
    - :meth:`transform` returns the discriminator's last hidden layer for each row
      (``gan0..ganK``): features learnt to tell real rows from synthetic ones. Each
      row is transformed alone (causal: row t's features use row t only).
    - ``train(X_train, y_train)`` fits and returns the features of ``X_train``, as
      ``fit_transform`` does.

    Why a plain PyTorch loop and not skorch: adversarial training alternates two
    networks with two optimisers and an inner critic loop with a gradient penalty
    (a second-order ``autograd.grad``), which skorch's single-module,
    single-criterion ``NeuralNet`` does not express. The estimator contract is kept:
    a plain ``__init__``, config resolution through ``BaseTrainer``, torch imported
    inside the methods only.

    **Augmentation without leaking test data.** A GAN learns the joint distribution
    of the rows it is fitted on, so synthetic rows carry information from those
    rows. Fit it on the training window only, inside each walk-forward fold (after
    the split and after any embargo), and append its samples to that fold's
    training rows only; never fit it on validation or test rows, on the whole
    history before splitting, or reuse one GAN across folds. The mini-batches are
    shuffled inside the training window, which is harmless because the GAN models
    the rows' marginal (not temporal) distribution. Synthetic rows have no dates:
    use them for models that treat rows independently, not for sequence models.

    Parameters
    ----------
    {config}
    epochs : int, default=None
        Passes of the critic over the training rows.
    batch_size : int, default=None
        Rows per mini-batch (shuffled within the training rows).
    lr : float, default=None
        Adam learning rate of both networks.
    latent_dim : int, default=None
        Size of the generator's Gaussian noise.
    generator_layer_sizes : list of int, default=None
        Width of each hidden ReLU layer of the generator.
    discriminator_layer_sizes : list of int, default=None
        Width of each hidden LeakyReLU layer of the critic; the last one is the
        number of :meth:`transform` features.
    n_critic : int, default=None
        Critic steps per generator step.
    gp_weight : float, default=None
        Weight of the gradient penalty (10 in the WGAN-GP paper).
    ema_decay : float, default=None
        Decay of the moving average of the generator's weights used for sampling;
        0 samples from the last weights.
    conditional : bool, default=None
        Condition both networks on the class labels ``y`` given to ``fit`` (the
        generator takes a one-hot label; the critic a projection term), so that
        :meth:`sample` returns ``(X, y)``.
    random_state : int, RandomState or None, default=None
        Seed of the weights, noise and batch order. The same seed gives the same
        network and the same samples on the CPU; on a GPU results are close but not
        guaranteed bit for bit (CUDA kernels may differ between runs).
    device : {"cpu", "cuda", "auto"}, default=None
        Where to train; ``"auto"`` takes the GPU when torch sees one.
    standardize : {"quantile", "standard"} or bool, default=None
        How the columns are scaled for the networks, fitted on the training rows and
        inverted by :meth:`sample`: ``"quantile"`` (the default) maps each column's
        empirical quantiles to standard normal scores (fat tails are kept, samples
        stay within the training range); ``"standard"`` or ``True`` subtracts the
        mean and divides by the standard deviation; ``False`` leaves them alone.
    verbose : int, default=None
        Print one line of losses per epoch when positive.

    Attributes
    ----------
    model_ : torch.nn.Module
        ``model_.generator`` (the averaged generator) and ``model_.discriminator``
        (the critic); also readable as ``model``.
    {attributes.config_}
    evals_result_ : dict
        ``{"train": {"discriminator_loss": [...], "generator_loss": [...],
        "wasserstein_distance": [...]}}``, one value per epoch (means over the
        epoch's mini-batches; the generator loss is ``-critic(fake)``).
    n_epochs_ : int
        Epochs run.
    device_ : str
        The device the networks were trained on (and live on).
    scaler_ : QuantileTransformer, StandardScaler or FunctionTransformer
        The column scaling fitted on the training rows (``standardize``).
    classes_ : ndarray of shape (n_classes,)
        Class labels (``conditional=True`` only).
    class_prior_ : ndarray of shape (n_classes,)
        Training frequency of each class, used to draw labels in :meth:`sample`
        (``conditional=True`` only).
    {attributes.features_in}

    See Also
    --------
    VAETrainer : latent features from a variational autoencoder.

    References
    ----------
    Gulrajani, I., Ahmed, F., Arjovsky, M., Dumoulin, V. and Courville, A. (2017),
    "Improved Training of Wasserstein GANs", NeurIPS.
    Miyato, T. and Koyama, M. (2018), "cGANs with Projection Discriminator", ICLR.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant import GANTrainer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_t(4, size=(500, 3))
    >>> gan = GANTrainer(epochs=20, batch_size=128, device="cpu", random_state=0)
    >>> features = gan.fit_transform(X)
    >>> features.shape
    (500, 64)
    >>> gan.sample(5, random_state=0).shape
    (5, 3)

    Augmenting one walk-forward fold's training rows (fit on them only):

    >>> gan = GANTrainer(conditional=True)  # doctest: +SKIP
    >>> gan.fit(X_train, y_train)  # doctest: +SKIP
    >>> X_syn, y_syn = gan.sample(len(X_train) // 2)  # doctest: +SKIP
    >>> X_aug = pd.concat([X_train, X_syn], ignore_index=True)  # doctest: +SKIP
    >>> y_aug = pd.concat([y_train, y_syn], ignore_index=True)  # doctest: +SKIP
    """

    _registry_name = "gan"
    _defaults = _GAN_DEFAULTS
    _parameter_constraints = {
        "config": [dict, None],
        "epochs": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "generator_layer_sizes": [list, tuple, None],
        "discriminator_layer_sizes": [list, tuple, None],
        "n_critic": [Interval(Integral, 1, None, closed="left"), None],
        "gp_weight": [Interval(Real, 0, None, closed="left"), None],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "conditional": ["boolean", None],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"}), None],
        "standardize": ["boolean", StrOptions({"quantile", "standard"}), None],
        "verbose": ["verbose", None],
    }

    def __init__(
        self,
        config=None,
        *,
        epochs=None,
        batch_size=None,
        lr=None,
        latent_dim=None,
        generator_layer_sizes=None,
        discriminator_layer_sizes=None,
        n_critic=None,
        gp_weight=None,
        ema_decay=None,
        conditional=None,
        random_state=None,
        device=None,
        standardize=None,
        verbose=None,
    ):
        self.config = config
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.latent_dim = latent_dim
        self.generator_layer_sizes = generator_layer_sizes
        self.discriminator_layer_sizes = discriminator_layer_sizes
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.ema_decay = ema_decay
        self.conditional = conditional
        self.random_state = random_state
        self.device = device
        self.standardize = standardize
        self.verbose = verbose

    # ------------------------------------------------------------------ config
    def _resolve_config(self) -> dict[str, Any]:
        config = super()._resolve_config()
        for key in ("generator_layer_sizes", "discriminator_layer_sizes"):
            sizes = config[key]
            if (
                isinstance(sizes, (str, bytes))
                or not len(sizes)
                or not all(
                    isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
                )
            ):
                raise ValueError(
                    f"{key} must be a non-empty list of positive ints (layer widths), "
                    f"got {sizes!r}."
                )
            config[key] = [int(s) for s in sizes]
        return config

    def _is_conditional(self) -> bool:
        if self.conditional is not None:
            return bool(self.conditional)
        if isinstance(self.config, dict) and self.config.get("conditional") is not None:
            return bool(self.config["conditional"])
        return False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.target_tags.required = self._is_conditional()
        return tags

    # ------------------------------------------------------------------ fit
    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=True)
    @fill_doc
    def fit(self, X, y=None):
        """Fit the generator and the critic on the rows of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training rows (the training window only; see the class docstring).
            NaN or infinity raises a ``ValueError``.
        y : array-like of shape (n_samples,), default=None
            Class labels, required with ``conditional=True``; ignored otherwise. A
            column of ``X`` that holds them raises (label-like names warn, with or
            without ``y``), as in a supervised trainer's fit.

        {returns.self}
        """
        check_labels_not_features(X, y)
        config = self._resolve_config()
        conditional = bool(config["conditional"])
        labels = None
        if conditional:
            if y is None:
                raise ValueError(
                    "GANTrainer with conditional=True needs the class labels y in fit "
                    "(fit(X, y)); pass conditional=False to model X alone."
                )
            Xa, ya = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
            check_classification_targets(ya)
            encoder = LabelEncoder().fit(ya)
            labels = encoder.transform(ya)
            self.classes_ = encoder.classes_
            self.class_prior_ = np.bincount(labels, minlength=len(self.classes_)) / len(labels)
            self.target_name_ = y.name if isinstance(getattr(y, "name", None), str) else None
        else:
            Xa = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
            for attr in ("classes_", "class_prior_", "target_name_"):
                if hasattr(self, attr):
                    delattr(self, attr)
        self.frame_columns_ = list(X.columns) if isinstance(X, pd.DataFrame) else None
        self.config_ = config
        self._fit_gan(Xa, labels, config)
        return self

    def _fit_gan(self, X: np.ndarray, labels, config: dict) -> None:
        seed = int(check_random_state(config.get("random_state")).randint(np.iinfo(np.int32).max))
        self.scaler_ = _make_scaler(config["standardize"], len(X)).fit(X)
        Xs = self.scaler_.transform(X).astype(np.float32)
        device = resolve_device(config["device"])
        from skquant.models._nets._gan_modules import train_wgan_gp

        with seeded_torch(seed, device):
            module, history = train_wgan_gp(
                Xs,
                labels,
                n_classes=0 if labels is None else len(self.classes_),
                latent_dim=int(config["latent_dim"]),
                generator_sizes=config["generator_layer_sizes"],
                discriminator_sizes=config["discriminator_layer_sizes"],
                epochs=int(config["epochs"]),
                batch_size=int(config["batch_size"]),
                lr=float(config["lr"]),
                n_critic=int(config["n_critic"]),
                gp_weight=float(config["gp_weight"]),
                ema_decay=float(config["ema_decay"]),
                device=device,
                log=print if config["verbose"] else None,
            )
        self.model_ = module
        self.evals_result_ = {"train": history}
        self.n_epochs_ = len(history["generator_loss"])
        self.device_ = device
        # draws of sample(random_state=None): reproducible from the fit's seed
        self.sample_rng_ = np.random.RandomState(seed)

    # ------------------------------------------------------------------ outputs
    def _transform(self, X: np.ndarray) -> np.ndarray:
        torch = import_optional("torch")
        Xs = self.scaler_.transform(X).astype(np.float32)
        critic = self.model_.discriminator
        out = []
        with torch.no_grad():
            for start in range(0, len(Xs), _CHUNK):
                batch = torch.as_tensor(Xs[start : start + _CHUNK], device=self.device_)
                out.append(critic.features(batch).cpu().numpy())
        width = self.config_["discriminator_layer_sizes"][-1]
        return np.concatenate(out, axis=0).astype(np.float64) if out else np.empty((0, width))

    def _output_names(self) -> list[str]:
        return [f"gan{i}" for i in range(self.config_["discriminator_layer_sizes"][-1])]

    def sample(self, n_samples, random_state=None, *, y=None):
        """Draw synthetic rows from the fitted generator, in the original scale.

        Parameters
        ----------
        n_samples : int
            Number of rows to draw.
        random_state : int, RandomState or None, default=None
            Seed of the noise (and of the drawn labels). ``None`` continues a
            generator seeded at fit, so successive calls give new rows while the
            whole sequence is reproducible from the trainer's ``random_state``; an
            int gives the same rows on every call.
        y : array-like of shape (n_samples,), default=None
            With ``conditional=True``, the labels to generate rows for; ``None``
            draws them from the training class frequencies.

        Returns
        -------
        X_sample : ndarray or DataFrame of shape (n_samples, n_features_in_)
            Synthetic rows; a DataFrame with ``X``'s columns when fitted on one.
        y_sample : ndarray or Series of shape (n_samples,)
            Only with ``conditional=True``: the label of each row (a Series named
            like ``y`` when fitted on a DataFrame), returned as ``(X_sample,
            y_sample)``.
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        n_samples = int(n_samples)
        conditional = self.config_["conditional"]
        rng = self.sample_rng_ if random_state is None else check_random_state(random_state)
        codes = None
        if conditional:
            if y is None:
                codes = rng.choice(len(self.classes_), size=n_samples, p=self.class_prior_)
            else:
                given = np.asarray(y).ravel()
                if len(given) != n_samples:
                    raise ValueError(f"y has {len(given)} labels but n_samples={n_samples}.")
                unknown = np.setdiff1d(given, self.classes_)
                if unknown.size:
                    raise ValueError(
                        f"y holds labels {unknown.tolist()} not seen in fit: "
                        f"{self.classes_.tolist()}."
                    )
                codes = np.searchsorted(self.classes_, given)
        elif y is not None:
            raise ValueError("y can be given to sample only with conditional=True.")
        z = rng.standard_normal((n_samples, int(self.config_["latent_dim"]))).astype(np.float32)

        torch = import_optional("torch")
        generator = self.model_.generator
        out = []
        with torch.no_grad():
            for start in range(0, n_samples, _CHUNK):
                zb = torch.as_tensor(z[start : start + _CHUNK], device=self.device_)
                lb = None
                if codes is not None:
                    lb = torch.as_tensor(codes[start : start + _CHUNK], device=self.device_)
                out.append(generator(zb, lb).cpu().numpy())
        rows = self.scaler_.inverse_transform(np.concatenate(out, axis=0).astype(np.float64))
        if self.frame_columns_ is not None:
            rows = pd.DataFrame(rows, columns=self.frame_columns_)
        if not conditional:
            return rows
        labels = self.classes_[codes]
        if self.frame_columns_ is not None:
            labels = pd.Series(labels, name=self.target_name_)
        return rows, labels

    def _feature_importances(self, target) -> np.ndarray:
        """How strongly the critic reads each column.

        The L2 norm of the critic's first-layer weights on each standardised input
        column: a rough gauge of which columns the discriminator uses to tell real
        rows from synthetic ones.
        """
        weight = self.model_.discriminator.body[0].weight.detach().cpu().numpy()
        return np.linalg.norm(weight, axis=0)
