"""Reading a folder of per-symbol files and choosing feature columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from skquant.cli._common import UsageError
from skquant.labels import is_label_like

SUFFIXES = (".parquet", ".pq", ".csv")
# Written by build-features beside each symbol file it writes: which columns a feature
# model made and the first date that model never saw.
SIDECAR_SUFFIX = ".features.json"

_NOT_FEATURES = frozenset({"date", "symbol", "ticker", "timestamp", "datetime"})


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


def read_symbol(path: Path) -> pd.DataFrame:
    """Read one symbol's file, indexed by a sorted ``DatetimeIndex`` named ``date``.

    Raises
    ------
    ValueError
        If the file cannot be read or has no usable ``date`` column or index.
    """
    try:
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path)
        else:
            frame = pd.read_parquet(path)
    except Exception as exc:  # corrupt or unreadable: reported per symbol
        raise ValueError(f"cannot read {path.name}: {type(exc).__name__}: {exc}") from None
    if "date" in frame.columns:
        frame = frame.set_index("date")
    elif not (isinstance(frame.index, pd.DatetimeIndex) or frame.index.name == "date"):
        raise ValueError(f"{path.name} has no 'date' column or date index.")
    try:
        frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index), name="date")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path.name}: the 'date' values are not dates ({exc}).") from None
    if frame.index.hasnans:
        raise ValueError(f"{path.name} has missing dates.")
    return frame.sort_index(kind="stable")


def sidecar_path(path: Path) -> Path:
    """``SYMBOL.features.json`` beside ``SYMBOL.parquet``: build-features' record of a file."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def first_unseen_date(path: Path) -> pd.Timestamp | None:
    """The first date the feature model of a build-features file never saw (None for other files).

    Raises
    ------
    ValueError
        If the record beside the file is unreadable.
    """
    import json

    record = sidecar_path(path)
    if not record.is_file():
        return None
    try:
        return pd.Timestamp(json.loads(record.read_text(encoding="utf-8"))["first_unseen_date"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{record.name} is unreadable ({type(exc).__name__}: {exc}).") from None


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


def choose_features(
    frame: pd.DataFrame, targets: list[str], requested: list[str] | None, where: str
) -> list[str]:
    """The feature columns: ``requested`` (checked) or every numeric non-label column."""
    if requested is not None:
        missing = [c for c in requested if c not in frame.columns]
        if missing:
            raise UsageError(f"--features columns {missing} are not in {where}.")
        leaking = [c for c in requested if c in targets]
        if leaking:
            raise UsageError(f"--features includes the target {leaking}: that would leak.")
        return list(requested)
    features = [
        str(c)
        for c in frame.columns
        if c not in targets
        and str(c).lower() not in _NOT_FEATURES
        and not is_label_like(c)
        and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if not features:
        raise UsageError(
            f"{where} has no numeric feature columns besides the targets and label-like "
            "columns; pass --features."
        )
    return features


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
