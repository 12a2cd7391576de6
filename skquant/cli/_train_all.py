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
import json
import os
import shutil
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skquant.cli._common import (
    EXIT_OK,
    EXIT_PARTIAL,
    UsageError,
    embargo,
    leak_threshold,
    library_rules,
    log,
    positive_float,
    positive_int,
    split_list,
)

# The layout the README builds: labeled symbol files in, one folder per symbol out.
DEFAULT_INPUT_DIR = "data/labeled"
DEFAULT_OUTPUT_DIR = "models"
PHASE_MODELS = {
    # gradient boosting and the stacking ensemble
    "core": ("lightgbm", "xgboost", "ensemble"),
    # sequence nets and the advanced/probabilistic models
    "sequential": ("lstm", "transformer", "cnn1d", "ngboost"),
}
REQUIRED_FILES = ("metadata.json", "config.json", "metrics.json")
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
            "models, learning_curve.png. Re-running resumes: finished pairs are skipped."
        ),
        epilog="Exit codes: 0 all done, 1 some symbols failed, 2 bad usage or input, 3 unexpected error.",
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
    parser.add_argument("--target", metavar="COL",
                        help="target column (default: the one-period forward return, fwd_ret)")  # fmt: skip
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
    parser.add_argument(
        "--features",
        metavar="A,B|@FILE",
        help="feature columns, or @file with one per line (default: every numeric "
        "column that is not a target or label-like: y_*, fwd_*, TTH, MDD, MFE)",
    )
    parser.add_argument(
        "--return-col",
        metavar="COL",
        help="one-period return for the trading metrics (default: the target when it spans "
        "one period; a multi-period or binary target without it gets no trading metrics)",
    )
    parser.add_argument(
        "--leak-threshold",
        type=leak_threshold,
        default=0.2,
        metavar="X|none",
        help="leak score above which a column is a leak: left out of the default features, an "
        "error among --features; 'none' switches the guard off (default 0.2)",
    )
    parser.add_argument(
        "--periods-per-year",
        type=positive_float,
        metavar="N",
        help="annualisation of the trading metrics (default: from the dates, 252 daily)",
    )
    parser.add_argument(
        "--val-days",
        type=positive_int,
        default=63,
        metavar="N",
        help="latest N dates of each symbol form the validation tail (default 63)",
    )
    parser.add_argument(
        "--embargo-days",
        type=embargo,
        default="auto",
        metavar="N|auto",
        help="dates dropped between training and the validation tail (default auto: the "
        "target's label horizon)",
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
    parser.add_argument("--force", action="store_true", help="retrain finished pairs too")
    parser.set_defaults(handler=run)


# ----------------------------------------------------------------------------- set-up
def resolve_models(args) -> list[tuple[str, dict]]:
    """``[(model, config)]`` from --phase/--models/--config/--variant; UsageError if bad."""
    from skquant.config import load_model_config, read_config_file
    from skquant.registry import registered_names

    known = set(registered_names())
    names = split_list(args.models)
    if names is None:
        names = [m for m in PHASE_MODELS[args.phase] if m in known]
        skipped = [m for m in PHASE_MODELS[args.phase] if m not in known]
        if skipped:
            log.warning(
                "phase %s: %s not available in this install", args.phase, ", ".join(skipped)
            )
        if not names:
            raise UsageError(f"no model of phase {args.phase!r} is available; pass --models.")
    unknown = [m for m in names if m not in known]
    if unknown:
        raise UsageError(
            f"unknown model(s) {', '.join(unknown)} in --models; valid: {', '.join(sorted(known))}."
        )
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
            out.append((name, load_model_config(source, variant=args.variant)))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return out


def _model_threads(n_parallel: int) -> int:
    cores = os.cpu_count() or 1
    return max(1, cores // max(1, n_parallel))


@dataclass
class Job:
    """Everything a worker needs to train one symbol (picklable)."""

    output_dir: str
    target: str
    return_col: str | None
    features: list[str]
    val_days: int
    embargo_days: int
    models: list[tuple[str, dict]]
    threads: int
    force: bool
    verbosity: int
    periods_per_year: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- worker
def _reset_peak_memory() -> None:
    try:  # Linux: writing 5 resets the peak resident set size (VmHWM)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _peak_memory_mb() -> float | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
    except (ImportError, OSError):
        return None


def pair_is_finished(folder: Path) -> bool:
    """A pair is finished when its folder exists with every required file and a model."""
    if not folder.is_dir():
        return False
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    return (folder / "model.joblib").is_file() or (folder / "model.skops").is_file()


def _jsonable(value):
    from skquant.utils._io import to_jsonable

    return json.loads(json.dumps(to_jsonable(value)))


def effective_config(model: str, config: dict, job: Job) -> dict:
    """The config a pair is trained with, and so the one its ``config.json`` holds.

    ``config`` with the run's settings applied: ``n_jobs`` (when the config leaves it
    out) is the run's share of the cores, and ``embargo_days`` (the trainer's own
    early-stopping tail) is at least ``--embargo-days``. Training and the resume check
    both call this, so a re-run compares like with like.
    """
    from skquant.registry import get_trainer

    config = dict(config)
    params = get_trainer(model)().get_params()
    if "n_jobs" not in config and "n_jobs" in params:
        config["n_jobs"] = job.threads
    if "embargo_days" in params:  # the trainer's own early-stopping tail, embargoed too
        config["embargo_days"] = max(int(config.get("embargo_days") or 0), job.embargo_days)
    return config


def pair_differs(folder: Path, config: dict, job: Job) -> str | None:
    """Why a finished pair does not match this run (target, features, config), or None.

    ``config`` is the pair's :func:`effective_config`. Re-running with another
    variant, config, embargo or feature set retrains the pair rather than silently
    keeping a model built with other settings. ``n_jobs`` is ignored.
    """
    try:
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unreadable results"
    if metrics.get("target") != job.target:
        return f"target was {metrics.get('target')!r}"
    if meta.get("feature_names") != list(job.features):
        return "features changed"
    wanted = _jsonable({k: v for k, v in config.items() if k != "n_jobs"})
    changed = sorted(k for k, v in wanted.items() if saved.get(k, v) != v)
    return f"config changed ({', '.join(changed)})" if changed else None


def _clean_stale_temp(symbol_dir: Path, model: str) -> None:
    for stale in symbol_dir.glob(f".{model}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _check_predictions(pred, n: int, what: str):
    import numpy as np

    arr = np.asarray(pred, dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"{what} have shape {arr.shape}, expected ({n},).")
    bad = int((~np.isfinite(arr)).sum())
    if bad:
        raise ValueError(f"{bad} of {n} {what} are not finite.")
    return arr


def validation_metrics(
    task, y_val, pred, proba, returns, dates, periods_per_year: float | None = None
) -> dict[str, Any]:
    """Prediction metrics, and trading metrics of ``sign``/threshold positions."""
    import numpy as np
    import pandas as pd
    from sklearn import metrics as skm

    from skquant import metrics as qm
    from skquant.metrics import period_returns, positions_from_scores
    from skquant.utils._time import periods_per_year_of

    y = np.asarray(y_val, dtype=float)
    out: dict[str, Any] = {}
    if task == "classification":
        out["accuracy"] = float(skm.accuracy_score(y, pred))
        if proba is not None and len(np.unique(y)) == 2:
            out["roc_auc"] = float(skm.roc_auc_score(y, proba))
            out["log_loss"] = float(
                skm.log_loss(y, np.clip(proba, 1e-12, 1 - 1e-12), labels=[0, 1])
            )
        # the engine's rule: +1 above P = 0.5, -1 below, 0 at exactly 0.5 (0/1 labels
        # without probabilities give +1/-1)
        position = positions_from_scores(pred if proba is None else proba, classifier=True)
    else:
        out["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
        out["mae"] = float(skm.mean_absolute_error(y, pred))
        out["r2"] = float(skm.r2_score(y, pred))
        out["information_coefficient"] = float(qm.information_coefficient(y, pred))
        out["hit_rate"] = float(qm.hit_rate(y, pred))
        position = positions_from_scores(pred, classifier=False)
    if returns is not None:
        if isinstance(dates, pd.MultiIndex):
            dates = dates.get_level_values(0)
        # one return per date: the mean over the rows of each date
        period = period_returns(position * np.asarray(returns, dtype=float), dates)
        periods_per_year = periods_per_year_of(periods_per_year, dates)
        out["trading"] = {
            "sharpe": float(qm.sharpe_ratio(period, periods_per_year=periods_per_year)),
            "max_drawdown": float(qm.max_drawdown(period)),
            "hit_rate": float(qm.hit_rate(np.asarray(returns, dtype=float), position)),
            "profit_factor": float(qm.profit_factor(period)),
            "win_loss_ratio": float(qm.win_loss_ratio(period)),
            "total_return": float(np.prod(1.0 + period) - 1.0),
            "n_periods": int(len(period)),
            "periods_per_year": float(periods_per_year),
        }
    return out


def plot_learning_curve(evals: dict, path: Path, title: str) -> bool:
    """Train/valid curves of ``evals_result_`` to a PNG; False when there are none."""
    curves = {
        (split, metric): values
        for split, by_metric in (evals or {}).items()
        for metric, values in (by_metric or {}).items()
        if len(values)
    }
    if not curves:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = sorted({metric for _, metric in curves})
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for (split, m), values in curves.items():
            if m == metric:
                ax.plot(range(1, len(values) + 1), values, label=split)
        ax.set_xlabel("iteration")
        ax.set_ylabel(metric)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    os.replace(tmp, path)
    return True


def _train_pair(symbol, model, config, job: Job, X_tr, y_tr, X_val, y_val, returns) -> dict:
    """Fit ``model`` with ``config`` (its :func:`effective_config`) and save the pair."""
    import numpy as np
    import pandas as pd

    from skquant.persistence import save_model
    from skquant.strategies import SingleTaskStrategy

    final = Path(job.output_dir) / symbol / model
    started = time.perf_counter()
    # The validation tail stays out of training entirely: early stopping uses the
    # trainer's own chronological tail of the training rows, so the validation
    # metrics are out-of-sample rather than the score the stopping rule optimised.
    strategy = SingleTaskStrategy(model, config).train(X_tr, y_tr)
    fitted = strategy.estimator_
    fit_seconds = time.perf_counter() - started

    proba = None
    if strategy.task_ == "classification":
        proba_all = np.asarray(fitted.predict_proba(X_val), dtype=float)
        if (
            proba_all.shape != (len(X_val), len(fitted.classes_))
            or not np.isfinite(proba_all).all()
        ):
            raise ValueError(f"predicted probabilities are invalid (shape {proba_all.shape}).")
        proba = proba_all[:, -1]
    pred = _check_predictions(fitted.predict(X_val), len(X_val), "validation predictions")
    metrics = validation_metrics(
        strategy.task_, y_val, pred, proba, returns, X_val.index, job.periods_per_year
    )
    metrics.update(
        symbol=symbol,
        model=model,
        task=strategy.task_,
        target=job.target,
        n_train=len(X_tr),
        n_val=len(X_val),
        train_start=X_tr.index.min(),
        train_end=X_tr.index.max(),
        val_start=X_val.index.min(),
        val_end=X_val.index.max(),
        fit_seconds=round(fit_seconds, 3),
        best_iteration=getattr(fitted, "best_iteration_", None),
    )
    tmp = final.parent / f".{model}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        save_model(fitted, tmp, metrics=metrics, data=X_tr)
        frame = pd.DataFrame({"y_true": np.asarray(y_val), "prediction": pred}, index=X_val.index)
        if proba is not None:
            frame["probability"] = proba
        frame.to_csv(tmp / "predictions_val.csv")
        curve = plot_learning_curve(
            getattr(fitted, "evals_result_", None), tmp / "learning_curve.png", f"{symbol} {model}"
        )
        if final.exists():  # an incomplete leftover or --force
            shutil.rmtree(final)
        os.rename(tmp, final)  # the pair is finished only from here on
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"metrics": metrics, "learning_curve": curve}


def _headline(metrics: dict) -> dict:
    keep = {}
    for key in ("rmse", "roc_auc", "accuracy", "information_coefficient"):
        if key in metrics:
            keep[key] = metrics[key]
    if "trading" in metrics:
        keep["sharpe"] = metrics["trading"]["sharpe"]
    return keep


def train_symbol(symbol: str, path: str, job: Job) -> dict:
    """Train every model of ``job`` on one symbol; never raises (failures are reported)."""
    import numpy as np

    from skquant.cli._common import setup_logging
    from skquant.cli._data import first_unseen_date, read_symbol, validation_split

    if not log.handlers and not __import__("logging").getLogger("skquant").handlers:
        setup_logging(job.verbosity)
    _reset_peak_memory()
    started = time.perf_counter()
    result: dict[str, Any] = {"symbol": symbol, "file": str(path), "status": "ok", "pairs": []}
    symbol_dir = Path(job.output_dir) / symbol
    todo = []
    for model, config in job.models:
        config = effective_config(model, config, job)
        if symbol_dir.exists():
            _clean_stale_temp(symbol_dir, model)
        pair_dir = symbol_dir / model
        if not job.force and pair_is_finished(pair_dir):
            reason = pair_differs(pair_dir, config, job)
            if reason is None:
                log.info("%s/%s: already finished, kept (--force retrains it)", symbol, model)
                result["pairs"].append({"model": model, "status": "skipped"})
                continue
            log.info("%s/%s: retraining, %s", symbol, model, reason)
        todo.append((model, config))
    if todo:
        try:
            frame = read_symbol(Path(path), [job.target, *job.features, job.return_col])
            frame = frame[np.isfinite(frame[job.target].astype(float))]
            train, val = validation_split(frame, job.val_days, job.embargo_days)
            if len(train) < 2 * job.val_days and len(train) < 100:
                raise ValueError(
                    f"too few rows: {len(train)} training rows before the {job.val_days}-day "
                    "validation tail."
                )
            unseen = first_unseen_date(Path(path))
            if unseen is not None and val.index.min() < unseen:
                raise ValueError(
                    f"{Path(path).name}: its validation tail starts {val.index.min():%Y-%m-%d}, "
                    f"but the feature model that build-features fitted saw dates up to "
                    f"{unseen:%Y-%m-%d}; validating there would test the features in-sample. "
                    "Use a smaller --val-days or rebuild the features with a smaller --train-frac."
                )
            symbol_dir.mkdir(parents=True, exist_ok=True)
        except Exception as exc:  # the whole symbol fails; the others go on
            result.update(status="failed", error=str(exc))
            for model, _ in todo:
                result["pairs"].append({"model": model, "status": "failed", "error": str(exc)})
            todo = []
        else:
            # the one-period P&L column run() chose (None: no trading metrics)
            returns = None if job.return_col is None else val[job.return_col].to_numpy(float)
            X_tr, y_tr = train[job.features], train[job.target]
            X_val, y_val = val[job.features], val[job.target]
        for model, config in todo:
            t0 = time.perf_counter()
            try:
                out = _train_pair(symbol, model, config, job, X_tr, y_tr, X_val, y_val, returns)
                pair = {
                    "model": model,
                    "status": "trained",
                    "seconds": round(time.perf_counter() - t0, 2),
                    **_headline(out["metrics"]),
                }
            except Exception as exc:
                log.debug("%s/%s failed:\n%s", symbol, model, traceback.format_exc())
                pair = {"model": model, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                result["status"] = "failed"
                result.setdefault("error", f"{model}: {exc}")
            result["pairs"].append(pair)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["peak_memory_mb"] = _peak_memory_mb()
    return result


# ----------------------------------------------------------------------------- driver
def iterate_symbols(worker, files: dict, job, n_jobs: int, dask_scheduler: str | None = None):
    """Yield ``worker(symbol, path, job)`` for every file, in parallel through joblib.

    Results arrive as symbols finish (unordered) so progress is shown as it happens;
    ``dask_scheduler`` runs them on a Dask cluster through joblib's dask backend.
    """
    items = list(files.items())
    if n_jobs == 1 and dask_scheduler is None:
        for symbol, path in items:
            yield worker(symbol, str(path), job)
        return
    import joblib

    calls = (joblib.delayed(worker)(s, str(p), job) for s, p in items)

    def parallel():
        try:  # results as they finish (joblib >= 1.4)
            return joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        except ValueError:  # joblib 1.3: in submission order
            return joblib.Parallel(n_jobs=n_jobs, return_as="generator")

    if dask_scheduler is not None:
        from skquant.utils._optional import import_optional

        distributed = import_optional("distributed")
        client = distributed.Client(dask_scheduler)
        try:
            with joblib.parallel_backend("dask"):
                yield from parallel()(calls)
        finally:
            client.close()
        return
    yield from parallel()(calls)


def _fmt(value, spec: str = ".4f") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def summary_table(results: list[dict]) -> str:
    """One row per symbol/model pair."""
    rows = [("symbol", "model", "status", "rmse/auc", "sharpe", "seconds", "peak MB")]
    for res in sorted(results, key=lambda r: r["symbol"]):
        for pair in res["pairs"]:
            score = pair.get("rmse", pair.get("roc_auc", pair.get("accuracy")))
            rows.append(
                (
                    res["symbol"],
                    pair["model"],
                    pair["status"],
                    _fmt(score),
                    _fmt(pair.get("sharpe"), ".2f"),
                    _fmt(pair.get("seconds"), ".1f"),
                    _fmt(res.get("peak_memory_mb"), ".0f"),
                )
            )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from skquant.cli._data import first_usable, parse_features, sidecar_path
    from skquant.labels import is_label_like
    from skquant.utils._io import atomic_write_json

    files = symbol_files_or_usage(args.input_dir)
    models = resolve_models(args)
    requested = parse_features(args.features)
    if args.n_jobs == 0 or args.n_jobs < -1:
        raise UsageError(f"--n-jobs must be a positive integer or -1, got {args.n_jobs}.")
    out_dir = Path(args.output_dir).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--output-dir {str(out_dir)!r} exists and is not a folder.")

    # Target, P&L column, embargo and features come from the first usable file and are
    # then required in every symbol.
    sample, sample_name = first_usable(
        files, [args.target, args.return_col, *(requested or [])], args.input_dir
    )
    verbosity = int(args.verbose or 0) - int(args.quiet or 0)
    plan = _plan(sample, sample_name, args, requested, verbosity)
    target, features = plan.target, plan.features
    excluded = [c for c in sample.columns if c != target and is_label_like(c)]
    unseen = [s for s, path in files.items() if sidecar_path(path).is_file()]
    if verbosity >= 0:
        print(
            f"{len(files)} symbols in {args.input_dir}; models: {', '.join(m for m, _ in models)}"
        )
        print(f"target: {target}; trading metrics on: {plan.return_col or '(none)'}")
        print(f"features ({len(features)}): {', '.join(features)}")
        if requested is None and excluded:
            print(f"excluded label-like columns: {', '.join(map(str, excluded))}")
        print(f"validation: the last {args.val_days} dates of each symbol, after an embargo "
              f"of {plan.embargo_days} dates (label horizon {plan.horizon.horizon} of "
              f"{target}, from its {plan.horizon.source})")  # fmt: skip
        if unseen:
            print(f"{len(unseen)} files come from build-features: each validation tail must "
                  "start after the dates its feature model saw (checked per symbol)")  # fmt: skip
    n_parallel = min(len(files), os.cpu_count() or 1) if args.n_jobs == -1 else args.n_jobs
    job = Job(
        output_dir=str(out_dir),
        target=target,
        return_col=plan.return_col,
        features=features,
        val_days=args.val_days,
        embargo_days=plan.embargo_days,
        models=models,
        threads=_model_threads(n_parallel),
        force=args.force,
        verbosity=verbosity,
        periods_per_year=args.periods_per_year,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    results = []
    bar = tqdm(
        total=len(files), desc="symbols", unit="symbol", disable=verbosity < 0, file=sys.stderr
    )
    for res in iterate_symbols(train_symbol, files, job, args.n_jobs, args.dask_scheduler):
        results.append(res)
        bar.update(1)
        states = ", ".join(f"{p['model']} {p['status']}" for p in res["pairs"])
        line = f"{res['symbol']}: {states} ({res.get('seconds', 0):.1f}s, peak {res.get('peak_memory_mb')} MB)"
        if res["status"] == "failed":
            line += f" -- FAILED: {res.get('error')}"
        if verbosity >= 0:
            bar.write(line, file=sys.stderr)
    bar.close()

    failed = [r for r in results if r["status"] == "failed"]
    counts = {
        s: sum(p["status"] == s for r in results for p in r["pairs"])
        for s in ("trained", "skipped", "failed")
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
        "leak_threshold": args.leak_threshold,
        "label_horizon": plan.horizon.horizon,
        "label_horizon_source": plan.horizon.source,
        "periods_per_year": args.periods_per_year,
        "val_days": args.val_days,
        "embargo_days": plan.embargo_days,
        "embargo_days_requested": args.embargo_days,
        "models": {name: config for name, config in models},
        "counts": counts,
        "symbols": sorted(results, key=lambda r: r["symbol"]),
    }
    atomic_write_json(out_dir / MANIFEST, manifest)
    if verbosity >= 0:
        print(summary_table(results))
        print(
            f"{counts['trained']} trained, {counts['skipped']} already finished (skipped), "
            f"{counts['failed']} failed; manifest: {out_dir / MANIFEST}"
        )
    for res in failed:
        print(f"skquant: symbol {res['symbol']} failed: {res.get('error')}", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK


def _plan(sample, sample_name: str, args, requested, verbosity: int):
    """Target, P&L column, embargo and features from one symbol's file, by the library's rules.

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


def symbol_files_or_usage(input_dir):
    from skquant.cli._data import symbol_files

    return symbol_files(input_dir)
