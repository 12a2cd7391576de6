"""Benchmark the walk-forward engine: parallel speed-up and peak memory.

1. Speed: ``WalkForwardEngine(n_jobs=2)`` against a hand-written sequential loop
   that fits the same raw ``lightgbm.LGBMRegressor`` (one thread) on the same folds
   (at least 20 folds, fits dominating). Prints each repeat and the median ratio
   engine / loop; on 2 free cores it should be at most 0.65. The engine with
   ``n_jobs=1`` is timed beside them to show its own overhead (ratio near 1).
2. Memory: the engine's peak Python-heap allocation (tracemalloc, construction and
   a run with ``n_jobs=1`` so every fold runs in this process) against the input
   frame's size (``memory_usage(deep=True)``); the target is at most 3x. LightGBM's
   native (C++) buffers are not traced by tracemalloc; the RSS growth is printed
   beside it for reference.
3. Re-evaluation: ``result.evaluate()`` (portfolio weights, turnover, costs, IC and
   every metric, from the stored predictions) on 1M prediction rows (2000 dates x
   500 symbols), for each portfolio rule; the target is under one second.

Run: ``python benchmarks/bench_walkforward.py [--symbols 30 --days 900 --trees 150]``;
``--evaluate-only`` runs part 3 alone.
Timings are only meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from skquant import WalkForwardEngine, make_synthetic_panel  # noqa: E402

FEATURES = ["ret_1", "ret_5", "ret_21", "vol_21", "range", "dist_high_21", "volume_z_21"]
FEATURES += ["alpha_1", "alpha_2", "noise_1"]
WINDOWS = {"train_days": 252, "test_days": 21, "step_days": 21, "min_train_samples": 1}


def raw_estimator(trees: int) -> lgb.LGBMRegressor:
    return lgb.LGBMRegressor(n_estimators=trees, learning_rate=0.05, n_jobs=1, verbose=-1)


def sequential_loop(panel: pd.DataFrame, folds, trees: int) -> np.ndarray:
    """What a user would write by hand: slice, fit, predict, fold after fold."""
    X = panel[FEATURES].to_numpy()
    y = panel["fwd_ret"].to_numpy()
    out = []
    for a, b, c, d in folds:
        model = raw_estimator(trees).fit(X[a:b], y[a:b])
        out.append(model.predict(X[c:d]))
    return np.concatenate(out)


def bench_evaluate(n_dates: int = 2000, n_symbols: int = 500, repeats: int = 3) -> None:
    """Time ``result.evaluate`` on ``n_dates x n_symbols`` prediction rows."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    train, dates = 50, pd.bdate_range("2000-01-03", periods=n_dates + 51)
    index = pd.MultiIndex.from_product([dates, [f"S{i:03d}" for i in range(n_symbols)]])
    signal = rng.standard_normal(len(index))
    frame = pd.DataFrame(
        {"f": signal, "fwd_ret": 0.01 * (0.05 * signal + rng.standard_normal(len(index)))},
        index=index.set_names(["date", "symbol"]),
    )
    engine = WalkForwardEngine(
        frame, target="fwd_ret", features=["f"], leak_threshold=None, train_days=train,
        test_days=n_dates // 4, step_days=n_dates // 4, min_train_samples=1,
    )  # fmt: skip
    result = engine.run(estimator=LinearRegression())
    print(
        f"evaluate(): {len(result.predictions)} prediction rows "
        f"({result.returns.shape[0]} dates x {n_symbols} symbols), {len(result.folds)} folds"
    )
    for portfolio in ("sign", "long_only", "rank", "quantile"):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            result.evaluate(portfolio=portfolio, cost_bps=5.0)
            times.append(time.perf_counter() - t0)
        print(
            f"  evaluate(portfolio={portfolio!r}, cost_bps=5): median "
            f"{statistics.median(times):.3f} s (target < 1 s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=30)
    parser.add_argument("--days", type=int, default=900)
    parser.add_argument("--trees", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--evaluate-only", action="store_true", help="only part 3")
    args = parser.parse_args()
    if args.evaluate_only:
        bench_evaluate()
        return

    panel = make_synthetic_panel(args.symbols, args.days, random_state=0)
    frame_bytes = int(panel.memory_usage(deep=True).sum())
    engine2 = WalkForwardEngine(panel, target="fwd_ret", features=FEATURES, n_jobs=2, **WINDOWS)
    folds = engine2.folds_
    print(
        f"panel: {len(panel)} rows ({args.symbols} symbols x {args.days} dates), "
        f"{frame_bytes / 2**20:.1f} MiB; {len(folds)} folds of {folds[0][1] - folds[0][0]} "
        f"training rows; LightGBM {args.trees} trees, 1 thread per fit; {os.cpu_count()} CPUs"
    )
    assert len(folds) >= 20, "the benchmark needs at least 20 folds"

    # warm the loky workers so that process start-up is not counted in the first repeat
    engine2.run(estimator=raw_estimator(5), metrics=["sharpe"])
    engine_seq = WalkForwardEngine(panel, target="fwd_ret", features=FEATURES, n_jobs=1, **WINDOWS)
    ratios, overheads, cpu_overheads = [], [], []
    for r in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        expected = sequential_loop(panel, folds, args.trees)
        t_loop, c_loop = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        result = engine2.run(estimator=raw_estimator(args.trees), metrics=["sharpe"])
        t_engine = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        engine_seq.run(estimator=raw_estimator(args.trees), metrics=["sharpe"])
        t_seq, c_seq = time.perf_counter() - t0, time.process_time() - c0
        cpu_overheads.append(c_seq / c_loop)
        # the same folds (no overlap here: step_days == test_days) give the same predictions
        np.testing.assert_allclose(result.predictions["prediction"].to_numpy(), expected)
        ratios.append(t_engine / t_loop)
        overheads.append(t_seq / t_loop)
        print(
            f"repeat {r}: loop {t_loop:.2f} s, engine(n_jobs=2) {t_engine:.2f} s, "
            f"ratio {ratios[-1]:.3f}; engine(n_jobs=1) {t_seq:.2f} s, ratio {overheads[-1]:.3f}"
        )
    print(
        f"median ratio engine(n_jobs=2) / sequential loop: {statistics.median(ratios):.3f} (target <= 0.65)"
    )
    print(
        f"median ratio engine(n_jobs=1) / sequential loop: {statistics.median(overheads):.3f} "
        "(the engine's own overhead, wall clock)"
    )
    print(
        f"median CPU-time ratio engine(n_jobs=1) / sequential loop: "
        f"{statistics.median(cpu_overheads):.3f} (the same, robust to other load)"
    )

    try:
        import psutil

        rss0 = psutil.Process().memory_info().rss
    except ImportError:  # pragma: no cover
        psutil = None
    tracemalloc.start()
    engine1 = WalkForwardEngine(panel, target="fwd_ret", features=FEATURES, n_jobs=1, **WINDOWS)
    engine1.run(estimator=raw_estimator(args.trees), metrics=["sharpe", "max_drawdown"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"engine peak traced memory (n_jobs=1): {peak / 2**20:.1f} MiB = "
        f"{peak / frame_bytes:.2f}x the input frame (target <= 3x)"
    )
    if psutil is not None:
        rss1 = psutil.Process().memory_info().rss
        print(
            f"process RSS growth over that run (incl. LightGBM native memory): {(rss1 - rss0) / 2**20:.1f} MiB"
        )
    bench_evaluate()


if __name__ == "__main__":
    main()
