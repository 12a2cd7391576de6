"""The walk-forward engine: refit a model per fold, trade its out-of-sample predictions."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from numbers import Number
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier

from skquant.config import VARIANT_ENV
from skquant.leakage import default_target, plan_labels
from skquant.metrics import canonical_metric, predict_positions
from skquant.model_selection import WalkForwardSplit
from skquant.utils._embargo import embargo_at_least
from skquant.utils._history import history_periods
from skquant.utils._panel import check_panel_clock
from skquant.utils._portfolio import one_sided, one_value
from skquant.utils._target import LABELS_ATTR, choose_task
from skquant.utils._time import date_columns, dates_of, periods_per_year_of
from skquant.utils._variant import variant_env
from skquant.utils._warnings import caller_stacklevel
from skquant.walkforward._portfolio import (
    Backtest,
    check_enough_symbols,
    check_portfolio,
    evaluate,
)
from skquant.walkforward._result import WalkForwardResult

_log = logging.getLogger(__name__)

DEFAULT_METRICS = ("sharpe", "max_drawdown", "hit_rate", "profit_factor", "win_loss_ratio")
# the window shortcuts and their defaults: with cv= each must stay at its default
_WINDOW_DEFAULTS = {
    "train_days": 252,
    "test_days": 63,
    "step_days": 21,
    "min_train_samples": 1000,
    "embargo_days": "auto",
    "expanding": False,
}


def _same(value, default) -> bool:
    """Whether a window parameter is still its default (``1 == True`` does not count)."""
    return isinstance(value, bool) == isinstance(default, bool) and value == default


def _history_rows(model, dates: np.ndarray) -> int:
    """How many rows before the test window the fitted model needs as history.

    A model whose output for row t depends on the rows before it needs them to give
    the test window's first dates what they would get in an unbroken series: a
    sequence model (``seq_len`` in its resolved ``config_``) predicts row t from the
    ``seq_len - 1`` dates before it, and a causal feature model declares its own need
    (``history_periods_``: a change-point detector started afresh read every test
    window's first rows as a change, ``cp_prob`` 1; a regime filter had no trailing
    volatility there). The test frame starts that many dates earlier (past feature
    rows of the training and embargo windows, never a label); their predictions are
    dropped. Other models need none.
    """
    periods = history_periods(model)
    if periods <= 0 or len(dates) == 0:
        return 0
    distinct = np.unique(dates)
    first = distinct[max(len(distinct) - periods, 0)]
    return len(dates) - int(np.searchsorted(dates, first, side="left"))


def _fit_predict_fold(
    estimator,
    features,
    X_fold,
    y_train,
    index_fold,
    dates_fold,
    n_train,
    test_at,
    *,
    keep_model=False,
    variant=None,
    target=None,
):
    """Fit a clone of ``estimator`` on one fold's training rows and predict its test rows.

    ``X_fold``, ``index_fold`` and ``dates_fold`` hold the fold's rows from the start
    of its training window to the end of its test window (views, not copies): rows
    ``[:n_train]`` train, rows ``[test_at:]`` are tested, the rows between are the
    embargo. The frames keep the data's own index (a (date, symbol) panel stays one),
    so a trainer cuts its early-stopping tail from the latest dates of this fold's
    training window, and a sequence model's windows never cross symbols.

    ``variant`` is the run's ``MODEL_VARIANT`` (None: unset), which a trainer without a
    config reads at fit: a reused worker process keeps the environment it started with.

    ``target`` is ``(name, attrs, short)``: the training labels are fitted as a Series
    of that name whose ``attrs`` record the horizon the engine resolved (make_labels'
    metadata form), so that a model which reads its target's horizon (a cascade's
    ``embargo_days``, a trainer's check of its own) gets the engine's rather than
    estimating one from a fold of an unnamed array; None fits the array. ``short``:
    the engine's embargo is below that horizon - 1 and the engine said so once; the
    model's warnings that its inner embargo (the engine's) is short are not repeated
    for every fold.

    Returns ``(score, position, label, info, fit_seconds, model)``, ``model`` the
    fitted clone with ``keep_model`` (the last fold's: ``last_model_``), else None.
    """
    X_train, index_train = X_fold[:n_train], index_fold[:n_train]
    if y_train.dtype.kind == "f" and np.isnan(y_train).any():
        keep = ~np.isnan(y_train)  # rows whose label is not known yet cannot train
        X_train, y_train, index_train = X_train[keep], y_train[keep], index_train[keep]
    model = clone(estimator)
    frame = pd.DataFrame(X_train, index=index_train, columns=features, copy=False)
    y_fit = y_train
    if target is not None:
        y_fit = pd.Series(y_train, index=index_train, name=target[0], copy=False)
        y_fit.attrs = copy.deepcopy(target[1])
    # catch_warnings swaps the process's filters: in a thread of a threaded backend it
    # would race the others' (and could leave their filters behind for good), so the
    # repeats are filtered in a process's main thread only (the default loky workers)
    quiet = (
        target is not None and target[2] and threading.current_thread() is threading.main_thread()
    )
    with variant_env(variant), warnings.catch_warnings() if quiet else contextlib.nullcontext():
        if quiet:
            for said in (
                r"embargo_days=\d+ is below the label horizon",
                r".* holds out .*, but the target .* spans",
            ):
                warnings.filterwarnings("ignore", said, UserWarning)
        started = time.perf_counter()
        model.fit(frame, y_fit)
        fit_seconds = time.perf_counter() - started
        start = test_at - _history_rows(model, dates_fold[:test_at])
        test = pd.DataFrame(X_fold[start:], index=index_fold[start:], columns=features, copy=False)
        score, position = predict_positions(model, test)
        label = model.predict(test) if is_classifier(model) else None
    skip = test_at - start
    if skip:
        score, position = score[skip:], position[skip:]
        label = None if label is None else label[skip:]
    info = {"n_train_used": len(y_train)}
    best = getattr(model, "best_iteration_", None)
    if best is not None:
        info["best_iteration"] = best
    return score, position, label, info, fit_seconds, _portable(model) if keep_model else None


def constant_folds(scores: list[np.ndarray], n_dates: list[int]) -> tuple[list[int], int]:
    """``(folds, counted)``: the folds whose model predicted one value (``scores``, a
    classifier's probability rather than its label) for every test row, among the
    ``counted`` folds of at least two test dates (``n_dates``). A fold of one test date
    is left out: a model of market-wide features gives every symbol of a date one score
    and still times the market from date to date. The walk-forward run warns about
    these folds, and a tuning study records them for its best trial."""
    counted = [k for k, dates in enumerate(n_dates) if dates >= 2]
    return [k for k in counted if one_value(scores[k])], len(counted)


def one_sided_folds(
    scores: list[np.ndarray], positions: list[np.ndarray], n_dates: list[int], portfolio: str
) -> list[int]:
    """The folds of two test dates or more, not among the :func:`constant_folds`, whose
    model took the same side (long, or short under ``"sign"``) on every test row: under
    the rules that trade the sign of a position (``"sign"``, ``"long_only"``) their P&L
    is the market's. The walk-forward run warns when they are half the folds or more,
    and a tuning study records them for its best trial."""
    constant, _ = constant_folds(scores, n_dates)
    return [
        k
        for k, (position, dates) in enumerate(zip(positions, n_dates, strict=True))
        if dates >= 2 and k not in constant and len(position) > 1 and one_sided(position, portfolio)
    ]


def _holds_nothing(position: np.ndarray, portfolio: str) -> bool:
    """Whether a fold's ``position`` (one value on every row) takes no position: 0 (a
    prediction of 0, a probability of exactly 0.5), or short under ``"long_only"``."""
    position = np.asarray(position, dtype=float)
    side = position[np.isfinite(position)]
    return not (side > 0).any() if portfolio == "long_only" else not side.any()


def _warn_constant_folds(
    scores: list[np.ndarray], positions: list[np.ndarray], n_dates: list[int], portfolio: str
) -> None:
    """Warn about the :func:`constant_folds`, or (for the rules that trade the sign of a
    position) when at least half the folds' models took the same side on every test
    row: such a fold's P&L is the market's, long or short, not the model's skill
    (audit: an XGBoost variant that never split printed Sharpe 1.24 for shorting the
    market). A fold of one test date is left alone here too."""

    def listed(folds: list[int]) -> str:
        more = ", ..." if len(folds) > 10 else ""
        return f"{len(folds)} of {len(scores)} folds (folds {folds[:10]}{more})"

    constant, _ = constant_folds(scores, n_dates)
    one_side = one_sided_folds(scores, positions, n_dates, portfolio)
    if constant:
        held = {"rank": "holds nothing", "quantile": "holds nothing"}.get(portfolio)
        if held is None:  # "sign", "long_only": the side of the constant decides
            flat = [k for k in constant if _holds_nothing(positions[k], portfolio)]
            market = "holds every symbol on one side (the market, long or short)"
            if len(flat) == len(constant):  # a constant 0, or a short call long-only
                held = "holds no position (a flat book, a Sharpe ratio of 0)"
            elif flat:
                held = f"{market}, or no position (folds {flat[:10]}),"
            else:
                held = market
        warnings.warn(
            f"the model predicted one constant value for every test row in "
            f"{listed(constant)}: it learned nothing there, so the portfolio {portfolio!r} "
            f"{held} on those folds' dates, and their Sharpe ratio says nothing of the "
            "model. Check the config (a split floor such as gamma or min_split_gain above "
            "what the target's scale reaches, early stopping at the first round) and the "
            "features.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    # a few such folds are a model's view of the market; most of them make the whole
    # run's Sharpe the market's (the demo job: 6 of 72 folds, summary 0.40 against the
    # benchmark's 0.30, is the model's)
    if 2 * len(one_side) >= len(scores) and portfolio in ("sign", "long_only"):
        warnings.warn(
            f"the model took the same side (long, or short) on every test row in "
            f"{listed(one_side)}: under portfolio {portfolio!r} those folds held every "
            "symbol they could, so their P&L, most of the run's, is the market's (compare "
            "benchmark_sharpe), not the model's ranking; portfolio='rank' trades the "
            "ranking alone.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


# A fold cut short by the end of the data to fewer test dates than this (and than half
# of test_days) is warned about: a Sharpe ratio of n periods has a standard error of
# about sqrt(252 / n) annualised, 5 at 10 daily periods.
_FEW_TEST_DATES = 10


def _warn_short_folds(n_dates: list[int], test_days: int) -> None:
    """Warn when the end of the data cut a fold to a few test dates: its row of the
    fold table is annualised from them (audit: 2 dates read Sharpe -83, annual return
    -88%)."""
    for k, dates in enumerate(n_dates):
        if dates < _FEW_TEST_DATES and 2 * dates < test_days:
            warnings.warn(
                f"fold {k} tests only {dates} of test_days={test_days} dates (the data end "
                "there): its row of the fold table (Sharpe, annual return, drawdown) is "
                "annualised from that few periods and says little; the summary pools "
                "every fold's returns.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )


def _portable(model):
    """``model`` if it pickles (it travels back from a worker process and into its
    fold's checkpoint), else None with a warning: ``last_model_`` is then None."""
    try:  # the pickler joblib's workers send results back with: loky's choice
        import cloudpickle as pickler
    except ImportError:
        import pickle as pickler
    try:
        pickler.dumps(model)
    except Exception as exc:  # any pickling error: a lock, a lambda, an open file
        warnings.warn(
            f"The last fold's model does not pickle ({type(exc).__name__}: {exc}); "
            "last_model_ is None.",
            UserWarning,
            stacklevel=2,
        )
        return None
    return model


def _in_fold_order(n_folds: int, fitted, loaded: dict, checkpoints, keys):
    """Every fold's output in fold order: those ``loaded`` from checkpoints, the others
    from ``fitted`` (the fits of the rest, in order), each saved as it arrives."""
    fitted = iter(fitted)
    for k in range(n_folds):
        if k in loaded:
            yield loaded[k]
            continue
        output = next(fitted)
        if checkpoints is not None:
            checkpoints.save(keys[k], output)
        yield output


def _check_target(y, target) -> None:
    """Refuse a target without one known label."""
    if y.dtype.kind == "f" and np.isnan(y).all():
        raise ValueError(f"target {target!r} holds no values (all NaN): nothing to train on.")


def _check_returns(returns, return_col) -> None:
    """Refuse a return column with no value, an infinite one, one below -1 or a median
    size above 0.5 (a price, percent units)."""
    known = returns[~np.isnan(returns)]
    if not len(known):
        raise ValueError(f"return_col {return_col!r} holds no values (all NaN): no P&L to book.")
    if np.isinf(known).any():
        raise ValueError(
            f"return_col {return_col!r} holds {int(np.isinf(known).sum())} infinite values; "
            "a one-period return is finite."
        )
    typical = float(np.median(np.abs(known)))
    if typical > 0.5:
        raise ValueError(
            f"return_col {return_col!r} is not a one-period return: its median size is "
            f"{typical:g} (a price, or percent?). Returns are fractions (0.01 for 1%)."
        )
    if known.min() < -1:
        raise ValueError(
            f"return_col {return_col!r} holds values below -1 (the lowest {known.min():g}): "
            "an asset cannot lose more than everything in one period. Returns are "
            "simple fractions (0.01 for 1%): divide percent by 100, and turn log returns "
            "into simple ones with numpy.expm1."
        )


def _symbol_codes(index) -> np.ndarray:
    """Each row's symbol as an int code: its non-date index levels (0 without any)."""
    if not isinstance(index, pd.MultiIndex):
        return np.zeros(len(index), dtype=np.intp)
    others = [
        level
        for level in range(index.nlevels)
        if not isinstance(index.get_level_values(level), pd.DatetimeIndex)
    ]
    codes = [pd.factorize(index.get_level_values(level))[0] for level in others]
    if len(codes) == 1:
        return codes[0]
    return np.unique(np.column_stack(codes), axis=0, return_inverse=True)[1].reshape(-1)


def _date_major_order(index, dates) -> np.ndarray | None:
    """Row order sorting by date then the other index levels; None if already sorted."""
    keys = []
    if isinstance(index, pd.MultiIndex):
        for level in reversed(range(index.nlevels)):
            values = index.get_level_values(level)
            if not isinstance(values, pd.DatetimeIndex):
                keys.append(pd.factorize(values, sort=True)[0])
    keys.append(pd.factorize(dates, sort=True)[0])
    order = np.lexsort(keys)
    return None if np.array_equal(order, np.arange(len(order))) else order


def _no_dates_message(data: pd.DataFrame) -> str:
    """Why ``data`` has no dates to cut folds by: its index levels and their dtypes,
    and the ``set_index`` call that makes a date-like column the date level."""
    index = data.index
    levels = ", ".join(
        f"{'unnamed' if name is None else repr(name)} ({index.get_level_values(i).dtype})"
        for i, name in enumerate(index.names)
    )
    message = (
        "data needs a DatetimeIndex or a MultiIndex with a datetime level (date, symbol) "
        f"to place the folds; its {type(index).__name__} has level(s) {levels}, none of "
        "datetime64 values."
    )
    columns = date_columns(data)
    if columns:
        column = columns[0]
        if all(name is None for name in index.names):  # a RangeIndex: the rows' own index
            keys = [column, "symbol"] if "symbol" in data.columns else column
            call = f"data.set_index({keys!r})"
        else:
            call = f"data.set_index({column!r}, append=True)"
        convert = (
            ""
            if pd.api.types.is_datetime64_any_dtype(data[column])
            else f" after data[{column!r}] = pd.to_datetime(data[{column!r}])"
        )
        message += f" Its column {column!r} holds the dates: {call}{convert}."
    return message


class WalkForwardEngine:
    """Walk-forward validation of a model over a labeled (panel of) time series.

    The data's distinct dates are cut into folds exactly as
    :class:`~skquant.model_selection.WalkForwardSplit` does. For each fold a fresh
    model is fitted on the training window (its early-stopping tail, if any, is the
    latest dates of that window) and predicts the test window; predictions become
    positions, portfolio weights and returns net of costs. Folds run in parallel
    through joblib.

    Parameters
    ----------
    data : DataFrame
        Features, target and returns, indexed by a ``DatetimeIndex`` or a
        ``MultiIndex`` with a datetime level (a (date, symbol) panel). Rows may
        come in any order (they are sorted by date, then symbol); duplicate index entries are
        rejected.
    target : str, default=None
        Column to fit. Rows where it is NaN (labels without future prices) are
        left out of training. None means the data's one-period forward return: the
        column :func:`skquant.make_labels` metadata marks, else ``fwd_ret``.
    return_col : str, default=None
        The one-period return a position earns (``fwd_ret``). None uses the target
        only when it spans one period; a multi-period or binary target raises a
        ``ValueError`` naming ``return_col``: compounding a 5-day return as if it
        were daily inflates every number. A fraction (0.01 for 1%): a column with
        no value, an infinite value, a value below -1 or a median size above 0.5
        (prices, percent) raises ``ValueError``.
    features : list of str, default=None
        Feature columns. ``None`` takes every numeric column except ``target``,
        ``return_col`` and label-like names (``y_*``, ``fwd_*``, ``target_*``,
        ``TTH``, ``MDD``, ``MFE``), and leaves out, with a ``LeakageWarning``, every
        column the leak guard flags (:func:`skquant.leakage.select_features`).
        Explicit features that leak raise ``ValueError`` unless ``leak_threshold``
        is None.
    train_days, test_days, step_days, min_train_samples : int
        Fold placement in distinct dates, as in ``WalkForwardSplit`` (defaults 252,
        63, 21, 1000): shortcuts for ``cv``.
    embargo_days : int or "auto", default="auto"
        Dates dropped between training and test. ``"auto"`` is the target's label
        horizon (:func:`skquant.leakage.label_horizon`: make_labels metadata, the
        column's name, or its autocorrelation); an explicit value below horizon - 1
        warns. A model run by name, or a copy of an ``estimator=`` (its Pipeline
        steps included), embargoes its own inner splits (early-stopping tail,
        out-of-fold blocks, and those of the bases it builds) by at least as much
        (a :class:`~skquant.CascadeStrategy`'s ``"auto"`` is the engine's embargo).
        Each fold's model is fitted on the target as a Series of its name whose
        ``attrs`` record the horizon the engine resolved.
    expanding : bool, default=False
        Anchor every training window at the first date.
    periods_per_year : float, default=None
        Annualisation of the metrics; None infers it from the spacing of the dates
        (252 daily, 52 weekly, 12 monthly). A value more than 1.5 times above or
        below that warns once, when the data are read (252 for weekly data inflates
        every annualised figure, the Sharpe ratio 2.2x); 252, 260 and 365 for daily
        data do not.
    leak_threshold : float or None, default=0.2
        Leak score above which a column counts as a leak (see ``features``); None
        switches the guard off.
    min_test_date : date-like, default=None
        Folds whose test window starts before this date are skipped: the first date
        a feature model (``skquant build-features``) never saw, so features are
        never tested in-sample.
    portfolio : {"sign", "long_only", "rank", "quantile"}, default="sign"
        Weights per date from that date's predictions: ``"sign"`` position / number
        of symbols; ``"long_only"`` 1 for a positive call (probability above 0.5)
        else 0, over the number of symbols; ``"rank"`` rank - mean rank, scaled so
        the absolute weights sum to 1 (dollar neutral); ``"quantile"`` the top
        ``quantile`` share long and the bottom share short, equal weights, each leg
        0.5. A date with too few symbols for the rule holds nothing. A row whose
        return is unknown (NaN) does not count, and weighs 0 unless it is a halt
        (carried at its last weight: see ``cost_bps``).
    quantile : float, default=0.2
        Share of the date's symbols in each leg of ``"quantile"``, in (0, 0.5].
    cost_bps : float, default=0.0
        Cost per unit of turnover in basis points: a date's cost is
        ``turnover * cost_bps / 10_000``, with turnover the sum over symbols of
        |weight - the symbol's last weight in the book| (the first date trades from
        0, a refit trades only the change). A symbol without a row on a date has left
        the universe there: it is sold, and bought back if it returns. A symbol whose
        row is there without a return between dates with one (a halt) is
        carried, not sold and bought back: it keeps its last weight and earns 0, the
        date's other weights are scaled by 1 - the carried |weights| so that the
        gross exposure stays a full book's, and a warning counts those symbol-dates
        (the fold books carry it too). The book is marked, not sold, after
        the last date: that exit is not charged (each fold's own book, in
        ``result.folds``, is bought from flat and likewise not sold). Every return
        metric is on net = gross - cost.
    cv : WalkForwardSplit, default=None
        The splitter that places the folds (:meth:`WalkForwardSplit.fold_dates`);
        its ``embargo_days`` is the embargo, checked against the label horizon as an
        explicit ``embargo_days`` is. None builds one from the window shortcuts
        (``train_days`` ... ``expanding``); passing ``cv`` with any of them away
        from its default raises ``ValueError`` naming them.
    n_jobs : int, default=None
        Folds fitted in parallel (joblib semantics: None is 1 unless inside a
        ``joblib.parallel_config`` context, -1 all cores). Results are identical
        for any value and backend. Give the model one thread (``n_jobs=1`` in a
        LightGBM config) when folds run in parallel.
    verbose : bool, default=False
        Show a progress bar over folds (tqdm).

    Attributes
    ----------
    target_ : str
        The target column (resolved when ``target=None``).
    return_col_ : str
        The one-period return column positions earn.
    label_horizon_ : int
        Periods the target looks ahead.
    label_horizon_source_ : str
        How the horizon was found: ``"metadata"``, ``"name"`` or ``"autocorrelation"``.
    embargo_days_ : int
        The embargo applied (``"auto"`` resolved).
    periods_per_year_ : float
        The annualisation applied.
    features_ : list of str
        The feature columns used.
    cv_ : WalkForwardSplit
        The splitter that placed the folds (a copy of ``cv``, or built from the
        shortcuts with ``embargo_days_``).
    n_folds_skipped_ : int
        Folds left out because they test before ``min_test_date``.
    folds_ : list of tuple
        ``(train_start, train_stop, test_start, test_stop)`` row ranges into the
        date-sorted data, one per fold.
    last_model_ : estimator
        After :meth:`run`: the model fitted on the last fold's training window, the
        most recent one (loaded with its fold from ``checkpoint_dir`` when that was).

    See Also
    --------
    WalkForwardSplit : the same folds as a scikit-learn CV splitter.
    WalkForwardResult : what :meth:`run` returns.

    Examples
    --------
    >>> from skquant import WalkForwardEngine, load_model_config, make_synthetic_panel
    >>> panel = make_synthetic_panel(n_symbols=4, n_days=300, random_state=0)
    >>> engine = WalkForwardEngine(panel, target="fwd_ret", train_days=100,
    ...                            test_days=50, step_days=50, min_train_samples=200)
    >>> result = engine.run("lightgbm", load_model_config(
    ...     "lightgbm", overrides={"n_estimators": 20, "n_jobs": 1}))
    >>> len(result.folds)
    4
    >>> sorted(result.summary)  # doctest: +NORMALIZE_WHITESPACE
    ['benchmark_sharpe', 'hit_rate', 'ic', 'icir', 'max_drawdown', 'profit_factor', 'psr',
     'sharpe', 'turnover', 'win_loss_ratio']
    >>> result.evaluate(cost_bps=5).summary["turnover"] == result.summary["turnover"]
    True
    """

    def __init__(
        self,
        data,
        *,
        target=None,
        return_col=None,
        features=None,
        train_days=252,
        test_days=63,
        step_days=21,
        min_train_samples=1000,
        embargo_days="auto",
        expanding=False,
        periods_per_year=None,
        leak_threshold=0.2,
        min_test_date=None,
        portfolio="sign",
        quantile=0.2,
        cost_bps=0.0,
        cv=None,
        n_jobs=None,
        verbose=False,
    ):
        self.data = data
        self.target = target
        self.return_col = return_col
        self.features = features
        self.train_days = train_days
        self.test_days = test_days
        self.step_days = step_days
        self.min_train_samples = min_train_samples
        self.embargo_days = embargo_days
        self.expanding = expanding
        self.periods_per_year = periods_per_year
        self.leak_threshold = leak_threshold
        self.min_test_date = min_test_date
        self.portfolio = portfolio
        self.quantile = quantile
        self.cost_bps = cost_bps
        self.cv = cv
        self.n_jobs = n_jobs
        self.verbose = verbose
        self._prepare()

    # ------------------------------------------------------------------ data
    def _splitter(self) -> WalkForwardSplit | None:
        """A copy of ``cv``, or None when the window shortcuts place the folds.

        Raises
        ------
        ValueError
            If ``cv`` is not a ``WalkForwardSplit``, or comes with a window shortcut
            set away from its default.
        """
        if self.cv is None:
            return None
        if not isinstance(self.cv, WalkForwardSplit):
            raise ValueError(
                f"cv must be a WalkForwardSplit (or None), got {type(self.cv).__name__}."
            )
        both = [
            name
            for name, default in _WINDOW_DEFAULTS.items()
            if not _same(getattr(self, name), default)
        ]
        if both:
            raise ValueError(
                f"Pass the fold windows either as cv= or as {', '.join(both)}, not both: "
                "set them on the WalkForwardSplit."
            )
        return copy.deepcopy(self.cv)

    def _prepare(self) -> None:
        data = self.data
        if not isinstance(data, pd.DataFrame):
            raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
        dates = dates_of(data)
        if dates is None:
            raise ValueError(_no_dates_message(data))
        if pd.isna(dates).any():
            raise ValueError(f"data's dates hold {int(pd.isna(dates).sum())} NaT values.")
        n_dup = int(data.index.duplicated().sum())
        if n_dup:
            raise ValueError(
                f"data has {n_dup} duplicate (date, symbol) rows (repeated index entries); "
                "keep one row per date and symbol."
            )
        check_panel_clock(data.index, warn_sparse=not self._span_recorded(data))
        features = self.features
        if features is not None and not isinstance(features, str):
            features = list(features)  # read once: an iterator is used up
        check_portfolio(self.portfolio, self.quantile, self.cost_bps)
        cv = self._splitter()
        named = self.return_col
        if (
            isinstance(named, str)
            and int((data.columns == named).sum()) == 1  # a repeat: plan_labels refuses it
            and pd.api.types.is_numeric_dtype(data[named])
        ):  # refused before its horizon is read from a price's or percent's autocorrelation
            _check_returns(data[named].to_numpy(dtype=np.float64), named)
        plan = plan_labels(
            data,
            self.target,
            self.return_col,
            features,
            embargo_days=self.embargo_days if cv is None else cv.embargo_days,
            leak_threshold=self.leak_threshold,
        )
        target, return_col = plan.target, plan.return_col
        self.target_, self.return_col_ = target, return_col
        self.label_horizon_, self.label_horizon_source_ = plan.horizon
        self.embargo_days_ = plan.embargo_days
        self.features_ = plan.features
        chosen = pd.Index(self.features_)
        if chosen.duplicated().any():
            twice = chosen[chosen.duplicated()].unique()
            raise ValueError(f"features names {', '.join(map(repr, twice))} more than once.")
        empty = [col for col in self.features_ if data[col].isna().all()]
        if empty:
            warnings.warn(
                f"features {', '.join(map(repr, empty))} hold no values (all NaN): no fold "
                "can learn from them.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        self.periods_per_year_ = periods_per_year_of(self.periods_per_year, dates)

        # Sort by date, then by the other index levels (symbol), once; folds are then
        # contiguous row ranges, each fold gets views rather than copies, and the
        # result does not depend on the input's row order.
        order = _date_major_order(data.index, dates)

        def column_values(col, dtype=None):
            values = data[col].to_numpy(dtype=dtype)
            return values if order is None else values[order]

        # the features are read into one array when a run starts (_features), so that
        # the engine does not hold a second copy of the data between runs
        self._order = order
        self._y = column_values(target)
        self._returns = column_values(return_col, np.float64)
        _check_target(self._y, target)
        if self.return_col is None:  # the target booked as P&L; a named one is checked above
            _check_returns(self._returns, return_col)
        self._dates = dates if order is None else dates[order]
        self._index = data.index if order is None else data.index[order]
        self._return_col = return_col

        distinct, counts = np.unique(self._dates, return_counts=True)
        self._date_codes = np.repeat(np.arange(len(counts)), counts)
        if len(counts):  # before any fold is fitted
            check_enough_symbols(int(counts.max()), self.portfolio, self.quantile, "data has")
        if cv is None:
            cv = WalkForwardSplit(
                train_days=self.train_days,
                test_days=self.test_days,
                step_days=self.step_days,
                min_train_samples=self.min_train_samples,
                embargo_days=self.embargo_days_,
                expanding=self.expanding,
            )
        self.cv_ = cv
        folds = cv.fold_dates(counts)
        if cv.step_days > cv.test_days and len(folds) > 1:
            skipped = (len(folds) - 1) * (cv.step_days - cv.test_days)
            warnings.warn(
                f"step_days={cv.step_days} > test_days={cv.test_days}: {skipped} dates "
                "between the test windows are never tested, and the summary's "
                "annualised metrics and turnover join the windows as if they were "
                "contiguous (the book is not held across a gap). Use step_days <= "
                "test_days to test every date.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        self.n_folds_skipped_ = 0
        if self.min_test_date is not None:
            calendar = pd.DatetimeIndex(distinct)
            try:
                if isinstance(self.min_test_date, (Number, np.number)):
                    raise TypeError("a number is not a date")  # Timestamp(2015): 1970 + 2015 ns
                first = pd.Timestamp(self.min_test_date)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"min_test_date must be a date, got {self.min_test_date!r}."
                ) from exc
            if pd.isna(first):
                raise ValueError(f"min_test_date must be a date, got {self.min_test_date!r}.")
            if (first.tz is None) != (calendar.tz is None):  # compare on the data's clock
                first = (
                    first.tz_localize(calendar.tz) if first.tz is None else first.tz_localize(None)
                )
            kept = [f for f in folds if calendar[f.test_start] >= first]
            if not kept:
                raise ValueError(
                    f"No fold tests on or after min_test_date={first:%Y-%m-%d} (the data ends "
                    f"{calendar[-1]:%Y-%m-%d})."
                )
            self.n_folds_skipped_ = len(folds) - len(kept)
            folds = kept
        starts = np.concatenate([[0], np.cumsum(counts)])
        self.folds_ = [
            (
                int(starts[f.train_start]),
                int(starts[f.train_stop]),
                int(starts[f.test_start]),
                int(starts[f.test_stop]),
            )
            for f in folds
        ]
        self._distinct_dates = distinct

    def _features(self) -> np.ndarray:
        """The feature columns as one float64 array, rows sorted by date.

        Filled column by column (Fortran order, as ``DataFrame.to_numpy`` lays a frame
        out), so that no copy of the whole frame's features is ever made twice.
        """
        X = np.empty((len(self._dates), len(self.features_)), dtype=np.float64, order="F")
        for j, col in enumerate(self.features_):
            values = self.data[col].to_numpy(dtype=np.float64)
            X[:, j] = values if self._order is None else values[self._order]
        return X

    def _span_recorded(self, data: pd.DataFrame) -> bool:
        """Whether make_labels on this panel recorded how far the target's labels reach
        on a sparse symbol (``spans``) and ``embargo_days="auto"`` covers it: then the
        clock check's sparse-symbol warning is left out. Another label's record (a
        user's own target beside make_labels' columns) does not cover the target."""
        recorded = ((getattr(data, "attrs", None) or {}).get(LABELS_ATTR) or {}).get("spans")
        if not recorded:
            return False
        cv = self.cv
        embargo = cv.embargo_days if isinstance(cv, WalkForwardSplit) else self.embargo_days
        if not isinstance(embargo, str):
            return False  # an embargo given in dates is not widened to the span
        target = self.target
        if target is None:
            try:
                target = default_target(data)
            except ValueError:
                return False  # plan_labels refuses it, with its message
        return isinstance(target, str) and target in recorded

    def _target_attrs(self) -> dict:
        """The fitted target's ``attrs``: the horizon the engine resolved (and the span
        make_labels recorded), in make_labels' metadata form."""
        target = self.target_
        labels = {"horizons": {target: int(self.label_horizon_)}}
        recorded = ((getattr(self.data, "attrs", None) or {}).get(LABELS_ATTR) or {}).get("spans")
        if recorded and target in recorded:
            labels["spans"] = {target: int(recorded[target])}
        return {LABELS_ATTR: labels}

    # ------------------------------------------------------------------ run
    def _estimator(self, model_name, config, estimator):
        if (model_name is None) == (estimator is None):
            raise ValueError(
                "Pass either model_name (a registry name) or estimator=, not both or neither."
            )
        if config is not None and not isinstance(config, Mapping):
            raise ValueError(
                f"config must be a dict of the model's settings, got {type(config).__name__} "
                f"{config!r}; for a variant: load_model_config(model_name, variant=...)."
            )
        if estimator is not None:
            if config is not None:
                raise ValueError(
                    "config goes with model_name; set an estimator's parameters on it directly."
                )
            if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
                raise ValueError(
                    f"estimator must have fit and predict, got {type(estimator).__name__}."
                )
            # a copy (the caller's estimator is left as it is) whose skquant trainers,
            # Pipeline steps included, embargo their own inner splits as the folds do
            return embargo_at_least(clone(estimator), self.embargo_days_)
        from skquant.registry import get_trainer

        trainer = get_trainer(model_name)(config)
        # A binary target (y_will_peak) is fitted as classification where the family
        # can, as the walkforward command and SingleTaskStrategy do: regressed on, its
        # predictions lie in [0, 1] and their sign put every position long. A task the
        # config sets is the user's.
        if "task" in trainer.get_params(deep=False):
            # (only a change is set: a run's fingerprint keeps task=None otherwise)
            if choose_task(trainer, self._y, config) == "classification":
                trainer.set_params(task="classification")
        # The trainer's own inner splits (its early-stopping tail, its out-of-fold
        # blocks) are embargoed at least as long as the folds are.
        return embargo_at_least(trainer, self.embargo_days_)

    def run(
        self,
        model_name: str | None = None,
        config: dict | None = None,
        *,
        estimator: Any = None,
        metrics: Sequence[str] = DEFAULT_METRICS,
        on_fold: Callable[[int, dict], None] | None = None,
        checkpoint_dir=None,
    ) -> WalkForwardResult:
        """Fit one model per fold and evaluate its out-of-sample trading.

        Parameters
        ----------
        model_name : str, default=None
            Registry name of a trainer (``"lightgbm"``); built as
            ``get_trainer(model_name)(config)``, fitted as a classifier on a binary
            target (``y_will_peak``: positions by its probability above or below
            0.5) where the family can, unless ``config`` sets ``task``.
        config : dict, default=None
            The trainer's config, e.g. ``load_model_config("lightgbm", variant=...)``.
        estimator : estimator, default=None
            Any scikit-learn regressor or binary classifier (a Pipeline included),
            instead of ``model_name``; cloned per fold.
        metrics : sequence of str, default=("sharpe", "max_drawdown", "hit_rate", "profit_factor", "win_loss_ratio")
            Metric names as in :func:`skquant.get_scorer`.
        on_fold : callable, default=None
            Called as ``on_fold(k, scores)`` after fold ``k`` is fitted, in fold
            order (folds still run in parallel), with ``scores`` the fold's row of
            ``result.folds`` (each metric on the fold's whole test window, as a
            dict), ``net_returns``, the fold's own net returns by date (an
            array), and ``net_dates``, their dates. An exception it raises stops
            the run and propagates: a tuner's pruner stops a bad trial this way.
        checkpoint_dir : str or path-like, default=None
            A folder where each fold's predictions are written as it finishes
            (``fold-KEY.joblib``, atomically). A run that finds a fold there under
            the same key, a hash of the estimator and its parameters, the configs its
            trainers resolve from their YAML variants (``MODEL_VARIANT``), the
            features, the fold's own rows (features, labels, index, dates), its
            windows and the installed versions of skquant and the libraries, loads it
            instead of refitting: a crashed run resumes, and the same run with another
            ``portfolio`` or ``cost_bps`` refits nothing. Anything else changed
            refits. Functions and classes enter the key by name, not by code: after
            editing an estimator class of your own, use another folder. A fold that
            cannot be hashed (a lambda in the estimator) or saved is fitted with a
            warning. None (the default) writes nothing.

        Returns
        -------
        result : WalkForwardResult
            Per-fold table, summary and out-of-sample predictions.
        """
        if isinstance(metrics, str):
            metrics = [metrics]
        metrics = [canonical_metric(m) for m in metrics]
        if not metrics:
            raise ValueError("metrics is empty; name at least one metric.")
        estimator = self._estimator(model_name, config, estimator)
        self.last_model_ = None  # a run that stops early leaves none, not an earlier run's

        X, y, dates, index, feats = (
            self._features(),
            self._y,
            self._dates,
            self._index,
            self.features_,
        )
        fold_args = [
            (estimator, feats, X[a:d], y[a:b], index[a:d], dates[a:d], b - a, c - a)
            for a, b, c, d in self.folds_
        ]
        checkpoints, keys, loaded = None, [], {}
        variant = os.environ.get(VARIANT_ENV)  # this run's; a worker may hold an older one
        if checkpoint_dir is not None:
            from skquant.utils._checkpoint import FoldCheckpoints
            from skquant.walkforward._benchmark import package_versions

            context = [package_versions(), variant]
            checkpoints = FoldCheckpoints(checkpoint_dir, estimator, context)
            keys = [checkpoints.key(*args[1:]) for args in fold_args]
            for k, key in enumerate(keys):
                output = checkpoints.load(key)
                # the last fold's file keeps its model (last_model_); one saved as
                # another fold's (the data since cut short) lacks it: refit
                if output is not None and (output[5] is not None or k < len(keys) - 1):
                    loaded[k] = output
            if loaded and self.verbose:
                _log.info(
                    "%d of %d folds loaded from %s (fitted by an earlier run)",
                    len(loaded), len(keys), checkpoints.folder,
                )  # fmt: skip
        todo = [k for k in range(len(fold_args)) if k not in loaded]
        # an embargo below the horizon - 1 was warned about once, when the engine was built
        short = self.embargo_days_ < self.label_horizon_ - 1
        target = (self.target_, self._target_attrs(), short)
        last = len(fold_args) - 1
        jobs = (
            delayed(_fit_predict_fold)(
                *fold_args[k], keep_model=k == last, variant=variant, target=target
            )
            for k in todo
        )
        # one fold per task: fits dominate, and joblib's automatic batching would
        # bundle the last folds into one worker's batch while the other idles; the
        # generator yields the folds in order as they finish
        # (none left: no pool, whose unconsumed generator would warn of cancelled tasks)
        generator = (
            Parallel(n_jobs=self.n_jobs, batch_size=1, return_as="generator")(jobs)
            if todo
            else (output for output in ())
        )
        outputs = _in_fold_order(len(fold_args), generator, loaded, checkpoints, keys)
        if self.verbose:
            from tqdm.auto import tqdm

            outputs = tqdm(outputs, total=len(self.folds_), desc="walk-forward folds", unit="fold")
        done = []
        try:
            for k, output in enumerate(outputs):
                done.append(output)
                if on_fold is not None:
                    # a fold's metrics depend on its own test window only (its portfolio
                    # trades from 0 at its first date), so it is evaluated alone
                    fold = self._evaluate([output], metrics, folds=[self.folds_[k]])
                    net, dates = fold.returns["net"].to_numpy(), fold.returns.index.to_numpy()
                    scores = {**fold.folds.iloc[0].to_dict(), "fold": k}
                    on_fold(k, {**scores, "net_returns": net, "net_dates": dates})
        except BaseException:
            # stopped early (on_fold raised): the folds still running are cancelled on
            # purpose, which joblib would otherwise warn about
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                generator.close()
            raise
        del X, fold_args, jobs, outputs, generator  # the folds are done: free the features
        self.last_model_ = done[-1][5]
        n_dates = [
            int(self._date_codes[d - 1] - self._date_codes[c]) + 1 for *_, c, d in self.folds_
        ]
        _warn_constant_folds([o[0] for o in done], [o[1] for o in done], n_dates, self.portfolio)
        _warn_short_folds(n_dates, self.cv_.test_days)  # cv='s own, not the shortcut's
        backtest = self._backtest(done)
        del done  # the per-fold predictions now live in the backtest's arrays
        return evaluate(backtest, self.portfolio, self.quantile, self.cost_bps, metrics)

    def _evaluate(self, outputs, metrics, folds) -> WalkForwardResult:
        """The result of ``outputs`` alone, the fits of ``folds``."""
        backtest = self._backtest(outputs, folds)
        # a fold alone may hold too few symbols on every date of its own; the whole run
        # is checked (and warned about) once, when it is evaluated
        return evaluate(
            backtest, self.portfolio, self.quantile, self.cost_bps, metrics, check=False
        )

    def _backtest(self, outputs, folds=None) -> Backtest:
        """The predictions of ``outputs``, the fits of ``folds`` (default all ``folds_``),
        stacked with what the portfolio needs of the data."""
        dates = self._dates
        folds = self.folds_ if folds is None else folds
        classifier = outputs[0][2] is not None
        fold_info, rows, served = [], [], []
        for k, ((a, b, c, d), (_, _, _, info, *_)) in enumerate(zip(folds, outputs, strict=True)):
            # each model serves its test dates until the next fold's model takes over
            serve_stop = min(d, folds[k + 1][2]) if k + 1 < len(folds) else d
            rows.append(np.arange(c, d))
            served.append(np.arange(c, d) < serve_stop)
            fold_info.append(
                {
                    "fold": k,
                    "train_start": pd.Timestamp(dates[a]),
                    "train_end": pd.Timestamp(dates[b - 1]),
                    "test_start": pd.Timestamp(dates[c]),
                    "test_end": pd.Timestamp(dates[d - 1]),
                    "n_train": b - a,
                    "n_test": d - c,
                    **info,
                }
            )
        rows = np.concatenate(rows)
        return Backtest(
            rows=rows,
            fold=np.repeat(np.arange(len(outputs)), [len(o[0]) for o in outputs]),
            served=np.concatenate(served),
            score=np.concatenate([o[0] for o in outputs]).astype(np.float64, copy=False),
            position=np.concatenate([o[1] for o in outputs]),
            label=np.concatenate([o[2] for o in outputs]) if classifier else None,
            returns=self._returns,
            target=self._y.astype(np.float64, copy=False),
            dates=dates,
            date_codes=self._date_codes,
            symbols=_symbol_codes(self._index),
            index=self._index,
            fold_info=fold_info,
            periods_per_year=self.periods_per_year_,
            fit_seconds=np.array([o[4] for o in outputs]),
            return_col=self._return_col,
        )
