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

4. ``--large``: the engine's own cost where fits are cheap. Speed: 1M panel rows
   (400 symbols x 2,500 dates, LightGBM 20 trees, one thread, 107 folds), the engine
   (construction, leak guard included, plus ``run`` with ``n_jobs=1``) against the
   sequential raw loop on the same folds, as a ratio of CPU time
   (``time.process_time``: robust to other load on a shared machine); the target is
   at most 1.05. Memory: on 5M rows (2,000 symbols x 2,500 dates), the peak memory
   of constructing the engine and running it above the input frame, as a multiple
   of the frame's size, measured twice: the process's peak resident set (Linux
   ``VmHWM``, reset before the run) and, in a second run, tracemalloc's peak; the
   target is at most 1.5x for both.

5. ``--checkpoint``: the cost of ``run(checkpoint_dir=...)`` (what ``skquant
   walkforward`` does: hash each fold's inputs, write its predictions) on part 4's 1M
   rows with cheap fits, as a CPU-time ratio against the same run without it; and
   the run that loads every fold back against the one that fitted them.

Run: ``python benchmarks/bench_walkforward.py [--symbols 30 --days 900 --trees 150]``;
``--evaluate-only`` runs part 3 alone, ``--large`` part 4 alone (a few minutes),
``--checkpoint`` part 5 alone.
Timings are only meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import gc
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


def _rss_now_and_peak() -> tuple[int, int]:
    """This process's resident set and its peak (VmRSS, VmHWM) in bytes (Linux)."""
    values = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line[:5]] = int(line.split()[1]) * 1024
    return values["VmRSS"], values["VmHWM"]


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as handle:  # 5: reset VmHWM (Linux >= 4.0)
        handle.write("5")


def bench_large_speed(n_symbols: int, n_days: int, trees: int, repeats: int) -> None:
    """Engine (construction + run, one thread) / raw loop at 1M rows, in CPU time."""
    panel = make_synthetic_panel(n_symbols, n_days, random_state=0)
    folds = WalkForwardEngine(panel, target="fwd_ret", features=FEATURES, **WINDOWS).folds_
    print(
        f"large: {len(panel)} rows ({n_symbols} symbols x {n_days} dates), {len(folds)} folds "
        f"of {folds[0][1] - folds[0][0]} training rows; LightGBM {trees} trees, one thread"
    )
    ratios = []
    for r in range(repeats):
        c0 = time.process_time()
        expected = sequential_loop(panel, folds, trees)
        c_loop = time.process_time() - c0
        c0 = time.process_time()
        engine = WalkForwardEngine(panel, target="fwd_ret", features=FEATURES, n_jobs=1, **WINDOWS)
        c_build = time.process_time() - c0
        result = engine.run(estimator=raw_estimator(trees), metrics=["sharpe"])
        c_engine = time.process_time() - c0
        np.testing.assert_allclose(result.predictions["prediction"].to_numpy(), expected)
        ratios.append(c_engine / c_loop)
        print(
            f"  repeat {r}: CPU time raw loop {c_loop:.2f} s, engine {c_engine:.2f} s "
            f"(construction {c_build:.2f} s, run {c_engine - c_build:.2f} s): "
            f"ratio {ratios[-1]:.3f}"
        )
        del engine, result
    print(
        f"median CPU-time ratio engine (construction + run, n_jobs=1) / raw loop at "
        f"{len(panel)} rows: {statistics.median(ratios):.3f} (target <= 1.05)"
    )


def bench_large_memory(n_symbols: int, n_days: int, trees: int) -> None:
    """Peak memory of the engine above the input frame, RSS and tracemalloc, on 5M rows."""
    panel = make_synthetic_panel(n_symbols, n_days, random_state=0)
    frame_bytes = int(panel.memory_usage(deep=True).sum())
    windows = {**WINDOWS, "test_days": 252, "step_days": 252}  # fewer, larger folds

    def run_engine():
        engine = WalkForwardEngine(panel, target="fwd_ret", features=FEATURES, n_jobs=1, **windows)
        result = engine.run(estimator=raw_estimator(trees), metrics=["sharpe"])
        return len(engine.folds_), len(result.predictions)

    gc.collect()
    rss0, _ = _rss_now_and_peak()
    _reset_peak_rss()
    n_folds, n_pred = run_engine()
    _, peak = _rss_now_and_peak()
    print(
        f"large memory: {len(panel)} rows ({n_symbols} symbols x {n_days} dates), frame "
        f"{frame_bytes / 2**20:.0f} MiB; {n_folds} folds, {n_pred} prediction rows, {trees} trees"
    )
    print(
        f"  peak RSS above the frame: {(peak - rss0) / 2**20:.0f} MiB = "
        f"{(peak - rss0) / frame_bytes:.2f}x the frame (target <= 1.5x; includes "
        "LightGBM's native memory)"
    )
    gc.collect()
    tracemalloc.start()
    run_engine()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  peak traced (tracemalloc) memory: {traced / 2**20:.0f} MiB = "
        f"{traced / frame_bytes:.2f}x the frame (target <= 1.5x)"
    )


def bench_checkpoint(n_symbols: int, n_days: int, trees: int, repeats: int) -> None:
    """CPU time of a run with fold checkpoints (written, then loaded) / without."""
    import tempfile

    panel = make_synthetic_panel(n_symbols, n_days, random_state=0)
    engine = WalkForwardEngine(panel, target="fwd_ret", features=FEATURES, n_jobs=1, **WINDOWS)
    print(f"checkpoints: {len(panel)} rows, {len(engine.folds_)} folds, LightGBM {trees} trees")
    write, load = [], []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            c0 = time.process_time()
            plain = engine.run(estimator=raw_estimator(trees), metrics=["sharpe"])
            c_plain = time.process_time() - c0
            c0 = time.process_time()
            engine.run(estimator=raw_estimator(trees), metrics=["sharpe"], checkpoint_dir=folder)
            c_write = time.process_time() - c0
            c0 = time.process_time()
            loaded = engine.run(
                estimator=raw_estimator(trees), metrics=["sharpe"], checkpoint_dir=folder
            )
            c_load = time.process_time() - c0
        pd.testing.assert_frame_equal(loaded.predictions, plain.predictions)
        write.append(c_write / c_plain)
        load.append(c_load / c_plain)
        print(
            f"  repeat {r}: CPU time without {c_plain:.2f} s, writing checkpoints "
            f"{c_write:.2f} s ({write[-1]:.3f}x), loading them all {c_load:.2f} s "
            f"({load[-1]:.3f}x)"
        )
    print(
        f"median CPU-time ratio with checkpoints / without: writing "
        f"{statistics.median(write):.3f}, loading every fold {statistics.median(load):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=30)
    parser.add_argument("--days", type=int, default=900)
    parser.add_argument("--trees", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--evaluate-only", action="store_true", help="only part 3")
    parser.add_argument(
        "--large", action="store_true", help="only part 4: 1M rows speed, 5M rows memory"
    )
    parser.add_argument("--checkpoint", action="store_true", help="only part 5")
    args = parser.parse_args()
    if args.checkpoint:
        bench_checkpoint(400, 2500, trees=20, repeats=max(1, min(args.repeats, 2)))
        return
    if args.large:
        bench_large_speed(400, 2500, trees=20, repeats=max(1, min(args.repeats, 2)))
        bench_large_memory(2000, 2500, trees=20)
        return
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
