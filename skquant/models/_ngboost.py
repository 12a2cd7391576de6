"""NGBoost (natural gradient boosting) as a distributional skquant trainer."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils import check_random_state

from skquant.models._base import BaseSupervisedTrainer, FitData, TreeImportanceMixin
from skquant.utils._docs import fill_doc
from skquant.utils._optional import import_optional
from skquant.utils._sklearn_compat import Interval, StrOptions, validate_params

# dist parameter -> ngboost.distns class name
_DISTS = {"normal": "Normal", "laplace": "Laplace", "lognormal": "LogNormal"}


def _seeds(random_state) -> tuple[int | None, int | None]:
    """Seeds for NGBoost's sampling and for its base trees (None stays None)."""
    if random_state is None:
        return None, None
    rng = check_random_state(random_state)
    high = np.iinfo(np.int32).max
    return int(rng.randint(high)), int(rng.randint(high))


def _truncate(model, n_rounds: int) -> None:
    """Keep only the first ``n_rounds`` boosting rounds of a fitted NGBoost model.

    NGBoost's ``predict`` and ``pred_dist`` use every round built, including the
    ``early_stopping_rounds`` rounds after the best validation loss; dropping them
    makes the raw model predict with the best round too.
    """
    for name in ("base_models", "scalings", "col_idxs"):
        rounds = getattr(model, name, None)
        if isinstance(rounds, list):
            setattr(model, name, rounds[:n_rounds])


@fill_doc
class NGBoostTrainer(TreeImportanceMixin, BaseSupervisedTrainer):
    """NGBoost distributional regression: a predictive distribution per row.

    Each boosting round fits one regression tree per distribution parameter
    (e.g. the mean and log-scale of a Normal) to the natural gradient of the log
    score. ``predict`` returns the distribution's mean, ``pred_dist`` the whole
    distribution and ``predict_interval`` a central prediction interval.

    {defaults}

    Parameters
    ----------
    {config}
    dist : {"normal", "laplace", "lognormal"}, default=None
        The predictive distribution (``"lognormal"`` needs a positive target).
    {boosting.n_estimators}
    {boosting.learning_rate}
    max_depth : int, default=None
        Depth of the base regression trees.
    min_samples_leaf : int, default=None
        Minimum rows in a leaf of the base trees.
    minibatch_frac : float, default=None
        Share of the rows drawn (without replacement) for each round.
    col_sample : float, default=None
        Share of the columns drawn for each round.
    natural_gradient : bool, default=None
        Boost along the natural gradient (NGBoost's point) rather than the
        ordinary gradient.
    early_stopping_rounds : int, default=None
        Stop when the validation log score has not improved for this many rounds;
        0 trains all ``n_estimators`` rounds.
    validation_fraction : float, default=None
        Share of the latest training dates held out for early stopping when
        ``train``/``fit`` gets no ``X_val`` (NGBoost's own shuffled split is never
        used).
    {embargo_days}
    random_state : int, RandomState or None, default=None
        Seed of the row/column sampling and of the base trees.
    verbose : int, default=None
        Log the losses every ``verbose`` rounds; quiet when 0 or None.

    Attributes
    ----------
    model_ : ngboost.NGBRegressor
        The fitted NGBoost model, also readable as ``model``; after early stopping it
        holds only the rounds up to the best validation score.
    {attributes.config_}
    evals_result_ : dict
        ``{"train": {"LOGSCORE": [...]}, "valid": {"LOGSCORE": [...]}}``: the mean
        negative log-likelihood per round; ``"valid"`` only with a validation set.
    best_iteration_ : int or None
        Rounds kept by early stopping (1-based), None without early stopping.
    {attributes.features_in}

    See Also
    --------
    QuantileLightGBMTrainer : a few quantiles instead of a whole distribution.

    Examples
    --------
    >>> from skquant import NGBoostTrainer, load_model_config
    >>> trainer = NGBoostTrainer(load_model_config("ngboost"))
    >>> trainer.train(X_train, y_train)  # doctest: +SKIP
    >>> lower, upper = trainer.predict_interval(X_test, alpha=0.1)  # doctest: +SKIP
    """

    _registry_name = "ngboost"
    _tasks = ("regression",)
    _allow_nan = True  # the base trees (scikit-learn >= 1.3) route missing values
    _config_aliases = {"Dist": "dist", "eta": "learning_rate", "n_iterations": "n_estimators"}
    _defaults = {
        "dist": "normal",
        "n_estimators": 500,
        "learning_rate": 0.01,
        "max_depth": 3,
        "min_samples_leaf": 1,
        "minibatch_frac": 1.0,
        "col_sample": 1.0,
        "natural_gradient": True,
    }
    _parameter_constraints = {
        "config": [dict, None],
        "dist": [StrOptions(set(_DISTS)), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left"), None],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left"), None],
        "minibatch_frac": [Interval(Real, 0, 1, closed="right"), None],
        "col_sample": [Interval(Real, 0, 1, closed="right"), None],
        "natural_gradient": ["boolean", None],
        "early_stopping_rounds": [Interval(Integral, 0, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose", None],
    }

    def __init__(
        self,
        config=None,
        *,
        dist=None,
        n_estimators=None,
        learning_rate=None,
        max_depth=None,
        min_samples_leaf=None,
        minibatch_frac=None,
        col_sample=None,
        natural_gradient=None,
        early_stopping_rounds=None,
        validation_fraction=None,
        embargo_days=None,
        random_state=None,
        verbose=None,
    ):
        self.config = config
        self.dist = dist
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.minibatch_frac = minibatch_frac
        self.col_sample = col_sample
        self.natural_gradient = natural_gradient
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.embargo_days = embargo_days
        self.random_state = random_state
        self.verbose = verbose

    def _fit_model(self, data: FitData, config: dict) -> None:
        if len(data.y) < 2:
            raise ValueError(
                "NGBoostTrainer needs at least 2 training rows to fit a distribution, "
                f"got n_samples = {len(data.y)}."
            )
        ngboost = import_optional("ngboost")
        distns = import_optional("ngboost.distns")
        dist = config["dist"]
        if dist == "lognormal":
            for name, values in (("y", data.y), ("y_val", data.y_val)):
                if values is not None and np.any(values <= 0):
                    raise ValueError(
                        f"dist='lognormal' needs a strictly positive target, but {name} "
                        "holds values <= 0."
                    )
        sampling_seed, tree_seed = _seeds(config.get("random_state"))
        base = DecisionTreeRegressor(
            criterion="squared_error",
            max_depth=config["max_depth"],
            min_samples_leaf=config["min_samples_leaf"],
            random_state=tree_seed,
        )
        verbose = config.get("verbose")
        model = ngboost.NGBRegressor(
            Dist=getattr(distns, _DISTS[dist]),
            Base=base,
            natural_gradient=config["natural_gradient"],
            n_estimators=config["n_estimators"],
            learning_rate=config["learning_rate"],
            minibatch_frac=config["minibatch_frac"],
            col_sample=config["col_sample"],
            verbose=bool(verbose),
            verbose_eval=int(verbose) if verbose else 100,
            random_state=sampling_seed,
        )
        fit_kwargs = {"sample_weight": data.sample_weight}
        stopping = data.X_val is not None and bool(config.get("early_stopping_rounds"))
        if data.X_val is not None:
            w_val = data.sample_weight_val
            if w_val is None and data.sample_weight is not None:
                w_val = np.ones(len(data.y_val))  # NGBoost wants both weights or neither
            fit_kwargs.update(X_val=data.X_val, Y_val=data.y_val, val_sample_weight=w_val)
            if stopping:
                fit_kwargs["early_stopping_rounds"] = int(config["early_stopping_rounds"])
        model.fit(data.X, data.y, **fit_kwargs)
        raw = getattr(model, "evals_result", None) or {}
        names = {"train": "train", "val": "valid", "valid": "valid"}
        self.evals_result_ = {
            names[key]: {metric: [float(v) for v in values] for metric, values in curves.items()}
            for key, curves in raw.items()
            if key in names
        }
        self.best_iteration_ = None
        if stopping and getattr(model, "best_val_loss_itr", None) is not None:
            self.best_iteration_ = int(model.best_val_loss_itr) + 1
            _truncate(model, self.best_iteration_)
        self.model_ = model

    @fill_doc
    def predict(self, X):
        """Predict the mean of the predictive distribution.

        {parameters.X}

        {returns.y_pred}
        """
        return np.asarray(self.pred_dist(X).predict(), dtype=float)

    @fill_doc
    def pred_dist(self, X):
        """The predictive distribution of every row (an NGBoost distribution).

        {parameters.X}

        Returns
        -------
        dist : ngboost.distns.RegressionDistn
            Vectorised over the rows: ``dist.params`` holds the parameters
            (e.g. ``{"loc": ..., "scale": ...}``), ``dist.ppf(q)``, ``dist.cdf(y)``,
            ``dist.logpdf(y)`` work element-wise.
        """
        Xa = self._validate_predict_X(X)
        return self.model_.pred_dist(Xa)

    @validate_params(
        {"X": ["array-like"], "alpha": [Interval(Real, 0, 1, closed="neither")]},
        prefer_skip_nested_validation=True,
    )
    def predict_interval(self, X, alpha=0.1):
        """Central ``1 - alpha`` prediction interval of every row.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
        alpha : float, default=0.1
            Miscoverage: the interval runs from the ``alpha / 2`` to the
            ``1 - alpha / 2`` quantile of the predictive distribution.

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,)
            Interval bounds.
        """
        dist = self.pred_dist(X)
        lower = np.asarray(dist.ppf(alpha / 2), dtype=float)
        upper = np.asarray(dist.ppf(1 - alpha / 2), dtype=float)
        return lower, upper

    def _feature_importances(self, target) -> np.ndarray:
        """NGBoost's per-parameter importances, averaged over the parameters."""
        n = self.n_features_in_
        if not getattr(self.model_, "base_models", None):
            return np.zeros(n)
        importances = np.atleast_2d(np.asarray(self.model_.feature_importances_, dtype=float))
        return np.nan_to_num(importances.mean(axis=0))
