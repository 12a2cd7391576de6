"""Per-coordinate FTRL-Proximal (McMahan et al. 2013), an online linear model."""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from skquant.models._base import BaseSupervisedTrainer, _is_classification, target_names_of
from skquant.utils._docs import fill_doc
from skquant.utils._numba import numba_enabled
from skquant.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from skquant.utils._target import check_labels_not_features


def ftrl_weights(z, n, alpha, beta, l1, l2):
    """Closed-form FTRL-Proximal weights from the per-coordinate state ``z, n``.

    ``w = 0`` where ``|z| <= l1``, else ``-(z - sign(z) l1) / ((beta + sqrt(n)) / alpha + l2)``.
    ``l1`` and ``l2`` may be arrays (the intercept coordinate is not penalised).
    """
    shrunk = np.sign(z) * np.maximum(np.abs(z) - l1, 0.0)
    return -shrunk / ((beta + np.sqrt(n)) / alpha + l2)


def _ftrl_rows(X, Y, z, n, alpha, beta, l1, l2, logistic):
    """Exact per-example FTRL-Proximal over the rows of ``X`` (in place on ``z``, ``n``).

    ``X`` has a trailing column of ones for the intercept; ``z, n`` have shape
    ``(n_models, n_coords)`` (one model per one-vs-rest class). The loop runs over
    the rows in order and is vectorised over the coordinates and models; each
    update is the paper's Algorithm 1 with ``g = (p - y) x``.
    """
    # Scaled weights u = shrink(z, l1) / (sqrt(n) + beta + alpha l2), so that w = -alpha u
    # and sigma w = -(sqrt(n_new) - sqrt(n)) u: fewer NumPy calls per row, same algebra.
    s = np.sqrt(n)  # sqrt of the accumulated squared gradients
    s_new = np.empty_like(s)
    offset = beta + alpha * np.asarray(l2, dtype=np.float64)
    low, high = -np.asarray(l1, dtype=np.float64), np.asarray(l1, dtype=np.float64)
    u = -ftrl_weights(z, n, alpha, beta, l1, l2) / alpha
    g = np.empty_like(z)
    t1 = np.empty_like(z)
    single = z.shape[0] == 1
    u0, g0 = u[0], g[0]
    for i in range(X.shape[0]):
        x = X[i]
        if single:
            margin = -alpha * float(u0 @ x)
            if logistic:
                p = 1.0 / (1.0 + math.exp(-margin)) if margin > -700 else 0.0
            else:
                p = margin
            np.multiply(x, p - Y[i, 0], out=g0)
        else:
            margin = -alpha * (u @ x)
            p = expit(margin) if logistic else margin
            np.multiply.outer(p - Y[i], x, out=g)
        # z += g - sigma w = g + (sqrt(n + g^2) - sqrt(n)) u ;  n += g^2
        z += g
        np.multiply(g, g, out=t1)
        n += t1
        np.sqrt(n, out=s_new)
        np.subtract(s_new, s, out=t1)
        t1 *= u
        z += t1
        s, s_new = s_new, s
        # u for the next row: (z - clip(z, -l1, l1)) / (sqrt(n) + beta + alpha l2)
        np.maximum(z, low, out=t1)
        np.minimum(t1, high, out=t1)
        np.subtract(z, t1, out=t1)
        np.add(s, offset, out=g)
        np.divide(t1, g, out=u)


def _compiled_rows():
    """The numba kernel of ``_ftrl_rows``, or None for the NumPy loop (see ``numba_enabled``)."""
    if not numba_enabled():
        return None
    from skquant.models._ftrl_numba import ftrl_rows

    return ftrl_rows


def _ftrl_batches(X, Y, z, n, alpha, beta, l1, l2, logistic, batch_size):
    """Mini-batch FTRL-Proximal: each batch's summed gradient is one round of the update.

    Within a batch every row is predicted with the weights at the batch's start;
    the batch gradient ``G = sum_t (p_t - y_t) x_t`` then goes through the same
    per-coordinate rule (``sigma``, ``z``, ``n``) as one example does in the paper.
    ``batch_size=1`` is the paper's per-example algorithm.
    """
    for start in range(0, X.shape[0], batch_size):
        Xb, Yb = X[start : start + batch_size], Y[start : start + batch_size]
        w = ftrl_weights(z, n, alpha, beta, l1, l2)
        margin = Xb @ w.T
        err = (expit(margin) if logistic else margin) - Yb
        G = err.T @ Xb
        n_new = n + G * G
        z += G - (np.sqrt(n_new) - np.sqrt(n)) / alpha * w
        n[...] = n_new


@fill_doc
class FTRLProximalTrainer(BaseSupervisedTrainer):
    """Per-coordinate FTRL-Proximal online linear model (McMahan et al. 2013).

    The algorithm of "Ad Click Prediction: a View from the Trenches" (KDD 2013,
    Algorithm 1): per coordinate ``i`` it keeps ``z_i`` and ``n_i`` (the sum of
    squared gradients), and the weights are closed-form::

        w_i = 0                                                 if |z_i| <= l1
        w_i = -(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2)   otherwise

        g = (p - y) x,  sigma_i = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha,
        z_i += g_i - sigma_i w_i,  n_i += g_i^2

    with ``p`` the sigmoid of ``w . x`` (logistic loss, classification; one model
    per class, one-vs-rest, beyond two classes) or ``w . x`` itself (squared loss,
    regression). The L1 term gives **exact zeros**: more ``l1``, sparser ``coef_``.
    The intercept is one more coordinate (input 1), not penalised.

    ``batch_size=1`` runs the paper's per-example updates exactly: a loop over the
    rows compiled with numba when it is installed (``pip install 'skquant[fast]'``,
    millions of rows a second), else a NumPy loop that gives the same numbers, more
    slowly; the environment variable ``SKQUANT_DISABLE_NUMBA=1`` forces the NumPy
    loop. ``batch_size > 1`` is mini-batch FTRL-Proximal: the rows of a batch are
    predicted with the same weights and their summed gradient is one round of the
    same per-coordinate rule, which is much faster (NumPy matrix products per batch)
    but not the same trajectory.

    Rows are used in the order given (time order): nothing is shuffled.

    Parameters
    ----------
    {config}
    task : {"regression", "classification"}, default=None
        Squared loss (default) or logistic loss.
    alpha : float, default=None
        Learning-rate scale (the paper's alpha).
    beta : float, default=None
        Learning-rate smoothing (the paper's beta).
    l1 : float, default=None
        L1 penalty: weights with ``|z| <= l1`` are exactly zero.
    l2 : float, default=None
        L2 penalty.
    n_passes : int, default=None
        Passes over the rows made by ``fit`` (``partial_fit`` makes one).
    batch_size : int, default=None
        Rows per update; 1 is the paper's exact per-example algorithm.
    fit_intercept : bool, default=None
        Learn an (unpenalised) intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_models, n_features)
        Weights: 1-D for regression, ``(1, n_features)`` for binary and
        ``(n_classes, n_features)`` for multiclass classification.
    intercept_ : float or ndarray of shape (n_models,)
        Intercept(s), as ``coef_``.
    model_ : dict
        The FTRL state: ``{"z": ndarray, "n": ndarray}`` of shape
        ``(n_models, n_features + 1)`` (the last coordinate is the intercept).
    {attributes.config_}
    evals_result_ : dict
        ``{"train": {"loss": [...]}, "valid": {...}}``: mean loss after each pass of
        ``fit`` (``valid`` when ``X_val``/``y_val`` are given).
    best_iteration_ : None
        No early stopping: every pass is kept.
    n_passes_ : int
        Passes (``fit``) plus ``partial_fit`` calls made so far.
    partial_fit_params_ : dict
        The constructor parameters the state was last updated with: a parameter set
        since (``set_params``) applies to the next ``partial_fit`` chunk.
    {attributes.classes_}
    {attributes.features_in}

    See Also
    --------
    sklearn.linear_model.SGDClassifier : another online linear model.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant import FTRLProximalTrainer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 20))
    >>> y = (X[:, 0] - X[:, 1] > 0).astype(int)
    >>> model = FTRLProximalTrainer(task="classification", l1=5.0, n_passes=2).fit(X, y)
    >>> float(model.score(X, y)) > 0.9, int((model.coef_ == 0).sum()) > 0
    (True, True)
    """

    _registry_name = "ftrl_proximal"
    _tasks = ("regression", "classification")
    # The variants make one online pass with L1/L2 penalties of 1-10, tuned for long
    # streams of small returns: on scikit-learn's 200-row toy regression (targets in
    # the hundreds) the balanced variant reaches R^2 0.04. Its classifier learns the
    # toy blobs (accuracy 0.91).
    _poor_score_tasks = frozenset({"regression"})
    _parameter_constraints = {
        "config": [dict, None],
        "task": [StrOptions({"regression", "classification"}), None],
        "alpha": [Interval(Real, 0, None, closed="neither"), None],
        "beta": [Interval(Real, 0, None, closed="left"), None],
        "l1": [Interval(Real, 0, None, closed="left"), None],
        "l2": [Interval(Real, 0, None, closed="left"), None],
        "n_passes": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "fit_intercept": ["boolean", None],
    }

    def __init__(
        self,
        config=None,
        *,
        task=None,
        alpha=None,
        beta=None,
        l1=None,
        l2=None,
        n_passes=None,
        batch_size=None,
        fit_intercept=None,
    ):
        self.config = config
        self.task = task
        self.alpha = alpha
        self.beta = beta
        self.l1 = l1
        self.l2 = l2
        self.n_passes = n_passes
        self.batch_size = batch_size
        self.fit_intercept = fit_intercept

    # ------------------------------------------------------------------ state
    def _init_state(self, config):
        self.config_ = config
        self.task_ = config["task"]
        n_classes = len(self.classes_) if self.task_ == "classification" else 1
        n_models = 1 if n_classes <= 2 else n_classes
        shape = (n_models, self.n_features_in_ + 1)
        self.model_ = {"z": np.zeros(shape), "n": np.zeros(shape)}
        self.n_passes_ = 0
        self.evals_result_ = {"train": {"loss": []}}
        self.best_iteration_ = None
        # the parameters this state was built with (partial_fit applies later changes)
        self.partial_fit_params_ = copy.deepcopy(self.get_params(deep=False))
        self._set_penalties()

    def _set_penalties(self):
        l1 = np.full(self.model_["z"].shape[1], float(self.config_["l1"]))
        l2 = np.full(self.model_["z"].shape[1], float(self.config_["l2"]))
        l1[-1] = l2[-1] = 0.0  # the intercept is not penalised
        self.l1_, self.l2_ = l1, l2

    def _design(self, X):
        ones = np.ones((X.shape[0], 1)) if self.config_["fit_intercept"] else np.zeros((len(X), 1))
        return np.ascontiguousarray(np.hstack([np.asarray(X, dtype=np.float64), ones]))

    def _targets(self, y):
        """Targets of the models: ``y`` itself, or 0/1 per model from class indices."""
        if self.task_ == "regression":
            Y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        elif len(self.classes_) <= 2:  # one model, for classes_[1] (none with one class)
            Y = (np.asarray(y) == 1).astype(np.float64).reshape(-1, 1)
        else:  # one model per class, one-vs-rest
            Y = (np.asarray(y)[:, None] == np.arange(len(self.classes_))).astype(np.float64)
        return np.ascontiguousarray(Y)  # one signature for the compiled kernel

    def _one_pass(self, X, y):
        cfg = self.config_
        args = (
            self._design(X),
            self._targets(y),
            self.model_["z"],
            self.model_["n"],
            float(cfg["alpha"]),
            float(cfg["beta"]),
            self.l1_,
            self.l2_,
            self.task_ == "classification",
        )
        if cfg["batch_size"] == 1:
            (_compiled_rows() or _ftrl_rows)(*args)
        else:
            _ftrl_batches(*args, batch_size=int(cfg["batch_size"]))
        self.n_passes_ += 1

    def _weights(self):
        z, n = self.model_["z"], self.model_["n"]
        cfg = self.config_
        return ftrl_weights(z, n, cfg["alpha"], cfg["beta"], self.l1_, self.l2_)

    @property
    def coef_(self) -> np.ndarray:
        """Weights, as in scikit-learn's linear models (exact zeros from ``l1``)."""
        check_is_fitted(self)
        w = self._weights()[:, :-1]
        return w[0] if self.task_ == "regression" else w

    @property
    def intercept_(self):
        """Intercept(s); 0 without ``fit_intercept``."""
        check_is_fitted(self)
        b = self._weights()[:, -1] if self.config_["fit_intercept"] else np.zeros(1)
        return float(b[0]) if self.task_ == "regression" else b

    def _class_indices(self, y, classes, first):
        """Check the labels of a ``partial_fit`` chunk; ``y`` as indices into ``classes_``."""
        if self.task_ != "classification":
            return y
        seen = np.unique(y)
        if first:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit "
                    "(all the class labels the stream may hold)."
                )
            classes = np.unique(np.asarray(classes))
            self.classes_ = classes
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the classes of the "
                f"first partial_fit call: {self.classes_.tolist()}."
            )
        unknown = np.setdiff1d(seen, self.classes_)
        if unknown.size:
            raise ValueError(f"y holds classes {unknown.tolist()} not in classes_.")
        return np.searchsorted(self.classes_, y)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, *, X_val=None, y_val=None):
        """Fit from scratch with ``n_passes`` passes over the rows, in order.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The stream's rows, oldest first: every pass updates in this order.
        y : array-like of shape (n_samples,)
            Target (class labels for classification).
        X_val, y_val : array-like, default=None
            Rows whose loss is recorded after each pass in ``evals_result_["valid"]``
            (checked as ``X`` and ``y`` are).

        Returns
        -------
        self : object
            The fitted trainer.
        """
        return super().fit(X, y, X_val=X_val, y_val=y_val)

    def _fit_model(self, data, config):
        """``n_passes`` passes over the validated rows (labels encoded as class indices)."""
        self._init_state(config)
        if data.X_val is not None:
            self.evals_result_["valid"] = {"loss": []}
        for _ in range(config["n_passes"]):
            self._one_pass(data.X, data.y)
            self.evals_result_["train"]["loss"].append(self._loss(data.X, data.y))
            if data.X_val is not None:
                self.evals_result_["valid"]["loss"].append(self._loss(data.X_val, data.y_val))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One pass over a chunk of the stream, continuing from the current state.

        Calling it on consecutive chunks gives the same model as one pass of ``fit``
        over their concatenation (with ``batch_size > 1``, when every chunk but the
        last holds a multiple of ``batch_size`` rows). Parameters changed with
        ``set_params`` since the last call apply from this chunk on, as in
        scikit-learn's ``SGDClassifier``; a changed ``task`` or ``fit_intercept`` is
        refused (the state was built for them: call ``fit``).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The next rows of the stream.
        y : array-like of shape (n_samples,)
            Their target.
        classes : array-like of shape (n_classes,), default=None
            Every class label of the stream; required on the first call for
            classification.

        Returns
        -------
        self : object
            The updated trainer.
        """
        first = not hasattr(self, "model_")
        params = copy.deepcopy(self.get_params(deep=False))  # a config dict may change in place
        same = not first and params == getattr(self, "partial_fit_params_", None)
        if first:
            config = self._resolve_config()
        elif same:
            config = self.config_
        else:
            config = self._changed_config(params)
            self._check_continues(config)
        check_labels_not_features(X, y)  # as fit: every chunk of the stream
        classification = config["task"] == "classification"
        Xa, ya = validate_data(
            self, X, y, reset=first, dtype=np.float64, y_numeric=not classification
        )
        if classification:
            check_classification_targets(ya)
        if first:
            self.config_, self.task_ = config, config["task"]
            self.target_names_ = target_names_of(y)
        ya = self._class_indices(ya, classes, first)
        if first:
            self._init_state(config)
        elif not same:  # the hyperparameters set since the last call apply from here on
            self.config_ = config
            self._set_penalties()
        self.partial_fit_params_ = params
        self._one_pass(Xa, ya)
        return self

    def _changed_config(self, params: dict) -> dict:
        """``config_`` with the parameters changed since the state was last updated.

        Only the changed values are laid over it: resolving the whole config again would
        read the variant anew (``MODEL_VARIANT`` is set only while the engine fits a
        fold), so a model fitted under one variant would go on under another. A new
        ``config`` or a parameter set back to None (its config value) is resolved."""
        before = getattr(self, "partial_fit_params_", None) or {}
        changed = {k: v for k, v in params.items() if k not in before or before[k] != v}
        if "config" in changed or any(v is None for v in changed.values()):
            return self._resolve_config()
        return {**self.config_, **changed}

    def _check_continues(self, config):
        """Refuse a ``config`` whose ``task`` or ``fit_intercept`` differs from the one
        the state was built for. The other hyperparameters set since the last call
        apply to the next chunks, as in scikit-learn's ``SGDClassifier.partial_fit``
        (``set_params(l1=...)`` between chunks)."""
        for key in ("task", "fit_intercept"):
            if config[key] != self.config_[key]:
                raise ValueError(
                    f"partial_fit: {key}={config[key]!r}, but this trainer's state was "
                    f"built with {key}={self.config_[key]!r}; partial_fit continues that "
                    "state, so call fit to start over with the new value."
                )

    # ------------------------------------------------------------------ predicting
    def _margin(self, X):
        return self._design(X) @ self._weights().T

    @available_if(_is_classification)
    def decision_function(self, X):
        """Linear scores ``X @ coef_.T + intercept_`` (1-D for binary and regression)."""
        Xa = self._validate_predict_X(X)
        margin = self._margin(Xa)
        return margin[:, 0] if margin.shape[1] == 1 else margin

    def predict(self, X):  # the docstring is BaseSupervisedTrainer.predict's (inspect.getdoc)
        Xa = self._validate_predict_X(X)
        if self.task_ == "regression":
            return self._margin(Xa)[:, 0]
        return self.classes_[np.argmax(self._proba(Xa), axis=1)]

    def _proba(self, Xa):
        p = expit(self._margin(Xa))
        if p.shape[1] == 1:
            if len(self.classes_) == 1:
                return np.ones((len(p), 1))
            return np.hstack([1 - p, p])
        return p / p.sum(axis=1, keepdims=True)  # one-vs-rest, normalised

    @available_if(_is_classification)
    def predict_proba(self, X):
        """Class probabilities (sigmoid, one-vs-rest normalised beyond two classes).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._proba(self._validate_predict_X(X))

    def _loss(self, Xa, y):
        if self.task_ == "regression":
            return float(np.mean((self._margin(Xa)[:, 0] - np.asarray(y, dtype=float)) ** 2))
        proba = np.clip(self._proba(Xa), 1e-15, 1.0)  # y: class indices
        return float(-np.mean(np.log(proba[np.arange(len(y)), y])))

    def _feature_importances(self, target) -> np.ndarray:
        """Absolute weight per feature (summed over classes)."""
        return np.abs(np.atleast_2d(self.coef_)).sum(axis=0)
