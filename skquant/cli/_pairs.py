"""``train-all``'s worker: train and save every model pair of one symbol.

:func:`train_symbol` reads one symbol file, splits off the validation tail (after the
embargo), fits each model that is not already finished with the same settings and
data, scores it on the tail (:func:`skquant.metrics.validation_metrics`) and writes
``OUT/SYMBOL/MODEL/`` through :func:`~skquant.cli._runner.atomic_folder`. A finished
pair whose only difference is how its validation predictions are traded (return
column, annualisation, cost) is rescored from its ``predictions_val.csv`` instead of
refitted. It never raises: failures are reported in its result, so the other symbols
go on.
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skquant.cli._common import log
from skquant.cli._runner import (
    JobSettings,
    atomic_folder,
    clean_stale_temp,
    keep_warnings,
    pair_is_finished,
    peak_memory_mb,
    reset_peak_memory,
)
from skquant.utils._history import history_periods
from skquant.utils._io import as_read_back, atomic_write_figure, data_hash, file_sha256
from skquant.utils._warnings import record_warnings


@dataclass
class Job(JobSettings):
    """Everything a worker needs to train one symbol (picklable)."""

    target: str
    return_col: str | None
    features: list[str]
    val_days: int
    embargo_days: int
    models: list[tuple[str, dict]]
    periods_per_year: float | None = None
    cost_bps: float = 0.0
    importance: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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


def pair_settings(job: Job) -> dict:
    """The run's settings that shape a pair's validation results besides its config:
    the validation tail, its embargo and how it is traded (kept in ``metrics.json``)."""
    return as_read_back(
        {
            "val_days": job.val_days,
            "embargo_days": job.embargo_days,
            "return_col": job.return_col,
            "periods_per_year": job.periods_per_year,
            "cost_bps": job.cost_bps,
        }
    )


# Config keys that set how a pair is run, not what it learns: a change of these alone
# keeps a finished pair.
RUN_ONLY_KEYS = frozenset({"n_jobs"})

# The settings that change only how the validation predictions are traded, not the
# model or its predictions: a change of these alone rescores a finished pair.
SCORE_SETTINGS = ("return_col", "periods_per_year", "cost_bps")

# The fewest training rows a symbol is trained on: twice the validation tail, at most this.
MIN_TRAIN_ROWS = 100


def min_train_rows(val_days: int) -> int:
    """The fewest training rows (before the validation tail and its embargo) a symbol
    needs: ``2 * val_days``, at most :data:`MIN_TRAIN_ROWS`."""
    return min(2 * val_days, MIN_TRAIN_ROWS)


# What metrics.json records of the rows a pair was trained and validated on.
ROW_FACTS = ("n_train", "train_start", "train_end", "n_val", "val_start", "val_end")


def row_facts(train, val, job: Job) -> dict:
    """What ``metrics.json`` keeps of the rows a pair is trained and validated on: their
    spans, and SHA-256 of the training rows, the validation rows and the validation
    returns (what its predictions are traded on: None without a return column)."""
    X_tr, X_val = train[job.features], val[job.features]
    return {
        "n_train": len(X_tr),
        "n_val": len(X_val),
        "train_start": X_tr.index.min(),
        "train_end": X_tr.index.max(),
        "val_start": X_val.index.min(),
        "val_end": X_val.index.max(),
        "train_sha256": data_hash(X_tr, train[job.target]),
        "val_sha256": data_hash(X_val, val[job.target]),
        "returns_sha256": None if job.return_col is None else data_hash(val[job.return_col]),
    }


def _model_file_damaged(folder: Path, meta: dict) -> str | None:
    """Why the pair's saved model would not load (load_model's own hash check), or None."""
    name = meta.get("model_file")
    model_file = folder / name if isinstance(name, str) else None
    if model_file is None or model_file.parent != folder or not model_file.is_file():
        return "its model file is missing"
    try:
        if file_sha256(model_file) != meta.get("sha256"):
            return f"its {name} differs from the SHA-256 metadata.json records (damaged)"
    except OSError as exc:
        return f"its {name} cannot be read ({exc})"
    return None


def pair_differs(
    folder: Path, config: dict, job: Job, rows: dict, year: float | None = None
) -> tuple[str, str] | None:
    """What a finished pair needs to match this run, and why: ``("retrain", reason)``,
    ``("rescore", reason)`` or None (keep it).

    ``config`` is the pair's :func:`effective_config`; ``rows`` the :func:`row_facts`
    of this run's split. Another variant, config, feature set, target,
    validation tail, embargo, or other training or validation rows (data appended or
    edited) retrain the pair rather than silently keeping a model built on other
    data. Another return column (or other values in it), annualisation or cost changes
    only the scores: the pair is rescored from its saved validation predictions, as
    is a pair whose trading metrics were annualised otherwise than ``year`` (this
    run's :func:`symbol_year`: a pair from before the year came from all the dates).
    ``n_jobs`` (:data:`RUN_ONLY_KEYS`) is ignored.

    The config is compared both ways: a key of ``config`` whose value differs from
    the resolved ``config.json``, and a key the pair's config held (``model_config``
    in its ``metrics.json``) that ``config`` no longer holds: the trainer then falls
    back to its YAML variant or its own default, so the pair was trained otherwise.
    ``config.json`` cannot tell that second case: it holds every key, set or
    defaulted. A pair from before ``model_config`` was kept is checked one way.
    """
    try:
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "retrain", "unreadable results"
    damaged = _model_file_damaged(folder, meta)
    if damaged:  # a truncated model was kept as finished, and failed at load_model
        return "retrain", damaged
    if metrics.get("target") != job.target:
        return "retrain", f"target was {metrics.get('target')!r}"
    if meta.get("feature_names") != list(job.features):
        return "retrain", "features changed"
    saved_settings = metrics.get("settings") or {}
    rescore = None
    for key, value in pair_settings(job).items():
        if key not in saved_settings:  # a pair from before the settings were kept
            return "retrain", "validation settings unknown"
        if saved_settings[key] != value:
            if key not in SCORE_SETTINGS:
                return "retrain", f"{key} was {saved_settings[key]!r}"
            rescore = rescore or f"{key} was {saved_settings[key]!r}"
    wanted = as_read_back({k: v for k, v in config.items() if k not in RUN_ONLY_KEYS})
    changed = {k for k, v in wanted.items() if saved.get(k, v) != v}
    given = metrics.get("model_config")
    if isinstance(given, dict):  # keys dropped from the config since the pair was trained
        changed |= {k for k in given if k not in wanted and k not in RUN_ONLY_KEYS}
    if changed:
        changed = sorted(changed)
        return "retrain", f"config changed ({', '.join(changed)})"
    now = as_read_back(rows)
    for key in ROW_FACTS:
        if metrics.get(key) != now[key]:
            return "retrain", f"the data changed ({key} was {metrics.get(key)!r})"
    for key, what in (("train_sha256", "training"), ("val_sha256", "validation")):
        if key in metrics and metrics[key] != now[key]:  # older pairs have spans only
            return "retrain", f"the data changed (other {what} rows)"
    if not rescore and metrics.get("returns_sha256") != now["returns_sha256"]:
        rescore = "other --return-col values (or none recorded)"
    booked = (metrics.get("trading") or {}).get("periods_per_year")
    if not rescore and year is not None and booked is not None and booked != year:
        rescore = f"annualised by {booked:g} periods a year, its dates' year is {year:g}"
    return ("rescore", rescore) if rescore else None


def _check_predictions(pred, n: int, what: str):
    import numpy as np

    arr = np.asarray(pred, dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"{what} have shape {arr.shape}, expected ({n},).")
    bad = int((~np.isfinite(arr)).sum())
    if bad:
        raise ValueError(f"{bad} of {n} {what} are not finite.")
    return arr


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
    plt = _pyplot()
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
    _save_figure(fig, path)
    return True


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(fig, path: Path) -> None:
    """Write ``fig`` to ``path`` whole (through a temporary file) and close it."""
    plt = _pyplot()
    fig.tight_layout()
    try:
        atomic_write_figure(path, fig, dpi=80)
    finally:
        plt.close(fig)


def plot_importance(
    importance, path: Path, title: str, max_features: int = 30, xlabel: str = "importance"
) -> None:
    """A horizontal bar plot of an importance Series (largest on top) to a PNG."""
    top = importance.head(max_features)[::-1]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 1 + 0.25 * len(top)))
    ax.barh([str(name) for name in top.index], top.to_numpy())
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    _save_figure(fig, path)


def write_shap_importance(fitted, X_val, folder: Path, title: str, model: str) -> bool:
    """``shap_importance.csv`` and ``shap_importance.png`` of ``fitted`` on ``X_val``.

    A model that cannot be explained (the ``shap`` package missing for a family
    without tree contributions, a sequence net, whose output for a row depends on the
    rows before it) is left without them, with a warning naming ``model`` (the
    family): the pair itself is sound, and the symbol's recorded warnings (the run
    says each once, naming its symbols) keep it. Returns whether they were written.
    """
    try:
        importance = fitted.get_feature_importance(kind="shap", X=X_val)
    except (ImportError, ValueError) as exc:
        warnings.warn(f"{model}: no SHAP importance: {exc}", UserWarning, stacklevel=2)
        return False
    importance.to_csv(folder / "shap_importance.csv")
    plot_importance(
        importance, folder / "shap_importance.png", f"{title}: mean |SHAP|",
        xlabel="mean |SHAP value|",
    )  # fmt: skip
    return True


def _train_pair(
    symbol,
    model,
    config,
    job: Job,
    X_tr,
    y_tr,
    X_val,
    y_val,
    returns,
    rows: dict,
    year: float,
    frame=None,
) -> dict:
    """Fit ``model`` with ``config`` (its :func:`effective_config`) and save the pair;
    ``rows`` are the split's :func:`row_facts`, kept in ``metrics.json``; ``year`` the
    periods per year of the trading metrics (:func:`symbol_year`). ``frame`` holds the
    symbol's rows: those before the validation tail (training and embargo rows) are the
    history a sequence net or causal feature model reads for the tail's first rows."""
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

    # a model that reads earlier rows (a sequence net's window) predicts the tail's first
    # rows from the rows before it, as in the unbroken series (they were zero-padded)
    periods = history_periods(fitted)
    X_in = X_val
    if periods and frame is not None:
        before = frame.index < X_val.index.min()
        X_in = pd.concat([frame.loc[before, job.features].iloc[-periods:], X_val])
    skip = len(X_in) - len(X_val)
    proba = None
    if strategy.task_ == "classification":
        proba_all = np.asarray(fitted.predict_proba(X_in), dtype=float)[skip:]
        if (
            proba_all.shape != (len(X_val), len(fitted.classes_))
            or not np.isfinite(proba_all).all()
        ):
            raise ValueError(f"predicted probabilities are invalid (shape {proba_all.shape}).")
        proba = proba_all[:, -1]
    pred = np.asarray(fitted.predict(X_in))[skip:]
    pred = _check_predictions(pred, len(X_val), "validation predictions")
    metrics = _tail_scores(
        strategy.task_,
        y_val,
        pred,
        proba,
        returns,
        X_val.index,
        year,
        cost_bps=job.cost_bps,
    )
    metrics.update(
        symbol=symbol,
        model=model,
        task=strategy.task_,
        target=job.target,
        model_config=config,  # as given, before the trainer's defaults: see pair_differs
        **rows,
        fit_seconds=round(fit_seconds, 3),
        best_iteration=getattr(fitted, "best_iteration_", None),
        settings=pair_settings(job),
    )
    with atomic_folder(final) as tmp:  # replaces an incomplete leftover or a --force pair
        save_model(fitted, tmp, metrics=metrics, data=X_tr)
        frame = pd.DataFrame({"y_true": np.asarray(y_val), "prediction": pred}, index=X_val.index)
        if proba is not None:
            frame["probability"] = proba
        frame.to_csv(tmp / "predictions_val.csv")
        curve = plot_learning_curve(
            getattr(fitted, "evals_result_", None), tmp / "learning_curve.png", f"{symbol} {model}"
        )
        if job.importance == "shap":  # on the validation rows, which the model never saw
            write_shap_importance(fitted, X_val, tmp, f"{symbol} {model}", model)
    return {"metrics": metrics, "learning_curve": curve}


def _headline(metrics: dict) -> dict:
    keep = {"constant": bool(metrics.get("constant_predictions"))}
    if (metrics.get("trading") or {}).get("one_sided"):
        keep["constant"] = True  # long (or short) throughout: the market's Sharpe
    for key in ("rmse", "roc_auc", "accuracy", "information_coefficient"):
        if key in metrics:
            keep[key] = metrics[key]
    if "trading" in metrics:
        keep["sharpe"] = metrics["trading"]["sharpe"]
        keep["psr"] = metrics["trading"].get("psr")  # None: a pair from before it was kept
        keep["n_val_periods"] = metrics["trading"].get("n_periods")
    return keep


def _rescore_pair(symbol, model, job: Job, y_val, returns, dates, rows: dict, year: float) -> dict:
    """Trade a finished pair's saved validation predictions with this run's return
    column, annualisation and cost, and rewrite its ``metrics.json``; the model and its
    predictions are left as they are."""
    import numpy as np
    import pandas as pd

    from skquant.utils._io import atomic_write_json

    folder = Path(job.output_dir) / symbol / model
    old = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    saved = pd.read_csv(folder / "predictions_val.csv", index_col=0)
    y_true = np.asarray(y_val, dtype=float)
    # the CSV keeps 16 significant digits; the data hashes matched (or, for a pair from
    # before they were kept, the row spans did), this checks the file is that pair's
    if len(saved) != len(y_true) or not np.allclose(
        saved["y_true"].to_numpy(float), y_true, rtol=1e-12, atol=0, equal_nan=True
    ):
        raise ValueError("its predictions_val.csv does not hold this validation tail")
    proba = saved["probability"].to_numpy(float) if "probability" in saved else None
    scores = _tail_scores(
        old["task"],
        y_val,
        _check_predictions(saved["prediction"], len(y_true), "saved validation predictions"),
        proba,
        returns,
        dates,
        year,
        cost_bps=job.cost_bps,
    )
    # only the trading metrics depend on these settings (the others stay as computed
    # from the unrounded predictions); none without a return column
    metrics = {k: v for k, v in old.items() if k != "trading"}
    metrics.setdefault("constant_predictions", scores["constant_predictions"])  # older pairs
    if "trading" in scores:
        metrics["trading"] = scores["trading"]
    metrics["settings"] = pair_settings(job)
    metrics["returns_sha256"] = rows["returns_sha256"]
    atomic_write_json(folder / "metrics.json", metrics)
    return metrics


def _tail_scores(*args, **kwargs) -> dict:
    """:func:`~skquant.metrics.validation_metrics` of a pair's validation tail, given
    the year of :func:`symbol_year`. That checked an explicit ``--periods-per-year``
    against all the symbol's dates, once: the tail's own check would warn a second
    time for each pair, on fewer dates."""
    import warnings

    from skquant.cli._data import _WARNINGS_LOCK
    from skquant.metrics import validation_metrics

    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="periods_per_year=", category=UserWarning)
        return validation_metrics(*args, **kwargs)


def symbol_year(job: Job, dates) -> float:
    """The periods per year of a symbol's trading metrics: ``--periods-per-year``, else
    inferred from all the symbol's dates. The validation tail's own dates can mislead:
    60 hourly 24/7 bars without a weekend look like a weekday market."""
    from skquant.utils._time import periods_per_year_of

    return periods_per_year_of(job.periods_per_year, dates)


def train_symbol(symbol: str, path: str, job: Job) -> dict:
    """Train every model of ``job`` on one symbol; never raises (failures are reported).

    The symbol's warnings are kept in its result (``"warnings"``), said once per run by
    the command, not by each worker process as a raw Python warning."""
    with record_warnings() as caught:
        result = _train_symbol(symbol, path, job)
    return keep_warnings(result, caught)


def _train_symbol(symbol: str, path: str, job: Job) -> dict:
    import numpy as np

    from skquant.cli._common import setup_logging
    from skquant.cli._data import (
        asked_columns,
        first_unseen_date,
        one_value,
        read_symbol,
        require_values,
        validation_split,
    )

    if not log.handlers and not __import__("logging").getLogger("skquant").handlers:
        setup_logging(job.verbosity)
    reset_peak_memory()
    started = time.perf_counter()
    result: dict[str, Any] = {"symbol": symbol, "file": str(path), "status": "ok", "pairs": []}
    symbol_dir = Path(job.output_dir) / symbol
    models = [(model, effective_config(model, config, job)) for model, config in job.models]
    try:
        # read even when every pair is finished: a pair is kept only on the same rows
        frame = read_symbol(
            Path(path), asked_columns(job.target, job.return_col, job.features, None)
        )
        require_values(frame, {job.target: "the target"}, Path(path).name)
        frame = frame[np.isfinite(frame[job.target].astype(float))]
        train, val = validation_split(frame, job.val_days, job.embargo_days)
        if len(train) < min_train_rows(job.val_days):
            raise ValueError(
                f"too few rows: {len(train)} training rows before the {job.val_days}-day "
                "validation tail."
            )
        holds = one_value(train[job.target])
        if holds is not None:  # a model of it would predict that value, scored as valid
            raise ValueError(
                f"{Path(path).name}: column {job.target!r} (the target) holds {holds} in its "
                f"{len(train)} training rows: there is nothing to learn."
            )
        unseen = first_unseen_date(Path(path), job.features)
        if unseen is not None and val.index.min() < unseen:
            raise ValueError(
                f"{Path(path).name}: its validation tail starts {val.index.min():%Y-%m-%d}, "
                f"but the feature model that build-features fitted saw the dates before "
                f"{unseen:%Y-%m-%d} (the first it never saw); validating on them would test "
                "the features in-sample. "
                "Use a smaller --val-days or rebuild the features with a smaller --train-frac."
            )
        symbol_dir.mkdir(parents=True, exist_ok=True)
    except Exception as exc:  # the whole symbol fails; the others go on
        result.update(status="failed", error=str(exc))
        for model, _ in models:
            result["pairs"].append({"model": model, "status": "failed", "error": str(exc)})
        models = []
    else:
        # the one-period P&L column run() chose (None: no trading metrics)
        returns = None if job.return_col is None else val[job.return_col].to_numpy(float)
        X_tr, y_tr = train[job.features], train[job.target]
        X_val, y_val = val[job.features], val[job.target]
        rows = row_facts(train, val, job)
        year = symbol_year(job, frame.index)
    for model, config in models:
        t0 = time.perf_counter()
        pair_dir = symbol_dir / model
        clean_stale_temp(pair_dir)
        action = None
        if not job.force and pair_is_finished(pair_dir):
            action = pair_differs(pair_dir, config, job, rows, year)
            if action is None:
                log.info("%s/%s: already finished, kept (--force retrains it)", symbol, model)
                # its scores, for the run's table and manifest, as a run that trained it
                kept = json.loads((pair_dir / "metrics.json").read_text(encoding="utf-8"))
                result["pairs"].append({"model": model, "status": "skipped", **_headline(kept)})
                continue
            if action[0] == "rescore":
                try:
                    metrics = _rescore_pair(
                        symbol, model, job, y_val, returns, X_val.index, rows, year
                    )
                except Exception as exc:  # a damaged predictions file: train it again
                    action = ("retrain", f"cannot rescore: {exc}")
                else:
                    log.info("%s/%s: rescored, %s (model kept)", symbol, model, action[1])
                    seconds = round(time.perf_counter() - t0, 2)
                    result["pairs"].append(
                        {
                            "model": model,
                            "status": "rescored",
                            "seconds": seconds,
                            **_headline(metrics),
                        }  # fmt: skip
                    )
                    continue
            log.info("%s/%s: retraining, %s", symbol, model, action[1])
        try:
            out = _train_pair(
                symbol, model, config, job, X_tr, y_tr, X_val, y_val, returns, rows, year,
                frame,
            )  # fmt: skip
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
    result["peak_memory_mb"] = peak_memory_mb()
    return result


def _fmt(value, spec: str = ".4f") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def summary_table(results: list[dict]) -> str:
    """One row per symbol/model pair."""
    rows = [
        ("symbol", "model", "status", "rmse/auc", "sharpe", "psr", "dates", "seconds", "peak MB")
    ]
    for res in sorted(results, key=lambda r: r["symbol"]):
        for pair in res["pairs"]:
            score = pair.get("rmse", pair.get("roc_auc", pair.get("accuracy")))
            rows.append(
                (
                    res["symbol"],
                    pair["model"],
                    pair["status"],
                    _fmt(score),
                    _fmt(pair.get("sharpe"), ".2f") + ("*" if pair.get("constant") else ""),
                    _fmt(pair.get("psr"), ".2f"),
                    _fmt(pair.get("n_val_periods")),
                    _fmt(pair.get("seconds"), ".1f"),
                    _fmt(res.get("peak_memory_mb"), ".0f"),
                )
            )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if any(pair.get("sharpe") is not None for res in results for pair in res["pairs"]):
        lines.append(
            "sharpe: annualised over the pair's validation dates, net of --cost-bps; psr: "
            "the probability that its true Sharpe ratio is above 0, given those dates"
        )
    if any(pair.get("constant") for res in results for pair in res["pairs"]):
        lines.append(
            "*: the model took the same side on every validation row (it predicted one "
            "constant value, or one sign): that Sharpe ratio is the market's, long or "
            "short, not the model's skill"
        )
    return "\n".join(line.rstrip() for line in lines)
