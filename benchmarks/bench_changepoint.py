"""Throughput of the change-point features: rows per second of CPU time.

Runs ``ChangePointTrainer(max_run_length=300).transform`` (Bayesian online change-point
detection, its run-length posterior truncated at 300 runs) over ``--rows`` hourly rows
of one series, after a fit on their first 1,000, and, as the reference on the same
data, the untruncated recursion (``max_run_length`` = the number of rows, quadratic in
them). It prints rows/s of CPU time (``time.process_time``, robust
to other jobs on a shared machine) and their ratio. This was a timed assertion in the
tests (under 20 s per 100,000 rows); timings belong here, not in a pass/fail test.

Run: ``python benchmarks/bench_changepoint.py [--rows 20000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from skquant import ChangePointTrainer


def _rate(x: pd.DataFrame, max_run_length: int, repeats: int) -> float:
    """Best rows/s of CPU time of ``transform`` over ``repeats`` calls."""
    detector = ChangePointTrainer(max_run_length=max_run_length).fit(x.iloc[:1000])
    rates = []
    for _ in range(repeats):
        start = time.process_time()
        detector.transform(x)
        rates.append(len(x) / (time.process_time() - start))
    return max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x = pd.DataFrame(
        np.random.default_rng(0).normal(size=(args.rows, 1)),
        index=pd.date_range("2000-01-01", periods=args.rows, freq="h", name="date"),
        columns=["x"],
    )
    print(f"change points, rows/s of CPU time ({args.rows:,} rows)")
    fast = _rate(x, 300, args.repeats)
    print(f"  max_run_length=300:   {fast:>11,.0f} rows/s")
    exact = _rate(x, args.rows, 1)
    print(
        f"  untruncated (exact):  {exact:>11,.0f} rows/s (truncation: {fast / exact:.1f}x faster)"
    )


if __name__ == "__main__":
    main()
