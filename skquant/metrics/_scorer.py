"""The position rule and scikit-learn scorers built from the trading metrics."""

from __future__ import annotations

import difflib
import warnings

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

from skquant.metrics import _returns
from skquant.metrics._predictions import hit_rate, information_coefficient
from skquant.utils._history import history_periods
from skquant.utils._portfolio import check_portfolio
from skquant.utils._target import known_horizon, target_label
from skquant.utils._time import (
    calendar_unknown,
    check_text_dates,
    dates_of,
    periods_per_year_of,
    symbol_values,
    warn_no_dates,
)
from skquant.utils._validation import several_outputs_error
from skquant.utils._warnings import caller_stacklevel, once_per_parallel_run

# What sorts the dates of a P&L (check_text_dates): text dates must sort as dates
SORTED_PERIODS = (
    "the periods are booked in sorted order (P&L, turnover and drawdown out of date order)"
)

__all__ = [
    "METRICS",
    "TradingScorer",
    "canonical_metric",
    "compute_metric",
    "get_scorer",
    "period_returns",
    "positions_from_scores",
    "predict_positions",
]

# metric name -> (function, kind). "returns" metrics take per-period strategy returns,
# "direction" takes (outcome, position), "rank" takes (outcome, score, dates).
METRICS: dict[str, tuple] = {
    "sharpe": (_returns.sharpe_ratio, "returns"),
    "max_drawdown": (_returns.max_drawdown, "returns"),
    "hit_rate": (hit_rate, "direction"),
    "profit_factor": (_returns.profit_factor, "returns"),
    "win_loss_ratio": (_returns.win_loss_ratio, "returns"),
    "annual_return": (_returns.annual_return, "returns"),
    "sortino": (_returns.sortino_ratio, "returns"),
    "calmar": (_returns.calmar_ratio, "returns"),
    "information_coefficient": (information_coefficient, "rank"),
}
# metrics annualised by the data's periods per year
_ANNUALISED = frozenset({"sharpe", "annual_return", "sortino", "calmar"})
# metrics of compounded equity: meaningful on returns only, not on a classifier's +-1
# outcomes (scale-free ratios, the hit rate and the IC do not depend on the scale)
_COMPOUNDING = frozenset({"max_drawdown", "annual_return", "calmar"})
_ALIASES = {
    "sharpe_ratio": "sharpe",
    "sortino_ratio": "sortino",
    "calmar_ratio": "calmar",
    "ic": "information_coefficient",
}


def canonical_metric(name) -> str:
    """Return the canonical metric name for ``name``.

    Parameters
    ----------
    name : str
        A metric name of :func:`compute_metric` or an alias (``"sharpe_ratio"``,
        ``"sortino_ratio"``, ``"calmar_ratio"``, ``"ic"``).

    Returns
    -------
    name : str
        The canonical name, e.g. ``"sharpe"`` for ``"sharpe_ratio"``.

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    """
    if isinstance(name, str):
        key = _ALIASES.get(name, name)
        if key in METRICS:
            return key
    valid = sorted(METRICS) + sorted(_ALIASES)
    close = difflib.get_close_matches(str(name), valid, n=2)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"Unknown metric {name!r}.{hint} Valid metrics: {', '.join(valid)}.")


def positions_from_scores(score, *, classifier: bool) -> np.ndarray:
    """Apply the position rule to predictions already made: -1, 0 or +1 per row.

    A regressor's position is the sign of its prediction; a binary classifier's,
    given the probability of ``classes_[1]``, is +1 above 0.5, -1 below and 0 at
    exactly 0.5.

    Parameters
    ----------
    score : array-like of shape (n_samples,)
        Predictions (regressor) or positive-class probabilities (classifier).
    classifier : bool
        Whether ``score`` holds probabilities of a binary classifier.

    Returns
    -------
    position : ndarray of shape (n_samples,)
        -1, 0 or +1 per row.
    """
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    return np.sign(score - 0.5) if classifier else np.sign(score)


def predict_positions(estimator, X) -> tuple[np.ndarray, np.ndarray]:
    """Predict and turn the predictions into positions by the engine's rule.

    A regressor's position is the sign of its prediction. A binary classifier's is
    +1 when the predicted probability of ``classes_[1]`` is above 0.5, -1 below
    and 0 at exactly 0.5.

    Returns
    -------
    score : ndarray of shape (n_samples,)
        The prediction (regressor) or positive-class probability (classifier).
    position : ndarray of shape (n_samples,)
        -1, 0 or +1 per row.
    """
    if is_classifier(estimator):
        classes = getattr(estimator, "classes_", None)
        if classes is None or len(classes) != 2:
            raise ValueError(
                "The position rule needs a regressor or a binary classifier; the "
                f"classifier has classes {None if classes is None else list(classes)}."
            )
        score = np.asarray(estimator.predict_proba(X), dtype=np.float64)[:, 1]
        return score, positions_from_scores(score, classifier=True)
    score = np.asarray(estimator.predict(X), dtype=np.float64)
    if score.ndim > 1 and int(np.prod(score.shape[1:])) != 1:
        # flattened, a (n, 3) quantile prediction broadcast against n returns failed
        raise several_outputs_error(estimator, int(np.prod(score.shape[1:])), "A trading position")
    score = score.reshape(-1)
    return score, positions_from_scores(score, classifier=False)


def check_metric_for_estimator(name: str, estimator) -> None:
    """Refuse a compounding metric for a classifier, whose outcome is +1/-1 a row.

    A classifier's scorer pays each position +1 or -1 (:func:`outcome_of`): a
    +-100% return per period. A metric of compounded equity (max drawdown, annual
    return, Calmar) is then -1 from the first miss on, whatever the model.

    Raises
    ------
    ValueError
        If ``name`` is a compounding metric and ``estimator`` a classifier; the
        message lists the metrics that work with a classifier.
    """
    name = canonical_metric(name)
    if name in _COMPOUNDING and is_classifier(estimator):
        usable = ", ".join(repr(m) for m in METRICS if m not in _COMPOUNDING)
        raise ValueError(
            f"The {name!r} scorer compounds per-period returns, but a classifier's "
            "outcome is +1/-1 a row (its class), not a return: booked as +-100% a "
            "period, equity is wiped out by the first miss and every classifier scores "
            f"-1. Use a metric that does not depend on the scale of the outcome: {usable}; "
            f"or fit a regressor on returns to score {name!r} (WalkForwardEngine with "
            "return_col= books a classifier's calls on real returns)."
        )


def outcome_of(estimator, y) -> np.ndarray:
    """The realised signed outcome a scorer pays positions on.

    For a regressor it is ``y`` itself (a return-like target). For a binary
    classifier it is +1 for ``classes_[1]`` and -1 for the other class (so a
    compounding metric is refused for it: :func:`check_metric_for_estimator`).
    """
    if is_classifier(estimator):
        return np.where(np.asarray(y) == estimator.classes_[1], 1.0, -1.0)
    return np.asarray(y, dtype=np.float64).reshape(-1)


def period_returns(row_returns, dates=None) -> np.ndarray:
    """Collapse per-row returns into per-period returns.

    Parameters
    ----------
    row_returns : array-like of shape (n_samples,)
        One return per row (for a panel, one per symbol and date).
    dates : array-like of shape (n_samples,), default=None
        The date of each row. With dates, each period's return is the mean over the
        rows of that date, in date order; without, the rows are the periods. Dates
        are sorted as they are: text that reads as dates whose alphabetical order is
        not their date order ("01/04/2021" before "12/31/2020") raises ``ValueError``,
        as it does for the time splitters' ``groups`` (pass datetimes).

    Returns
    -------
    returns : ndarray of shape (n_periods,)
    """
    r = np.asarray(row_returns, dtype=np.float64)
    if dates is None:
        return r
    dates = np.asarray(dates)
    check_text_dates(dates, "dates", SORTED_PERIODS)
    if len(np.unique(dates)) == len(dates) and np.all(dates[1:] >= dates[:-1]):
        return r
    return pd.Series(r).groupby(dates, sort=True).mean().to_numpy()


def metric_kind(name: str) -> str:
    """What metric ``name`` is computed from: ``"returns"`` (per-period strategy
    returns), ``"direction"`` (outcome and position) or ``"rank"`` (outcome, score
    and date).

    Parameters
    ----------
    name : str
        A metric name or alias (see :func:`canonical_metric`).

    Returns
    -------
    kind : str
    """
    return METRICS[canonical_metric(name)][1]


def compute_metric(
    name: str, outcome, score, position, dates=None, periods_per_year: float | None = None
) -> float:
    """Compute metric ``name`` from per-row outcome, score and position.

    Parameters
    ----------
    name : str
        A key of ``METRICS`` or an alias (see :func:`canonical_metric`).
    outcome : array-like of shape (n_samples,)
        The realised signed outcome of each row (a return, or +1/-1 for a class).
    score : array-like of shape (n_samples,)
        The prediction of each row (used by ``"information_coefficient"``).
    position : array-like of shape (n_samples,)
        The position taken on each row (see :func:`positions_from_scores`).
    dates : array-like of shape (n_samples,), default=None
        The date of each row; returns are averaged per date (:func:`period_returns`).
    periods_per_year : float, default=None
        Annualises Sharpe, Sortino, annual return and Calmar; None infers it from
        ``dates`` (252 without dates). A value more than 1.5 times above or below
        the year of ``dates`` warns.

    Returns
    -------
    value : float
    """
    name = canonical_metric(name)
    func, kind = METRICS[name]
    if kind == "returns":
        period = period_returns(position * np.asarray(outcome, dtype=np.float64), dates)
        if name not in _ANNUALISED:
            return func(period)
        return func(period, periods_per_year=periods_per_year_of(periods_per_year, dates))
    if kind == "direction":
        return func(outcome, position)
    return func(outcome, score, dates)


# Lag-1 autocorrelation of the per-period outcome above which y is taken for overlapping
# multi-period returns: an h-period return's is (h - 1) / h (0.5 for 2 days, 0.8 for
# 5), a one-period return's near 0 (one standard error is 0.1 on 100 dates).
_OVERLAP_ACF = 0.4  # and at least three standard errors, 3 / sqrt(periods)


def lag1_autocorrelation(values) -> float:
    """The lag-1 autocorrelation of a series in time order (NaN with fewer than 3 pairs).

    Pairs with a NaN on either side are left out.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    a, b = v[1:], v[:-1]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    denom = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / denom) if denom > 0 else float("nan")


def _warn_if_overlapping(name: str, outcome: np.ndarray, dates, y=None) -> None:
    """Warn when the per-period outcome a returns metric books overlaps itself.

    A ``y`` that states its horizon H (make_labels metadata, or its name: ``fwd_ret_5``,
    :func:`known_horizon`) overlaps itself when H > 1, however short the fold: the lag-1
    autocorrelation test needs more dates than a short test window holds (no warning in
    50 folds of 10 days on ``fwd_ret_5``). A ``y`` of no stated horizon, or of one
    stated period, is judged by that test.
    """
    known = None if y is None else known_horizon(y)
    if known is not None and known[0] > 1:
        horizon, source = known
        why = f"y {target_label(y)} says a {horizon}-period horizon (by its {source})"
    else:
        periods = period_returns(outcome, dates)
        acf = lag1_autocorrelation(periods)
        # three standard errors (1 / sqrt(n)) at least: 0.4 alone is two on a 24-period
        # fold, where one-period returns crossed it by chance in 2.5% of folds
        if not acf > max(_OVERLAP_ACF, 3.0 / np.sqrt(max(len(periods), 1))):
            return
        # no figure of the fold's own: the text is the same in each fold of a search,
        # which says it once (once_per_parallel_run), not once a fold
        why = (
            "the lag-1 autocorrelation of its mean per date is above 0.4 (a 5-period "
            "return's is 0.8, a one-period return's near 0)"
        )
    warnings.warn(
        f"The {name!r} scorer books y as one-period returns, but y overlaps itself: {why}. "
        "Booking a multi-period label every period inflates the Sharpe ratio and the "
        "drawdown: score on the one-period forward return (e.g. fit on 'fwd_ret'), or run "
        "WalkForwardEngine with return_col=.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _warn_if_cold(name: str, estimator) -> None:
    """Warn when the estimator needs earlier rows than the test fold holds: a scorer
    gets the fold's rows alone, so their first dates were predicted without them."""
    periods = history_periods(estimator)
    if periods > 0:
        warnings.warn(
            f"The {name!r} scorer got the test rows alone, but {type(estimator).__name__} "
            f"reads {periods} earlier periods of each symbol (a sequence net's window, a "
            "causal feature model's filter): the first dates of each test fold were "
            "predicted without them (zero padding, a filter started afresh: a change-point "
            "detector reads them as a change), so this score is not what the model does on "
            "an unbroken series. WalkForwardEngine gives each test window its history.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


class TradingScorer:
    """A scikit-learn scorer: ``scorer(estimator, X, y)`` trades the predictions on ``X``.

    Predictions become positions by the engine's rule (:func:`predict_positions`);
    the strategy return of a row is ``position * outcome`` (``y`` for a regressor,
    +1/-1 for the positive/other class of a binary classifier), averaged over the
    rows of each date when ``X`` carries dates, and the metric is computed on those
    per-period returns. Every trading metric is "greater is better" (max drawdown
    is a negative fraction, so a shallower drawdown scores higher). A classifier
    with a compounding metric (``"max_drawdown"``, ``"annual_return"``,
    ``"calmar"``) raises ``ValueError``: its +1/-1 outcomes are no returns. When ``X``
    carries dates and ``y`` overlaps itself (its name or make_labels metadata states a
    horizon above one period, ``fwd_ret_5``; or, when it states none, the lag-1
    autocorrelation of its mean per date is above 0.4 and three standard errors,
    3 / sqrt(periods): a multi-period return or label), a returns metric warns:
    booking it every period inflates the number. When neither ``X`` nor ``groups``
    carries dates, a returns metric (without ``periods_per_year``) and
    the information coefficient warn (``NoDatesWarning``): on a panel the rows of
    one date would count as separate periods, or be ranked against other dates'.
    Inside scikit-learn's loops (``cross_validate``, a search, ``RFECV``) run in the
    caller's process, each distinct warning comes once per call, not once per fold.

    The returns metrics are gross of costs unless ``cost_bps`` is given: with it they
    are computed on net = gross - turnover * cost_bps / 10,000 per period, by the
    walk-forward engine's rule for its ``"sign"`` portfolio (the one
    :func:`~skquant.metrics.validation_metrics` books), so the score of a test fold
    is the net figure ``WalkForwardEngine(cost_bps=...)`` reports for it.

    Parameters
    ----------
    name : str
        Canonical metric name (see :func:`get_scorer`).
    periods_per_year : float, default=None
        Annualisation of Sharpe, Sortino, annual return and Calmar; None infers it
        from the dates of ``X`` (252 daily, 365 for 24/7 daily data, 52 weekly, 12
        monthly; 252 without dates).
    cost_bps : float, default=0.0
        Cost per unit of turnover in basis points (see :func:`get_scorer`); 0 scores
        gross of costs.
    """

    def __init__(self, name: str, periods_per_year: float | None = None, cost_bps: float = 0.0):
        self.name = name
        self.periods_per_year = periods_per_year
        self.cost_bps = cost_bps

    def __call__(self, estimator, X, y, sample_weight=None, groups=None) -> float:
        # once per cross_validate (or search) call, not once per fold
        with once_per_parallel_run():
            return self._score(estimator, X, y, sample_weight, groups)

    def _score(self, estimator, X, y, sample_weight, groups) -> float:
        if sample_weight is not None:
            raise ValueError(f"The {self.name!r} trading scorer does not take sample_weight.")
        check_metric_for_estimator(self.name, estimator)
        # a scorer pickled before cost_bps existed scores gross, as it did
        cost_bps = _check_cost_bps(self.name, getattr(self, "cost_bps", 0.0), estimator)
        score, position = predict_positions(estimator, X)
        _warn_if_cold(self.name, estimator)
        outcome = outcome_of(estimator, y)
        dates = dates_of(X)
        if dates is None and len(getattr(y, "index", ())) == len(outcome):
            dates = dates_of(y)  # an array X beside a y that kept the panel's index
        if dates is None and groups is not None:
            dates = self._dates_of_groups(groups, len(outcome))
        if cost_bps and dates is None:
            raise ValueError(
                f"get_scorer({self.name!r}, cost_bps={cost_bps:g}) charges costs on the "
                "turnover from one date to the next, but the rows carry no dates: pass X "
                "(or y) indexed by date, or by a (date, symbol) MultiIndex for a panel; "
                "or cost_bps=0 to score gross of costs."
            )
        routing = (
            "RFECV turns a DataFrame into an array: with "
            "sklearn.set_config(enable_metadata_routing=True) the dates given as "
            "groups (selector.fit(X, y, groups=dates)) reach this scorer too"
        )
        kind = metric_kind(self.name)
        if kind == "returns":
            if dates is None and self.periods_per_year is None:
                warn_no_dates(
                    f"The {self.name!r} scorer",
                    "each row is booked as one period of a 252-period year",
                    "one daily series in time order",
                    "on a panel (the rows of one date become separate periods) or for "
                    "other data (weekly rows annualised by 252 inflate a Sharpe ratio 2.2x)",
                    f"{routing}; for one series, get_scorer({self.name!r}, "
                    "periods_per_year=...) says its year. ",
                )
            else:
                _warn_if_overlapping(self.name, outcome, dates, y)
                self._warn_if_calendar_unknown(dates)
        elif kind == "rank" and dates is None:
            warn_no_dates(
                f"The {self.name!r} scorer",
                "the IC is one rank correlation over all its rows",
                "one series in time order",
                "on a panel (the IC is the mean over dates of the rank correlation across "
                "the symbols of each date; pooled, it ranks one date's rows against "
                "another's)",
                f"{routing}. ",
            )
        if cost_bps:
            return self._net_metric(position, outcome, dates, X, y, cost_bps)
        return compute_metric(
            self.name,
            outcome,
            score,
            position,
            dates,
            periods_per_year=self.periods_per_year,
        )

    def _net_metric(self, position, outcome, dates, X, y, cost_bps: float) -> float:
        """The returns metric of the rows' ``"sign"`` book net of ``cost_bps``, by
        :func:`~skquant.metrics.validation_metrics`'s (the engine's) turnover rule:
        each date's weights are the positions over its rows, the first date trades from
        flat, turnover is the sum over symbols of |weight - last weight|."""
        from skquant.metrics._validation import _sign_portfolio  # imports this module

        symbols = _symbols_of(X)
        if symbols is None and len(getattr(y, "index", ())) == len(outcome):
            symbols = _symbols_of(y)
        gross, turnover = _sign_portfolio(position, outcome, dates, symbols)
        if turnover is None:
            raise ValueError(
                f"get_scorer({self.name!r}, cost_bps={cost_bps:g}) charges costs on each "
                "symbol's turnover, but the rows share dates without telling the symbols "
                "apart (dates alone, as groups or a DatetimeIndex, or a (date, symbol) "
                "pair given twice): pass X or y indexed by a (date, symbol) MultiIndex "
                "with one row per date and symbol, or cost_bps=0 to score gross of costs."
            )
        net = gross - turnover * cost_bps / 10_000.0
        year = periods_per_year_of(self.periods_per_year, dates)
        return compute_metric(self.name, net, net, np.ones(len(net)), None, year)

    def _warn_if_calendar_unknown(self, dates) -> None:
        """Warn when the year this scorer annualises by is inferred from dates that
        cannot tell a weekday calendar from a 24/7 one (a test window between two
        weekends): the year is then taken as 252 days, and a 24/7 market's folds are
        annualised by 252 or 365 as they happen to hold a weekend or not."""
        if (
            self.periods_per_year is not None
            or canonical_metric(self.name) not in _ANNUALISED
            or not calendar_unknown(dates)
        ):
            return
        # no dates nor year of the fold in the text: the folds of one cross_validate
        # give one message, which Python's default filter shows once
        warnings.warn(
            f"The {self.name!r} scorer annualises by the year of the dates of X, but the "
            "dates of a fold hold no weekend nor span one: they cannot tell a weekday "
            "market (252 days a year) from a 24/7 one (365), and were annualised as a "
            "weekday market's (hourly 24/7 bars have 8760 periods a year, not 6048). Pass "
            f"get_scorer({self.name!r}, periods_per_year=...) with the data's year, or test "
            "windows that span a weekend.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def _dates_of_groups(self, groups, n_rows: int) -> np.ndarray:
        """Each row's date from ``groups``, checked against the rows and the annualisation."""
        groups = pd.Index(np.asarray(groups) if np.ndim(groups) else [groups])
        if len(groups) != n_rows:
            raise ValueError(
                f"groups has {len(groups)} rows but X has {n_rows}; pass each row's date."
            )
        annualised = canonical_metric(self.name) in _ANNUALISED
        if (
            annualised
            and self.periods_per_year is None
            and not isinstance(groups, pd.DatetimeIndex)
        ):
            raise ValueError(
                f"The {self.name!r} scorer annualises by the spacing of the dates, but groups "
                f"holds {groups.dtype} values: pass datetimes, or "
                f"get_scorer({self.name!r}, periods_per_year=...)."
            )
        return groups.to_numpy()

    def get_metadata_routing(self):
        """Request ``groups`` (each row's date) for scoring.

        With ``sklearn.set_config(enable_metadata_routing=True)``, the dates given as
        ``groups`` to ``RFECV`` (which turns ``X`` into an array), or to
        ``GridSearchCV`` or ``cross_validate`` fitted on arrays, reach the splitter and
        this scorer: a fold's returns are then booked per date, as for an ``X``
        indexed by date.
        """
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="groups", alias=True)
        return request

    def __repr__(self) -> str:
        extra = (
            "" if self.periods_per_year is None else f", periods_per_year={self.periods_per_year}"
        )
        if getattr(self, "cost_bps", 0.0):  # a scorer pickled before cost_bps has none
            extra += f", cost_bps={self.cost_bps}"
        return f"get_scorer({self.name!r}{extra})"


def _symbols_of(X) -> np.ndarray | None:
    """Each row's symbol: the other level of a (date, symbol) ``MultiIndex`` of ``X``
    (in either order; none without a datetime level), or None."""
    symbols = symbol_values(getattr(X, "index", None))
    return None if symbols is None else symbols.to_numpy()


def _check_cost_bps(name: str, cost_bps, estimator=None) -> float:
    """``cost_bps`` checked as the engine checks it; refused (ValueError) above 0 for a
    metric that is not computed from returns (costs do not change it) or, given
    ``estimator``, for a classifier (its +1/-1 outcomes are no returns to charge)."""
    cost_bps = check_portfolio("sign", 0.2, cost_bps)[2]  # the engine's check
    if not cost_bps:
        return cost_bps
    name = canonical_metric(name)
    if metric_kind(name) != "returns":
        returns = ", ".join(repr(m) for m, (_, kind) in METRICS.items() if kind == "returns")
        raise ValueError(
            f"cost_bps={cost_bps:g} does not change the {name!r} scorer: it scores the "
            "predictions, not the returns of trading them, and is the same gross or net. "
            f"Drop cost_bps, or score a returns metric net of costs: {returns}."
        )
    if estimator is not None and is_classifier(estimator):
        raise ValueError(
            f"get_scorer({name!r}, cost_bps={cost_bps:g}) charges costs against returns, "
            "but a classifier's outcome is +1/-1 a row (its class), not a return: a cost "
            "in basis points has nothing to be charged against. Fit a regressor on "
            "returns to score net of costs, or run WalkForwardEngine(return_col=..., "
            "cost_bps=...), which books a classifier's calls on real returns."
        )
    return cost_bps


def get_scorer(
    name: str, periods_per_year: float | None = None, cost_bps: float = 0.0
) -> TradingScorer:
    """Return a scikit-learn scorer for a trading metric, gross of costs unless ``cost_bps``.

    Parameters
    ----------
    name : str
        One of ``"sharpe"``, ``"max_drawdown"``, ``"hit_rate"``, ``"profit_factor"``,
        ``"win_loss_ratio"``, ``"annual_return"``, ``"sortino"``, ``"calmar"``,
        ``"information_coefficient"`` (aliases ``"sharpe_ratio"``,
        ``"sortino_ratio"``, ``"calmar_ratio"``, ``"ic"``).
    periods_per_year : float, default=None
        Annualisation of Sharpe, Sortino, annual return and Calmar; None infers it
        from the dates of ``X`` (252 without dates).
    cost_bps : float, default=0.0
        Cost per unit of turnover in basis points, as ``WalkForwardEngine``'s. With 0
        the returns metrics are GROSS of costs, and a search favours models that
        trade more than their edge pays for. Above 0 they are computed on net =
        gross - turnover * cost_bps / 10,000 per period, where each date's weights
        are the positions over the number of its rows (the engine's ``"sign"``
        portfolio), turnover is the sum over symbols of |weight - the symbol's last
        weight| and the test rows' first date trades from flat (each engine fold's
        own book does the same, as :func:`~skquant.metrics.validation_metrics`): a
        fold's score is then the net figure the engine reports for it (except where
        a return is missing on the fold's last test date: the fold's rows cannot tell
        a halt, which the engine carries, from an exit, and the scorer sells there). It needs the
        rows' dates and symbols: ``X`` (or ``y``) indexed by date for one series, by a
        (date, symbol) ``MultiIndex`` for a panel (dates given as ``groups`` tell no
        symbols: one series only). ``"hit_rate"`` and ``"information_coefficient"``
        score the predictions, not the trades, and refuse ``cost_bps`` above 0, as
        does a classifier's scorer (its +1/-1 outcomes are no returns).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``, greater is better, usable as
        ``scoring=`` in ``GridSearchCV``, ``cross_validate`` (also in a dict of
        several scorers), ``RFECV`` and ``permutation_test_score``. It works for
        regressors (position = sign of the prediction, paid ``y``) and binary
        classifiers (position +1/-1 by ``predict_proba`` above/below 0.5, paid +1
        for the positive class and -1 otherwise; so for a classifier only the
        metrics that do not compound returns apply: ``"sharpe"``, ``"sortino"``,
        ``"profit_factor"``, ``"win_loss_ratio"``, ``"hit_rate"``,
        ``"information_coefficient"``). When ``X`` carries dates, the
        period return is the mean over the rows of each date (equal weight).
        Annualised metrics use ``periods_per_year``, or infer it from the dates
        of ``X`` when None (a scorer on weekly data annualises by 52, not 252); a
        ``periods_per_year`` more than 1.5 times above or below the year of the
        dates of ``X`` warns.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones. For a ``cost_bps``
        that is not a finite number >= 0, or above 0 with a metric costs do not
        change. When called, for a compounding metric (``"max_drawdown"``,
        ``"annual_return"``, ``"calmar"``) on a classifier: +1/-1 class outcomes
        booked as returns of +-100% wipe equity out at the first miss; with
        ``cost_bps`` above 0, for a classifier, or for rows without dates (or a panel
        without symbols) to tell the turnover.

    Examples
    --------
    >>> from skquant import get_scorer
    >>> get_scorer("sharpe")
    get_scorer('sharpe')
    >>> get_scorer("sharpe", cost_bps=5)
    get_scorer('sharpe', cost_bps=5.0)
    """
    if periods_per_year is not None:
        periods_per_year = periods_per_year_of(periods_per_year, None)
    name = canonical_metric(name)
    return TradingScorer(name, periods_per_year, _check_cost_bps(name, cost_bps))
