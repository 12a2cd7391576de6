"""Market regimes from a Gaussian mixture, ordered by volatility, optionally HMM-filtered."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd

from skquant.models._feature_base import BaseFeatureTrainer, select_columns
from skquant.utils._docs import fill_doc
from skquant.utils._panel import apply_per_series
from skquant.utils._sklearn_compat import Interval, StrOptions, check_is_fitted

_TINY = 1e-300
_MAX_BURN_IN = 10_000  # periods of forward-filter burn-in at most


def trailing_rms(X: np.ndarray, window: int) -> np.ndarray:
    """Trailing root-mean-square of each column over the last ``window`` rows.

    Row ``t`` uses rows ``max(0, t - window + 1) .. t`` only (causal); the first rows
    use the shorter windows available.
    """
    squares = pd.DataFrame(np.square(X))
    return np.sqrt(squares.rolling(window, min_periods=1).mean().to_numpy())


@fill_doc
class GMMRegimeTrainer(BaseFeatureTrainer):
    """Market regimes from a Gaussian mixture, ordered by volatility (0 is calmest).

    A Gaussian mixture with ``n_components`` regimes is fitted on the selected
    ``features`` (by default every column, plus, when ``volatility_window > 0``, the
    trailing volatility of each of them: give it a return column and it models
    returns and volatility). The regimes are then **ordered by volatility**: regime 0
    has the smallest root-mean-square of the first selected feature (the return)
    under its component, the last regime the largest. Labels therefore mean the
    same thing after every walk-forward refit.

    Two modes, both causal (row ``t`` uses rows up to ``t`` only):

    - ``causal=False``: each row is scored alone, ``P(regime | x_t)`` from the
      mixture. The output of a row does not depend on the other rows (except the
      trailing volatility window).
    - ``causal=True``: a hidden-Markov **forward filter**,
      ``P(regime_t | x_1..x_t)``, with the transition matrix fitted on the training
      posteriors; labels are stickier, and the output of a row depends on every
      earlier row of the same symbol in the same ``transform`` call, which starts
      each symbol from the mixture's regime weights (``start_proba_``, not the
      stationary distribution of ``transition_matrix_``).

    On a (date, symbol) panel (a ``MultiIndex`` with a datetime level) every
    computation along time -- the trailing volatility, the forward filter, the
    transition counts of ``fit`` -- runs per symbol in date order: a symbol's
    regimes equal those of that symbol alone, whatever the other symbols and the
    row order. Outputs come in the input's row order.

    Parameters
    ----------
    {config}
    n_components : int, default=None
        Number of regimes.
    features : list of str or int, default=None
        Columns the regimes are fitted on (names for DataFrame input, or positions);
        None uses every column. The first one orders the regimes and should be a
        return.
    volatility_window : int, default=None
        When positive, the trailing root-mean-square of each selected column over
        this many rows (of the same symbol) is added as a feature (causal). 0 adds
        none.
    causal : bool, default=None
        Forward-filter the regime probabilities with a hidden-Markov transition
        matrix instead of scoring each row alone (see above).
    covariance_type : {"full", "diag"}, default=None
        Covariance of each component.
    transition_prior : float, default=None
        Pseudo-count added to every transition when the transition matrix is
        estimated (keeps unseen transitions possible).
    n_init : int, default=None
        Mixture fits from different initialisations; the best is kept.
    max_iter : int, default=None
        EM iterations per fit.
    tol : float, default=None
        EM convergence threshold.
    reg_covar : float, default=None
        Added to the covariance diagonals (features are standardised first).
    random_state : int, RandomState or None, default=None
        Seed of the mixture initialisation.

    Attributes
    ----------
    model_ : sklearn.mixture.GaussianMixture
        The fitted mixture on the standardised features, components in fitting
        order (``order_`` maps them to regimes).
    {attributes.config_}
    order_ : ndarray of shape (n_components,)
        ``order_[r]`` is the mixture component of regime ``r``.
    regime_volatility_ : ndarray of shape (n_components,)
        Root-mean-square of the first selected feature in each regime, increasing.
    transition_matrix_ : ndarray of shape (n_components, n_components)
        ``P(regime_t = j | regime_{t-1} = i)`` in row ``i``, column ``j``, from the
        training rows' posteriors, consecutive rows of each symbol (used when
        ``causal=True``).
    start_proba_ : ndarray of shape (n_components,)
        Regime weights the forward filter starts from: the fitted mixture's weights.
    features_ : ndarray of int
        Positions of the selected columns.
    n_iter_ : int
        EM iterations of the kept mixture fit.
    history_periods_ : int
        Earlier periods of a symbol that ``transform`` needs to give a row the
        features it has in the unbroken series: ``volatility_window - 1`` for the
        trailing volatility, plus, with ``causal=True``, the periods after which the
        forward filter has forgotten its start (the transition matrix's Dobrushin
        coefficient ``d`` to the power of those periods falls below 1e-6; at most
        10,000). The walk-forward engine starts each test window this many dates
        earlier and drops those rows' predictions (dates of the training and embargo
        windows: features, never a label).
    {attributes.features_in}

    See Also
    --------
    ChangePointTrainer : causal change-point features.
    MetaLearningTrainer : can weight base models by regime probabilities.

    Notes
    -----
    The transition matrix is ``A_ij ∝ prior + Σ_t γ_{t-1,i} γ_{t,j}`` where ``γ_t``
    are the per-row mixture posteriors of the training rows in time order (summed
    over the symbols of a panel); the
    filter is ``α_t ∝ (γ_t / π) ⊙ (α_{t-1} A)`` with ``π`` the mixture weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant import GMMRegimeTrainer
    >>> rng = np.random.default_rng(0)
    >>> returns = np.r_[rng.normal(0, 0.01, 300), rng.normal(0, 0.04, 300)][:, None]
    >>> regimes = GMMRegimeTrainer(n_components=2, volatility_window=20, random_state=0)
    >>> features = regimes.fit_transform(returns)
    >>> regimes.get_feature_names_out().tolist()
    ['regime', 'regime_prob_0', 'regime_prob_1']
    >>> float((regimes.predict(returns)[300:] == 1).mean()) > 0.9
    True
    """

    _registry_name = "gmm_regime"
    _along_time = True
    _parameter_constraints = {
        "config": [dict, None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "features": ["array-like", str, Integral, None],
        "volatility_window": [Interval(Integral, 0, None, closed="left"), None],
        "causal": ["boolean", None],
        "covariance_type": [StrOptions({"full", "diag"}), None],
        "transition_prior": [Interval(Real, 0, None, closed="left"), None],
        "n_init": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "reg_covar": [Interval(Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        config=None,
        *,
        n_components=None,
        features=None,
        volatility_window=None,
        causal=None,
        covariance_type=None,
        transition_prior=None,
        n_init=None,
        max_iter=None,
        tol=None,
        reg_covar=None,
        random_state=None,
    ):
        self.config = config
        self.n_components = n_components
        self.features = features
        self.volatility_window = volatility_window
        self.causal = causal
        self.covariance_type = covariance_type
        self.transition_prior = transition_prior
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def _raw_design(self, X: np.ndarray, window: int) -> np.ndarray:
        """The selected columns plus their trailing volatility (one series)."""
        Z = X[:, self.features_]
        if window:
            Z = np.hstack([Z, trailing_rms(Z, window)])
        return Z

    def _design(self, X: np.ndarray) -> np.ndarray:
        """The selected columns plus their trailing volatility, standardised (one series)."""
        Z = self._raw_design(X, self.config_["volatility_window"])
        return (Z - self.center_) / self.scale_

    def _fit_features(self, X: np.ndarray, config: dict, series: list[np.ndarray]) -> None:
        from sklearn.mixture import GaussianMixture

        k = config["n_components"]
        if len(X) < k:
            raise ValueError(f"n_components={k} regimes need at least {k} rows, got {len(X)}.")
        self.features_ = select_columns(self, config.get("features"), "features")
        window = config["volatility_window"]
        Z = apply_per_series(lambda part: self._raw_design(part, window), X, series)
        self.center_ = Z.mean(axis=0)
        scale = Z.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = (Z - self.center_) / self.scale_
        gmm = GaussianMixture(
            n_components=k,
            covariance_type=config["covariance_type"],
            n_init=config["n_init"],
            max_iter=config["max_iter"],
            tol=config["tol"],
            reg_covar=config["reg_covar"],
            random_state=config.get("random_state"),
        ).fit(Z)
        self.model_ = gmm
        # order by the RMS of the first selected feature, in its original units
        if config["covariance_type"] == "full":
            var0 = gmm.covariances_[:, 0, 0]
        else:
            var0 = gmm.covariances_[:, 0]
        mean0 = gmm.means_[:, 0] * self.scale_[0] + self.center_[0]
        rms = np.sqrt(mean0**2 + var0 * self.scale_[0] ** 2)
        self.order_ = np.argsort(rms, kind="stable")
        self.regime_volatility_ = rms[self.order_]
        weights = gmm.weights_[self.order_]
        self.log_weights_ = np.log(np.maximum(weights, _TINY))
        gamma = gmm.predict_proba(Z)[:, self.order_]
        counts = np.full((k, k), float(config["transition_prior"]))
        for pos in series:  # transitions between consecutive rows of one symbol only
            counts += gamma[pos[:-1]].T @ gamma[pos[1:]]
        rows = counts.sum(axis=1, keepdims=True)
        self.transition_matrix_ = np.where(rows > 0, counts / np.where(rows > 0, rows, 1), 1 / k)
        self.start_proba_ = weights / weights.sum()

    # ------------------------------------------------------------------ outputs
    def _proba(self, X: np.ndarray) -> np.ndarray:
        gamma = self.model_.predict_proba(self._design(X))[:, self.order_]
        if not self.config_["causal"]:
            return gamma
        # emission likelihoods up to a per-row constant: p(x|k) ∝ P(k|x) / π_k
        log_b = np.log(np.maximum(gamma, _TINY)) - self.log_weights_
        log_b -= log_b.max(axis=1, keepdims=True)
        b = np.exp(log_b)
        A = self.transition_matrix_
        out = np.empty_like(gamma)
        prior = self.start_proba_
        for t in range(len(b)):
            alpha = b[t] * prior
            total = alpha.sum()
            alpha = alpha / total if total > 0 else np.full_like(alpha, 1 / len(alpha))
            out[t] = alpha
            prior = alpha @ A
        return out

    @fill_doc
    def predict_proba(self, X):
        """Regime probabilities, columns ordered by volatility.

        Per row alone with ``causal=False``, forward-filtered with ``causal=True``.

        {parameters.X}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components)
        """
        return self._per_series(self._proba, X)

    @fill_doc
    def predict(self, X):
        """The most probable regime of each row (0 is the calmest).

        {parameters.X}

        Returns
        -------
        regime : ndarray of int of shape (n_samples,)
        """
        return np.argmax(self.predict_proba(X), axis=1)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        proba = self._proba(X)
        return np.column_stack([np.argmax(proba, axis=1).astype(float), proba])

    def _output_names(self) -> list[str]:
        return ["regime"] + [f"regime_prob_{r}" for r in range(len(self.order_))]

    def score_samples(self, X):
        """Log-likelihood of each row under the mixture (standardised features)."""
        return self._per_series(lambda Z: self.model_.score_samples(self._design(Z)), X)

    def score(self, X, y=None):
        """Mean log-likelihood of the rows under the mixture (higher is better)."""
        return float(np.mean(self.score_samples(X)))

    def _feature_importances(self, target) -> np.ndarray:
        """How far apart the regimes sit along each input column.

        For each modelled feature, the weighted spread of the regime means plus that
        of the regime standard deviations (standardised units); a column's
        importance sums its own and its trailing-volatility feature's.
        """
        check_is_fitted(self)
        gmm = self.model_
        if self.config_["covariance_type"] == "full":
            sd = np.sqrt(np.diagonal(gmm.covariances_, axis1=1, axis2=2))
        else:
            sd = np.sqrt(gmm.covariances_)
        w = gmm.weights_[:, None]
        spread = (w * (gmm.means_ - (w * gmm.means_).sum(0)) ** 2).sum(0)
        spread += (w * (sd - (w * sd).sum(0)) ** 2).sum(0)
        n_sel = len(self.features_)
        per_col = spread[:n_sel].copy()
        if len(spread) > n_sel:
            per_col += spread[n_sel:]
        out = np.zeros(self.n_features_in_)
        np.add.at(out, self.features_, per_col)
        return out

    @property
    def n_iter_(self) -> int:
        """EM iterations of the kept mixture fit."""
        check_is_fitted(self)
        return int(self.model_.n_iter_)

    @property
    def history_periods_(self) -> int:
        """Earlier periods ``transform`` needs per symbol (see the class docstring)."""
        check_is_fitted(self)
        periods = max(int(self.config_["volatility_window"]) - 1, 0)
        if not self.config_["causal"]:
            return periods
        A = self.transition_matrix_
        # Dobrushin's coefficient: the filter started from two priors differs by at most
        # d**n in total variation after n transitions (1 - the smallest overlap of two rows)
        overlap = np.minimum(A[:, None, :], A[None, :, :]).sum(axis=2).min()
        d = 1.0 - float(overlap)
        if d <= 0.0:
            return periods + 1
        burn_in = _MAX_BURN_IN if d >= 1.0 else math.ceil(math.log(1e-6) / math.log(d))
        return periods + min(burn_in, _MAX_BURN_IN)

    @property
    def n_components_(self) -> int:
        """Number of regimes fitted."""
        check_is_fitted(self)
        return len(self.order_)
