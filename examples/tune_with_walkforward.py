"""Tune LightGBM with GridSearchCV, walk-forward folds and a Sharpe-ratio scorer.

Every candidate is scored on out-of-sample walk-forward test windows (never a
shuffled K-fold), by the Sharpe ratio of trading the sign of its predictions with
equal weight across the symbols of each date. Uses ``load_demo()`` (``pip install
'skquant[demo]'``) or, without it, ``make_synthetic_panel``.

Run: ``python examples/tune_with_walkforward.py``
"""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import GridSearchCV

from skquant import LightGBMTrainer, WalkForwardSplit, get_scorer, load_demo, make_synthetic_panel

FEATURES = ["ret_1", "ret_5", "ret_21", "vol_21", "range", "dist_high_21", "volume_z_21"]


def main() -> None:
    try:
        panel = load_demo()
    except ImportError as exc:
        print(f"{exc}\nFalling back to make_synthetic_panel().")
        panel = make_synthetic_panel(n_symbols=4, n_days=1500, random_state=0)
    X, y = panel[FEATURES], panel["fwd_ret"]

    # two years of training, half a year of testing, moved forward half a year at a time;
    # fwd_ret looks one day ahead, so one embargo date keeps training labels out of the test window
    cv = WalkForwardSplit(
        train_days=504, test_days=126, step_days=126, min_train_samples=500, embargo_days=1
    )
    print(f"{cv.get_n_splits(X)} walk-forward folds over {len(X)} rows")

    param_grid = {
        "n_estimators": [100, 300],
        "learning_rate": [0.02, 0.05],
        "max_depth": [3, 5],
    }
    grid = GridSearchCV(
        estimator=LightGBMTrainer(early_stopping_rounds=0, min_child_samples=50, n_jobs=1),
        param_grid=param_grid,
        cv=cv,
        scoring={"sharpe": get_scorer("sharpe"), "hit_rate": get_scorer("hit_rate")},
        refit="sharpe",
        n_jobs=-1,
    )
    grid.fit(X, y)

    table = pd.DataFrame(grid.cv_results_)[
        ["params", "mean_test_sharpe", "std_test_sharpe", "mean_test_hit_rate", "rank_test_sharpe"]
    ].sort_values("rank_test_sharpe")
    with pd.option_context("display.width", 160, "display.max_colwidth", 80):
        print(table.to_string(index=False))
    print(f"\nbest parameters: {grid.best_params_}")
    print(f"best mean walk-forward Sharpe: {grid.best_score_:.3f}")


if __name__ == "__main__":
    main()
