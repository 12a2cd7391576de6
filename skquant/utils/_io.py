"""Crash-safe file writes and JSON cleaning, shared by persistence, walk-forward and the CLI.

Every writer puts the bytes in a temporary file beside the target, fsyncs it and renames it
over the target with :func:`os.replace`, so a crash leaves either the old file or the new
one, never half of one.
"""

from __future__ import annotations

import datetime as _dt
import glob
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from numpy/pandas scalars, arrays and paths; NaN/inf -> None."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (os.PathLike, _dt.date, _dt.datetime)):
        return str(value)
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return repr(value)


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_hash(*frames) -> str:
    """SHA-256 of DataFrames and Series: their values, index, column names and dtypes
    (order-sensitive), what a resume check compares a finished result's data with."""
    import hashlib

    import pandas as pd

    digest = hashlib.sha256()
    for frame in frames:
        dtypes = (
            frame.dtypes.items() if isinstance(frame, pd.DataFrame) else [(frame.name, frame.dtype)]
        )
        digest.update(json.dumps([[str(c), str(t)] for c, t in dtypes]).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def as_read_back(value: Any) -> Any:
    """``value`` as it reads back from a JSON file skquant writes: what a resume check
    compares with a finished run's record."""
    return json.loads(json.dumps(to_jsonable(value)))


def atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Call ``write(handle)`` on a temporary file beside ``path``, fsync, then rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a temporary file beside ``path``, fsync, then rename."""
    atomic_write(path, lambda handle: handle.write(payload))


def atomic_write_figure(path: Path, figure, **savefig: Any) -> None:
    """Save a matplotlib ``figure`` as a PNG with :func:`atomic_write` (``savefig``
    options such as ``dpi`` pass through)."""
    atomic_write(Path(path), lambda handle: figure.savefig(handle, format="png", **savefig))


def atomic_write_json(path: Path, obj: Any, *, sort_keys: bool = True) -> None:
    """Write ``to_jsonable(obj)`` as indented JSON (no NaN) with :func:`atomic_write`."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=sort_keys, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_leftover_folders(parent: Path, prefix: str, *, unknown_too: bool) -> None:
    """Remove the folders ``parent/<prefix><pid>-...`` whose process is no longer
    running (what a killed run left), never a live run's. Where a process cannot be
    asked about safely (not POSIX), every such folder goes when ``unknown_too``, none
    otherwise. ``prefix`` is escaped: a name such as ``BRK[B]`` is no glob pattern."""
    for stale in leftover_folders(parent, prefix, unknown_too=unknown_too):
        shutil.rmtree(stale, ignore_errors=True)


def leftover_folders(parent: Path, prefix: str, *, unknown_too: bool) -> list[Path]:
    """The folders ``parent/<prefix><pid>-...`` whose process is no longer running,
    newest first; never a live run's (see :func:`remove_leftover_folders`)."""
    posix = os.name == "posix"
    if not posix and not unknown_too:
        return []
    found = [
        folder
        for folder in parent.glob(f"{glob.escape(prefix)}*")
        if not posix or _process_gone(folder.name[len(prefix) :].split("-", 1)[0])
    ]
    return sorted(found, key=_mtime, reverse=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # gone meanwhile
        return 0.0


def restore_leftover_backup(final: Path, prefix: str, *, unknown_too: bool) -> None:
    """Put back the folder that a killed replacement of ``final`` set aside.

    A replacement renames ``final`` to ``final.parent/<prefix><pid>-...`` (the backup),
    renames the new folder in, then removes the backup. When its process is gone and
    ``final`` is missing, the kill came between the two renames: the newest such backup
    becomes ``final`` again. Every other backup of a process gone (``final`` in place:
    the replacement finished) is removed; a live run's is never touched.
    """
    for backup in leftover_folders(final.parent, prefix, unknown_too=unknown_too):
        if not final.exists():
            try:
                os.rename(backup, final)
                continue
            except OSError:
                pass  # another run restored or rebuilt it meanwhile: this one is stale
        shutil.rmtree(backup, ignore_errors=True)


def _process_gone(pid: str) -> bool:
    """Whether the process ``pid`` no longer runs (False for a live one, another
    user's (PermissionError) or a name that holds no pid)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (ValueError, OSError):
        return False
    return False
