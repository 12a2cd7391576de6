"""Pieces shared by the CLI commands: errors, logging and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import warnings
from pathlib import Path

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 3

log = logging.getLogger("skquant.cli")


class UsageError(Exception):
    """Bad usage or bad input: reported in one line, exit code 2."""


class _BarSafeHandler(logging.StreamHandler):
    """Writes each log line through ``tqdm.write``: a line logged while a progress bar
    is drawn lands on its own line, the bar redrawn below it (it was appended to the
    bar's line). The line and its newline go in one write: ``tqdm.write`` writes its
    ``end`` apart, and the worker processes of ``--n-jobs`` interleaved their lines
    between the two."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record) + "\n", file=self.stream, end="")
        except Exception:  # as logging.StreamHandler: never let a log line stop a run
            self.handleError(record)


def setup_logging(verbosity: int) -> None:
    """``-q`` shows warnings only, default info, ``-v`` debug."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < -1:
        level = logging.ERROR
    handler = _BarSafeHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("skquant")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def cost_bps(text: str) -> float:
    """argparse type of ``--cost-bps``: a finite number >= 0."""
    return _number(text, float, lambda v: 0 <= v < float("inf"), "a number >= 0")


def split_list(text: str | None) -> list[str] | None:
    """``"a,b, c"`` -> ``["a", "b", "c"]``; None stays None."""
    if text is None:
        return None
    items = [part.strip() for part in text.split(",")]
    return [item for item in items if item]


def _number(text: str, kind: type, ok, expected: str):
    """An argparse ``type=`` converter: ``kind(text)`` if ``ok`` of it, else a usage error."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _number(text, int, lambda v: v >= 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    return _number(text, float, lambda v: 0 < v < 1, "a number in (0, 1)")


def embargo(text: str):
    """argparse type: ``auto`` (the label horizon) or an integer >= 0."""
    if text.strip().lower() == "auto":
        return "auto"
    return _number(text, int, lambda v: v >= 0, "'auto' or an integer >= 0")


def output_folder(text: str) -> Path:
    """``--output-dir`` as a path, UsageError unless it is or can become a folder.

    Checked before any work: a file on the way (``out`` a file, or ``out/sub`` under
    one) or a folder that cannot be written would fail only when the results are
    written, after every fit.
    """
    out = Path(text).expanduser()
    try:
        existing = next(path for path in (out, *out.parents) if path.exists())
    except OSError as exc:  # a folder on the way that cannot be looked into
        raise UsageError(f"--output-dir {str(out)!r}: {exc.strerror or exc}.") from None
    if not existing.is_dir():
        what = (
            "exists and is not a folder"
            if existing == out
            else f"is under the file {str(existing)!r}"
        )
        raise UsageError(f"--output-dir {str(out)!r} {what}.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"--output-dir {str(out)!r}: the folder {str(existing)!r} is not writable."
        )
    return out


def check_n_jobs(n_jobs: int) -> None:
    """UsageError unless ``--n-jobs`` is a positive integer or -1."""
    if n_jobs == 0 or n_jobs < -1:
        raise UsageError(f"--n-jobs must be a positive integer or -1, got {n_jobs}.")


# The exit codes of a command that runs over many symbols, for its --help.
EXIT_CODES_HELP = (
    "Exit codes: 0 all done, 1 some symbols failed, 2 bad usage or input, 3 unexpected error."
)


def add_label_options(parser, *, held_out: str, without_return: str) -> None:
    """The options of train-all and walkforward that say what is learned and booked.

    ``--target``, ``--return-col``, ``--features``, ``--leak-threshold``,
    ``--embargo-days`` and ``--periods-per-year``, the library's parameters of the same
    names. ``held_out`` names what the embargo separates from training; ``without_return``
    says what a multi-period or binary target without ``--return-col`` gets.
    """
    parser.add_argument("--target", metavar="COL",
                        help="target column (default: the one-period forward return, fwd_ret)")  # fmt: skip
    parser.add_argument("--return-col", metavar="COL",
                        help="one-period return the positions earn (default: the target when "
                        f"it spans one period; {without_return})")  # fmt: skip
    parser.add_argument("--features", metavar="A,B|@FILE",
                        help="feature columns, or @FILE with one per line (default: the numeric "
                        "columns that are not the target or label-like: y_*, fwd_*, forward_*, "
                        "future_*, target_*, TTH, MDD, MFE, and that the leak guard does not "
                        "flag)")  # fmt: skip
    parser.add_argument("--leak-threshold", type=leak_threshold, default=0.2, metavar="X|none",
                        help="leak score above which a column is a leak: left out of the default "
                        "features, an error among --features; 'none' switches the guard off "
                        "(default 0.2)")  # fmt: skip
    parser.add_argument("--embargo-days", type=embargo, default="auto", metavar="N|auto",
                        help=f"dates dropped between training and {held_out} (bars on "
                        "intraday data; default auto: the target's label horizon)")  # fmt: skip
    parser.add_argument("--periods-per-year", type=positive_float, metavar="N",
                        help="annualisation of the trading metrics (default: from the dates, "
                        "252 daily, 52 weekly)")  # fmt: skip


def date_format(dates) -> str:
    """The ``strftime`` format that prints ``dates`` (Timestamps, an index, a column)
    apart: ``%Y-%m-%d`` when each is at midnight (daily data), else with the time of
    day (``%H:%M``, ``%H:%M:%S`` when a second is set), so that two bars of one date
    never print alike."""
    import pandas as pd

    stamps = pd.DatetimeIndex(dates).dropna()
    if (stamps == stamps.normalize()).all():
        return "%Y-%m-%d"
    if (stamps == stamps.floor("min")).all():
        return "%Y-%m-%d %H:%M"
    return "%Y-%m-%d %H:%M:%S"


def period_word(data) -> str:
    """What the commands' windows and embargo count on ``data`` (indexed by its dates):
    ``"dates"``, or ``"bars"`` for intraday data (several timestamps a date)."""
    from skquant.utils._target import bars_per_day

    return "bars" if bars_per_day(data) > 1 else "dates"


def leak_threshold(text: str):
    """argparse type: a number in [0, 1), or ``none`` to switch the leak guard off."""
    if text.strip().lower() == "none":
        return None
    return _number(text, float, lambda v: 0 <= v < 1, "a number in [0, 1) or 'none'")


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    return _number(text, float, lambda v: v > 0, "a positive number")


# The library's parameter names and the command line's options for the same thing, so a
# library error reads as the command's own. Each is an option of every command whose
# library calls can name it (the windows: walkforward, tune and benchmark; the study: tune).
_OPTIONS = {
    "leak_threshold": "--leak-threshold",
    "return_col": "--return-col",
    "embargo_days": "--embargo-days",
    "train_days": "--train-days",
    "test_days": "--test-days",
    "step_days": "--step-days",
    "min_train_samples": "--min-train-samples",
    "periods_per_year": "--periods-per-year",
    "study_name": "--study-name",
    "features": "--features",
    "target": "--target",
    "min_test_date": "the feature models' first unseen date",
}


def cli_words(message: str) -> str:
    """A library message with its parameter names spelled as the command's options.

    ``return_col=None`` reads "no --return-col", ``return_col='x'`` "--return-col 'x'",
    and a bare ``return_col=`` "--return-col". A name with an underscore is also
    replaced on its own ("lower min_train_samples": "lower --min-train-samples"); a
    plain word (target, features) only before ``=``. A name is never replaced inside
    a longer one (``n_features=``, ``min_train_days``).
    """
    for name, option in _OPTIONS.items():
        word = rf"\b{name}"
        message = re.sub(
            rf"{word}=None\b",
            f"no {option}" if name != "leak_threshold" else f"{option} none",
            message,
        )
        message = re.sub(rf"{word}=(?=[\s.,;:)]|$)", option, message)
        message = re.sub(rf"{word}=", f"{option} ", message)
        if "_" in name:
            message = re.sub(rf"{word}\b", option, message)
    return message


@contextlib.contextmanager
def library_rules(verbosity: int, where: str = "", *, live: bool = False):
    """Run library code for a command: each warning it gives printed as one
    ``skquant: warning:`` line (not with -qq), a ``ValueError`` it raises turned into a
    one-line usage error (exit 2) prefixed by ``where``; both in the command's words.

    By default the warnings are held and printed after the block, and not at all when
    it ends in a usage error (set-up checks: the error is the one line to read).
    ``live=True`` prints each distinct warning when it is given, for a long run
    (``tune``, ``benchmark``) whose warnings must not wait for its end.

    Yields the list the held warnings are caught into (``warnings.WarningMessage``;
    None with ``live=True``), filled once the block ends, for a command that also
    records them (walkforward's ``run_manifest.json``).
    """
    with warnings.catch_warnings(record=not live) as caught:
        warnings.simplefilter("always")
        if live:
            seen: set[str] = set()

            def show(message, category, filename, lineno, file=None, line=None) -> None:
                if str(message) not in seen:
                    seen.add(str(message))
                    report_warnings(
                        [warnings.WarningMessage(message, category, filename, lineno)], verbosity
                    )

            warnings.showwarning = show
        try:
            yield caught
        except ValueError as exc:
            raise UsageError(f"{where}{cli_words(str(exc))}") from None
    if not live:
        report_warnings(caught, verbosity)


def report_warnings(caught, verbosity: int) -> None:
    """Print caught warnings as one ``skquant: warning:`` line each (not with -qq)."""
    if verbosity < -1:
        return
    for item in caught:
        print(f"skquant: warning: {cli_words(str(item.message))}", file=sys.stderr)


def add_tracking(parser) -> None:
    """The --tracking-uri and --experiment options of the commands that log to MLflow."""
    parser.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="log the run to MLflow at URI, e.g. sqlite:///mlruns.db (default: "
        "$MLFLOW_TRACKING_URI; neither: no tracking, mlflow not imported); needs the "
        "mlflow extra",
    )
    parser.add_argument(
        "--experiment",
        metavar="NAME",
        help="MLflow experiment (default: $MLFLOW_EXPERIMENT_NAME, else the command's name)",
    )


def start_tracking(args, command: str, run_name: str | None = None):
    """The command's MLflow run as a context manager yielding a tracker.

    A do-nothing tracker without ``--tracking-uri`` or ``$MLFLOW_TRACKING_URI``; the
    experiment defaults to ``command``; the run is tagged ``skquant.command``. A
    missing ``mlflow`` is a usage error naming the extra.
    """
    from skquant.utils._tracking import tracking, tracking_uri

    uri = tracking_uri(args.tracking_uri)
    if uri is not None:
        require_module("--tracking-uri", "mlflow")
        _check_tracking_store(
            uri, "--tracking-uri" if args.tracking_uri else "$MLFLOW_TRACKING_URI"
        )
    return tracking(
        uri,
        args.experiment,
        default_experiment=command,
        run_name=run_name,
        tags={"skquant.command": command},
    )


@contextlib.contextmanager
def deferred_tracking(args, command: str, run_name: str | None = None):
    """Yields a function that opens the command's MLflow run (:func:`start_tracking`)
    and returns its tracker; the run ends with the ``with`` block.

    A command calls it once its options and data are checked, just before the work: a
    usage error (a bad option, an empty folder, a leaking feature) then leaves no
    FAILED run in the store, while a run that fails during the work is recorded as
    such. A missing ``mlflow`` is still a usage error at once.
    """
    opened = start_tracking(args, command, run_name)  # mlflow checked, no run yet
    with contextlib.ExitStack() as stack:
        trackers = []

        def open_run():
            if not trackers:
                trackers.append(stack.enter_context(opened))
            return trackers[0]

        yield open_run


def _check_tracking_store(uri: str, what: str) -> None:
    """A UsageError naming ``what`` when MLflow cannot open a store at ``uri`` (MLflow
    3 refuses a folder store unless ``MLFLOW_ALLOW_FILE_STORE=true``; an unknown
    scheme): it ended the command as an unexpected error (exit 3), after the data
    were read. Before any work, and no run is started."""
    import mlflow

    try:
        mlflow.MlflowClient(tracking_uri=uri)
    except Exception as exc:  # MlflowException, and the model registry's own
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise UsageError(
            f"{what} {uri!r}: MLflow cannot use this store: {text} A database store "
            "works in every MLflow version: sqlite:///PATH/mlflow.db."
        ) from None


def require_module(what: str, module: str) -> None:
    """A UsageError naming the extra to install when optional ``module`` is missing.

    Called before any work, so that a missing extra never ends a long run at its end.
    """
    from skquant.utils._optional import import_optional

    try:
        import_optional(module)
    except ImportError as exc:
        raise UsageError(f"{what}: {exc}") from None


def require_supervised(option: str, names) -> None:
    """A UsageError when a model of ``names`` is a feature family (VAE, GAN, regimes,
    change points): it transforms rows and predicts no target to trade, and failed
    only after a fold or a pair was fitted."""
    from sklearn.base import is_classifier, is_regressor

    from skquant.registry import get_trainer

    for name in names:
        estimator = get_trainer(name)()
        if not (is_regressor(estimator) or is_classifier(estimator)):
            raise UsageError(
                f"{option}: {name!r} is a feature model (it transforms the rows and predicts "
                "no target): train a supervised family on its features, with "
                f"`skquant build-features` then this command, or benchmark '{name}+lightgbm'."
            )


def check_config_values(option: str, name: str, config: dict, source) -> None:
    """A UsageError, before any work, when a value of ``config`` (loaded from ``source``,
    a file or a registry name) is not one the family takes: ``n_estimators: ten``
    failed every symbol of train-all, or tune's first trial with a traceback."""
    from skquant.registry import get_trainer

    resolve = getattr(get_trainer(name)(config), "_resolve_config", None)
    try:
        if resolve is not None:  # a skquant trainer (a registered stand-in may not be)
            resolve()
    except (ValueError, TypeError) as exc:  # InvalidParameterError is a ValueError
        raise UsageError(f"{option} {str(source)!r}: {exc}") from None


def require_models(option: str, names, importance: str | None = None, where: str = "") -> None:
    """A UsageError, before any work, when a model of ``names`` needs a missing extra
    (to be fitted, and explained by ``importance``); ``where`` follows the model's name
    in the message."""
    from skquant.registry import missing_dependencies
    from skquant.utils._optional import lacks_message

    for name in names:
        missing = missing_dependencies(name, importance=importance)
        if missing:
            raise UsageError(f"{option}: {lacks_message(f'{name}{where}', missing)}")


# The config keys that name other families: a meta-learning ensemble's base models, a
# reward-weighted model's base.
NESTED_MODEL_KEYS = ("estimators", "estimator")


def require_config_models(option: str, name: str, config: dict) -> None:
    """:func:`require_models` for the families that ``name``'s config names in turn
    (``meta_learning``'s ``estimators``, ``reward_based``'s ``estimator``), which a
    run would otherwise build only when it fits them, pair by pair."""
    from skquant.registry import registered_names

    known = set(registered_names())
    for key in NESTED_MODEL_KEYS:
        value = config.get(key)
        specs = value if isinstance(value, (list, tuple)) else [value]
        nested = [spec for spec in specs if isinstance(spec, str) and spec in known]
        require_models(option, nested, where=f" (in {name}'s {key})")
