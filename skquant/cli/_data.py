"""Reading a folder of per-symbol files and choosing feature columns."""

from __future__ import annotations

import datetime as _dt
import os
import re
import threading
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from skquant.cli._common import UsageError, date_format
from skquant.leakage import ID_COLUMNS, LeakageWarning, candidate_features
from skquant.utils._panel import check_panel_clock
from skquant.utils._text import few_names

SUFFIXES = (".parquet", ".pq", ".csv")
# Written by build-features beside each symbol file it writes: which columns a feature
# model made and the first date that model never saw.
SIDECAR_SUFFIX = ".features.json"
# ... and into each parquet file's own metadata, under this key (a copied file keeps it)
BUILD_RECORD_KEY = b"skquant.build_features"
# the latent columns build-features writes: vae0, vae1, ...
LATENT_COLUMN = re.compile(r"vae\d+")
# warnings.catch_warnings changes process-wide state: one thread at a time
_WARNINGS_LOCK = threading.Lock()
# train-all plans (target, label horizon, features past the leak guard) on up to this
# many files pooled, as walkforward plans on its whole panel: no one odd file decides,
# and a folder of thousands of symbols costs no more than these reads
PLAN_FILES = 8


def symbol_files(input_dir: str | None) -> dict[str, Path]:
    """``{SYMBOL: path}`` for every ``SYMBOL.parquet`` / ``SYMBOL.csv`` in the folder."""
    if input_dir is None:
        raise UsageError("--input-dir is required.")
    folder = Path(input_dir).expanduser()
    if not folder.exists():
        raise UsageError(f"input folder {str(folder)!r} does not exist.")
    if not folder.is_dir():
        raise UsageError(f"--input-dir {str(folder)!r} is not a folder.")
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith("."):
            if path.stem in files:
                raise UsageError(
                    f"symbol {path.stem!r} has two files in {str(folder)!r}: "
                    f"{files[path.stem].name} and {path.name}; keep one."
                )
            files[path.stem] = path
    if not files:
        raise UsageError(
            f"input folder {str(folder)!r} holds no SYMBOL.parquet or SYMBOL.csv files."
        )
    return files


def read_symbol(
    path: Path, required: Sequence[str] | Mapping[str, str | None] = ()
) -> pd.DataFrame:
    """Read one symbol's file, indexed by a sorted ``DatetimeIndex`` named ``date``.

    Every refusal is a ``ValueError`` whose message starts with the file's name, so a
    command can report the file, skip it and go on with the other symbols.

    Parameters
    ----------
    path : Path
        A ``SYMBOL.parquet`` or ``SYMBOL.csv`` file.
    required : sequence of str, or dict, default=()
        Columns the caller uses (target, features, return column): each must be
        present and hold finite numbers only (missing values are allowed). A dict
        maps each to the option that asked for it (:func:`asked_columns`), which the
        message of a missing one names.

    Returns
    -------
    frame : DataFrame
        The file's rows by date. Text columns that hold numbers only (a parquet
        string column of ``"1.5"``) are converted to floats. A first column with a
        blank header beside a ``date`` column (the row numbers ``to_csv`` writes for
        a RangeIndex, read as ``Unnamed: 0``) is dropped.

    Raises
    ------
    ValueError
        If the file cannot be read or is empty; if its dates are missing, are not
        dates, are numbers, come in more than one format, mix time zones or repeat;
        if a column mixes numbers with text; if a ``required`` column is missing,
        holds no numbers or holds an infinite value.
    """
    name = path.name
    try:
        empty = path.stat().st_size == 0
        if not empty and path.suffix.lower() == ".csv":
            frame = pd.read_csv(path)
        elif not empty:
            frame = _read_parquet(path)
    except pd.errors.EmptyDataError:  # blank lines only
        empty = True
    except Exception as exc:  # corrupt or unreadable: reported per symbol
        raise ValueError(f"cannot read {name}: {type(exc).__name__}: {_short(exc)}") from None
    if empty:
        raise ValueError(f"{name} is empty.")
    if len(frame) == 0:
        raise ValueError(f"{name} is empty: it has no rows.")
    if "date" in frame.columns:
        first = frame.columns[0]
        if str(first).startswith("Unnamed: 0") and first != "date":
            # to_csv(path) with a RangeIndex: row numbers under a blank header, a clock
            # that would pass for a feature
            frame = frame.drop(columns=first)
        frame = frame.set_index("date")
    elif not (isinstance(frame.index, pd.DatetimeIndex) or frame.index.name == "date"):
        near = [str(c) for c in frame.columns if str(c).strip().lower() == "date"]
        hint = f" (it has {near[0]!r}: rename it 'date')" if near else ""
        raise ValueError(f"{name} has no 'date' column or date index{hint}.")
    frame.index = _parse_dates(frame.index, name)
    repeated = frame.index[frame.index.duplicated()].unique()
    if len(repeated):
        shown = few_names(repeated.strftime(date_format(frame.index)), 3)
        raise ValueError(f"{name} repeats dates ({shown}): one row per date is expected.")
    frame = _numeric_columns(frame, name)
    require_columns(frame, required, name)
    if frame.index.is_monotonic_increasing:  # most files: no sorted copy needed
        return frame
    return frame.sort_index(kind="stable")


def load_panel(
    input_dir: str,
    target: str | None,
    return_col: str | None = None,
    features: list | None = None,
) -> tuple[pd.DataFrame, dict[str, str], dict[str, pd.Timestamp]]:
    """The folder's files as one (date, symbol) panel, ``{symbol: error}`` of bad files,
    and ``{symbol: first unseen date}`` of the files build-features wrote.

    Each file must hold ``target``, ``return_col`` and ``features`` as numbers (see
    :func:`read_symbol`). Without ``features``, each file must hold every column that
    at least half of the files offer as a feature (:func:`held_by_half`), so no
    symbol silently lacks one, and its dates must be in the time zone (or none) most
    files use. Symbols at different frequencies off one clock, or whose dates do not
    line up (daily bars stamped at each market's close), are refused (a ``UsageError``,
    see :func:`~skquant.utils._panel.check_panel_clock`). Files are read by a pool of
    threads (parquet decoding runs outside the GIL), then joined in one concat.
    """
    files = symbol_files(input_dir)
    required = asked_columns(target, return_col, features)

    def read(path: Path):
        try:
            return read_symbol(path, required), first_unseen_date(path, features), None
        except ValueError as exc:
            return None, None, exc

    parts, failed, unseen = {}, {}, {}
    grouped: dict[str, dict[str, str]] = {}  # reason: {symbol: file} refused for it
    with ThreadPoolExecutor(max_workers=min(len(files), 2 * (os.cpu_count() or 1))) as pool:
        results = pool.map(read, files.values())
        for symbol, (frame, cutoff, error) in zip(files, results, strict=True):
            if error is not None:
                failed[symbol] = str(error)
                if isinstance(error, UnrecordedLatentColumns):
                    grouped.setdefault(error.reason, {})[symbol] = error.file
                continue
            parts[symbol] = frame
            if cutoff is not None:
                unseen[symbol] = cutoff
    usual = []
    if features is None:
        usual = held_by_half([feature_candidates(frame, required) for frame in parts.values()])
    if target is None:  # the default target most files hold: required of each, as --target
        usual += [c for c in [_usual_default_target(parts.values())] if c is not None]
    zones = Counter(str(frame.index.tz) for frame in parts.values()).most_common(1)
    for symbol, frame in list(parts.items()):
        name = files[symbol].name
        try:
            require_columns(frame, usual, name)
            if str(frame.index.tz) != zones[0][0]:
                raise ValueError(
                    f"{name}: its dates are in time zone {frame.index.tz}, most files' in "
                    f"{zones[0][0]}; write them all in one zone."
                )
        except ValueError as exc:
            failed[symbol] = str(exc)
            del parts[symbol]
    if not parts:
        detail = _unusable_detail(failed, grouped)
        raise UsageError(f"no usable symbol file in {input_dir!r} ({detail}).")
    unseen = {symbol: date for symbol, date in unseen.items() if symbol in parts}
    panel = pool_frames(parts)
    try:
        # a sparse symbol's warning is the engine's, which checks the same panel
        # inside the run's warnings (a "skquant: warning:" line), not a raw one here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LeakageWarning)
            check_panel_clock(panel.index, f"{input_dir!r} (one symbol a file)")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return panel, failed, unseen


def _usual_default_target(frames) -> str | None:
    """The default target (:func:`skquant.leakage.default_target`) most of ``frames``
    hold, None when none does.

    A file without it would drop it from the whole panel (the files are joined on the
    columns they share), and the run would stop with "no such column", naming no file.
    """
    from skquant.leakage import default_target

    found = Counter()
    for frame in frames:
        try:
            found[default_target(frame)] += 1
        except ValueError:
            continue
    return found.most_common(1)[0][0] if found else None


def pool_frames(parts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``{symbol: frame}`` as one panel indexed by (date, symbol), sorted.

    Only the columns every frame holds are kept; make_labels' horizons (each file's
    ``attrs``, which parquet keeps) pass on when every frame has the same. ``parts``
    is emptied, so its frames are freed before the panel is sorted (a copy).
    """
    attrs = [frame.attrs for frame in parts.values()]
    # the index's levels are swapped in place (DataFrame.swaplevel would copy every
    # column once more)
    panel = pd.concat(parts, names=["symbol", "date"], join="inner")
    parts.clear()
    panel.index = panel.index.swaplevel()
    panel = panel.sort_index()
    if attrs[0] and all(a == attrs[0] for a in attrs):
        panel.attrs = dict(attrs[0])
    return panel


def _read_parquet(path: Path) -> pd.DataFrame:
    """``pandas.read_parquet``'s frame (``attrs`` included), read through pyarrow directly.

    Safe in threads (pandas' reader changes the process-wide warnings filters) and
    a third cheaper per file (no dataset discovery).
    """
    import json

    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        table = handle.read(use_pandas_metadata=True)
    frame = table.to_pandas()
    metadata = table.schema.metadata or {}
    if b"PANDAS_ATTRS" in metadata:  # DataFrame.attrs, as pandas writes them
        frame.attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    return frame


def sidecar_path(path: Path) -> Path:
    """``SYMBOL.features.json`` beside ``SYMBOL.parquet``: build-features' record of a file."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def is_latent_column(name) -> bool:
    """Whether ``name`` is a latent column as build-features writes them: ``vae0``, ``vae1``, ..."""
    return LATENT_COLUMN.fullmatch(str(name)) is not None


def file_build_record(path: Path) -> dict | None:
    """The build-features record a parquet file holds in its own metadata (None when
    it holds none, or is a CSV file).

    Raises
    ------
    ValueError
        If the file's metadata cannot be read or its record is not JSON.
    """
    import json

    if path.suffix.lower() == ".csv":
        return None
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        if BUILD_RECORD_KEY not in metadata:
            return None
        return dict(json.loads(metadata[BUILD_RECORD_KEY]))
    except Exception as exc:  # noqa: BLE001 - any reader error, reported by file name
        raise ValueError(
            f"{path.name}: its build-features record is unreadable ({type(exc).__name__}: {exc})."
        ) from None


def has_build_record(path: Path) -> bool:
    """Whether build-features left a record of the file: in its metadata or beside it."""
    try:
        return sidecar_path(path).is_file() or file_build_record(path) is not None
    except ValueError:  # unreadable: first_unseen_date names it, per symbol
        return True


class UnrecordedLatentColumns(ValueError):
    """A file holds latent columns (``vae0``, ...) with no record of the dates their
    feature model saw that can be trusted (:func:`first_unseen_date`).

    ``file`` is the file's name and ``reason`` the explanation without it, so that a
    folder of such files is told the reason once (:func:`load_panel`).
    """

    def __init__(self, message: str, file: str, reason: str):
        super().__init__(message)
        self.file = file
        self.reason = reason


# why latent columns with no record, or a record of other bytes, are refused
_NO_RECORD = (
    "latent columns as build-features writes them, but no record of the dates their "
    "feature model saw (none in the file, no {record} beside it): validating or testing "
    "them could be in-sample. Rebuild the folder with build-features (or copy each "
    f"{SIDECAR_SUFFIX} with its file); rename columns of your own, or leave them out "
    "of --features"
)
_OTHER_BYTES = (
    "but {record} beside it was written for other bytes (its data_sha256 is not the "
    "file's SHA-256: another build's record, or the file changed since), so the dates "
    "their feature model saw are unknown: validating or testing them could be "
    "in-sample. Rebuild the folder with build-features, or leave them out of --features"
)


def first_unseen_date(path: Path, features: Sequence[str] | None = None) -> pd.Timestamp | None:
    """The first date the feature model of a build-features file never saw (None for other files).

    build-features writes it into the parquet file's own metadata, which is read
    first, and into ``SYMBOL.features.json`` beside the file, which is believed only
    when the SHA-256 it records is the file's (a record of another build, or a file
    changed since, tells nothing about these columns).

    Parameters
    ----------
    path : Path
        The symbol file.
    features : sequence of str, optional
        The columns the caller uses as features. Latent columns left out of them are
        not judged: a file need not have a record for columns that are never fitted.
        None (the default): every column of the file may be a feature.

    Raises
    ------
    ValueError
        If a record is unreadable, or if the file holds latent columns (``vae0``,
        ``vae1``, ...: a feature model's) among ``features`` and no record of the
        dates that model saw can be trusted (an :class:`UnrecordedLatentColumns`):
        none in the file and none beside it (a file copied without its
        ``.features.json``), or one beside it written for other bytes. Validating or
        testing such columns could be in-sample, so the file is refused by name.
    """
    import json

    from skquant.utils._io import file_sha256

    embedded = file_build_record(path)
    if embedded is not None:
        try:
            return pd.Timestamp(embedded["first_unseen_date"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"{path.name}: its build-features record has no valid first_unseen_date "
                f"({type(exc).__name__}: {exc})."
            ) from None
    used = None if features is None else {str(c) for c in features}
    latent = [c for c in _header(path) if is_latent_column(c) and (used is None or c in used)]
    shown = few_names(latent, 3)
    record_path = sidecar_path(path)
    if not record_path.is_file():
        if latent:
            raise UnrecordedLatentColumns(
                f"{path.name} holds {shown}, " + _NO_RECORD.format(record=record_path.name) + ".",
                path.name,
                _NO_RECORD.format(record="SYMBOL" + SIDECAR_SUFFIX),
            )
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        cutoff = pd.Timestamp(record["first_unseen_date"])
        matches = record.get("data_sha256") == file_sha256(path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"{record_path.name} is unreadable ({type(exc).__name__}: {exc})."
        ) from None
    if matches:
        return cutoff
    if latent:
        raise UnrecordedLatentColumns(
            f"{path.name} holds {shown}, " + _OTHER_BYTES.format(record=record_path.name) + ".",
            path.name,
            "latent columns as build-features writes them, "
            + _OTHER_BYTES.format(record="the SYMBOL" + SIDECAR_SUFFIX),
        )
    return None  # no feature model's columns in the file: nothing to keep out of sample


def _unusable_detail(failed: dict[str, str], grouped: dict[str, dict[str, str]]) -> str:
    """The parts of "no usable symbol file": each file's own error, and the files
    refused for one reason (:class:`UnrecordedLatentColumns`) named together with
    that reason once (a folder of 2,000 such files repeated it 2,000 times)."""
    said = {symbol for files in grouped.values() for symbol in files}
    parts = [
        f"{symbol}: {error.rstrip('.')}" for symbol, error in failed.items() if symbol not in said
    ]
    for reason, by_symbol in grouped.items():
        files = list(by_symbol.values())
        names = few_names(files)
        verb = "holds" if len(files) == 1 else "hold"
        parts.append(f"{names} {verb} {reason}")
    return "; ".join(parts)


def _none_usable(files: dict[str, Path], errors: list[str], input_dir: str) -> UsageError:
    errors = list(dict.fromkeys(errors))
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return UsageError(
        f"none of the {len(files)} files in {input_dir!r} can be used: "
        f"{'; '.join(e.rstrip('.') for e in errors[:3])}{more}."
    )


def one_value(values) -> str | None:
    """What a target holds when it has fewer than 2 distinct finite values ("only the
    value 0", "no finite value"), else None.

    Such a target teaches a model nothing (it predicts that value), and every leak
    score against it is NaN, which lets every column pass the leak guard.
    """
    x = _finite(values)
    if not len(x):
        return "no finite value"
    if x.min() == x.max():
        return f"only the value {x[0]:g}"
    return None


def _finite(values) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    return x[np.isfinite(x)]


def plan_sample(
    files: dict[str, Path],
    required: Sequence[str] | Mapping[str, str | None],
    input_dir: str,
    target: str | None,
    *,
    min_rows: int = 0,
    max_files: int = PLAN_FILES,
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """The rows a run plans on (target, label horizon, features past the leak guard),
    the names of the files they come from, and ``{name: why}`` of the files left out.

    Up to ``max_files`` files, the files holding every column most files hold first
    (so that a file lacking a column cannot make the others lose it), each
    alphabetically, pooled by
    :func:`pool_frames` into one (date, symbol) panel, as ``walkforward`` plans on
    its whole panel: a leak in most files is flagged whatever one file holds. A file
    whose ``target`` (None: the one-period return) has fewer than 2 distinct finite
    values (:func:`one_value`; its leak scores are all NaN, which switched the guard
    off for every symbol), or fewer than ``min_rows`` finite ones (rows, without a
    target), is left out, and
    so is one whose dates are in another time zone than the first file's. Reading
    stops at ``max_files`` files kept, or at ``4 * max_files`` files read once one
    is kept. When no file qualifies, the first readable file alone is the plan
    (each symbol then fails on its own, by name).

    Raises
    ------
    UsageError
        If no file can be read.
    """
    from skquant.leakage import default_target

    headers = {path: _header(path) for path in files.values()}
    usual = set(held_by_half(h for h in headers.values() if h))  # most files' columns
    typical = {path for path, header in headers.items() if usual <= set(header)}
    order = sorted(files.values(), key=lambda path: path not in typical)  # stable
    kept: dict[str, pd.DataFrame] = {}
    left_out: dict[str, str] = {}
    errors, fallback, read = [], None, 0
    for path in order:
        if len(kept) >= max_files or (kept and read >= 4 * max_files):
            break
        if kept and path not in typical:
            break  # a file lacking usual columns would drop them from the pool
        read += 1
        try:
            frame = read_symbol(path, required)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        fallback = fallback if fallback is not None else (frame, path.name)
        try:
            column = target if target is not None else default_target(frame)
        except ValueError:  # no one-period return: the plan names the problem
            column = None
        holds = None if column is None else one_value(frame[column])
        n_rows = len(frame) if column is None else len(_finite(frame[column]))
        first = next(iter(kept.values()), None)
        if holds is not None:
            left_out[path.name] = f"its target {column} holds {holds}"
        elif n_rows < min_rows:
            of = "" if column is None else f" of {column}"
            left_out[path.name] = f"{n_rows} rows{of}, fewer than {min_rows}"
        elif frame.columns.duplicated().any():
            continue  # the plan refuses repeated names: only a lone file shows it
        elif first is not None and str(frame.index.tz) != str(first.index.tz):
            left_out[path.name] = f"its dates are in time zone {frame.index.tz}"
        else:
            kept[path.stem] = frame
    if not kept:
        if fallback is None:
            raise _none_usable(files, errors, input_dir)
        frame, name = fallback
        return frame, [name], {}
    names = [files[symbol].name for symbol in kept]
    if len(kept) == 1:
        return next(iter(kept.values())), names, left_out
    return pool_frames(kept), names, left_out


def plan_files(names: list[str]) -> str:
    """``AAA.csv`` or ``8 files (AAA.csv, BBB.csv, CCC.csv, ...)``: what a plan is made on."""
    if len(names) == 1:
        return names[0]
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"{len(names)} files ({shown})"


def held_by_half(column_lists: Iterable[Sequence[str]]) -> list[str]:
    """The columns that at least half of the lists hold, in the order first seen.

    The one rule for the columns a folder's files are expected to share: a file that
    lacks one fails on its own, by name, rather than making every file lose it.
    """
    lists = list(column_lists)
    votes = Counter(c for columns in lists for c in dict.fromkeys(columns))
    return [c for c, n in votes.items() if 2 * n >= len(lists)]


def _header(path: Path) -> list[str]:
    """A file's column names, read cheaply; [] when it cannot be read."""
    try:
        if path.suffix.lower() == ".csv":
            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        import pyarrow.parquet as pq

        return [str(c) for c in pq.read_schema(path).names if not c.startswith("__index_level")]
    except Exception:  # unreadable: read_symbol names the problem later
        return []


def asked_columns(
    target: str | None,
    return_col: str | None,
    features: Sequence[str] | None = None,
    features_option: str | None = "--features",
) -> dict[str, str | None]:
    """``{column: the option that asked for it}`` of a command's target, return column
    and features (None skipped; a column asked twice keeps its first option), so that
    a file lacking one is told which option to fix."""
    asked: dict[str, str | None] = {}
    for columns, option in (([target], "--target"), ([return_col], "--return-col"),
                            (features or (), features_option)):  # fmt: skip
        for column in columns:
            if column is not None:
                asked.setdefault(column, option)
    return asked


def require_columns(
    frame: pd.DataFrame, columns: Sequence[str] | Mapping[str, str | None], name: str
) -> None:
    """Raise ``ValueError`` naming ``name`` unless every column is present and numeric.

    ``columns`` may map each column to the option that asked for it
    (:func:`asked_columns`), which a missing column's message names."""
    options = columns if isinstance(columns, Mapping) else dict.fromkeys(columns)
    columns = [c for c in options if c is not None]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        told = [repr(c) + (f" ({options[c]})" if options.get(c) else "") for c in missing]
        raise ValueError(
            f"{name} has no column {', '.join(told)} (its columns: "
            f"{', '.join(map(str, frame.columns))})."
        )
    text = [c for c in columns if not _is_numeric(frame[c])]
    if text:
        raise ValueError(f"{name}: column {', '.join(map(repr, text))} holds text, not numbers.")
    for column in columns:  # no model, label or P&L takes an infinite value
        infinite = np.isinf(frame[column].to_numpy(dtype=float))
        if infinite.any():
            first = int(np.flatnonzero(infinite)[0])
            raise ValueError(
                f"{name}: column {column!r} holds {int(infinite.sum())} infinite values (the "
                f"first on {_row_date(frame.index, first)}): a ratio over zero? Write them "
                "as missing values (NaN) or fix them."
            )


def require_values(frame: pd.DataFrame, columns: dict, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` when a column of ``{column: role}`` (the
    target) holds no value: the symbol has nothing to learn (``train-all``; the panel
    commands leave such a symbol out once the target is known)."""
    for column, role in columns.items():
        if column is not None and column in frame and not frame[column].notna().any():
            raise ValueError(
                f"{name}: column {column!r} ({role}) holds no value in its {len(frame)} rows."
            )


def _short(exc: BaseException) -> str:
    """The first line of an error's message, without pandas' advice on ``format=``."""
    lines = str(exc).strip().splitlines()
    line = lines[0] if lines else ""
    return re.split(r", at position \d+|\. You might want", line)[0]


def _is_numeric(column) -> bool:
    """Whether a column (or its dtype) holds numbers or booleans."""
    return pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _parse_dates(values: pd.Index, name: str) -> pd.DatetimeIndex:
    """The dates of a file, or a ``ValueError`` that says what is wrong with them."""
    if isinstance(values, pd.DatetimeIndex):
        dates = values
    elif _is_numeric(pd.Series(values)) and len(values.dropna()):
        # pandas would read 20220103 as nanoseconds after 1970: refuse, do not guess
        raise ValueError(
            f"{name}: the 'date' values are numbers ({values.dropna()[0]}), not dates; write "
            "them as YYYY-MM-DD."
        )
    else:
        with _WARNINGS_LOCK, warnings.catch_warnings():  # mixed zones warn, give objects
            warnings.simplefilter("ignore")
            try:  # one format for all, inferred from the first date
                dates = pd.to_datetime(values)
                error = None
            except (ValueError, TypeError, OverflowError) as exc:
                dates, error = None, exc
            if not isinstance(dates, pd.DatetimeIndex):
                zones = _time_zones(values)
                # every date carries its offset, so each is one instant: a zone with
                # daylight saving time written to CSV holds two (-05:00, -04:00)
                offsets = len(zones) > 1 and "none" not in zones
                dates = _in_utc(values) if offsets else None
                if dates is None and len(zones) > 1:
                    raise ValueError(
                        f"{name}: the 'date' values mix time zones ({', '.join(sorted(zones))}); "
                        "write them all in one zone (or all without one)."
                    )
                if dates is None:
                    detail = _short(error) if error is not None else "not dates"
                    raise ValueError(
                        f"{name}: the 'date' values are not dates in one format ({detail})."
                    ) from None
    if dates.hasnans:
        raise ValueError(f"{name} has missing dates.")
    return pd.DatetimeIndex(dates, name="date")


def _in_utc(values: pd.Index) -> pd.DatetimeIndex | None:
    """Dates that each carry a UTC offset, as instants in UTC; None if they are not."""
    try:
        dates = pd.to_datetime(values, utc=True)
    except (ValueError, TypeError, OverflowError):
        return None
    return dates if isinstance(dates, pd.DatetimeIndex) else None


_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def _time_zones(values: pd.Index) -> set[str]:
    """The time zones (UTC offsets) the date values are written in; "none" for naive."""
    zones = set()
    for value in values:
        if isinstance(value, _dt.datetime):
            zones.add(str(value.tzinfo) if value.tzinfo is not None else "none")
        elif isinstance(value, str):
            match = _OFFSET.search(value.strip())
            zones.add(match.group(1) if match else "none")
    return zones


def _numeric_columns(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Text columns holding numbers only become floats; numbers mixed with text raise."""
    for column, dtype in list(frame.dtypes.items()):  # dtypes: no Series per column
        if _is_numeric(dtype) or str(column).lower() in ID_COLUMNS:
            continue
        if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue  # dates, categories: never features
        values = frame[column]
        text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        text = text.mask(text.eq(""))  # an empty cell is a missing value
        numbers = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & numbers.isna()
        if not bad.any():
            frame[column] = numbers.astype(float)
        elif numbers.notna().any():  # a text column (names, sectors) is left alone
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{name}: column {column!r} mixes numbers with text "
                f"({values.iloc[first]!r} on {_row_date(frame.index, first)})."
            )
    return frame


def _row_date(index: pd.Index, i: int) -> str:
    value = index[i]
    if isinstance(value, _dt.datetime):
        return value.strftime(date_format(index))
    return f"row {i + 1}"


def parse_features(spec: str | None) -> list[str] | None:
    """``a,b`` or ``@file`` (one name per line or comma-separated) to a list."""
    if spec is None:
        return None
    if spec.startswith("@"):
        path = Path(spec[1:]).expanduser()
        if not path.is_file():
            raise UsageError(f"features file {str(path)!r} does not exist.")
        text = path.read_text(encoding="utf-8")
        names = [n.strip() for line in text.splitlines() for n in line.split(",")]
        names = [n for n in names if n and not n.startswith("#")]
    else:
        names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--features {spec!r} names no columns.")
    return names


def feature_candidates(frame: pd.DataFrame, exclude: Sequence[str]) -> list[str]:
    """Every numeric column that is not in ``exclude``, a date/symbol or label-like."""
    return [str(c) for c in candidate_features(frame, exclude)]


def validation_split(
    frame: pd.DataFrame, val_days: int, embargo_days: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(older rows, rows of the last ``val_days`` distinct dates).

    The ``embargo_days`` dates just before the validation tail are dropped, so no
    training label (which looks ahead by its horizon) overlaps the validation dates.
    """
    dates = frame.index.unique().sort_values()
    if len(dates) <= val_days + embargo_days:
        raise ValueError(
            f"too few rows: {len(dates)} dates, but --val-days {val_days} and "
            f"--embargo-days {embargo_days} need more than that."
        )
    cutoff = dates[-val_days]
    train_end = dates[-val_days - embargo_days]  # first date the training rows never reach
    index = frame.index
    return frame.loc[np.asarray(index < train_end)], frame.loc[np.asarray(index >= cutoff)]
