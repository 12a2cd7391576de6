"""Reward-weighted regression (Peters & Schaal 2007) around any base regressor."""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import column_or_1d, has_fit_parameter

from skquant.models._base import (
    BaseSupervisedTrainer,
    BaseTrainer,
    TreeImportanceMixin,
    target_names_of,
)
from skquant.utils._docs import fill_doc
from skquant.utils._embargo import embargo_at_least
from skquant.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from skquant.utils._target import check_labels_not_features
from skquant.utils._variant import in_cloning_variant


def reward_weights(reward, temperature: float, max_weight_ratio: float) -> np.ndarray:
    """Row weights ``exp(reward / (temperature * std(reward)))``, mean 1, clipped.

    The reward is shifted by its maximum first (the weights do not change, the
    exponentials cannot overflow) and scaled by its standard deviation, so
    ``temperature`` is in units of the reward's spread. No weight may exceed
    ``max_weight_ratio`` times the mean weight: the largest weights are clipped to
    the one cap at which, after renormalising to mean 1, the largest equals
    ``max_weight_ratio``.
    """
    r = np.asarray(reward, dtype=np.float64)
    spread = r.std()
    scale = temperature * (spread if spread > 0 else 1.0)
    w = np.exp((r - r.max()) / scale)
    w /= w.mean()
    n = len(w)
    if w.max() > max_weight_ratio:
        # clip the k largest weights to the cap c that makes max / mean == ratio after
        # renormalising: c = ratio * (sum of the others) / (n - ratio * k)
        desc = np.sort(w)[::-1]
        rest = np.cumsum(desc[::-1])[::-1]  # rest[k] = sum of desc[k:]
        k = np.arange(1, n)
        room = n - max_weight_ratio * k
        cap = np.where(room > 0, max_weight_ratio * rest[1:] / np.where(room > 0, room, 1), -1)
        ok = (room > 0) & (desc[1:] <= cap) & (cap <= desc[:-1])
        if ok.any():
            w = np.minimum(w, cap[np.argmax(ok)])
            w /= w.mean()
    return w


def _default_base(name: str):
    from skquant.models._meta import _make_base

    return _make_base(name, "estimator")[1]


def _takes_sample_weight(estimator) -> bool:
    """Whether ``estimator.fit`` names ``sample_weight`` or takes any keyword (a
    Pipeline's ``**params``, which routes it on or refuses it by name itself)."""
    if has_fit_parameter(estimator, "sample_weight"):
        return True
    parameters = inspect.signature(estimator.fit).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


@fill_doc
class RewardBasedTrainer(TreeImportanceMixin, BaseSupervisedTrainer):
    """Reward-weighted regression: fit a base model on reward-weighted rows.

    Peters & Schaal (2007), "Reinforcement learning by reward-weighted regression
    for operational space control" (ICML): each training row gets the weight

    .. math::

        u_i = \\frac{\\exp(r_i / (\\tau\\,\\sigma_r))}
                   {\\frac{1}{n}\\sum_j \\exp(r_j / (\\tau\\,\\sigma_r))},
        \\qquad u_i \\leftarrow \\min(u_i, \\rho) \\text{ then renormalised}

    with reward :math:`r`, its standard deviation :math:`\\sigma_r` over the training
    rows, ``temperature`` :math:`\\tau` and ``max_weight_ratio`` :math:`\\rho` (no row
    weighs more than :math:`\\rho` times the mean, so no sample dominates). The base
    estimator is then fitted with ``sample_weight=u`` (times any ``sample_weight``
    given): the model follows the relation of the rewarding rows.

    The reward is passed to ``fit(X, y, reward=...)``. It is routed by
    scikit-learn's metadata routing, so inside a ``Pipeline`` or ``GridSearchCV``
    request it with ``RewardBasedTrainer().set_fit_request(reward=True)`` (with
    ``sklearn.set_config(enable_metadata_routing=True)``). Without it the reward is
    derived from the target: ``|y|`` (``default_reward="abs_target"``, the realised
    return's magnitude for a return target) or ``y`` itself (``"target"``, for a
    PnL target).

    Parameters
    ----------
    {config}
    estimator : estimator object or str, default=None
        The base regressor, or a registry name (``"lightgbm"``) for that trainer
        with its default config, or ``"ridge"`` for scikit-learn's Ridge. It is
        cloned, never changed.
    temperature : float, default=None
        Softness of the weighting, in standard deviations of the reward: small
        values concentrate the weight on the best rows.
    max_weight_ratio : float, default=None
        Largest weight allowed, as a multiple of the mean weight.
    default_reward : {"abs_target", "target"}, default=None
        The reward when ``fit`` gets none: ``|y|`` or ``y``.
    embargo_days : int, default=None
        Dates a base that takes ``embargo_days`` (a skquant trainer, also as a
        Pipeline step) drops at least before its own early-stopping tail (the base's
        own larger embargo is kept; None leaves the base's, and a skquant trainer's
        None is the horizon its target tells): labels of horizon h need
        ``embargo_days >= h``. The walk-forward engine sets it to its folds' embargo.

    Attributes
    ----------
    model_ : estimator
        The fitted base estimator, also readable as ``model``.
    sample_weight_ : ndarray of shape (n_samples,)
        The weights the base estimator was fitted with (mean 1 without
        ``sample_weight``).
    evals_result_ : dict
        The base estimator's learning curves, when it keeps them (a skquant LightGBM,
        XGBoost or net base): ``{"train": {metric: [...]}, "valid": {...}}``.
    best_iteration_ : int
        The base estimator's early-stopping iteration, when it has one.
    feature_importances_ : ndarray of shape (n_features_in_,)
        The base estimator's feature importances (``|coef_|`` for a linear base), so
        that ``RFECV`` and ``SelectFromModel`` take this model.
    config_ : dict
        The resolved hyper-parameters actually used (an estimator object appears by
        its class name).
    {attributes.features_in}

    See Also
    --------
    LightGBMTrainer : the default base estimator.

    References
    ----------
    J. Peters and S. Schaal, "Reinforcement learning by reward-weighted regression
    for operational space control", ICML 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skquant import RewardBasedTrainer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 1))
    >>> good = rng.random(400) < 0.3
    >>> y = np.where(good, 2 * X[:, 0], -X[:, 0])
    >>> model = RewardBasedTrainer(estimator=LinearRegression(), temperature=0.1)
    >>> slope = model.fit(X, y, reward=good.astype(float)).model_.coef_[0]
    >>> bool(slope > 1.5)
    True
    """

    _registry_name = "reward_based"
    _parameter_constraints = {
        "config": [dict, None],
        "estimator": [HasMethods(["fit", "predict"]), str, None],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
        "max_weight_ratio": [Interval(Real, 1, None, closed="left"), None],
        "default_reward": [StrOptions({"abs_target", "target"}), None],
        "embargo_days": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        config=None,
        *,
        estimator=None,
        temperature=None,
        max_weight_ratio=None,
        default_reward=None,
        embargo_days=None,
    ):
        self.config = config
        self.estimator = estimator
        self.temperature = temperature
        self.max_weight_ratio = max_weight_ratio
        self.default_reward = default_reward
        self.embargo_days = embargo_days

    def _base(self, config=None):
        est = (config or {}).get("estimator", self.estimator)
        if est is None:
            est = "lightgbm"
        base = _default_base(est) if isinstance(est, str) else clone(est)
        return embargo_at_least(base, (config or {}).get("embargo_days"))

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        try:
            base_tags = get_tags(self._base())
        except ValueError:  # an unknown registry name: fit reports it
            tags.input_tags.allow_nan = False
            return tags
        tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        # reweighting rows does not make a base that cannot learn the toy data learn it
        # (the default base, LightGBM, cannot: see LightGBMTrainer)
        if base_tags.regressor_tags is not None:
            tags.regressor_tags.poor_score = base_tags.regressor_tags.poor_score
        return tags

    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=False)
    @fill_doc
    def fit(self, X, y, *, reward=None, sample_weight=None, X_val=None, y_val=None):
        """Fit the base estimator on reward-weighted rows.

        {fit.X_rows}
        y : array-like of shape (n_samples,)
            Target.
        reward : array-like of shape (n_samples,), default=None
            Reward of each row; None derives it from ``y`` (see ``default_reward``).
        sample_weight : array-like of shape (n_samples,), default=None
            Extra row weights, multiplied into the reward weights.
        X_val, y_val : array-like, default=None
            Early-stopping rows, passed on to a skquant base trainer.

        {returns.self}
        """
        config = self._resolve_config()
        check_labels_not_features(X, y)
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        _, ya = validate_data(
            self,
            X,
            y,
            y_numeric=True,
            multi_output=False,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )
        if reward is None:
            r = np.abs(ya) if config["default_reward"] == "abs_target" else ya
        else:
            r = column_or_1d(np.asarray(reward, dtype=np.float64))
            if len(r) != len(ya):
                raise ValueError(f"reward has {len(r)} values but X has {len(ya)} rows.")
            if not np.all(np.isfinite(r)):
                raise ValueError("reward must be finite (no NaN or infinity).")
        w = reward_weights(r, config["temperature"], config["max_weight_ratio"])
        if sample_weight is not None:
            w = w * _check_sample_weight(sample_weight, ya, ensure_non_negative=True)
            if not np.any(w > 0):
                raise ValueError("sample_weight is zero for every row; nothing to fit.")
            w /= w.mean()
        base = self._base(config)
        if not _takes_sample_weight(base):  # the rewards are row weights
            raise ValueError(
                f"RewardBasedTrainer weights the rows of its estimator's fit by reward, and "
                f"{type(base).__name__}.fit takes no sample_weight; give an estimator whose "
                "fit does."
            )
        if not isinstance(config.get("estimator"), (str, type(None))):
            config["estimator"] = type(config["estimator"]).__name__  # keep config_ JSON-able
        self.config_ = config
        self.task_ = config["task"]
        self.target_names_ = target_names_of(y)
        fit_kw = {"sample_weight": w}
        if X_val is not None or y_val is not None:
            if not isinstance(base, BaseTrainer):
                raise ValueError("X_val/y_val need a skquant trainer as estimator.")
            fit_kw.update(X_val=X_val, y_val=y_val)
        y_fit = y if isinstance(y, pd.Series) else ya
        self.model_ = base.fit(X, y_fit, **fit_kw)
        self.sample_weight_ = w
        for name in ("evals_result_", "best_iteration_"):  # an iterative base's, as its own
            if hasattr(self.model_, name):
                setattr(self, name, getattr(self.model_, name))
            elif name in self.__dict__:  # from an earlier fit with another base
                delattr(self, name)
        return self

    @fill_doc
    def predict(self, X):
        """Predictions of the reward-weighted base estimator.

        {parameters.X}

        {returns.y_pred}
        """
        check_is_fitted(self)
        allow_nan = self.__sklearn_tags__().input_tags.allow_nan
        validate_data(self, X, reset=False, ensure_all_finite="allow-nan" if allow_nan else True)
        return self.model_.predict(X)

    def _feature_importances(self, target) -> np.ndarray:
        base = self.model_
        if isinstance(base, BaseTrainer):
            return base._importance_series(None).reindex(self._feature_names()).to_numpy()
        if hasattr(base, "feature_importances_"):
            return np.asarray(base.feature_importances_, dtype=float)
        if hasattr(base, "coef_"):
            return np.abs(np.ravel(base.coef_))
        raise AttributeError(f"{type(base).__name__} exposes no feature importance.")
