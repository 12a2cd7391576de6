"""Overhead of the skquant boosting trainers over the raw library estimators.

Fits ``LightGBMTrainer`` / ``XGBoostTrainer`` and the library's own sklearn-API
estimator with identical parameters and tree count on the same 200,000 x 50 float32
rows, alternating the two so that machine noise hits both alike, and prints the
median ratio ``trainer time / raw time`` per library (1.00 = no overhead). Then the
same ratio for ``predict`` on a small batch (``--predict-rows``, 100 by default),
where the per-call cost of validation and tags shows, not the trees.

Run: ``python benchmarks/bench_overhead.py [--rows 200000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _data(n_rows: int, n_features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=n_rows)).astype(np.float32)
    return X, y


def _time(fit) -> float:
    start = time.perf_counter()
    fit()
    return time.perf_counter() - start


def bench_predict(name: str, trainer, raw, X, repeats: int, calls: int = 200) -> float:
    """Median ratio of ``predict`` times on the small batch ``X`` (``calls`` calls a run)."""
    ratios = []
    for i in range(repeats):
        pair = [(trainer, "ours"), (raw, "raw")]
        times = {}
        for model, side in pair[::-1] if i % 2 else pair:
            times[side] = _time(lambda m=model: [m.predict(X) for _ in range(calls)]) / calls
        ratios.append(times["ours"] / times["raw"])
    median = statistics.median(ratios)
    print(
        f"{name}: predict on {len(X)} rows: trainer {times['ours'] * 1e6:.0f} us, raw "
        f"{times['raw'] * 1e6:.0f} us; median ratio trainer/raw = {median:.3f}"
    )
    return median


def bench(name: str, trainer, make_raw, X, y, repeats: int, predict_rows: int) -> float:
    trainer.fit(X, y)  # warm-up, and the resolved parameters for the raw estimator
    raw = make_raw(trainer)
    raw.fit(X, y)
    ratios = []
    for i in range(repeats):
        # alternate which one runs first
        if i % 2:
            t_raw = _time(lambda: raw.fit(X, y))
            t_ours = _time(lambda: trainer.fit(X, y))
        else:
            t_ours = _time(lambda: trainer.fit(X, y))
            t_raw = _time(lambda: raw.fit(X, y))
        ratios.append(t_ours / t_raw)
        print(f"  {name} run {i}: trainer {t_ours:.3f}s raw {t_raw:.3f}s ratio {ratios[-1]:.3f}")
    np.testing.assert_allclose(trainer.predict(X[:1000]), raw.predict(X[:1000]), rtol=1e-5)
    median = statistics.median(ratios)
    print(f"{name}: median ratio trainer/raw = {median:.3f} over {repeats} runs")
    bench_predict(name, trainer, raw, X[:predict_rows], repeats)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--predict-rows", type=int, default=100)
    parser.add_argument(
        "--n-jobs", type=int, default=1, help="threads per fit (1 keeps timings stable)"
    )
    args = parser.parse_args()
    X, y = _data(args.rows, args.features)
    common = {
        "n_estimators": args.trees,
        "early_stopping_rounds": 0,
        "random_state": 0,
        "n_jobs": args.n_jobs,
    }

    import lightgbm
    import xgboost

    from skquant import LightGBMTrainer, XGBoostTrainer

    bench(
        "lightgbm",
        LightGBMTrainer(**common),
        lambda t: lightgbm.LGBMRegressor(**t.model_.get_params()),
        X,
        y,
        args.repeats,
        args.predict_rows,
    )
    bench(
        "xgboost",
        XGBoostTrainer(**common),
        lambda t: xgboost.XGBRegressor(**t.model_.get_params()),
        X,
        y,
        args.repeats,
        args.predict_rows,
    )


if __name__ == "__main__":
    main()
