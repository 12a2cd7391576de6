"""``skquant train-all``: train every model on every symbol of a folder.

Each ``SYMBOL.parquet`` / ``SYMBOL.csv`` is split chronologically: the last
``--val-days`` dates are the validation tail, kept out of training entirely (the
metrics are out-of-sample; early stopping uses the trainer's own chronological tail
of the training rows), and the ``--embargo-days`` dates before it are dropped so no
training label looks into the validation period. Each symbol/model pair is written to ``OUT/SYMBOL/MODEL/`` by
:func:`skquant.save_model`, first into a hidden temporary folder that is renamed
when complete, so a killed run leaves no half-written pair and a re-run skips
exactly the finished ones.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

from skquant.cli._common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_PARTIAL,
    UsageError,
    add_label_options,
    add_tracking,
    check_config_values,
    check_n_jobs,
    cost_bps,
    deferred_tracking,
    library_rules,
    log,
    output_folder,
    period_word,
    positive_int,
    require_config_models,
    require_models,
    require_module,
    require_supervised,
    split_list,
)
from skquant.cli._runner import report_symbol_warnings, run_symbols, threads_per_symbol
from skquant.utils._text import few_names

# The layout the README builds: labeled symbol files in, one folder per symbol out.
DEFAULT_INPUT_DIR = "data/labeled"
DEFAULT_OUTPUT_DIR = "models"
PHASE_MODELS = {
    # gradient boosting and the stacking ensemble
    "core": ("lightgbm", "xgboost", "ensemble"),
    # sequence nets and the advanced/probabilistic models
    "sequential": ("lstm", "transformer", "cnn1d", "ngboost"),
}
MANIFEST = "run_manifest.json"


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "train-all",
        parents=parents,
        help="train models on every symbol file of a folder",
        description=(
            "Train each model on each SYMBOL.parquet/SYMBOL.csv of --input-dir (a 'date' "
            "column or index, features and targets) and write OUT/SYMBOL/MODEL/ with the "
            "model, config.json, metrics.json (validation and trading metrics on the "
            "validation tail), feature_importance.csv, metadata.json and, for iterative "
            "models, learning_curve.png. Re-running resumes: finished pairs are skipped "
            "(retrained on other settings or rows, rescored on another --return-col, "
            "--periods-per-year or --cost-bps)."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument(
        "--phase",
        choices=sorted(PHASE_MODELS),
        default="core",
        help=f"default model set: core = {','.join(PHASE_MODELS['core'])}; "
        f"sequential = {','.join(PHASE_MODELS['sequential'])}",
    )
    parser.add_argument("--input-dir", default=DEFAULT_INPUT_DIR, metavar="DIR",
                        help=f"folder of symbol files (default {DEFAULT_INPUT_DIR})")  # fmt: skip
    parser.add_argument("--output-dir", default=DEFAULT_OUTPUT_DIR, metavar="DIR",
                        help=f"where to write models (default {DEFAULT_OUTPUT_DIR})")  # fmt: skip
    parser.add_argument(
        "--models",
        metavar="A,B",
        help="comma-separated registry names (default: the phase's models that are installed)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="YAML config file (layout of configs/*.yaml) for the model it names",
    )
    parser.add_argument(
        "--variant",
        metavar="V",
        help="config variant for every model (default: $MODEL_VARIANT, else balanced)",
    )
    add_label_options(
        parser,
        held_out="the validation tail",
        without_return="a multi-period or binary target without it gets no trading metrics",
    )
    parser.add_argument(
        "--cost-bps",
        type=cost_bps,
        default=0.0,
        metavar="B",
        help="cost per unit of turnover in basis points: the validation trading metrics "
        "are net of it, as walkforward's (default 0: gross)",
    )
    parser.add_argument(
        "--val-days",
        type=positive_int,
        default=63,
        metavar="N",
        help="latest N dates (bars on intraday data) of each symbol form the validation "
        "tail (default 63)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        metavar="N",
        help="symbols trained in parallel through joblib (-1: all cores; default 1)",
    )
    parser.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run the symbols on a Dask cluster (joblib's dask backend)",
    )
    parser.add_argument(
        "--importance",
        choices=["shap"],
        help="also write shap_importance.png (bar plot of the mean |SHAP value| per feature, "
        "on the validation tail) and shap_importance.csv per pair; LightGBM and XGBoost need "
        "nothing extra, other models the shap package (skquant[shap]). Finished pairs are "
        "kept as they are (--force redoes them). Default: none",
    )
    parser.add_argument("--force", action="store_true", help="retrain finished pairs too")
    add_tracking(parser)
    parser.set_defaults(handler=run)


# ----------------------------------------------------------------------------- set-up
def resolve_models(args) -> list[tuple[str, dict]]:
    """``[(model, config)]`` from --phase/--models/--config/--variant; UsageError if bad."""
    from skquant.config import load_model_config, read_config_file
    from skquant.registry import missing_dependencies, registered_names
    from skquant.utils._optional import install_hint

    known = set(registered_names())
    names = split_list(args.models)
    if names is None:
        names = [m for m in PHASE_MODELS[args.phase] if not missing_dependencies(m)]
        skipped = {m: missing_dependencies(m) for m in PHASE_MODELS[args.phase] if m not in names}
        if skipped:
            lacking = list(dict.fromkeys(m for modules in skipped.values() for m in modules))
            log.warning(
                "phase %s: %s left out, this install lacks %s; install them with: %s",
                args.phase,
                ", ".join(skipped),
                " and ".join(lacking),
                install_hint(lacking[0]),
            )
        if not names:
            raise UsageError(f"no model of phase {args.phase!r} is installed; pass --models.")
    if not names:  # "--models ," would train nothing and overwrite the run's manifest
        raise UsageError(
            f"--models {args.models!r} names no model; valid: {', '.join(sorted(known))}."
        )
    unknown = [m for m in names if m not in known]
    if unknown:
        raise UsageError(
            f"unknown model(s) {', '.join(unknown)} in --models; valid: {', '.join(sorted(known))}."
        )
    require_supervised("--models", names)
    require_models("--models", names)
    config_model = None
    if args.config is not None:
        try:
            _, where, config_model = read_config_file(args.config)
        except ValueError as exc:
            raise UsageError(f"--config: {exc}") from None
        if config_model is None:
            raise UsageError(
                f"--config {args.config!r} does not say which model it configures; add a "
                "'model: NAME' line or name the file NAME.yaml."
            )
        if config_model not in names:
            raise UsageError(
                f"--config {args.config!r} configures {config_model!r}, which is not among the "
                f"models {', '.join(names)}."
            )
    out = []
    for name in dict.fromkeys(names):
        source = args.config if name == config_model else name
        try:
            config = load_model_config(source, variant=args.variant)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        option = "--config" if source == args.config else "--models"
        check_config_values(option, name, config, source)
        require_config_models(option, name, config)
        out.append((name, config))
    return out


def run(args: argparse.Namespace) -> int:
    with deferred_tracking(args, "train-all") as open_run:
        return _run(args, open_run)


def _log_run(tracker, out_dir: Path, manifest: dict) -> None:
    """Log the run to MLflow: its settings and counts, and one nested run per pair.

    The nested runs are logged here, in the parent process, from each pair's
    folder once every symbol is done, so workers (joblib, Dask) log nothing.
    """
    import json

    if not tracker.enabled:
        return
    keys = ("target", "return_col", "leak_threshold", "label_horizon", "periods_per_year",
            "cost_bps", "val_days", "embargo_days", "input_dir", "output_dir", "models")  # fmt: skip
    tracker.log_params({key: manifest[key] for key in keys})
    tracker.log_params(
        {"n_features": len(manifest["features"]), "n_symbols": len(manifest["symbols"])}
    )
    tracker.log_metrics(manifest["counts"])
    tracker.log_artifact(out_dir / MANIFEST)
    for res in manifest["symbols"]:
        for pair in res["pairs"]:
            symbol, model, status = res["symbol"], pair["model"], pair["status"]
            tags = {"skquant.symbol": symbol, "skquant.model": model, "skquant.status": status}
            with tracker.child(f"{symbol}/{model}", tags=tags) as run:
                run.log_params({"symbol": symbol, "model": model})
                folder = out_dir / symbol / model
                if status == "failed":
                    run.set_tags({"skquant.error": pair.get("error", res.get("error"))})
                    run.fail()
                    continue
                config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
                run.log_params(config, prefix="config.")
                metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
                metrics.pop("model_config", None)  # the config, logged as params above
                run.log_metrics(metrics)
                run.log_artifacts(folder, artifact_path="model")


def _run(args: argparse.Namespace, open_run) -> int:
    from skquant.cli._data import (
        asked_columns,
        has_build_record,
        parse_features,
        plan_files,
        plan_sample,
        symbol_files,
    )
    from skquant.cli._pairs import Job, min_train_rows, summary_table, train_symbol
    from skquant.labels import is_label_like
    from skquant.utils._io import atomic_write_json

    files = symbol_files(args.input_dir)
    if args.dask_scheduler is not None:
        require_module("--dask-scheduler", "distributed")
    models = resolve_models(args)
    if args.importance is not None:  # LightGBM and XGBoost need no shap package
        require_models(
            f"--importance {args.importance}", [name for name, _ in models], args.importance
        )
    requested = parse_features(args.features)
    check_n_jobs(args.n_jobs)
    out_dir = output_folder(args.output_dir)

    # Target, P&L column, embargo and features come from a few usable files pooled (no
    # one odd file decides them) and are then required in every symbol.
    sample, sample_names, left_out = plan_sample(
        files,
        asked_columns(args.target, args.return_col, requested),
        args.input_dir,
        args.target,
        min_rows=min_train_rows(args.val_days) + args.val_days,
    )
    verbosity = int(args.verbose or 0) - int(args.quiet or 0)
    plan = _plan(sample, plan_files(sample_names), args, requested, verbosity)
    target, features = plan.target, plan.features
    excluded = [c for c in sample.columns if c != target and is_label_like(c)]
    unseen = [s for s, path in files.items() if has_build_record(path)]
    if verbosity >= 0:
        print(
            f"{len(files)} symbols in {args.input_dir}; models: {', '.join(m for m, _ in models)}"
        )
        costs = (
            f"net of {args.cost_bps:g} bps per unit traded"
            if args.cost_bps
            else "gross: no --cost-bps"
        )
        trading = f"{plan.return_col}, {costs}" if plan.return_col else "(none)"
        print(f"target: {target}; trading metrics on: {trading}")
        print(f"features ({len(features)}): {', '.join(features)}")
        if requested is None and excluded:
            print(f"excluded label-like columns: {', '.join(map(str, excluded))}")
        planned = f"planned on {plan_files(sample_names)}"
        if left_out:
            shown = few_names((f"{name}: {why}" for name, why in left_out.items()), 3, "; ")
            planned += f" (left out {shown})"
        print(f"target, features and label horizon {planned}")
        unit = period_word(sample)
        print(f"validation: the last {args.val_days} {unit} of each symbol, after an embargo "
              f"of {plan.embargo_days} {unit} (label horizon {plan.horizon.horizon} of "
              f"{target}, from its {plan.horizon.source})")  # fmt: skip
        if unseen:
            print(f"{len(unseen)} files come from build-features: each validation tail must "
                  "start after the dates its feature model saw (checked per symbol)")  # fmt: skip
    job = Job(
        output_dir=str(out_dir),
        target=target,
        return_col=plan.return_col,
        features=features,
        val_days=args.val_days,
        embargo_days=plan.embargo_days,
        models=models,
        threads=threads_per_symbol(args.n_jobs, len(files)),
        force=args.force,
        verbosity=verbosity,
        periods_per_year=args.periods_per_year,
        cost_bps=args.cost_bps,
        importance=args.importance,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    tracker = open_run()  # the options and the plan are checked: the MLflow run starts
    started = _dt.datetime.now(_dt.timezone.utc)
    results = run_symbols(
        train_symbol, files, job, args.n_jobs, _progress_line, dask_scheduler=args.dask_scheduler
    )

    report_symbol_warnings(results, verbosity)  # each once, naming its symbols
    failed = [r for r in results if r["status"] == "failed"]
    counts = {
        s: sum(p["status"] == s for r in results for p in r["pairs"])
        for s in ("trained", "rescored", "skipped", "failed")
    }
    manifest = {
        "command": ["skquant", *sys.argv[1:]],
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "input_dir": str(Path(args.input_dir).resolve()),
        "output_dir": str(out_dir.resolve()),
        "target": target,
        "return_col": plan.return_col,
        "features": features,
        "planned_on": sample_names,
        "leak_threshold": args.leak_threshold,
        "label_horizon": plan.horizon.horizon,
        "label_horizon_source": plan.horizon.source,
        "periods_per_year": args.periods_per_year,
        "cost_bps": args.cost_bps,
        "val_days": args.val_days,
        "embargo_days": plan.embargo_days,
        "embargo_days_requested": args.embargo_days,
        "models": {name: config for name, config in models},
        "counts": counts,
        "symbols": sorted(results, key=lambda r: r["symbol"]),
    }
    atomic_write_json(out_dir / MANIFEST, manifest)
    _log_run(tracker, out_dir, manifest)
    if verbosity >= 0:
        print(summary_table(results))
        rescored = f"{counts['rescored']} rescored (model kept), " if counts["rescored"] else ""
        print(
            f"{counts['trained']} trained, {counts['skipped']} already finished (skipped), "
            f"{rescored}{counts['failed']} failed; manifest: {out_dir / MANIFEST}"
        )
    for res in failed:
        print(f"skquant: symbol {res['symbol']} failed: {res.get('error')}", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK


def _progress_line(res: dict) -> str:
    states = ", ".join(f"{p['model']} {p['status']}" for p in res["pairs"])
    line = f"{res['symbol']}: {states} ({res.get('seconds', 0):.1f}s)"  # the runner adds the peak
    if res["status"] == "failed":
        line += f" -- FAILED: {res.get('error')}"
    return line


def _plan(sample, sample_name: str, args, requested, verbosity: int):
    """Target, P&L column, embargo and features from the files ``sample`` pools
    (:func:`~skquant.cli._data.plan_sample`), by the library's rules.

    ``--target`` defaults to the one-period return; trading metrics use
    ``--return-col``, else the target only when it spans one period (a multi-period
    or binary target gets none, with a warning saying why); ``--embargo-days auto``
    is the target's label horizon; features pass the leak guard.
    """
    import warnings

    from skquant.leakage import plan_labels

    with library_rules(verbosity, f"{sample_name}: "):
        plan = plan_labels(
            sample,
            args.target,
            args.return_col,
            requested,
            embargo_days=args.embargo_days,
            leak_threshold=args.leak_threshold,
            require_returns=False,
        )
        if plan.return_col is None:
            warnings.warn(f"no trading metrics: {plan.no_returns}", UserWarning, stacklevel=1)
    return plan
