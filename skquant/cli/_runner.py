"""The shared runner of the per-symbol commands (``train-all``, ``build-features``).

A command builds one picklable job (:class:`JobSettings` and its own fields), then
:func:`run_symbols` calls its worker once per symbol file, in parallel through joblib
or on a Dask cluster, with a progress bar. Workers write each finished unit through
:func:`atomic_folder` (a hidden temporary folder renamed when complete), so a killed
run leaves no half-written folder and a re-run skips exactly the finished ones
(:func:`pair_is_finished`), and report their peak memory (:func:`peak_memory_mb`)
and the warnings of their symbol (``skquant.utils._warnings.record_warnings``, :func:`keep_warnings`),
which :func:`report_symbol_warnings` says once per run, not once per worker process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from skquant.utils._io import remove_leftover_folders, restore_leftover_backup
from skquant.utils._text import few_names

# The files a saved model folder holds once save_model has finished it.
REQUIRED_FILES = ("metadata.json", "config.json", "metrics.json")


@dataclass
class JobSettings:
    """The settings every per-symbol worker needs (picklable)."""

    output_dir: str
    threads: int
    force: bool
    verbosity: int


def threads_per_symbol(n_jobs: int, n_symbols: int) -> int:
    """The model threads of each worker: the cores shared among the parallel symbols."""
    cores = os.cpu_count() or 1
    n_parallel = min(n_symbols, cores) if n_jobs == -1 else n_jobs
    return max(1, cores // max(1, n_parallel))


# ----------------------------------------------------------------------------- memory
def reset_peak_memory() -> None:
    """Start a new peak-memory measurement of this process (Linux; elsewhere a no-op)."""
    try:  # Linux: writing 5 resets the peak resident set size (VmHWM)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def peak_memory_mb() -> float | None:
    """The peak resident memory of this process in MB, or None where it is unknown."""
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


# ----------------------------------------------------------------------------- warnings
def keep_warnings(result: dict, caught) -> dict:
    """``result["warnings"]``: the distinct messages of ``caught``, in order (none: no key)."""
    if caught:
        result["warnings"] = list(dict.fromkeys(str(item.message) for item in caught))
    return result


def report_symbol_warnings(
    results: list[dict], verbosity: int, words: Callable[[str], str] | None = None
) -> None:
    """Print each distinct warning of the symbols' results once, in the command's
    words (``words``, after :func:`~skquant.cli._common.cli_words`), naming its
    symbols: the same warning of every symbol is one line, not one per symbol."""
    from skquant.cli._common import cli_words

    if verbosity < -1:
        return
    symbols: dict[str, list[str]] = {}
    for res in results:
        for message in res.get("warnings", ()):
            symbols.setdefault(message, []).append(res["symbol"])
    for message, names in symbols.items():
        names = sorted(names)  # results arrive as the symbols finish
        shown = few_names(names)
        said = cli_words(message) if words is None else words(cli_words(message))
        print(f"skquant: warning: {said} ({shown})", file=sys.stderr)


# ----------------------------------------------------------------------------- folders
def pair_is_finished(folder: Path) -> bool:
    """A pair is finished when its folder exists with every required file and a model."""
    if not folder.is_dir():
        return False
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    return (folder / "model.joblib").is_file() or (folder / "model.skops").is_file()


def clean_stale_temp(folder: Path) -> None:
    """Tidy what a killed run left for ``folder`` (:func:`atomic_folder`'s): the earlier
    ``folder`` it had set aside but not yet replaced is put back, and its temporary and
    set-aside folders are removed; only those of a process no longer running, never a
    live run's (on POSIX, where that can be asked safely; elsewhere every one)."""
    restore_leftover_backup(folder, f".{folder.name}{_OLD}", unknown_too=True)
    remove_leftover_folders(folder.parent, f".{folder.name}.tmp-", unknown_too=True)


_OLD = ".old-"  # the earlier folder, set aside by atomic_folder while it is replaced


@contextlib.contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a hidden temporary folder path beside ``final``; it becomes ``final`` on success.

    Whatever the block writes under the yielded path replaces ``final`` (an incomplete
    leftover or a finished folder being rebuilt) only when the block completes; on any
    error the temporary folder is removed and ``final`` is left as it was. The earlier
    ``final`` is renamed aside, the new folder renamed in, and only then the earlier one
    removed: a run killed between the renames leaves it aside, and the next run's
    :func:`clean_stale_temp` puts it back (it was deleted first, and the rerun lost it).
    """
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = final.parent / f".{final.name}.tmp-{tag}"
    old = final.parent / f".{final.name}{_OLD}{tag}"
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield tmp
        if final.exists():
            os.rename(final, old)
        os.rename(tmp, final)  # the folder is finished only from here on
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists():
            if final.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:  # the new folder did not move in: the earlier one stays
                os.rename(old, final)


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

    with dask_backend(dask_scheduler):
        yield from parallel()(calls)


@contextlib.contextmanager
def dask_backend(address: str | None):
    """Inside the block, joblib runs on the Dask cluster at ``address`` (its ``dask``
    backend, through a ``distributed.Client`` closed after); nothing changes when None."""
    if address is None:
        yield
        return
    import joblib

    from skquant.utils._optional import import_optional

    distributed = import_optional("distributed")
    try:
        client = distributed.Client(address)
    except OSError as exc:  # nothing answers there (after dask's connect timeout)
        from skquant.cli._common import UsageError

        raise UsageError(f"--dask-scheduler {address!r}: {exc}") from None
    try:
        with joblib.parallel_backend("dask"):
            yield
    finally:
        client.close()


def run_symbols(
    worker,
    files: dict,
    job: JobSettings,
    n_jobs: int,
    describe: Callable[[dict], str],
    dask_scheduler: str | None = None,
) -> list[dict]:
    """Run ``worker`` on every file with a progress bar; return the results as they came.

    ``describe(result)`` is the progress line of one finished symbol, written to
    stderr unless the run is quiet (``job.verbosity < 0``), after
    :func:`progress_prefix`: symbols done of the total, the estimated time left, and
    the peak memory of the worker that finished (its result's ``peak_memory_mb``).
    """
    import time

    from tqdm.auto import tqdm

    quiet = job.verbosity < 0
    results = []
    started = time.monotonic()
    bar = tqdm(total=len(files), desc="symbols", unit="symbol", disable=quiet, file=sys.stderr)
    for res in iterate_symbols(worker, files, job, n_jobs, dask_scheduler):
        results.append(res)
        bar.update(1)
        if not quiet:
            prefix = progress_prefix(
                len(results), len(files), time.monotonic() - started, res.get("peak_memory_mb")
            )
            bar.write(f"{prefix} {describe(res)}", file=sys.stderr)
    bar.close()
    return results


def progress_prefix(done: int, total: int, elapsed: float, peak_mb: float | None) -> str:
    """``[done/total pct%, ETA h:mm:ss, worker peak N MB]`` of one finished symbol.

    The time left is the mean time per finished symbol so far times the symbols left.
    """
    left = round(elapsed / max(done, 1) * (total - done))
    eta = f"{left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}"
    peak = "" if peak_mb is None else f", worker peak {peak_mb:.0f} MB"
    return f"[{done}/{total} {100 * done // max(total, 1)}%, ETA {eta}{peak}]"
