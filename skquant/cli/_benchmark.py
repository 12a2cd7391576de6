"""``skquant benchmark``: a leaderboard of model families over seeds, one walk-forward."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from skquant.cli._common import (
    EXIT_OK,
    EXIT_PARTIAL,
    add_tracking,
    check_n_jobs,
    deferred_tracking,
    library_rules,
    output_folder,
    positive_int,
    require_models,
    require_module,
    split_list,
)
from skquant.cli._runner import dask_backend
from skquant.cli._walkforward import (
    ENGINE_OPTIONS,
    FAST_VARIANT,
    _options,
    add_evaluation_options,
    check_evaluation_options,
    read_data,
)


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "benchmark",
        parents=parents,
        help="leaderboard of model families over seeds (on the demo data without --input-dir)",
        description=(
            "Run each model of --models with each of --seeds seeds (the trainer's "
            "random_state; a family without one, such as ftrl_proximal, runs once) "
            "through the same walk-forward evaluation as `skquant walkforward`: the same "
            "data, folds, portfolio rule and costs. Writes "
            "runs/MODEL/seed=S/summary.json per run (a re-run reuses the finished ones), "
            "then leaderboard.csv and leaderboard.md (per model the mean and standard "
            "deviation over seeds of IC, ICIR, rank IC, net Sharpe, deflated Sharpe, annual "
            "return, max drawdown, turnover and fit seconds per fold), leaderboard.json "
            "(package versions, data hash, windows, seeds) and leaderboard.png (net "
            "equity per model against the equal-weight benchmark) to --output-dir."
        ),
        epilog="Exit codes: 0 done, 1 some symbol files could not be used, 2 bad usage or input, 3 unexpected error.",
    )
    parser.add_argument("--models", metavar="A,B,...",
                        help="registry names, FEATURE+MODEL for a feature model feeding a "
                        "supervised one (vae+lightgbm); default every supervised family, "
                        "vae+lightgbm and gmm_regime+lightgbm")  # fmt: skip
    parser.add_argument("--variant",
                        help=f"config variant of every model (default: $MODEL_VARIANT, else "
                        f"{FAST_VARIANT}, the fastest)")  # fmt: skip
    parser.add_argument("--seeds", type=positive_int, default=3, metavar="N",
                        help="seeds 0 .. N-1 per model (default 3)")  # fmt: skip
    parser.add_argument("--input-dir", metavar="DIR", help="folder of SYMBOL.parquet/.csv files")
    add_evaluation_options(parser)
    parser.add_argument("--output-dir", default="benchmark_output", metavar="DIR",
                        help="where runs and the leaderboard go (default ./benchmark_output)")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=-1, metavar="N",
                        help="(model, seed) runs in parallel, one thread each (default -1: "
                        "all cores)")  # fmt: skip
    parser.add_argument("--dask-scheduler", metavar="ADDRESS",
                        help="run the (model, seed) runs on a Dask cluster (joblib's dask "
                        "backend)")  # fmt: skip
    add_tracking(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with deferred_tracking(args, "benchmark", run_name="leaderboard") as open_run:
        return _run(args, open_run)


def _log_board(tracker, board, out: Path) -> None:
    """Log the leaderboard to MLflow: its settings and files on the parent run, and one
    nested run per (model, seed) with that run's statistics."""
    if not tracker.enabled:
        return
    manifest = board.manifest
    tracker.log_params({key: manifest.get(key) for key in ("models", "variant", "seeds")})
    tracker.log_params({"windows": manifest.get("windows"), "data": manifest.get("data")})
    tracker.log_artifacts(out, recursive=False)
    for record in board.runs.to_dict(orient="records"):
        model, seed = record.pop("model"), record.pop("seed")
        with tracker.child(f"{model} seed={seed}") as run:
            run.log_params({"model": model, "seed": seed})
            run.log_metrics(record)


def _run(args: argparse.Namespace, open_run) -> int:
    from skquant.cli._data import parse_features
    from skquant.config import VARIANT_ENV
    from skquant.walkforward import WalkForwardEngine, benchmark

    verbosity = int(args.verbose or 0) - int(args.quiet or 0)
    check_n_jobs(args.n_jobs)
    check_evaluation_options(args)
    out = output_folder(args.output_dir)
    if args.dask_scheduler is not None:
        require_module("--dask-scheduler", "distributed")
    models = split_list(args.models)
    if models is not None:  # a feature pipeline ("vae+lightgbm") needs each of its parts
        require_models("--models", [part for spec in models for part in spec.split("+") if part])
    requested = parse_features(args.features)
    panel, failed, unseen, source = read_data(args, requested)
    variant = args.variant or os.environ.get(VARIANT_ENV) or FAST_VARIANT
    engine_params = {k: v for k, v in _options(args, ENGINE_OPTIONS).items() if k != "n_jobs"}
    if verbosity >= 0:
        print(f"data: {source}: {len(panel)} rows; variant {variant}; seeds 0..{args.seeds - 1}")
    # feature models (build-features) saw each symbol's early dates: test after them
    engine_params.update(features=requested, min_test_date=max(unseen.values()) if unseen else None)
    with library_rules(verbosity), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said once, by the engine benchmark builds below
        # a missing target, a leak, too few dates: exit 2 before the MLflow run opens
        WalkForwardEngine(panel, n_jobs=1, **engine_params)
    tracker = open_run()
    started = time.perf_counter()
    with library_rules(verbosity, live=True), dask_backend(args.dask_scheduler):
        board = benchmark(
            panel,
            models=models,
            variant=variant,
            seeds=args.seeds,
            n_jobs=args.n_jobs,
            output_dir=out,
            verbose=verbosity >= 0,
            **engine_params,
        )
    elapsed = time.perf_counter() - started
    if verbosity >= 0:
        print()
        print(board.to_markdown())
        reused = board.manifest["n_runs_reused"]
        print(f"{len(board.runs)} runs ({reused} reused) in {elapsed:.0f} s; wrote {out}/: "
              "leaderboard.csv, leaderboard.md, leaderboard.json, leaderboard.png, runs/")  # fmt: skip
    _log_board(tracker, board, out)
    for symbol, error in failed.items():
        print(f"skquant: symbol {symbol} skipped: {error}", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK
