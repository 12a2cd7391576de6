"""Walk-forward validation of LightGBM on real index prices (the guide's engine example).

Runs the user guide's ``WalkForwardEngine`` example on ``load_demo()`` (S&P 500 and
NASDAQ daily prices shipped in the ``arch`` package; ``pip install 'skquant[demo]'``)
and prints the fold table and the summary. Without arch it falls back to
``make_synthetic_panel``.

The demo panel has two symbols, so a 252-date training window holds 504 rows: the
guide's ``min_train_samples=1000`` is lowered to 500 so that folds are not skipped.

Run: ``python examples/walkforward_demo.py [--n-jobs 2] [--output wf_demo]``
"""

from __future__ import annotations

import argparse

import pandas as pd

from skquant import WalkForwardEngine, load_demo, load_model_config, make_synthetic_panel


def main() -> None:
    parser = argparse.ArgumentParser(description="Walk-forward LightGBM on the demo panel.")
    parser.add_argument("--n-jobs", type=int, default=-1, help="folds fitted in parallel")
    parser.add_argument("--output", default=None, help="directory to save the result in")
    parser.add_argument("--plot", default=None, help="PNG file for the equity plot")
    args = parser.parse_args()

    try:
        df_labeled = load_demo()
        print(f"load_demo(): {len(df_labeled)} rows of S&P 500 and NASDAQ daily data")
    except ImportError as exc:
        print(f"{exc}\nFalling back to make_synthetic_panel().")
        df_labeled = make_synthetic_panel(n_symbols=4, n_days=1500, random_state=0)

    engine = WalkForwardEngine(
        data=df_labeled,
        target="fwd_ret",  # next-day return: the model predicts it ...
        return_col="fwd_ret",  # ... and positions earn it
        train_days=252,  # 1 year training
        test_days=63,  # 1 quarter testing
        step_days=21,  # Roll forward monthly
        min_train_samples=500,  # two symbols x 252 dates
        n_jobs=args.n_jobs,
        verbose=True,
    )
    # one LightGBM thread per fold: the folds themselves run in parallel
    config = load_model_config("lightgbm", variant="conservative", overrides={"n_jobs": 1})
    results = engine.run(
        model_name="lightgbm",
        config=config,
        metrics=["sharpe", "max_drawdown", "hit_rate", "profit_factor", "win_loss_ratio"],
    )

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(results.folds.round(4).to_string(index=False))
    print("\nSummary over all out-of-sample days:")
    for name, value in results.summary.items():
        print(f"  {name:>15}: {value:.4f}")
    if args.output:
        print(f"saved to {results.save(args.output)}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        results.plot().savefig(args.plot, dpi=100)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
