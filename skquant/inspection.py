"""Out-of-sample feature importance: mean decrease of a trading score, fold by fold.

Importance measured on the rows a model was fitted on rewards what it memorised.
:func:`walk_forward_importance` refits a clone of the estimator on each training
window of a splitter (``WalkForwardSplit``, ``PurgedKFold``, ...) and measures, on
that fold's test rows only, how much the score drops when one feature is shuffled:
the mean decrease accuracy (MDA) of Lopez de Prado, *Advances in Financial Machine
Learning* (2018), ch. 8, with a trading score.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.metaestimators import available_if

from skquant.metrics import get_scorer
from skquant.utils._history import history_periods
from skquant.utils._rows import take_rows
from skquant.utils._time import dates_of, infer_periods_per_year
from skquant.utils._warnings import caller_stacklevel, each_warning_once

__all__ = ["walk_forward_importance"]


def walk_forward_importance(
    estimator, X, y, *, cv, scoring="sharpe", n_repeats: int = 5, random_state=None
) -> pd.DataFrame:
    """Mean decrease of a score per feature, out of sample, over the folds of ``cv``.

    For each fold, a clone of ``estimator`` is fitted on the training rows and
    scikit-learn's :func:`~sklearn.inspection.permutation_importance` shuffles each
    feature of the test rows ``n_repeats`` times (a shuffle draws from all the test
    rows, across dates and, on a panel, symbols; the rows keep their dates, so
    returns are still booked per date); the fold's importance of a feature is the
    mean decrease of the score. A feature the model leans on in every fold has
    a large mean and a small standard error; one that helps in some folds and hurts
    in others has a mean near zero. A model that reads earlier rows (a sequence net's
    window, a change-point or regime filter: ``history_periods_``) predicts each test
    fold after the feature rows of the dates before it, as the walk-forward engine
    does; only the test rows are shuffled and scored.

    Parameters
    ----------
    estimator : estimator
        An unfitted scikit-learn estimator (a skquant trainer, a strategy, a
        pipeline); it is cloned for each fold and never fitted itself.
    X : DataFrame of shape (n_samples, n_features)
        Features, with dates in the index when ``cv`` needs them (a
        ``DatetimeIndex`` or a (date, symbol) ``MultiIndex``). A NumPy array works
        with a splitter that takes row positions.
    y : array-like of shape (n_samples,)
        Target.
    cv : cross-validation splitter
        E.g. ``WalkForwardSplit(...)``: an object with ``split(X, y)`` yielding
        (train, test) row positions.
    scoring : str or callable, default="sharpe"
        A trading metric name of :func:`skquant.metrics.get_scorer` (Sharpe of the
        sign of the predictions for a regressor, of +1/-1 direction calls for a
        binary classifier, annualised by the spacing of all the dates of ``X``, the
        same year for every fold), or a scikit-learn
        scorer ``scorer(estimator, X, y)`` (greater is better).
    n_repeats : int, default=5
        Shuffles per feature and fold.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles of every fold (an int gives a repeatable result).

    Returns
    -------
    importance : DataFrame of shape (n_features, 2 + n_folds)
        Indexed by feature name (``x0``, ``x1``, ... for an array), sorted by
        ``mean`` descending. Columns: ``mean`` (mean over the folds of the fold's
        mean decrease), ``std_error`` (standard deviation over the folds divided by
        the square root of the number of folds; NaN with one fold), then
        ``fold_0``, ``fold_1``, ... (each fold's mean decrease). A fold where every
        importance is exactly 0 (shuffling no feature changed the score: its model
        took one side on every test row, or used no feature), or where the score is
        undefined (NaN), measured nothing: its column is NaN and ``mean`` and
        ``std_error`` are over the other folds.

    Raises
    ------
    ValueError
        If ``cv`` yields no fold; for an unknown ``scoring`` name.

    Warns
    -----
    UserWarning
        Once for the call, naming the folds where every importance is 0, and those
        where the score is undefined (NaN throughout: an IC of constant
        predictions); both are left out of ``mean`` and ``std_error`` (their columns
        are NaN).

    See Also
    --------
    skquant.models.LightGBMTrainer.get_feature_importance : in-sample importance
        of one fitted model (``kind="gain"``, ``"shap"``, ``"permutation"``).

    Examples
    --------
    >>> from skquant import LightGBMTrainer, WalkForwardSplit
    >>> from skquant.inspection import walk_forward_importance
    >>> cv = WalkForwardSplit(train_days=252, test_days=63, step_days=63)
    >>> imp = walk_forward_importance(LightGBMTrainer(), X, y, cv=cv)  # doctest: +SKIP
    >>> imp[["mean", "std_error"]].head(10)  # doctest: +SKIP
    """
    # one year for every fold, from all the dates: a fold's own (an hourly crypto
    # fold without a weekend looks like a weekday market) would change it by fold
    scorer = (
        get_scorer(scoring, periods_per_year=infer_periods_per_year(dates_of(X)))
        if isinstance(scoring, str)
        else scoring
    )
    rng = check_random_state(random_state)
    # unmoved: the folds whose every importance was 0; undefined: whose score was NaN
    folds, unmoved, undefined = [], [], []
    # each fold's scorer runs 1 + n_features * n_repeats times on the same y: a
    # warning about y came 108 times from 3 folds of 7 features
    with each_warning_once():
        for train, test in cv.split(X, y):
            model = clone(estimator).fit(take_rows(X, train), take_rows(y, train))
            result = permutation_importance(
                model,
                take_rows(X, test),
                take_rows(y, test),
                scoring=_with_history(scorer, X, test, history_periods(model)),
                n_repeats=n_repeats,
                random_state=rng,
            )
            # every shuffle of every feature left the score as it was: the fold's
            # model took one side on every test row (or used no feature)
            if np.all(result.importances == 0):
                unmoved.append(len(folds))
                folds.append(np.full(len(result.importances_mean), np.nan))
                continue
            if np.isnan(result.importances_mean).all():  # an IC of constant predictions
                undefined.append(len(folds))
            folds.append(result.importances_mean)
    if not folds:
        raise ValueError(f"cv={cv!r} yields no fold on these {len(X)} rows.")
    per_fold = np.asarray(folds)
    names = X.columns if hasattr(X, "columns") else [f"x{i}" for i in range(per_fold.shape[1])]
    counted = np.delete(per_fold, unmoved + undefined, axis=0)
    _warn_of_unmoved_folds(unmoved, undefined, len(per_fold))
    n_counted = len(counted)
    nothing = np.full(per_fold.shape[1], np.nan)
    std_error = counted.std(axis=0, ddof=1) / np.sqrt(n_counted) if n_counted > 1 else nothing
    frame = pd.DataFrame(
        {
            "mean": counted.mean(axis=0) if n_counted else nothing,
            "std_error": std_error,
            **{f"fold_{k}": values for k, values in enumerate(per_fold)},
        },
        index=pd.Index(list(names), name="feature"),
    )
    return frame.sort_values("mean", ascending=False, kind="stable")


def _warn_of_unmoved_folds(unmoved: list[int], undefined: list[int], n_folds: int) -> None:
    """Warn, once for the call, of the folds left out of ``mean`` and ``std_error``
    (of ``n_folds``): ``unmoved``, where every importance was 0, and ``undefined``,
    where the score itself was undefined (NaN: an IC of constant predictions)."""
    if not unmoved and not undefined:
        return
    n_counted = n_folds - len(unmoved) - len(undefined)
    why = []
    if unmoved:
        why.append(
            f"every importance is 0 in {', '.join(f'fold_{k}' for k in unmoved)}: "
            "shuffling no feature changed the score (the fold's model took one side on "
            "every test row, or never used a feature), so the fold ranks nothing and its "
            "zeros would pull the mean toward 0"
        )
    if undefined:
        why.append(
            f"the score is undefined (NaN) in {', '.join(f'fold_{k}' for k in undefined)}: "
            "no importance can be measured there (an information coefficient of constant "
            "predictions), and one NaN fold would make every mean NaN"
        )
    left = (
        f"the mean and std_error are over the other {n_counted} of {n_folds} folds"
        if n_counted
        else "mean and std_error are NaN: no fold ranks the features"
    )
    warnings.warn(
        f"walk_forward_importance: {'; '.join(why)}. Those fold columns are NaN, and {left}.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _history_positions(X, test: np.ndarray, periods: int) -> np.ndarray:
    """Positions of the rows of the ``periods`` dates before each run of consecutive
    test dates (rows without dates: each row its own date), test rows excluded."""
    dates = dates_of(X)
    if dates is None:
        dates = np.arange(len(X))
    distinct, codes = np.unique(dates, return_inverse=True)
    in_test = np.zeros(len(distinct), dtype=bool)
    in_test[codes[test]] = True
    # the first date of each run of test dates, and the dates just before it
    starts = np.flatnonzero(in_test & ~np.r_[False, in_test[:-1]])
    wanted = np.zeros(len(distinct), dtype=bool)
    for start in starts:
        wanted[max(start - periods, 0) : start] = True
    return np.flatnonzero(wanted[codes] & ~in_test[codes])


def _with_history(scorer, X, test: np.ndarray, periods: int):
    """``scorer`` for a model that reads ``periods`` earlier dates (a sequence net's
    window, a change-point or regime filter): the rows it scores are predicted after
    the feature rows of the dates before them, as the walk-forward engine does, and
    their own predictions alone are scored. Given the test rows alone, the first
    dates of each fold were zero-padded windows or a filter started afresh."""
    if periods <= 0:
        return scorer
    # none before a fold at the data's start: its first dates have no history in an
    # unbroken series either
    history = _history_positions(X, test, periods)
    order = np.argsort(np.concatenate([history, test]), kind="stable")
    at = np.empty_like(order)
    at[order] = np.arange(len(order))
    X_history = take_rows(X, history)

    def score(model, X_test, y_test, **kwargs):
        return scorer(
            _AfterHistory(model, X_history, order, at[len(history) :]), X_test, y_test, **kwargs
        )

    return score


class _AfterHistory:
    """A fitted model that predicts rows after the given history rows (its own need
    for history met: ``history_periods_`` is 0, so a trading scorer does not warn)."""

    history_periods_ = 0

    def __init__(self, model, X_history, order, test_at):
        self.model = model
        self._X_history = X_history
        self._order = order
        self._test_at = test_at

    @property
    def classes_(self):
        return self.model.classes_

    def __sklearn_tags__(self):
        return get_tags(self.model)

    def _rows(self, X_test):
        if not hasattr(self._X_history, "iloc"):
            return np.concatenate([self._X_history, np.asarray(X_test)])[self._order]
        if not hasattr(X_test, "iloc"):
            X_test = pd.DataFrame(X_test, columns=self._X_history.columns)
        rows = pd.concat([self._X_history, X_test]) if len(self._X_history) else X_test
        return rows.iloc[self._order]

    def _after(self, method, X_test):
        return np.asarray(getattr(self.model, method)(self._rows(X_test)))[self._test_at]

    def predict(self, X):
        return self._after("predict", X)

    @available_if(lambda self: hasattr(self.model, "predict_proba"))
    def predict_proba(self, X):
        return self._after("predict_proba", X)

    # a scikit-learn scorer such as roc_auc tries decision_function first
    @available_if(lambda self: hasattr(self.model, "decision_function"))
    def decision_function(self, X):
        return self._after("decision_function", X)
