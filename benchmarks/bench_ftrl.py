"""Throughput of FTRL-Proximal: rows per second of CPU time, numba kernel and NumPy loop.

Runs one ``partial_fit`` pass of ``FTRLProximalTrainer(task="classification")`` over
200,000 x 50 float64 rows in the exact per-example mode (``batch_size=1``) and the
mini-batch mode (``batch_size=256``, NumPy matrix products, no numba); the exact mode
runs once with the numba kernel (when numba is installed) and once with
``SKQUANT_DISABLE_NUMBA=1`` (the NumPy loop). It prints rows/s of CPU time
(``time.process_time``, robust to other jobs on a shared machine) and the largest
difference between the two loops' weights. The NumPy loop of the exact mode runs on
``--numpy-rows`` rows only (it is slow); rows/s is a rate either way. A warm-up call
on 1,000 rows first pays for compilation (or a cache load).

Run: ``python benchmarks/bench_ftrl.py [--rows 200000] [--features 50]``
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from skquant import FTRLProximalTrainer


def _data(n_rows: int, n_features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    y = (X[:, :5].sum(axis=1) + rng.normal(size=n_rows) > 0).astype(int)
    return X, y


def _rate(X, y, batch_size: int, numba: bool, repeats: int):
    """Best rows/s over ``repeats`` passes, and the trainer of the last one."""
    os.environ["SKQUANT_DISABLE_NUMBA"] = "0" if numba else "1"
    rates = []
    for _ in range(repeats):
        model = FTRLProximalTrainer(task="classification", batch_size=batch_size, l1=1.0)
        model.partial_fit(X[:1000], y[:1000], classes=[0, 1])  # warm-up: compile or load
        start = time.process_time()
        model.partial_fit(X[1000:], y[1000:])
        rates.append((len(X) - 1000) / (time.process_time() - start))
    return max(rates), model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--numpy-rows", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        import numba  # noqa: F401

        has_numba = True
    except ImportError:
        has_numba = False
        print("numba is not installed: only the NumPy loop runs (pip install 'skquant[fast]')")
    X, y = _data(args.rows, args.features)
    n_numpy = min(args.numpy_rows, args.rows)
    print(f"FTRL-Proximal, {args.rows:,} x {args.features}, rows/s of CPU time")
    slow, slow_model = _rate(X[:n_numpy], y[:n_numpy], 1, False, args.repeats)
    print(f"  exact (batch_size=1), NumPy loop:     {slow:>11,.0f} rows/s ({n_numpy:,} rows)")
    if has_numba:
        fast, _ = _rate(X, y, 1, True, args.repeats)
        # the same rows through both loops: the weights agree to rounding
        _, same_rows = _rate(X[:n_numpy], y[:n_numpy], 1, True, 1)
        diff = np.max(np.abs(same_rows.coef_ - slow_model.coef_))
        print(
            f"  exact (batch_size=1), numba kernel:   {fast:>11,.0f} rows/s "
            f"({fast / slow:.1f}x the NumPy loop; max |coef difference| {diff:.1e})"
        )
    batch, _ = _rate(X, y, 256, has_numba, args.repeats)
    print(f"  mini-batch (batch_size=256), NumPy:   {batch:>11,.0f} rows/s (numba not used)")


if __name__ == "__main__":
    main()
