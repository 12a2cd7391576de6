"""Benchmark loading a folder of symbol files into one (date, symbol) panel.

Writes ``--symbols`` parquet files (default 1,000) of ``--days`` daily rows (default
5,000, about 20 years) and ``--columns`` float columns (default 20) to a temporary
folder, then times :func:`skquant.cli._data.load_panel` (what ``skquant
walkforward --input-dir`` runs): parallel parquet reads, per-file checks, one
concat. Prints the wall-clock seconds and rows per second; the target is under 10 s
for 1,000 files on 2 cores.

Run: ``python benchmarks/bench_load.py [--symbols 1000 --days 5000 --columns 20]``.
Timings are only meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skquant.cli._data import load_panel


def write_folder(folder: Path, n_symbols: int, n_days: int, n_columns: int) -> None:
    """``n_symbols`` files ``SYMnnnn.parquet``: a date index, ``fwd_ret`` and features."""
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2000-01-03", periods=n_days, name="date")
    names = ["fwd_ret"] + [f"f{i:02d}" for i in range(n_columns - 1)]
    for i in range(n_symbols):
        values = rng.standard_normal((n_days, n_columns))
        pd.DataFrame(values, index=dates, columns=names).to_parquet(folder / f"SYM{i:04d}.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--days", type=int, default=5000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        write_folder(folder, args.symbols, args.days, args.columns)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(
            f"wrote {args.symbols} files x {args.days} rows x {args.columns} columns "
            f"({size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs"
        )
        times = []
        for r in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            panel, failed, _ = load_panel(str(folder), "fwd_ret")
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert not failed and len(panel) == args.symbols * args.days, (failed, len(panel))
            times.append(wall)
            print(
                f"repeat {r}: {wall:.2f} s wall ({cpu:.2f} s CPU), {len(panel) / wall:,.0f} rows/s"
            )
            del panel
        best = statistics.median(times)
        print(
            f"median load of {args.symbols} files ({args.symbols * args.days:,} rows): "
            f"{best:.2f} s, {args.symbols * args.days / best:,.0f} rows/s (target < 10 s)"
        )


if __name__ == "__main__":
    main()
