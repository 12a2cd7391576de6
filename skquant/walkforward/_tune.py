"""Hyper-parameter search with Optuna, each trial a walk-forward evaluation.

Every trial draws the parameters of the model's ``search_space`` (its YAML file),
puts them over the variant's config and runs :class:`WalkForwardEngine`; each fold's
score is reported to Optuna as it finishes, so a pruner stops a bad trial early.
Optuna is imported only when :func:`tune` runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import reprlib
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skquant.config import (
    check_search_space,
    load_model_config,
    load_search_space,
    read_config_file,
    sample_search_space,
    validate_config_keys,
)
from skquant.metrics import canonical_metric, deflated_sharpe_ratio, sharpe_ratio
from skquant.registry import get_trainer
from skquant.utils._io import (
    atomic_write_bytes,
    atomic_write_figure,
    atomic_write_json,
    to_jsonable,
)
from skquant.utils._optional import import_optional
from skquant.utils._text import few_names
from skquant.utils._time import dates_of
from skquant.utils._warnings import caller_stacklevel
from skquant.walkforward._engine import WalkForwardEngine, constant_folds, one_sided_folds

# trial user attributes: the per-period Sharpe ratio and the net returns of a complete
# trial, kept in the study (and its storage) for the deflated Sharpe ratio
_SHARPE_ATTR = "sharpe_per_period"
_RETURNS_ATTR = "net_returns"
_CONSTANT_ATTR = "constant_folds"  # [folds whose model predicted one value, folds counted]
_ONE_SIDED_ATTR = "one_sided_folds"  # other counted folds whose model took one side
# study user attributes: what the study tunes, checked when a stored study is continued
_STUDY_ATTRS = ("model", "metric", "base_config")
# best_config.yaml defines these variants (all the tuned config), so that it loads as
# is whatever variant a caller asks for by default (balanced; aggressive in walkforward)
_BEST_VARIANTS = ("tuned", "conservative", "balanced", "aggressive")


def _base_config(model: str, config, variant) -> tuple[dict, Any]:
    """The config trials start from, and the file (or None) that gave it."""
    get_trainer(model)  # unknown model: ValueError listing the valid ones
    if config is None or isinstance(config, (str, os.PathLike)):
        source = model if config is None else os.fspath(config)
        if config is not None:
            _, where, named = read_config_file(source)
            if named not in (None, model):
                raise ValueError(f"config {where!r} configures {named!r}, not {model!r}.")
        return load_model_config(source, variant=variant), config
    if not isinstance(config, dict):
        raise ValueError(
            f"config must be None, a YAML path or a dict, got {type(config).__name__}."
        )
    if variant is not None:
        raise ValueError("variant goes with a config file (or none), not with a config dict.")
    return validate_config_keys(model, config, "config"), None


def _search_space(model: str, search_space, config_file) -> dict:
    if search_space is not None:
        return check_search_space(search_space, model, "search_space")
    return load_search_space(model if config_file is None else config_file)


def _open_study(optuna, storage, study_name, model, sampler, pruner, attrs):
    """A new study, or the stored one of that name if it tunes the same thing."""
    if storage is not None and study_name is None:
        study_name = f"skquant-{model}"
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            direction="maximize",  # every skquant metric is greater-is-better
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
    except Exception as exc:  # SQLAlchemy's errors for a URL, a path or a file it cannot use
        if storage is None:
            raise
        message = (str(exc).strip().splitlines() or [""])[0]  # not the SQL, nor a link
        raise ValueError(
            f"storage {str(storage)!r} cannot be opened ({type(exc).__name__}: {message}); "
            "give a database URL such as sqlite:///tune.db, in a folder that exists."
        ) from None
    for key, value in attrs.items():
        if key not in study.user_attrs:
            study.set_user_attr(key, value)
        elif _comparable(key, study.user_attrs[key]) != value:
            before = _comparable(key, study.user_attrs[key])
            if isinstance(before, dict) and isinstance(value, dict):
                differ = sorted(k for k in {*before, *value} if before.get(k) != value.get(k))
                detail = "; ".join(
                    f"{k}: {_short(before.get(k))}, now {_short(value.get(k))}" for k in differ
                )
            else:
                detail = f"{_short(before)}, now {_short(value)}"
            raise ValueError(
                f"study_name={study.study_name!r} in {storage} was run with another {key} "
                f"({detail}); its trials' scores are not comparable with this call's. Pass "
                "a new study_name to start a new study."
            )
    return study


_SHORT = reprlib.Repr()  # keyword arguments need Python 3.12
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 3, 4
_SHORT.maxstring = _SHORT.maxother = 80


def _short(value) -> str:
    """``repr`` of a stored study attribute, lists cut to their first items (a long
    history's folds are thousands of characters)."""
    text = _SHORT.repr(value)
    if isinstance(value, list) and len(value) > _SHORT.maxlist:
        text += f" ({len(value)} items)"
    return text


def _evaluation(engine: WalkForwardEngine, portfolio, quantile, cost_bps) -> dict:
    """What a trial's score depends on besides its parameters: the rows, the columns
    read, the folds, the portfolio (with its ``quantile`` when it is ``"quantile"``,
    the one rule that reads it) and the costs (a continued study must match)."""
    used = [engine.target_, engine.return_col_, *engine.features_]
    rows = pd.util.hash_pandas_object(engine.data[list(dict.fromkeys(used))], index=True)
    evaluation = {
        "data_sha256": hashlib.sha256(rows.to_numpy().tobytes()).hexdigest(),
        "target": engine.target_,
        "return_col": engine.return_col_,
        "features": list(engine.features_),
        "embargo_days": int(engine.embargo_days_),
        "folds": [list(fold) for fold in engine.folds_],
        "periods_per_year": float(engine.periods_per_year_),
        "portfolio": portfolio,
        "quantile": float(quantile),
        "cost_bps": float(cost_bps),
    }
    return _comparable("evaluation", evaluation)


def _comparable(key: str, value):
    """A study attribute as this version compares it: an ``evaluation`` whose portfolio
    is not ``"quantile"`` without its ``quantile``, which no other rule reads (studies
    stored before recorded it for every portfolio, and stay comparable)."""
    if key == "evaluation" and isinstance(value, dict) and value.get("portfolio") != "quantile":
        return {k: v for k, v in value.items() if k != "quantile"}
    return value


@contextlib.contextmanager
def _quiet_optuna(optuna):
    """Optuna's own log lines off for the duration: the library is quiet. Its line per
    trial is INFO; a failed trial's is a WARNING with the traceback of an error that
    ``tune`` raises anyway (the command printed both)."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def tune(
    data,
    *,
    model: str,
    n_trials: int | None = 20,
    timeout: float | None = None,
    target: str | None = None,
    return_col: str | None = None,
    features: Sequence[str] | None = None,
    train_days: int = 252,
    test_days: int = 63,
    step_days: int = 21,
    min_train_samples: int = 1000,
    embargo_days: int | str = "auto",
    expanding: bool = False,
    periods_per_year: float | None = None,
    leak_threshold: float | None = 0.2,
    min_test_date=None,
    portfolio: str = "sign",
    quantile: float = 0.2,
    cost_bps: float = 0.0,
    cv=None,
    metric: str = "sharpe",
    storage: str | None = None,
    study_name: str | None = None,
    n_jobs: int | None = None,
    variant: str | None = None,
    config: dict | str | os.PathLike | None = None,
    search_space: dict | None = None,
    sampler=None,
    pruner=None,
    callbacks: Sequence[Callable] | None = None,
    random_state: int | None = 0,
    verbose: bool = False,
):
    """Search a model's hyper-parameters by walk-forward evaluation with Optuna.

    Each trial samples the search space (the ``search_space:`` section of the
    model's YAML file, see :func:`skquant.config.load_search_space`), puts the
    values over the variant's config and runs :meth:`WalkForwardEngine.run` on the
    same folds. Fold ``k``'s ``metric`` (on its whole test window) is reported as
    Optuna's intermediate value at step ``k`` as soon as the fold is fitted, so
    ``pruner`` stops a trial whose first folds trail the other trials'. The trial's
    value is ``metric`` over all out-of-sample periods (``result.summary``).

    Parameters
    ----------
    data : DataFrame
        As :class:`WalkForwardEngine`'s ``data``.
    model : str
        Registry name of the model family.
    n_trials : int or None, default=20
        Trials to run in this call (a continued study grows by as many); None runs
        until ``timeout``.
    timeout : float, default=None
        Seconds after which no new trial starts.
    target, return_col, features, train_days, test_days, step_days, min_train_samples, embargo_days, expanding, periods_per_year, leak_threshold, min_test_date, portfolio, quantile, cost_bps, cv, n_jobs
        As in :class:`WalkForwardEngine`: the folds, portfolio rule and costs every
        trial is evaluated on; ``n_jobs`` folds run in parallel.
    metric : str, default="sharpe"
        What to maximise, a metric name as in :func:`skquant.get_scorer` (every one
        is greater-is-better; ``max_drawdown`` is negative).
    storage : str, default=None
        An Optuna storage URL (``"sqlite:///tune.db"``): every finished trial is
        saved there, and a later call with the same storage and ``study_name``
        continues the study, if it evaluates the same way: a different model,
        metric, starting config, data (a SHA-256 of the rows and columns read),
        target, return column, features, embargo, folds, periods per year, portfolio
        (and its ``quantile``, with ``portfolio="quantile"``) or cost is a
        ``ValueError`` naming what differs. Trials a killed run left RUNNING stay so;
        a ``UserWarning`` says how many when the study is continued. None keeps the
        study in memory.
    study_name : str, default=None
        The study's name; with a ``storage``, None means ``"skquant-<model>"``.
    variant : str, default=None
        The variant trials start from (None: ``MODEL_VARIANT``, else ``balanced``).
    config : dict or path, default=None
        A YAML config file to start from instead of the model's own (its variant
        ``variant``; its ``search_space``, else the family's, is searched), or the
        config itself as a dict (as :meth:`WalkForwardEngine.run` takes it; then
        ``variant`` must be None).
    search_space : dict, default=None
        A search space (as in the YAML files) instead of the file's.
    sampler : optuna.samplers.BaseSampler, default=None
        None is ``TPESampler(seed=random_state + trials already in the study)``.
    pruner : optuna.pruners.BasePruner, default=None
        None is ``MedianPruner()``: from the sixth trial on, a trial whose fold
        score is below the median of the earlier trials' at the same fold stops.
    callbacks : list of callable, default=None
        Passed to ``study.optimize``: each is called as ``callback(study, trial)``
        after every trial (the CLI logs a line per trial this way).
    random_state : int, default=0
        Seed of the default sampler.
    verbose : bool, default=False
        Show a progress bar over each trial's folds (tqdm), as
        :class:`WalkForwardEngine`'s ``verbose``.

    Returns
    -------
    study : optuna.Study
        The study, its trials with their parameters, values, states (``COMPLETE``,
        ``PRUNED``, ``FAIL``) and per-fold intermediate values.
    best_config : dict or None
        The starting config updated with the best trial's parameters (None when no
        trial completed); pass it to the trainer or :func:`save_tuning`.

    See Also
    --------
    save_tuning : write best_config.yaml, trials.csv, summary.json and the plots.

    Examples
    --------
    >>> from skquant import make_synthetic_panel
    >>> from skquant.model_selection import tune
    >>> panel = make_synthetic_panel(n_symbols=4, n_days=300, random_state=0)
    >>> study, best = tune(panel, model="lightgbm", n_trials=2, target="fwd_ret",
    ...                    train_days=100, test_days=50, step_days=50,
    ...                    min_train_samples=200,
    ...                    config={"n_estimators": 20, "n_jobs": 1})  # doctest: +SKIP
    >>> len(study.trials)  # doctest: +SKIP
    2
    """
    optuna = import_optional("optuna")
    metric = canonical_metric(metric)
    base, config_file = _base_config(model, config, variant)
    space = _search_space(model, search_space, config_file)
    engine = WalkForwardEngine(
        data,
        target=target,
        return_col=return_col,
        features=features,
        train_days=train_days,
        test_days=test_days,
        step_days=step_days,
        min_train_samples=min_train_samples,
        embargo_days=embargo_days,
        expanding=expanding,
        periods_per_year=periods_per_year,
        leak_threshold=leak_threshold,
        min_test_date=min_test_date,
        portfolio=portfolio,
        quantile=quantile,
        cost_bps=cost_bps,
        cv=cv,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    attrs = {
        "model": model,
        "metric": metric,
        "base_config": to_jsonable(base),
        "evaluation": _evaluation(engine, portfolio, quantile, cost_bps),
    }
    with _quiet_optuna(optuna):
        study = _open_study(
            optuna, storage, study_name, model, sampler, pruner or optuna.pruners.MedianPruner(),
            attrs,
        )  # fmt: skip
        _warn_left_running(study, storage)
        if sampler is None:  # a continued study draws new points, not the first run's again
            seed = None if random_state is None else random_state + len(study.trials)
            study.sampler = optuna.samplers.TPESampler(seed=seed)

        def objective(trial):
            params = sample_search_space(trial, space)

            ran = []  # each fold's net returns, for a pruned trial's Sharpe ratio
            seen = []  # the last date those returns reach

            def report(k, scores):
                trial.report(float(scores[metric]), k)
                # each date once, as a complete trial's served returns count it: the
                # test windows of step_days < test_days overlap (3x by default), and
                # joining whole windows counted their dates as often
                net, dates = scores["net_returns"], scores["net_dates"]
                if seen:
                    net = net[dates > seen[-1]]
                if len(dates):
                    seen.append(dates.max())
                ran.append(net)
                if trial.should_prune():
                    # a pruned trial was a try too: its Sharpe ratio on the folds it ran
                    # enters the spread the deflated Sharpe is measured against (with
                    # only the complete trials, the poor ones were left out of it)
                    net = np.concatenate(ran)
                    net = net[np.isfinite(net)]
                    if len(net) >= 2:
                        trial.set_user_attr(_SHARPE_ATTR, sharpe_ratio(net, periods_per_year=1))
                    raise optuna.TrialPruned(f"{metric} of fold {k} trails the other trials'")

            result = engine.run(model, {**base, **params}, metrics=(metric,), on_fold=report)
            net = result.returns["net"].dropna().to_numpy()
            trial.set_user_attr(_SHARPE_ATTR, sharpe_ratio(net, periods_per_year=1))
            trial.set_user_attr(_RETURNS_ATTR, net.tolist())
            trial.set_user_attr(_CONSTANT_ATTR, _constant_folds(result.predictions))
            trial.set_user_attr(
                _ONE_SIDED_ATTR, _one_sided_folds(result.predictions, engine.portfolio)
            )
            return float(result.summary[metric])

        study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks)
    return study, _best_config(study, base)


def _constant_folds(predictions: pd.DataFrame) -> list[int]:
    """``[folds whose model predicted one value for every test row, folds counted]``, by
    the engine's rule (:func:`~skquant.walkforward._engine.constant_folds`), from a
    run's out-of-sample predictions."""
    scores, _, n_dates = _folds_of(predictions)
    constant, counted = constant_folds(scores, n_dates)
    return [len(constant), counted]


def _one_sided_folds(predictions: pd.DataFrame, portfolio: str) -> int:
    """How many folds of a run's predictions held the market, by the engine's rule
    (:func:`~skquant.walkforward._engine.one_sided_folds`); 0 under the rules that do
    not trade the sign of a position."""
    if portfolio not in ("sign", "long_only"):
        return 0
    return len(one_sided_folds(*_folds_of(predictions), portfolio))


def _folds_of(predictions: pd.DataFrame) -> tuple[list, list, list[int]]:
    """Each fold's scores (a classifier's probability), positions (None without a
    ``position`` column) and number of test dates, from a run's predictions."""
    score = "proba" if "proba" in predictions else "prediction"
    frame = pd.DataFrame(
        {"score": predictions[score].to_numpy(), "date": dates_of(predictions)},
        index=predictions["fold"].to_numpy(),
    )
    if "position" in predictions:
        frame["position"] = predictions["position"].to_numpy()
    folds = [rows for _, rows in frame.groupby(level=0)]
    positions = [rows["position"].to_numpy() if "position" in rows else None for rows in folds]
    return (
        [rows["score"].to_numpy() for rows in folds],
        positions,
        [rows["date"].nunique() for rows in folds],
    )


def _warn_left_running(study, storage) -> None:
    """Warn when a continued study holds trials still RUNNING: left so by a run that was
    killed (they stay so for good: without a heartbeat, Optuna cannot tell them from
    trials another process is running, so they are reported, not marked failed)."""
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if running:
        numbers = few_names(t.number for t in running)
        warnings.warn(
            f"study {study.study_name!r} in {storage} holds {len(running)} trial(s) still "
            f"RUNNING ({numbers}): left so by a run that was killed, unless another "
            "process is running them now; they have no score and stay RUNNING.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _complete(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _best_config(study, base: dict) -> dict | None:
    """``base`` updated with the best trial's parameters; None without a complete trial."""
    if not _complete(study):
        return None
    return {**base, **study.best_trial.params}


def tuning_summary(study) -> dict[str, Any]:
    """Best score, trial counts, and the deflated Sharpe ratio of the best trial.

    ``deflated_sharpe`` (Bailey and Lopez de Prado 2014) is the probability that
    the best trial's per-period Sharpe ratio beats the expected maximum of as many
    unskilled trials as were tried (complete, pruned and failed), given the variance
    of the per-period Sharpe ratios of the trials that have one (complete ones on
    every fold, pruned ones on the dates of the folds they ran, each date once). None,
    with the reason in
    ``deflated_sharpe_note``, without a complete trial with two returns, or when
    several trials were tried but fewer than two have a Sharpe ratio: their spread
    is then unknown, and a variance of 0 would report the probabilistic Sharpe ratio
    undeflated. ``best_constant_folds`` of ``best_n_folds`` are the folds whose model
    the best trial fitted predicted one value for every test row, and
    ``best_one_sided_folds`` those (of the others) whose model took one side on every
    test row under the ``"sign"`` or ``"long_only"`` rule: where they are most of
    them, its score is the market's (long or short), not the model's.
    """
    counts = pd.Series([t.state.name for t in study.trials]).value_counts()
    summary: dict[str, Any] = {
        "study_name": study.study_name,
        "model": study.user_attrs.get("model"),
        "metric": study.user_attrs.get("metric"),
        "n_trials": len(study.trials),
        **{
            f"n_{state.lower()}": int(counts.get(state, 0))
            for state in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")
        },  # fmt: skip
        "best_score": None,
        "best_trial": None,
        "best_params": None,
        "deflated_sharpe": None,
    }
    complete = _complete(study)
    if not complete:
        return summary
    best = study.best_trial
    summary.update(best_score=best.value, best_trial=best.number, best_params=best.params)
    if _CONSTANT_ATTR in best.user_attrs:  # a trial from before it was kept has none
        summary["best_constant_folds"], summary["best_n_folds"] = best.user_attrs[_CONSTANT_ATTR]
    if _ONE_SIDED_ATTR in best.user_attrs:
        summary["best_one_sided_folds"] = best.user_attrs[_ONE_SIDED_ATTR]
    ran = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    sharpes = np.array([t.user_attrs.get(_SHARPE_ATTR, np.nan) for t in ran], dtype=float)
    sharpes = sharpes[np.isfinite(sharpes)]
    returns = best.user_attrs.get(_RETURNS_ATTR) or []
    # every trial that ran was a try at the best score: pruned and failed ones count
    tried = len(complete) + summary["n_pruned"] + summary["n_fail"]
    if len(returns) < 2:
        summary["deflated_sharpe_note"] = "the best trial has fewer than 2 net returns"
    elif tried > 1 and len(sharpes) < 2:
        summary["deflated_sharpe_note"] = (
            f"{tried} trials were tried but {len(sharpes)} has a Sharpe ratio: the spread "
            "of the trials' Sharpe ratios is unknown, so the best one cannot be deflated"
        )
    else:
        variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
        summary["deflated_sharpe"] = deflated_sharpe_ratio(
            returns, n_trials=tried, trials_sharpe_variance=variance
        )
        summary["deflated_sharpe_n_trials"] = tried
        summary["trials_sharpe_variance"] = variance
    return summary


def trials_table(study) -> pd.DataFrame:
    """One row per trial: ``trial``, ``state``, ``score`` (a complete trial's; none for
    a pruned one, whose last fold's score Optuna keeps as its value and which read as
    a whole trial's, above the best), each parameter, ``n_folds`` (fold scores
    reported) and ``duration_s``."""
    from optuna.trial import TrialState

    rows = []
    for t in study.trials:
        duration = t.duration.total_seconds() if t.duration is not None else None
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name,
                "score": t.value if t.state == TrialState.COMPLETE else None,
                **t.params,
                "n_folds": len(t.intermediate_values),
                "duration_s": duration,
            }
        )
    return pd.DataFrame(rows)


def _best_config_yaml(study, config: dict) -> str:
    import yaml

    model = study.user_attrs.get("model")
    best = study.best_trial
    header = (
        f"# {model} tuned by skquant tune: study {study.study_name!r}, best of "
        f"{len(study.trials)} trials (trial {best.number}, {study.user_attrs.get('metric')} "
        f"{best.value:.6g}).\n"
        "# Load it as is: load_model_config(path) or --config path. Every variant below is\n"
        "# the tuned config (`defaults`), so whichever variant a command asks for loads it.\n"
    )
    doc = {
        "model": model,
        "defaults": to_jsonable(config),
        "variants": {name: {} for name in _BEST_VARIANTS},
    }
    return header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def _save_plot(path: Path, plot, study) -> bool:
    """Draw ``plot(study)`` (an Optuna matplotlib plot) into a PNG; False if it cannot."""
    import matplotlib.pyplot as plt  # the caller's backend: a library does not switch it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning on its plots
        try:
            axes = plot(study)
        except (ValueError, RuntimeError, ZeroDivisionError):
            plt.close("all")
            return False
    try:
        atomic_write_figure(path, axes.figure, dpi=90, bbox_inches="tight")
    finally:
        plt.close(axes.figure)
    return True


def save_tuning(study, best_config: dict | None, directory) -> dict[str, Any]:
    """Write the results of :func:`tune` to ``directory``, each file atomically.

    Files: ``best_config.yaml`` (a config file :func:`skquant.load_model_config`
    and ``--config`` accept as is; absent without a complete trial),
    ``trials.csv`` (one row per trial: parameters, score, state), ``summary.json``
    (:func:`tuning_summary`, with the plots written), and Optuna's
    ``optimization_history.png`` and ``param_importances.png`` (the latter needs
    two complete trials whose parameters vary; left out otherwise).

    Returns
    -------
    summary : dict
        What ``summary.json`` holds.
    """
    viz = import_optional("optuna.visualization.matplotlib")
    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    summary = tuning_summary(study)
    if best_config is not None and summary["best_trial"] is not None:
        text = _best_config_yaml(study, best_config)
        atomic_write_bytes(directory / "best_config.yaml", text.encode("utf-8"))
    csv = trials_table(study).to_csv(index=False)
    atomic_write_bytes(directory / "trials.csv", csv.encode("utf-8"))
    plots = []
    for name, plot in (
        ("optimization_history.png", viz.plot_optimization_history),
        ("param_importances.png", viz.plot_param_importances),
    ):
        if summary["n_complete"] >= (2 if "importances" in name else 1) and _save_plot(
            directory / name, plot, study
        ):
            plots.append(name)
    summary["plots"] = plots
    atomic_write_json(directory / "summary.json", summary, sort_keys=False)
    return summary
