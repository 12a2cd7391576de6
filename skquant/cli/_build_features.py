"""``skquant build-features``: add VAE latent features to every symbol file of a folder.

For each symbol the VAE is fitted on the earliest ``--train-frac`` of its dates only
(no look-ahead: the later rows never shape the encoder that describes them), then
encodes every row. Each file is written back to ``--output-dir`` with columns
``vae0 .. vae{N-1}`` added (an earlier build's latent columns dropped), in its input
format, ready for ``skquant train-all``; the fitted VAE of each symbol goes to
``OUT/vae_models/SYMBOL/`` (``save_model``). The first date each VAE never saw is
written into the parquet file's own metadata and into ``SYMBOL.features.json`` beside it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skquant.cli._common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_PARTIAL,
    UsageError,
    check_config_values,
    check_n_jobs,
    fraction,
    leak_threshold,
    library_rules,
    output_folder,
    positive_int,
    require_models,
)
from skquant.cli._runner import (
    JobSettings,
    atomic_folder,
    clean_stale_temp,
    keep_warnings,
    pair_is_finished,
    peak_memory_mb,
    report_symbol_warnings,
    reset_peak_memory,
    run_symbols,
    threads_per_symbol,
)
from skquant.utils._text import few_names
from skquant.utils._warnings import record_warnings

MODEL = "vae"
MODELS_DIR = "vae_models"
# the fewest complete rows a symbol's feature model is fitted on
MIN_FIT_ROWS = 10
# VAETrainer parameter that sets the latent size, by preference.
_LATENT_PARAMS = ("latent_dim", "n_latent", "n_components")


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "build-features",
        parents=parents,
        help="add VAE latent features (vae0..vaeN-1) to every symbol file of a folder",
        description=(
            "Fit a VAE per symbol on the earliest --train-frac of its dates (no look-ahead) "
            "and write each SYMBOL file to --output-dir with latent columns vae0..vae{N-1} "
            "added (latent columns an input file already holds, an earlier build's, are "
            "dropped); the fitted VAEs go to OUT/vae_models/SYMBOL/. Re-running skips the "
            "symbols finished with the same input columns, --latent-dim, --train-frac and "
            "config, and builds the others again; files an earlier run built for symbols "
            "this --input-dir lacks are named in a warning (remove them)."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--input-dir", required=True, metavar="DIR", help="folder of symbol files")
    parser.add_argument("--output-dir", required=True, metavar="DIR", help="where files go")
    parser.add_argument("--latent-dim", type=positive_int, default=32, metavar="N",
                        help="number of latent features (default 32)")  # fmt: skip
    parser.add_argument("--features", metavar="A,B|@FILE",
                        help="input columns (default: numeric columns that are not label-like "
                        "and that the leak guard does not flag)")  # fmt: skip
    parser.add_argument("--target", metavar="COL",
                        help="the label the features will serve: never a VAE input, and the "
                        "leak guard scores every column against it (default: the one-period "
                        "forward return, fwd_ret, when the files have it)")  # fmt: skip
    parser.add_argument("--return-col", metavar="COL",
                        help="the one-period return, also never an input and also scored")  # fmt: skip
    parser.add_argument("--leak-threshold", type=leak_threshold, default=0.2, metavar="X|none",
                        help="leak score above which a column is never a VAE input (default "
                        "0.2; 'none' switches the guard off)")  # fmt: skip
    parser.add_argument("--train-frac", type=fraction, default=0.6, metavar="F",
                        help="earliest share of each symbol's dates the VAE is fitted on "
                        "(default 0.6)")  # fmt: skip
    parser.add_argument("--config", metavar="FILE", help="YAML config file of the VAE")
    parser.add_argument("--variant", metavar="V", help="VAE config variant")
    parser.add_argument("--n-jobs", type=int, default=1, metavar="N",
                        help="symbols processed in parallel (-1: all cores; default 1)")  # fmt: skip
    parser.add_argument("--force", action="store_true", help="rebuild finished symbols too")
    parser.set_defaults(handler=run)


@dataclass
class FeatureJob(JobSettings):
    """What a worker needs to build one symbol's features (picklable)."""

    features: list[str]
    latent_dim: int
    latent_param: str
    train_frac: float
    config: dict[str, Any]


def _frame_bytes(frame, path: Path, record: dict) -> bytes:
    """A symbol file's bytes, in the format its suffix names.

    A parquet file also holds ``record`` (the feature model's columns and the first
    date it never saw) in its own metadata, so a copy of the file without its
    ``.features.json`` still keeps walkforward and train-all out of sample; a CSV file
    has no room for it (:func:`skquant.cli._data.first_unseen_date` refuses a CSV
    file's latent columns without its record).
    """
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from skquant.cli._data import BUILD_RECORD_KEY
    from skquant.utils._io import to_jsonable

    if path.suffix.lower() == ".csv":
        return frame.to_csv().encode("utf-8")
    table = pa.Table.from_pandas(frame)
    metadata = dict(table.schema.metadata or {})
    if frame.attrs:  # as DataFrame.to_parquet keeps them (make_labels' horizons)
        metadata[b"PANDAS_ATTRS"] = json.dumps(frame.attrs).encode("utf-8")
    metadata[BUILD_RECORD_KEY] = json.dumps(to_jsonable(record)).encode("utf-8")
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def build_symbol(symbol: str, path: str, job: FeatureJob) -> dict:
    """Fit the VAE on one symbol's early dates and add its latent columns; never raises."""
    import hashlib
    import json

    import numpy as np

    from skquant.cli._data import is_latent_column, read_symbol, sidecar_path
    from skquant.persistence import save_model
    from skquant.registry import get_trainer
    from skquant.utils._io import atomic_write_bytes, atomic_write_json, file_sha256

    reset_peak_memory()
    started = time.perf_counter()
    out_dir = Path(job.output_dir)
    out_file = out_dir / Path(path).name
    model_dir = out_dir / MODELS_DIR / symbol
    clean_stale_temp(model_dir)  # a killed run's half-written model folders
    result: dict[str, Any] = {"symbol": symbol, "status": "built"}
    try:
        source = file_sha256(path)
    except OSError:
        source = None  # unreadable: read_symbol below names the problem
    if not job.force and source is not None and _is_built(out_file, model_dir, job, source):
        result["status"] = "skipped"
        try:  # its build's figures, for the run's table and manifest
            built = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
            result.update(n_fit=built["n_fit"], fit_end=str(built["fit_end"])[:10])
        except (OSError, ValueError, KeyError):
            pass  # a model saved without them: the table shows dashes
        return result
    # the warnings of the fit are said once per run by run(), not once per symbol
    with record_warnings() as caught:
        try:
            frame = read_symbol(Path(path), job.features)
            dates = frame.index.unique().sort_values()
            n_fit_dates = int(len(dates) * job.train_frac)
            if n_fit_dates < 2:
                raise ValueError(f"too few rows: {len(dates)} dates, {n_fit_dates} to fit on")
            cutoff = dates[n_fit_dates]  # first date the VAE never sees
            X = frame[job.features].to_numpy(dtype=float)
            finite = np.isfinite(X).all(axis=1)
            fit_rows = finite & np.asarray(frame.index < cutoff)
            if fit_rows.sum() < MIN_FIT_ROWS:
                raise ValueError(
                    f"too few rows: {int(fit_rows.sum())} complete rows before {cutoff}"
                )
            config = dict(job.config)
            trainer = get_trainer(MODEL)(config).set_params(**{job.latent_param: job.latent_dim})
            if "n_jobs" in trainer.get_params() and "n_jobs" not in config:
                trainer.set_params(n_jobs=job.threads)
            X_fit = frame.loc[fit_rows, job.features]
            trainer.fit(X_fit)
            latent = np.asarray(trainer.transform(frame.loc[finite, job.features]), dtype=float)
            if latent.shape != (int(finite.sum()), job.latent_dim) or not np.isfinite(latent).all():
                raise ValueError(
                    f"the VAE returned latent features of shape {latent.shape} (expected "
                    f"({int(finite.sum())}, {job.latent_dim})) or non-finite values"
                )
            names = [f"vae{i}" for i in range(job.latent_dim)]
            # every latent column of the input goes (an earlier build's, from another
            # feature model fitted on other dates: kept, it would be validated and
            # tested after this build's later cutoff, in-sample), not only this build's
            stale = [str(c) for c in frame.columns if is_latent_column(c)]
            out = frame.drop(columns=stale)
            block = np.full((len(frame), job.latent_dim), np.nan)
            block[finite] = latent
            for i, name in enumerate(names):
                out[name] = block[:, i]
            metrics = {
                "symbol": symbol,
                "n_fit": int(fit_rows.sum()),
                "fit_start": frame.index[fit_rows].min(),
                "fit_end": frame.index[fit_rows].max(),
                "first_unseen_date": cutoff,
                "n_encoded": int(finite.sum()),
                "latent_dim": job.latent_dim,
                "features": job.features,
            }
            payload = _frame_bytes(
                out,
                out_file,
                {
                    "model": MODEL,
                    "columns": names,
                    "fit_start": metrics["fit_start"],
                    "fit_end": metrics["fit_end"],
                    "first_unseen_date": cutoff,
                },
            )
            # One build's file, model and record, in an order a killed run cannot mix up:
            # the old file goes first, so no record or model of this build ever sits beside
            # the features of another (walkforward would test them after the wrong date);
            # the new file comes last, and its SHA-256 in the record ties the two together.
            out_file.unlink(missing_ok=True)
            with atomic_folder(model_dir) as tmp:
                save_model(trainer, tmp, metrics=metrics, data=X_fit)
            # beside the file: the first date the VAE never saw, so walkforward and
            # train-all test and validate only after it
            atomic_write_json(
                sidecar_path(out_file),
                {
                    "model": MODEL,
                    "columns": names,
                    "inputs": job.features,
                    "fit_start": metrics["fit_start"],
                    "fit_end": metrics["fit_end"],
                    "first_unseen_date": cutoff,
                    "settings": _build_settings(job),
                    "source_sha256": source,
                    "data_sha256": hashlib.sha256(payload).hexdigest(),
                },
            )
            atomic_write_bytes(out_file, payload)  # written last: it marks the symbol finished
            result.update(n_fit=metrics["n_fit"], fit_end=str(metrics["fit_end"].date()))
            if stale:
                result["dropped_columns"] = stale
        except Exception as exc:  # the symbol fails; the others go on
            result.update(status="failed", error=f"{exc}")
    keep_warnings(result, caught)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["peak_memory_mb"] = peak_memory_mb()
    return result


def _vae_inputs(sample, args, requested, sample_name: str, verbosity: int) -> tuple:
    """The VAE's input columns (never the target, the return column or a leak) and the target."""

    from skquant.leakage import default_target, select_features

    target = args.target
    if target is None:
        try:
            target = default_target(sample)
        except ValueError:
            target = None
    for name, option in ((target, "--target"), (args.return_col, "--return-col")):
        if name is not None and name not in sample.columns:
            raise UsageError(f"{option} {name!r} is not a column of {sample_name}.")
    if target is None:
        # without a label there is nothing to score a leak against: the name rule only
        print(
            "skquant: warning: no --target and no fwd_ret column: only label-like names "
            "(y_*, fwd_*, TTH, ...) are kept out of the VAE inputs; pass --target.",
            file=sys.stderr,
        )
    with library_rules(verbosity, f"{sample_name}: "):
        features = select_features(
            sample,
            target,
            args.return_col,
            requested,
            leak_threshold=None if target is None else args.leak_threshold,
        )
    return features, target


def _build_settings(job: FeatureJob) -> dict:
    """What shapes a symbol's latent columns besides its inputs: the latent size, the
    share of dates the VAE is fitted on and its config (``n_jobs`` aside)."""
    from skquant.utils._io import as_read_back

    config = {k: v for k, v in job.config.items() if k != "n_jobs"}
    config[job.latent_param] = job.latent_dim  # as fitted, not the YAML's size
    settings = {"latent_dim": job.latent_dim, "train_frac": job.train_frac, "config": config}
    return as_read_back(settings)


def _is_built(out_file: Path, model_dir: Path, job: FeatureJob, source: str) -> bool:
    """Whether a symbol's file, its VAE and its record stand finished, from one build,
    with this run's inputs and settings; ``source`` is the SHA-256 of the input file.

    A file without its ``SYMBOL.features.json`` record (written by an older skquant),
    whose bytes are not the ones its record names (a file from another build: a run
    killed between writing a record and its file), built from another input file
    (dates appended, values edited: the output would lack them) or other input
    columns, or with another ``--latent-dim``, ``--train-frac``, ``--config`` or
    ``--variant`` is built again: its record is what keeps walkforward and train-all
    from testing the features in-sample, and a re-run must not keep features the
    command no longer asks for. So is a file an older skquant wrote: a parquet file
    without the record in its own metadata, or one that kept an earlier build's
    latent columns beside its own.
    """
    import json

    from skquant.cli._data import _header, file_build_record, is_latent_column, sidecar_path
    from skquant.utils._io import file_sha256

    if not (out_file.is_file() and pair_is_finished(model_dir)):
        return False
    try:
        record = json.loads(sidecar_path(out_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not (
        record.get("inputs") == list(job.features)
        and record.get("source_sha256") == source
        and "first_unseen_date" in record
        and record.get("settings") == _build_settings(job)
    ):
        return False
    try:
        if record.get("data_sha256") != file_sha256(out_file):
            return False
        if out_file.suffix.lower() != ".csv" and file_build_record(out_file) is None:
            return False
    except (OSError, ValueError):
        return False
    return [c for c in _header(out_file) if is_latent_column(c)] == record.get("columns")


def _earlier_files(out_dir: Path, files: dict) -> list[str]:
    """The symbol files in ``out_dir`` with a build-features record whose symbol is not
    among this run's ``files``: an earlier run's, which this run neither built nor
    checked."""
    from skquant.cli._data import SUFFIXES, sidecar_path

    return sorted(
        path.name
        for path in out_dir.iterdir()
        if path.is_file()
        and path.suffix.lower() in SUFFIXES
        and path.stem not in files
        and sidecar_path(path).is_file()
    )


def _latent_param(cls) -> str:
    import inspect

    params = inspect.signature(cls.__init__).parameters
    for name in _LATENT_PARAMS:
        if name in params:
            return name
    raise UsageError(f"{cls.__name__} has none of the latent-size parameters {_LATENT_PARAMS}.")


def _column_order(name: str) -> int:
    """``vae12``'s number, to list latent columns in order."""
    return int(name[3:])


def _progress_line(res: dict) -> str:
    extra = f" -- FAILED: {res.get('error')}" if res["status"] == "failed" else ""
    return f"{res['symbol']}: {res['status']}{extra}"


def run(args: argparse.Namespace) -> int:
    from skquant.cli._data import (
        asked_columns,
        is_latent_column,
        parse_features,
        plan_files,
        plan_sample,
        symbol_files,
    )
    from skquant.config import load_model_config
    from skquant.registry import get_trainer
    from skquant.utils._io import atomic_write_json

    verbosity = int(args.verbose or 0) - int(args.quiet or 0)
    files = symbol_files(args.input_dir)
    require_models("the VAE features", [MODEL])
    cls = get_trainer(MODEL)
    try:
        config = load_model_config(args.config or MODEL, variant=args.variant)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_config_values("--config", MODEL, config, args.config or MODEL)
    latent_param = _latent_param(cls)
    out_dir = output_folder(args.output_dir)
    if out_dir.resolve() == Path(args.input_dir).expanduser().resolve():
        raise UsageError("--output-dir must differ from --input-dir (files are written anew).")
    check_n_jobs(args.n_jobs)
    requested = parse_features(args.features)
    latent_asked = [c for c in requested or () if is_latent_column(c)]
    if latent_asked:
        raise UsageError(
            f"--features names {', '.join(latent_asked)}: latent columns (vae0, vae1, ...) "
            "are what build-features writes, never its inputs (an input file's own are "
            "dropped and written anew); leave them out of --features."
        )
    # the VAE's inputs pass the leak guard on a few files pooled, as train-all's plan:
    # one file with a constant target made every leak score NaN, the guard silent
    # (on files with rows enough to fit on, as train-all's on files it can train on)
    sample, sample_names, _ = plan_sample(
        files,
        asked_columns(args.target, args.return_col, requested),
        args.input_dir,
        args.target,
        min_rows=math.ceil(MIN_FIT_ROWS / args.train_frac),
    )
    sample_name = plan_files(sample_names)
    existing = [c for c in sample.columns if is_latent_column(c)]
    features, target = _vae_inputs(
        sample.drop(columns=existing), args, requested, sample_name, verbosity
    )
    if verbosity >= 0:
        print(f"{len(files)} symbols in {args.input_dir}; VAE latent dim {args.latent_dim}, "
              f"fitted on the earliest {args.train_frac:.0%} of each symbol's dates")  # fmt: skip
        print(f"features ({len(features)}): {', '.join(features)}")
    job = FeatureJob(
        output_dir=str(out_dir),
        features=features,
        latent_dim=args.latent_dim,
        latent_param=latent_param,
        train_frac=args.train_frac,
        config=config,
        threads=threads_per_symbol(args.n_jobs, len(files)),
        force=args.force,
        verbosity=verbosity,
    )
    (out_dir / MODELS_DIR).mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    results = run_symbols(build_symbol, files, job, args.n_jobs, _progress_line)
    results.sort(key=lambda r: r["symbol"])
    failed = [r for r in results if r["status"] == "failed"]
    earlier = _earlier_files(out_dir, files)
    atomic_write_json(
        out_dir / MODELS_DIR / "run_manifest.json",
        {
            "command": ["skquant", *sys.argv[1:]],
            "started": started.isoformat(timespec="seconds"),
            "input_dir": str(Path(args.input_dir).resolve()),
            "latent_dim": args.latent_dim,
            "train_frac": args.train_frac,
            "features": features,
            "planned_on": sample_names,
            "target": target,
            "return_col": args.return_col,
            "leak_threshold": args.leak_threshold,
            "config": config,
            "symbols": results,
            "not_built_by_this_run": earlier,
        },
    )
    if earlier:
        shown = few_names(earlier)
        print(
            f"skquant: warning: {out_dir} also holds {shown}, built by an earlier build-features "
            "run from files this --input-dir lacks (perhaps with other inputs or settings); "
            "walkforward and train-all on the folder would read them: remove them.",
            file=sys.stderr,
        )
    dropped = [r for r in results if r.get("dropped_columns")]
    if dropped and verbosity >= 0:
        columns = sorted({c for r in dropped for c in r["dropped_columns"]}, key=_column_order)
        symbols = few_names(r["symbol"] for r in dropped)
        print(
            f"dropped the latent columns {', '.join(columns)} of the input files ({symbols}): "
            "an earlier build's, from another feature model; the files written hold this "
            f"run's vae0..vae{args.latent_dim - 1} only"
        )
    report_symbol_warnings(
        results, verbosity, lambda said: re.sub(r"\blatent_dim=", "--latent-dim ", said)
    )
    if verbosity >= 0:
        width = max(6, *(len(r["symbol"]) for r in results))
        print(f"{'symbol':<{width}}  status   fit rows  fit until   seconds")
        for r in results:
            print(f"{r['symbol']:<{width}}  {r['status']:<7}  {r.get('n_fit', '-')!s:>8}  "
                  f"{r.get('fit_end', '-'):<10}  {r.get('seconds', 0):.1f}")  # fmt: skip
    for r in failed:
        print(f"skquant: symbol {r['symbol']} failed: {r.get('error')}", file=sys.stderr)
    return EXIT_PARTIAL if failed else EXIT_OK
