"""What a walk-forward run returns: per-fold table, summary, predictions; plots and files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from skquant.metrics import period_returns


class WalkForwardResult:
    """The outcome of :meth:`WalkForwardEngine.run`.

    Parameters
    ----------
    folds : DataFrame
        One row per fold: ``fold``, ``train_start``, ``train_end``,
        ``test_start``, ``test_end`` (dates), ``n_train``, ``n_test`` (rows),
        ``n_train_used`` (training rows with a known target), ``best_iteration``
        where the model early-stopped, and one column per metric computed on the
        fold's whole test window (return metrics on the net returns of that fold's
        own portfolio, which trades from 0 at its first date).
    summary : dict
        Each metric over all out-of-sample periods (return metrics on ``returns``'
        ``net``), plus ``turnover`` (mean per period), ``ic`` (mean over dates of
        the Spearman correlation of prediction and target across symbols), ``icir``
        (mean / standard deviation of those ICs), ``psr`` (probabilistic Sharpe
        ratio of the net returns against 0) and ``benchmark_sharpe``.
    predictions : DataFrame
        One row per out-of-sample row, indexed like the engine's ``data`` (sorted
        by date): ``prediction`` (a classifier's predicted label, with its
        positive-class probability in ``proba``), ``position`` (-1, 0, +1),
        ``weight`` (the portfolio's), ``strategy_return = position *
        data[return_col]`` and ``fold``. Where test windows overlap, a row keeps
        the most recent model's prediction.
    dates : ndarray of shape (n_predictions,)
        The date of each row of ``predictions``.
    metrics : tuple of str
        The metric names computed.
    periods_per_year : float, default=252
        Periods in a year of the data (the engine infers it from the dates).
    returns : DataFrame, default=None
        By date: ``gross`` (sum of weight * return), ``cost``, ``net``,
        ``turnover`` and ``benchmark`` (the equal-weight long position in every
        symbol of the date); NaN on a date without a known return.
    portfolio, quantile, cost_bps
        The portfolio rule and cost that made ``returns``.
    backtest : object, default=None
        What the engine keeps for :meth:`evaluate` (private).

    Attributes
    ----------
    folds, summary, predictions, metrics, periods_per_year, returns, portfolio, quantile, cost_bps
        As given.

    Examples
    --------
    >>> result = engine.run("lightgbm", config)  # doctest: +SKIP
    >>> result.folds[["test_start", "sharpe"]]  # doctest: +SKIP
    >>> result.save("wf_output")  # doctest: +SKIP
    """

    def __init__(
        self,
        folds,
        summary,
        predictions,
        dates,
        metrics,
        periods_per_year=252.0,
        returns=None,
        *,
        portfolio="sign",
        quantile=0.2,
        cost_bps=0.0,
        backtest=None,
    ):
        self.folds = folds
        self.summary = summary
        self.predictions = predictions
        self._dates = np.asarray(dates)
        self.metrics = metrics
        self.periods_per_year = periods_per_year
        self.returns = returns
        self.portfolio = portfolio
        self.quantile = quantile
        self.cost_bps = cost_bps
        self._backtest = backtest

    def evaluate(self, portfolio=None, quantile=None, cost_bps=None, metrics=None):
        """Trade the stored predictions again by another rule or cost, without refitting.

        Parameters
        ----------
        portfolio : {"sign", "long_only", "rank", "quantile"}, default=None
            The portfolio rule (see :class:`WalkForwardEngine`); None keeps this
            result's.
        quantile : float, default=None
            Share of symbols in each leg of ``"quantile"``; None keeps this result's.
        cost_bps : float, default=None
            Cost per unit of turnover in basis points; None keeps this result's.
        metrics : sequence of str, default=None
            Metric names; None keeps this result's.

        Returns
        -------
        result : WalkForwardResult
            A new result: the same predictions and folds, new weights, returns,
            metrics and summary. ``result.evaluate(cost_bps=c)`` equals a run with
            ``cost_bps=c``, so a cost sweep is a loop over it.

        Examples
        --------
        >>> for bps in (0, 2, 5):  # doctest: +SKIP
        ...     print(bps, result.evaluate(cost_bps=bps).summary["sharpe"])
        """
        from skquant.walkforward._portfolio import evaluate

        if self._backtest is None:
            raise ValueError(
                "This result holds no walk-forward run to re-evaluate; evaluate() works on "
                "the results WalkForwardEngine.run returns."
            )
        return evaluate(
            self._backtest,
            self.portfolio if portfolio is None else portfolio,
            self.quantile if quantile is None else quantile,
            self.cost_bps if cost_bps is None else cost_bps,
            self.metrics if metrics is None else metrics,
        )

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.summary.items())
        return f"WalkForwardResult(n_folds={len(self.folds)}, {shown})"

    def to_frame(self) -> pd.DataFrame:
        """The strategy per period (date): return, equity and drawdown.

        Returns
        -------
        frame : DataFrame
            Indexed by date, columns ``strategy_return`` (the net return of the
            portfolio, as in ``returns``), ``equity`` (compounded from 1), ``drawdown`` (from
            the running peak, <= 0) and ``fold`` (the model that served the date).
        """
        dates = pd.DatetimeIndex(self._dates)
        grouped = (
            self.predictions[["strategy_return", "fold"]].reset_index(drop=True).groupby(dates)
        )
        frame = pd.DataFrame(
            {"strategy_return": self.period_returns(), "fold": grouped["fold"].max()},
            index=grouped["fold"].max().index,
        )
        frame.index.name = "date"
        equity = (1.0 + frame["strategy_return"].fillna(0.0)).cumprod()
        frame.insert(1, "equity", equity)
        frame.insert(2, "drawdown", equity / np.maximum(equity.cummax(), 1.0) - 1.0)
        return frame

    def period_returns(self) -> np.ndarray:
        """Per-date strategy returns in date order (what the summary metrics use): net."""
        if self.returns is not None:
            return self.returns["net"].to_numpy()
        return period_returns(self.predictions["strategy_return"].to_numpy(), self._dates)

    def save(self, directory) -> Path:
        """Write ``predictions.parquet``, ``folds.csv`` and ``summary.json`` into ``directory``.

        Each file is written to a temporary name in the same directory and renamed
        into place, so a reader never sees a half-written file. Non-finite summary
        values (NaN, and infinities such as a profit factor with no losing period) are
        written as ``null``, as in every JSON file skquant writes (JSON has no NaN or
        infinity); ``folds.csv`` keeps the signed infinities.

        Parameters
        ----------
        directory : str or path-like
            Created if missing.

        Returns
        -------
        directory : pathlib.Path
        """
        from skquant.utils._io import atomic_write, atomic_write_bytes, atomic_write_json
        from skquant.utils._optional import import_optional

        import_optional("pyarrow")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / "predictions.parquet", self.predictions.to_parquet)
        folds_csv = self.folds.to_csv(index=False).encode("utf-8")
        atomic_write_bytes(directory / "folds.csv", folds_csv)
        atomic_write_json(directory / "summary.json", dict(self.summary), sort_keys=False)
        return directory

    def plot(self, metric: str | None = None):
        """Draw the equity curve, its drawdown and a per-fold metric.

        Parameters
        ----------
        metric : str, default=None
            Per-fold metric of the bottom panel; the first metric of the run
            when None.

        Returns
        -------
        fig : matplotlib.figure.Figure
        """
        from skquant.utils._optional import import_optional

        plt = import_optional("matplotlib.pyplot")
        metric = metric or self.metrics[0]
        if metric not in self.folds.columns:
            raise ValueError(f"Unknown metric {metric!r}; this run computed {list(self.metrics)}.")
        frame = self.to_frame()
        fig, (ax_eq, ax_dd, ax_fold) = plt.subplots(
            3, 1, figsize=(10, 8), gridspec_kw={"height_ratios": [3, 1.2, 1.5]}
        )
        ax_eq.plot(frame.index, frame["equity"], color="tab:blue")
        ax_eq.set_ylabel("equity")
        ax_eq.set_title("Walk-forward out-of-sample equity")
        if len(self.folds) <= 40:  # mark the refits where they stay readable
            for start in self.folds["test_start"]:
                ax_eq.axvline(start, color="0.85", linewidth=0.6, zorder=0)
        ax_dd.fill_between(frame.index, frame["drawdown"], 0.0, color="tab:red", alpha=0.4)
        ax_dd.set_ylabel("drawdown")
        values = self.folds[metric].replace([np.inf, -np.inf], np.nan)
        ax_fold.bar(self.folds["fold"], values, color=np.where(values >= 0, "tab:green", "tab:red"))
        ax_fold.axhline(0.0, color="black", linewidth=0.6)
        ax_fold.set_xlabel("fold")
        ax_fold.set_ylabel(metric)
        fig.tight_layout()
        return fig
