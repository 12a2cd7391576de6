"""``skquant tune``: an Optuna search over a model's search space, each trial a walk-forward
evaluation of a folder (one panel)."""

from __future__ import annotations

import argparse
import sys

from skquant.cli._common import (
    EXIT_OK,
    EXIT_PARTIAL,
    UsageError,
    add_tracking,
    check_n_jobs,
    deferred_tracking,
    library_rules,
    log,
    output_folder,
    positive_float,
    positive_int,
    require_module,
)
from skquant.cli._walkforward import (
    ENGINE_OPTIONS,
    FAST_VARIANT,
    _config,
    _options,
    add_evaluation_options,
    check_evaluation_options,
    fold_config,
    read_data,
)


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "tune",
        parents=parents,
        help="search a model's hyper-parameters by walk-forward evaluation (Optuna)",
        description=(
            "Run an Optuna study over the search space of MODEL's YAML file (its "
            "search_space: section). Each trial puts the sampled values over the variant's "
            "config and runs the walk-forward evaluation of `skquant walkforward` on the "
            "folder's panel; each fold's --metric is reported as it finishes, and the median "
            "pruner stops a trial whose folds trail the earlier trials'. Writes "
            "best_config.yaml (usable as --config), trials.csv, summary.json (with the "
            "deflated Sharpe ratio of the best trial) and the optimisation-history and "
            "parameter-importance plots to --output-dir. With --storage a re-run continues "
            "the same study; a killed run loses only the trial in flight."
        ),
        epilog="Exit codes: 0 done, 1 some symbol files could not be used or no trial "
        "completed, 2 bad usage or input, 3 unexpected error.",
    )
    parser.add_argument("--model", required=True, help="registry name of the model family")
    parser.add_argument(
        "--variant",
        help=f"config variant trials start from (default: $MODEL_VARIANT, else {FAST_VARIANT})",
    )
    parser.add_argument("--config", metavar="FILE", help="YAML config file to start from "
                        "(its search_space, else the family's, is searched)")  # fmt: skip
    parser.add_argument("--n-trials", type=positive_int, required=True, metavar="N",
                        help="trials to run (a continued study grows by as many)")  # fmt: skip
    parser.add_argument("--timeout", type=positive_float, metavar="S",
                        help="seconds after which no new trial starts")  # fmt: skip
    parser.add_argument("--input-dir", required=True, metavar="DIR",
                        help="folder of SYMBOL.parquet/.csv files")  # fmt: skip
    add_evaluation_options(parser)
    parser.add_argument("--metric", default="sharpe", metavar="NAME",
                        help="what to maximise (default sharpe; any walkforward metric)")  # fmt: skip
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage, e.g. sqlite:///tune.db: trials are saved as they "
                        "finish and a re-run continues the study")  # fmt: skip
    parser.add_argument("--study-name", metavar="NAME",
                        help="study name in --storage (default skquant-MODEL)")  # fmt: skip
    parser.add_argument("--output-dir", default="tune_output", metavar="DIR",
                        help="where results and plots go (default ./tune_output)")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=-1, metavar="N",
                        help="folds fitted in parallel, one thread each (default -1: all cores)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the sampler (default 0)")  # fmt: skip
    add_tracking(parser)
    parser.set_defaults(handler=run)


def _log_trial(metric: str):
    """An Optuna callback that logs one line per finished trial."""

    def callback(study, trial) -> None:
        value = "" if trial.value is None else f" {metric} {trial.value:.4f}"
        params = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items()
        )
        folds = len(trial.intermediate_values)
        log.info(f"trial {trial.number}: {trial.state.name.lower()}{value} after {folds} "
                 f"folds ({params})")  # fmt: skip

    return callback


def _trial_counts(summary: dict) -> str:
    """``5 complete, 2 pruned``, then the failed trials and those still RUNNING (a killed
    run's, which stay so for good), when there are any."""
    counts = [f"{summary['n_complete']} complete", f"{summary['n_pruned']} pruned"]
    if summary["n_fail"]:
        counts.append(f"{summary['n_fail']} failed")
    if summary["n_running"]:
        counts.append(f"{summary['n_running']} left RUNNING by a killed run or running elsewhere")
    return ", ".join(counts)


def _track_trial(open_run, metric: str):
    """An Optuna callback that logs each finished trial as a run nested under the study's:
    its parameters, state, score and per-fold scores (the fold as the step).

    The study's run opens with the first finished trial: the folds and a stored
    study's settings are checked by then, so a usage error leaves no run behind."""

    def callback(study, trial) -> None:
        with open_run().child(f"trial {trial.number}", tags={"state": trial.state.name}) as run:
            run.log_params(trial.params)
            run.log_params({"trial": trial.number, "state": trial.state.name})
            if trial.value is not None:
                run.log_metrics({metric: trial.value})
            for fold, value in sorted(trial.intermediate_values.items()):
                run.log_metrics({f"fold/{metric}": value}, step=fold)

    return callback


def run(args: argparse.Namespace) -> int:
    study_name = args.study_name or f"skquant-{args.model}"
    with deferred_tracking(args, "tune", run_name=study_name) as open_run:
        return _run(args, open_run)


def _run(args: argparse.Namespace, open_run) -> int:
    from skquant.cli._data import parse_features
    from skquant.config import load_search_space
    from skquant.leakage import default_target
    from skquant.metrics import canonical_metric
    from skquant.walkforward import save_tuning, tune

    verbosity = int(args.verbose or 0) - int(args.quiet or 0)
    check_n_jobs(args.n_jobs)
    check_evaluation_options(args)
    out = output_folder(args.output_dir)
    require_module("Optuna search", "optuna")
    try:
        metric = canonical_metric(args.metric)
        space = load_search_space(args.config or args.model)
    except ValueError as exc:
        raise UsageError(f"{exc}") from None
    config, variant = _config(args)
    requested = parse_features(args.features)
    panel, failed, unseen, _ = read_data(args, requested)
    with library_rules(verbosity):
        target = args.target or default_target(panel)
    config = fold_config(args.model, config, panel[target])
    log.info(f"tuning {args.model} (variant {variant}) over {', '.join(space)}: "
             f"{args.n_trials} trials, {metric} of the walk-forward folds")  # fmt: skip
    with library_rules(verbosity, live=True):
        study, best = tune(
            panel,
            model=args.model,
            n_trials=args.n_trials,
            timeout=args.timeout,
            **_options(args, ENGINE_OPTIONS),
            features=requested,
            min_test_date=max(unseen.values()) if unseen else None,
            metric=metric,
            storage=args.storage,
            study_name=args.study_name,
            config=config,
            search_space=space,
            callbacks=[_log_trial(metric), _track_trial(open_run, metric)],
            random_state=args.seed,
            verbose=verbosity >= 0,  # a bar over each trial's folds
        )
    summary = save_tuning(study, best, out)
    tracker = open_run()
    if tracker.enabled:
        tracker.log_params({"model": args.model, "variant": variant, "metric": metric,
                            "study_name": study.study_name, "config": config})  # fmt: skip
        tracker.log_metrics(summary)
        tracker.log_artifacts(out, recursive=False)
    for symbol, error in failed.items():
        print(f"skquant: symbol {symbol} skipped: {error}", file=sys.stderr)
    if summary["best_trial"] is None:
        print(f"skquant: no trial completed ({summary['n_trials']} in the study: "
              f"{_trial_counts(summary)}); wrote {out}/trials.csv", file=sys.stderr)  # fmt: skip
        return EXIT_PARTIAL
    if verbosity >= 0:
        dsr = summary["deflated_sharpe"]
        print(f"best trial {summary['best_trial']} of {summary['n_trials']} "
              f"({_trial_counts(summary)}): {metric} {summary['best_score']:.4f}, deflated "
              f"Sharpe {'n/a' if dsr is None else f'{dsr:.3f}'}")  # fmt: skip
        if dsr is None and summary.get("deflated_sharpe_note"):
            print(f"  (no deflated Sharpe: {summary['deflated_sharpe_note']})")
    for line in _market_folds_warnings(summary, args.portfolio, metric):
        print(f"skquant: warning: {line}", file=sys.stderr)
    if verbosity >= 0:
        print(f"wrote {out}/: best_config.yaml, trials.csv, summary.json, "
              f"{', '.join(summary['plots'])}")  # fmt: skip
    else:
        print(f"{metric} {summary['best_score']:.4f}")
    return EXIT_PARTIAL if failed else EXIT_OK


def _market_folds_warnings(summary: dict, portfolio: str, metric: str) -> list[str]:
    """What the command says of the best trial's folds whose model predicted one value
    (``best_constant_folds``) or took one side on every test row
    (``best_one_sided_folds``), when they are half of its ``best_n_folds`` or more:
    its score is then mostly the market's (each run's own warning was printed once,
    if at all, before the trials it did not name)."""
    constant, n_folds = summary.get("best_constant_folds"), summary.get("best_n_folds")
    sided = summary.get("best_one_sided_folds") or 0
    if not n_folds:
        return []
    if constant and 2 * constant >= n_folds:
        return [
            f"the best trial's model predicted one constant value for every test row in "
            f"{constant} of {n_folds} folds: it learned nothing there, so its {metric} says "
            "nothing of the model (under --portfolio sign it is the market's, long or "
            "short); check the search space (a split floor or a penalty above what the "
            "target reaches)."
        ]
    # the constant folds held the market too: 5 of each in 18 folds are 10 that did
    if sided and 2 * (sided + (constant or 0)) >= n_folds:
        more = f" (and predicted one constant value in {constant} more)" if constant else ""
        return [
            f"the best trial's model took the same side (long, or short) on every test row "
            f"in {sided} of {n_folds} folds{more}: under --portfolio {portfolio} those folds "
            f"held every symbol they could, so their P&L, most of its {metric}, is the "
            "market's, not the model's ranking; --portfolio rank trades the ranking alone."
        ]
    return []
