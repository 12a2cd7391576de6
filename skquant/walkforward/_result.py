"""What a walk-forward run returns: per-fold table, summary, predictions; plots and files."""

from __future__ import annotations

from dataclasses import KW_ONLY, InitVar, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass(eq=False, repr=False)
class WalkForwardResult:
    """The outcome of :meth:`WalkForwardEngine.run`.

    Parameters
    ----------
    folds : DataFrame
        One row per fold: ``fold``, ``train_start``, ``train_end``,
        ``test_start``, ``test_end`` (dates), ``n_train``, ``n_test`` (rows),
        ``n_train_used`` (training rows with a known target), ``best_iteration``
        where the model early-stopped, ``n_periods`` (the fold's test dates with a
        booked return: what its return metrics rest on), and one column per metric
        computed on the
        fold's whole test window (return metrics on the net returns of that fold's
        own portfolio, which trades from 0 at its first date and is not charged an
        exit after its last).
    summary : dict
        Each metric over all out-of-sample periods (return metrics on ``returns``'
        ``net``; prediction metrics such as ``hit_rate`` on every predicted row's
        direction against its return, whatever share of them the portfolio rule
        holds), plus ``turnover`` (mean per period), ``ic`` (mean over dates of
        the Spearman correlation of prediction and target across symbols; a date
        whose IC is undefined, for constant predictions or one row, is left out, with
        a ``UserWarning`` saying on how many of the test dates the mean rests),
        ``icir`` (mean / standard deviation of those ICs), ``psr`` (probabilistic Sharpe
        ratio of the net returns against 0) and ``benchmark_sharpe``.
    predictions : DataFrame
        One row per out-of-sample row, indexed like the engine's ``data`` (sorted
        by date): ``prediction`` (a classifier's predicted label, with its
        positive-class probability in ``proba``), ``position`` (-1, 0, +1),
        ``weight`` (the served book's: on a halt, a row listed without a return between
        dates where its symbol has one, the carried weight, with the date's other weights
        scaled by 1 - the carried |weights|, so that the turnover and the gross
        exposure recomputed from this column are the booked ones), ``strategy_return
        = weight * data[return_col]`` (the row's share of the book's gross return:
        summed over a date's rows it is ``returns["gross"]``, NaN on a halt, which
        earns 0; costs are booked per date, in ``returns``) and ``fold``. Where test windows overlap, a row keeps the most
        recent model's prediction.
    dates : ndarray of shape (n_predictions,)
        The date of each row of ``predictions``.
    metrics : tuple of str
        The metric names computed.
    periods_per_year : float, default=252
        Periods in a year of the data (the engine infers it from the dates).
    returns : DataFrame, default=None
        By date: ``gross`` (sum of weight * return), ``cost``, ``net``,
        ``turnover`` (the date's trades; the book is marked, not sold, after the last
        date) and ``benchmark`` (the equal-weight long position in every
        symbol of the date with a known return, whatever the model predicted); NaN on
        a date without a known return.
    portfolio, quantile, cost_bps
        The portfolio rule and cost that made ``returns``.
    fit_seconds : ndarray of shape (n_folds,), default=None
        Wall-clock seconds of each fold's ``fit``, in fold order (a measure of the
        machine, so kept out of ``folds``, which stays identical across reruns
        and ``n_jobs``).
    backtest : object, default=None
        What the engine keeps for :meth:`evaluate` (private).

    Attributes
    ----------
    folds, summary, predictions, metrics, periods_per_year, returns, portfolio, quantile, cost_bps, fit_seconds
        As given.

    Examples
    --------
    >>> result = engine.run("lightgbm", config)  # doctest: +SKIP
    >>> result.folds[["test_start", "sharpe"]]  # doctest: +SKIP
    >>> result.save("wf_output")  # doctest: +SKIP
    """

    folds: pd.DataFrame
    summary: dict
    predictions: pd.DataFrame
    dates: InitVar[np.ndarray]
    metrics: tuple
    periods_per_year: float = 252.0
    returns: pd.DataFrame | None = None
    _: KW_ONLY
    portfolio: str = "sign"
    quantile: float = 0.2
    cost_bps: float = 0.0
    fit_seconds: np.ndarray | None = None
    backtest: InitVar[Any] = None

    def __post_init__(self, dates, backtest) -> None:
        self._dates = np.asarray(dates)
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
        from skquant.utils._equity import drawdown_curve, equity_curve

        frame.insert(1, "equity", equity_curve(frame["strategy_return"]))
        frame.insert(2, "drawdown", drawdown_curve(frame["strategy_return"]))
        return frame

    def period_returns(self) -> np.ndarray:
        """Per-date strategy returns in date order (what the summary metrics use): net.

        A result built without ``returns`` sums ``strategy_return`` per date (gross).
        """
        if self.returns is not None:
            return self.returns["net"].to_numpy()
        rows = self.predictions["strategy_return"].to_numpy(dtype=np.float64)
        return pd.Series(rows).groupby(self._dates, sort=True).sum(min_count=1).to_numpy()

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

    def _scored_rows(self) -> pd.DataFrame:
        """Each row of ``predictions`` with its score and its target, for the pictures.

        ``prediction`` is the score the IC ranks (a classifier's probability), ``target``
        the value the model learned; both come from the stored run.
        """
        bt = self._backtest
        if bt is None or self.returns is None:
            raise ValueError(
                "This result holds no walk-forward run to draw; plot() and write_report() "
                "work on the results WalkForwardEngine.run returns."
            )
        served = bt.served
        return pd.DataFrame(
            {"prediction": bt.score[served], "target": bt.target[bt.rows[served]]},
            index=self.predictions.index,
        )

    def plot(self, metric: str | None = None, *, window: int = 63, path=None):
        """Draw the backtest as a quant reads it.

        Five panels: net equity against the benchmark (equal weight long every
        symbol), gross against net equity, the rolling rank IC, turnover per period,
        and the mean target by prediction quintile (quintiles cut per date).

        Parameters
        ----------
        metric : str, default=None
            A per-fold metric of the run drawn in a sixth panel; none when None.
        window : int, default=63
            Dates in the rolling IC window.
        path : str or path-like, default=None
            Also save the figure there (PNG by its suffix, as matplotlib's
            ``savefig``).

        Returns
        -------
        fig : matplotlib.figure.Figure

        Raises
        ------
        ValueError
            An unknown ``metric`` (naming the run's), a ``window`` below 2, or a result
            that does not come from :meth:`WalkForwardEngine.run`.
        """
        from skquant.walkforward._report import plot_walkforward

        if metric is not None and metric not in self.folds.columns:
            raise ValueError(f"Unknown metric {metric!r}; this run computed {list(self.metrics)}.")
        scored = self._scored_rows()
        fig = plot_walkforward(self.returns, scored, window=window, folds=self.folds, metric=metric)
        if path is not None:
            from skquant.utils._io import atomic_write_figure

            atomic_write_figure(path, fig, dpi=100)
        return fig

    def write_report(self, path, metric: str | None = None, *, figure=None, warnings=None) -> Path:
        """Write one self-contained HTML report: summary table, warnings, fold table and
        the plots.

        The figure is embedded as a PNG inside the file, so it opens in any browser
        with nothing beside it.

        Parameters
        ----------
        path : str or path-like
            The HTML file (its folder must exist).
        metric : str, default=None
            Per-fold metric drawn in the figure's sixth panel, as in :meth:`plot`.
        figure : matplotlib.figure.Figure, default=None
            The figure to embed; ``self.plot(metric)`` when None (then closed).
        warnings : sequence of str, default=None
            The run's warnings, listed (HTML-escaped) in a "Warnings" section after the
            summary: what qualifies its numbers, as ``skquant walkforward`` keeps them
            in ``run_manifest.json``. The engine issues them as ``UserWarning``; catch
            them around the run to pass them here (example below). None or empty: no
            section.

        Returns
        -------
        path : pathlib.Path

        Examples
        --------
        >>> import warnings  # doctest: +SKIP
        >>> with warnings.catch_warnings(record=True) as caught:  # doctest: +SKIP
        ...     warnings.simplefilter("default")
        ...     result = engine.run("lightgbm", config)
        >>> result.write_report(
        ...     "report.html", warnings=[str(w.message) for w in caught]
        ... )  # doctest: +SKIP
        """
        from skquant.walkforward._report import write_report_html

        own = figure is None
        fig = self.plot(metric) if own else figure
        try:
            write_report_html(path, self.summary, self.folds, fig, warnings=warnings or ())
        finally:
            if own:
                import matplotlib.pyplot as plt

                plt.close(fig)
        return Path(path)


# the dataclass leaves the init-only default as a class attribute: result.backtest would
# read None on a result that holds one (it lives in _backtest)
del WalkForwardResult.backtest
