"""``skquant walkforward``: walk-forward evaluation over a folder (one panel) or the demo data."""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from skquant.cli._common import (
    EXIT_OK,
    EXIT_PARTIAL,
    UsageError,
    _number,
    add_label_options,
    add_tracking,
    check_config_values,
    check_n_jobs,
    cli_words,
    cost_bps,
    date_format,
    deferred_tracking,
    library_rules,
    log,
    output_folder,
    period_word,
    positive_int,
    report_warnings,
    require_config_models,
    require_models,
    require_supervised,
)

if TYPE_CHECKING:
    import pandas as pd

# Without --variant, --config or MODEL_VARIANT, the walk-forward refits use the
# family's fastest variant: dozens of folds must run in seconds, not hours.
FAST_VARIANT = "aggressive"
PORTFOLIOS = ("sign", "long_only", "rank", "quantile")
DEFAULT_QUANTILE = 0.2
# the options that are WalkForwardEngine parameters of the same name
WINDOW_OPTIONS = (
    "train_days", "test_days", "step_days", "min_train_samples", "embargo_days", "expanding",
)  # fmt: skip
ENGINE_OPTIONS = (
    *WINDOW_OPTIONS, "target", "return_col", "periods_per_year", "leak_threshold", "portfolio",
    "quantile", "cost_bps", "n_jobs",
)  # fmt: skip


def _options(args: argparse.Namespace, names) -> dict:
    """``{name: args.name}`` for each of ``names``."""
    return {name: getattr(args, name) for name in names}


def _quantile(text: str) -> float:
    """argparse type: a number in (0, 0.5]."""
    return _number(text, float, lambda v: 0 < v <= 0.5, "a number in (0, 0.5]")


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "walkforward",
        parents=parents,
        help="walk-forward evaluation of a model (on the demo data without --input-dir)",
        description=(
            "Refit MODEL on rolling training windows and trade its out-of-sample "
            "predictions (position = sign of the prediction, or +1/-1 by probability for a "
            "binary target), weighted per date by --portfolio, net of --cost-bps per unit "
            "traded. Every symbol file of --input-dir joins one (date, symbol) "
            "panel; without --input-dir the built-in demo data (S&P 500 and NASDAQ daily, "
            "1999-2018) is used. Prints the fold table and the summary (over how many "
            "folds and test periods; gross and net "
            "Sharpe), and writes "
            "predictions.parquet, folds.csv, summary.json, equity.csv (by date: gross, "
            "cost, net, turnover and benchmark, the equity and drawdown of net, and the "
            "serving fold), "
            "feature_importance.csv (the last fold's model), PNG plots (net equity against "
            "the equal-weight benchmark, gross against net, rolling IC, turnover, mean "
            "target by prediction quintile, Sharpe by fold, feature importance), one "
            "self-contained report.html (with the run's warnings) and, last, "
            "run_manifest.json to --output-dir (a "
            "folder without it holds an unfinished run's files). Each fold's "
            "predictions are kept in --output-dir/checkpoints/ as it finishes: re-running "
            "resumes a stopped run, and a re-run that changes only --portfolio, "
            "--quantile or --cost-bps fits no fold again."
        ),
        epilog="Exit codes: 0 done, 1 some symbol files could not be used, 2 bad usage or input, 3 unexpected error.",
    )
    parser.add_argument("--model", default="lightgbm", help="registry name (default lightgbm)")
    parser.add_argument(
        "--variant",
        help=f"config variant (default: $MODEL_VARIANT, else {FAST_VARIANT}, the fastest)",
    )
    parser.add_argument("--config", metavar="FILE", help="YAML config file for the model")
    parser.add_argument("--input-dir", metavar="DIR", help="folder of SYMBOL.parquet/.csv files")
    add_evaluation_options(parser)
    parser.add_argument("--output-dir", default="walkforward_output", metavar="DIR",
                        help="where results and plots go (default ./walkforward_output)")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=-1, metavar="N",
                        help="folds fitted in parallel, one thread each (default -1: all cores)")  # fmt: skip
    parser.add_argument("--force", action="store_true",
                        help="refit every fold: drop the fold checkpoints of earlier runs")  # fmt: skip
    add_tracking(parser)
    parser.set_defaults(handler=run)


def add_evaluation_options(parser) -> None:
    """The options that say how a model is evaluated, shared with ``skquant tune`` and
    ``skquant benchmark``: the columns (:func:`~skquant.cli._common.add_label_options`),
    the fold windows and the portfolio (--portfolio, --quantile, --cost-bps); with
    --n-jobs, ``ENGINE_OPTIONS``."""
    add_label_options(
        parser, held_out="test", without_return="required for a multi-period or binary target"
    )
    parser.add_argument("--train-days", type=positive_int, default=504, metavar="N",
                        help="training window in trading dates (bars on intraday data, as "
                        "are all these windows; default 504)")  # fmt: skip
    parser.add_argument("--test-days", type=positive_int, default=63, metavar="N",
                        help="test window in dates (default 63)")  # fmt: skip
    parser.add_argument("--step-days", type=positive_int, default=63, metavar="N",
                        help="dates between refits (default 63)")  # fmt: skip
    parser.add_argument("--min-train-samples", type=positive_int, default=200, metavar="N",
                        help="skip folds with fewer training rows (default 200)")  # fmt: skip
    parser.add_argument("--expanding", action="store_true", help="anchor training at the start")
    parser.add_argument("--portfolio", choices=PORTFOLIOS, default="sign",
                        help="weights per date: sign (position / symbols, the default), "
                        "long_only, rank (dollar neutral) or quantile (long the top, short "
                        "the bottom --quantile share)")  # fmt: skip
    parser.add_argument("--quantile", type=_quantile, default=None, metavar="Q",
                        help="share of the symbols in each leg of --portfolio quantile "
                        f"(default {DEFAULT_QUANTILE})")  # fmt: skip
    parser.add_argument("--cost-bps", type=cost_bps, default=0.0, metavar="B",
                        help="cost per unit of turnover in basis points; metrics are net "
                        "of it (default 0)")  # fmt: skip


def check_evaluation_options(args: argparse.Namespace) -> None:
    """Refuse --quantile without --portfolio quantile (no other rule reads it: the run
    went on with the other rule, as if the share had been used), else fill its
    default."""
    if args.quantile is None:
        args.quantile = DEFAULT_QUANTILE
    elif args.portfolio != "quantile":
        raise UsageError(
            f"--quantile {args.quantile:g} applies to --portfolio quantile only, and "
            f"--portfolio is {args.portfolio}: add --portfolio quantile, or drop --quantile."
        )


def fold_config(model: str, config: dict, target) -> dict:
    """``config`` as each fold fits it: a binary ``target`` (y_will_peak) as
    classification where the family can, and one thread per model."""
    from skquant.registry import get_trainer
    from skquant.strategies import choose_task

    probe = get_trainer(model)()
    if "task" in probe.get_params() and "task" not in config:
        task = choose_task(probe, target.dropna(), config)
        if task != "regression":
            config["task"] = task
    # Folds run in parallel, so each model gets one thread: several OpenMP teams on
    # the same cores spin against each other and run many times slower.
    if "n_jobs" not in config and "n_jobs" in probe.get_params():
        config["n_jobs"] = 1
    return config


def load_panel(
    input_dir: str,
    target: str | None,
    return_col: str | None = None,
    features: list | None = None,
) -> tuple:
    """The folder's panel, its bad files and first unseen dates: :func:`skquant.cli._data.load_panel`."""
    from skquant.cli._data import load_panel as read_panel

    return read_panel(input_dir, target, return_col, features)


def _config(args):
    from skquant.config import VARIANT_ENV, load_model_config, read_config_file
    from skquant.registry import get_trainer

    try:
        get_trainer(args.model)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    require_supervised("--model", [args.model])
    require_models("--model", [args.model])
    variant = args.variant
    if variant is None and args.config is None and not os.environ.get(VARIANT_ENV):
        variant = FAST_VARIANT
    source = args.model
    if args.config is not None:
        try:
            _, _, model = read_config_file(args.config)
        except ValueError as exc:
            raise UsageError(f"--config: {exc}") from None
        if model not in (None, args.model):
            raise UsageError(f"--config {args.config!r} configures {model!r}, not {args.model!r}.")
        source = args.config
    try:
        config = load_model_config(source, variant=variant)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    option = "--config" if args.config else "--model"
    check_config_values(option, args.model, config, source)
    require_config_models(option, args.model, config)
    return config, variant or os.environ.get(VARIANT_ENV) or "balanced"


def _fold_table(folds) -> str:
    import pandas as pd

    cols = [c for c in folds.columns if c not in ("train_start", "train_end")]
    frame = folds[cols].copy()
    stamps = [c for c in ("train_start", "train_end", "test_start", "test_end") if c in folds]
    # intraday folds print their times: two folds within one date read apart
    shown = date_format(pd.concat([pd.to_datetime(folds[c]) for c in stamps])) if stamps else ""
    for c in ("test_start", "test_end"):
        if c in frame:
            frame[c] = pd.to_datetime(frame[c]).dt.strftime(shown)
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")


# equity.csv: the book's returns by date (WalkForwardResult.returns), then the equity,
# drawdown and serving fold of net (WalkForwardResult.to_frame)
EQUITY_RETURNS = ("gross", "cost", "net", "turnover", "benchmark")
EQUITY_CURVE = ("equity", "drawdown", "fold")
# The file written last: a folder without it holds a stopped run's files.
MANIFEST = "run_manifest.json"
# Written only when the model explains its features.
IMPORTANCE_FILES = ("feature_importance.csv", "feature_importance.png")


def _equity_frame(result):
    """What equity.csv holds: by date, ``gross``, ``cost``, ``net``, ``turnover`` and
    ``benchmark`` of ``result.returns``, then ``equity`` (compounded from 1) and
    ``drawdown`` of net and the ``fold`` that served the date."""
    import pandas as pd

    curve = result.to_frame()
    frame = pd.concat(
        [result.returns[list(EQUITY_RETURNS)], curve[list(EQUITY_CURVE)]], axis=1, join="outer"
    )
    frame.index.name = "date"
    return frame


# Every file of the output folder is logged to MLflow but the (large) predictions (and
# the fold checkpoints, a folder).
UNTRACKED = ("predictions.parquet",)
# The folder of --output-dir that keeps each fold's predictions (WalkForwardEngine.run's
# checkpoint_dir), so that a stopped run resumes.
CHECKPOINTS = "checkpoints"


def read_data(args: argparse.Namespace, requested) -> tuple:
    """The panel of ``--input-dir`` (else the demo data), ``{symbol: error}`` of its bad
    files, ``{symbol: first unseen date}`` and a description of the source; a usage
    error when ``--target`` or ``--return-col`` is not a column."""
    failed: dict[str, str] = {}
    unseen: dict = {}
    if args.input_dir is None:
        from skquant.datasets import load_demo

        try:
            panel = load_demo()
        except ImportError as exc:
            raise UsageError(f"the demo data needs the demo extra: {exc}") from None
        source = "demo data (S&P 500 and NASDAQ daily, arch package)"
    else:
        panel, failed, unseen = load_panel(args.input_dir, args.target, args.return_col, requested)
        source = args.input_dir
    if args.target is not None and args.target not in panel.columns:
        raise UsageError(
            f"--target {args.target!r} is not a column of the data; columns: "
            f"{', '.join(map(str, panel.columns))}."
        )
    if args.return_col is not None and args.return_col not in panel.columns:
        raise UsageError(f"--return-col {args.return_col!r} is not a column of the data.")
    if args.input_dir is not None:
        panel = _without_empty_symbols(panel, args, failed)
    return panel, failed, unseen, source


def _without_empty_symbols(panel: pd.DataFrame, args, failed: dict) -> pd.DataFrame:
    """``panel`` without the symbols whose target (``--target``, else the default one)
    holds no value, each reported in ``failed``: kept, its test rows were taken for a
    delisted symbol's (a survivorship warning), and the file's fault went unnamed."""
    from skquant.leakage import default_target

    try:
        target = args.target or default_target(panel)
    except ValueError:
        return panel  # the engine names the missing target
    values = panel[target].notna().groupby(level="symbol").any()
    for symbol in values.index[~values.to_numpy()]:
        failed[symbol] = f"column {target!r} (the target) holds no value."
    if values.all():
        return panel
    if not values.any():
        raise UsageError(f"column {target!r} (the target) holds no value in any symbol file.")
    keep = panel.index.get_level_values("symbol").isin(values.index[values.to_numpy()])
    return panel[keep]


def run(args: argparse.Namespace) -> int:
    with deferred_tracking(args, "walkforward", run_name=args.model) as open_run:
        return _run(args, open_run)


def _log_run(tracker, out: Path, folds) -> None:
    """Log a finished run to MLflow: settings, summary, per-fold metrics, the files."""
    import json

    if not tracker.enabled:
        return
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    keys = ("model", "variant", "config", "target", "return_col", "leak_threshold",
            "label_horizon", "periods_per_year", "windows", "portfolio", "data")  # fmt: skip
    tracker.log_params({key: manifest.get(key) for key in keys})
    tracker.log_params({"n_features": len(manifest["features"]), "n_folds": len(folds)})
    tracker.log_metrics(json.loads((out / "summary.json").read_text(encoding="utf-8")))
    tracker.log_steps(folds, step="fold", prefix="fold/")
    tracker.log_artifacts(out, exclude=UNTRACKED, recursive=False)


def _reworded(item: warnings.WarningMessage) -> warnings.WarningMessage:
    """``item`` with its message in the run's words (:func:`_in_run_words`); a category
    that cannot be built from a message alone (keyword-only, as scikit-learn's
    ``InconsistentVersionWarning``) is kept as it came, text and all."""
    text = _in_run_words(str(item.message))
    if text == str(item.message):
        return item
    try:
        message = item.category(text)
    except TypeError:
        return item
    return warnings.WarningMessage(message, item.category, item.filename, item.lineno)


def _in_run_words(message: str) -> str:
    """A warning of the last fold's ``get_feature_importance()``, which the run made
    for ``feature_importance.csv``, in the run's words (the user made no such call)."""
    return re.sub(
        r"^(\w+)\.get_feature_importance\(kind='gain'\): ",
        r"feature_importance.csv (the last fold's \1): ",
        message,
    )


def _run(args: argparse.Namespace, open_run) -> int:

    import shutil

    from skquant.cli._data import parse_features
    from skquant.cli._pairs import plot_importance
    from skquant.metrics import sharpe_ratio
    from skquant.utils._checkpoint import remove_unused
    from skquant.utils._io import atomic_write_bytes, atomic_write_figure, atomic_write_json

    verbosity = int(args.verbose or 0) - int(args.quiet or 0)
    check_n_jobs(args.n_jobs)
    check_evaluation_options(args)
    out = output_folder(args.output_dir)
    config, variant = _config(args)
    requested = parse_features(args.features)
    panel, failed, unseen, source = read_data(args, requested)
    # Feature models (build-features) saw each symbol's early dates: test after them.
    min_test_date = max(unseen.values()) if unseen else None
    from skquant.walkforward import WalkForwardEngine

    # too few dates, a leak, a multi-period P&L, ...: one line, exit 2
    with library_rules(verbosity) as prepared:
        engine = WalkForwardEngine(
            panel,
            features=requested,
            min_test_date=min_test_date,
            verbose=verbosity >= 0,
            **_options(args, ENGINE_OPTIONS),
        )
    target, return_col, features = engine.target_, engine.return_col_, engine.features_

    config = fold_config(args.model, config, panel[target])
    symbols = panel.index.get_level_values("symbol").unique()
    dates = panel.index.get_level_values("date")
    if verbosity >= 0:
        shown = date_format(dates)
        print(f"data: {source}: {len(panel)} rows, {len(symbols)} symbols, "
              f"{dates.min().strftime(shown)} to {dates.max().strftime(shown)}")  # fmt: skip
        where = f"variant {variant} of {args.config}" if args.config else f"variant {variant}"
        print(f"model: {args.model} ({where}); target: {target}; returns: {return_col}")
        print(f"features ({len(features)}): {', '.join(features)}")
        print(f"embargo: {engine.embargo_days_} {period_word(panel)} (label horizon "
              f"{engine.label_horizon_} of {target}, from its {engine.label_horizon_source_}); "
              f"{engine.periods_per_year_:g} periods a year")  # fmt: skip
        if min_test_date is not None:
            print(f"the feature models build-features fitted never saw the dates from "
                  f"{min_test_date.strftime(shown)} on: testing starts there "
                  f"({engine.n_folds_skipped_} earlier folds skipped)")  # fmt: skip
    tracker = open_run()  # the options and data are checked: the MLflow run starts
    started = _dt.datetime.now(_dt.timezone.utc)
    checkpoints = out / CHECKPOINTS
    if args.force and checkpoints.is_dir():
        shutil.rmtree(checkpoints)
    with warnings.catch_warnings(record=True) as caught:  # said in the command's words
        warnings.simplefilter("default")  # each distinct warning once
        result = engine.run(args.model, config, checkpoint_dir=checkpoints)
        # The most recent model (the last fold's, loaded with it from a checkpoint)
        # explains the features; its warning (every importance 0) qualifies the run too.
        final = engine.last_model_
        importance = None
        if hasattr(final, "get_feature_importance"):
            importance = final.get_feature_importance()
    caught = [_reworded(item) for item in caught]
    report_warnings(caught, verbosity)
    # what qualifies the summary (a model that learned nothing, a fold cut short), kept
    # beside it in the manifest and the report: the console's lines scroll away; the
    # warnings of reading the data (an --embargo-days below the label horizon, an
    # explicit --periods-per-year the dates contradict) first, each once
    notes = list(dict.fromkeys(cli_words(str(item.message)) for item in [*prepared, *caught]))
    # the folds of earlier runs with other settings, and a killed run's temporary files
    remove_unused(checkpoints, since=started.timestamp())

    # run_manifest.json marks a finished run: removed before this run's first file
    # replaces an earlier run's and written again last, so a run stopped in between
    # leaves no manifest beside a mix of both runs' files (its checkpoints resume it)
    (out / MANIFEST).unlink(missing_ok=True)
    result.save(out)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = "sharpe" if "sharpe" in result.metrics else result.metrics[0]
    fig = result.plot(metric)
    atomic_write_figure(out / "walkforward.png", fig, dpi=90)
    # the same picture, embedded
    result.write_report(out / "report.html", figure=fig, warnings=notes)
    plt.close(fig)
    atomic_write_bytes(out / "equity.csv", _equity_frame(result).to_csv().encode("utf-8"))

    if importance is not None:
        atomic_write_bytes(out / "feature_importance.csv", importance.to_csv().encode("utf-8"))
        plot_importance(importance, out / "feature_importance.png", f"{args.model}, last fold", 20)
    else:  # an earlier run's importance would pass for this model's
        for name in IMPORTANCE_FILES:
            (out / name).unlink(missing_ok=True)

    # the test dates with a booked return: what the summary's return metrics rest on
    # (the fold table's n_periods, per fold, counts overlapping windows twice)
    n_periods = int(result.returns["net"].notna().sum())
    atomic_write_json(  # last: the run is finished
        out / MANIFEST,
        {
            "command": ["skquant", *sys.argv[1:]],
            "started": started.isoformat(timespec="seconds"),
            "data": source,
            "n_rows": len(panel),
            "symbols": [str(s) for s in symbols],
            "failed_symbols": failed,
            "model": args.model,
            "variant": variant,
            "config_file": args.config,
            "config": config,
            "target": target,
            "return_col": return_col,
            "features": features,
            "leak_threshold": args.leak_threshold,
            "label_horizon": engine.label_horizon_,
            "label_horizon_source": engine.label_horizon_source_,
            "periods_per_year": engine.periods_per_year_,
            "min_test_date": min_test_date,
            "windows": {
                **_options(args, WINDOW_OPTIONS),
                "embargo_days": engine.embargo_days_,
                "embargo_days_requested": args.embargo_days,
            },
            "portfolio": {
                "rule": args.portfolio,
                "quantile": args.quantile,
                "cost_bps": args.cost_bps,
            },
            "n_folds": len(result.folds),
            "n_periods": n_periods,
            "summary": result.summary,
            "warnings": notes,
        },
    )
    periods_per_year = result.periods_per_year
    gross_sharpe = sharpe_ratio(result.returns["gross"], periods_per_year=periods_per_year)
    net = sharpe_ratio(result.returns["net"], periods_per_year=periods_per_year)
    if verbosity >= 0:
        print()
        print(_fold_table(result.folds))
        print()
        print(f"out-of-sample summary over {len(result.folds)} folds, "
              f"{n_periods} test periods:")  # fmt: skip
        for name, value in result.summary.items():
            print(f"  {name:<15} {value: .4f}")
        print(f"Sharpe gross {gross_sharpe:.4f}, net {result.summary.get('sharpe', net):.4f} "
              f"(portfolio {args.portfolio}, {args.cost_bps:g} bp per unit traded)")  # fmt: skip
        if importance is not None and not importance.any():  # no order to show
            print("top features (last fold): none, every importance is 0 (its model made "
                  "no split: it learned nothing)")  # fmt: skip
        elif importance is not None:
            print(f"top features (last fold): {', '.join(map(str, importance.index[:5]))}")
        explained = (
            " feature_importance.csv, feature_importance.png," if importance is not None else ""
        )
        print(f"wrote {out}/: predictions.parquet, folds.csv, summary.json, equity.csv,"
              f"{explained} walkforward.png, report.html, run_manifest.json")  # fmt: skip
    else:
        print(f"sharpe {result.summary.get('sharpe', net):.4f} (gross {gross_sharpe:.4f}, "
              f"over {len(result.folds)} folds, {n_periods} test periods)")  # fmt: skip
    for symbol, error in failed.items():
        print(f"skquant: symbol {symbol} skipped: {error}", file=sys.stderr)
    _log_run(tracker, out, result.folds)
    log.debug("walk-forward done")
    return EXIT_PARTIAL if failed else EXIT_OK
