"""Pictures and a one-file HTML report of a walk-forward backtest.

:func:`plot_walkforward` draws what a quant reads first: net equity against the
benchmark, gross against net equity, the rolling rank IC, turnover, and the mean
target by prediction quintile (alphalens' factor view, per-date quintiles).
:func:`write_report_html` writes a summary table, the run's warnings, the fold table
and that figure into one self-contained HTML file. matplotlib is an optional dependency, imported
only when a figure is drawn.
"""

from __future__ import annotations

import base64
import html
import io
import json
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from skquant.metrics import information_coefficient
from skquant.utils._cross_section import ic_by_date
from skquant.utils._equity import equity_curve
from skquant.utils._time import dates_of

__all__ = ["plot_walkforward", "write_report_html"]

RETURN_COLUMNS = ("gross", "cost", "net", "turnover", "benchmark")
N_QUANTILES = 5
PANEL_TITLES = (
    "Net equity vs benchmark",
    "Gross vs net equity",
    "Rolling IC",
    "Turnover",
    "Mean target by prediction quintile",
)


def _check_inputs(returns, predictions, target_col: str) -> np.ndarray:
    """Check the column contract; return each prediction row's date."""
    if not isinstance(returns, pd.DataFrame):
        raise ValueError(f"returns must be a DataFrame by date, got {type(returns).__name__}.")
    missing = [c for c in RETURN_COLUMNS if c not in returns.columns]
    if missing:
        raise ValueError(
            f"returns lacks the columns {missing}; it needs {list(RETURN_COLUMNS)} by date."
        )
    if not isinstance(predictions, pd.DataFrame):
        raise ValueError(f"predictions must be a DataFrame, got {type(predictions).__name__}.")
    missing = [c for c in ("prediction", target_col) if c not in predictions.columns]
    if missing:
        raise ValueError(
            f"predictions lacks the columns {missing} (target_col={target_col!r}); it needs "
            "'prediction' and the target column."
        )
    dates = dates_of(predictions)
    if dates is None:
        raise ValueError("predictions needs dates: a DatetimeIndex or a (date, symbol) MultiIndex.")
    return dates


def rolling_ic(predictions, target_col: str, dates: np.ndarray, window: int) -> pd.Series:
    """Rolling mean of the rank IC, by date.

    With several rows on a date (a panel) the IC of a date is the Spearman
    correlation of prediction and target across its rows, and the rolling mean is
    over ``window`` dates. With one row per date it is the Spearman correlation
    over each trailing window of ``window`` dates. Rows with NaN are dropped; the
    first ``max(2, window // 3) - 1`` dates are NaN.
    """
    frame = (
        pd.DataFrame(
            {
                "p": predictions["prediction"].to_numpy(dtype=np.float64),
                "t": predictions[target_col].to_numpy(dtype=np.float64),
                "d": dates,
            }
        )
        .dropna()
        .sort_values("d", kind="stable")
    )
    min_periods = max(2, window // 3)
    t, p, d = frame["t"].to_numpy(), frame["p"].to_numpy(), frame["d"].to_numpy()
    # a panel by all its rows: NaN labels that left one row a date gave that symbol's
    # IC over time as the cross-sectional one (as information_coefficient did)
    if pd.Series(dates).duplicated().any():
        return ic_by_date(t, p, d).rolling(window, min_periods=min_periods).mean()
    values = np.full(len(frame), np.nan)
    for end in range(min_periods, min(window, len(frame) + 1)):  # the short first windows
        values[end - 1] = information_coefficient(t[:end], p[:end])
    if len(frame) >= window:  # full windows at once: ranks within each window
        rt = stats.rankdata(sliding_window_view(t, window), axis=1)
        rp = stats.rankdata(sliding_window_view(p, window), axis=1)
        rt -= rt.mean(axis=1, keepdims=True)
        rp -= rp.mean(axis=1, keepdims=True)
        denominator = np.sqrt((rt**2).sum(axis=1) * (rp**2).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            values[window - 1 :] = np.where(
                denominator > 0, (rt * rp).sum(axis=1) / denominator, np.nan
            )
    return pd.Series(values, index=d)


def quantile_means(predictions, target_col: str, dates: np.ndarray) -> pd.Series:
    """Mean target by prediction quintile (1 lowest to 5 highest).

    Quintiles are cut per date from the predictions' ranks (alphalens'
    ``by_date``), so every date contributes to each quintile its symbols reach;
    when the typical (median) date has fewer rows than quintiles (one series, or a
    panel of two indices) they are cut over all rows, so that every quintile is
    filled.
    """
    frame = pd.DataFrame(
        {
            "p": predictions["prediction"].to_numpy(dtype=np.float64),
            "t": predictions[target_col].to_numpy(dtype=np.float64),
            "d": dates,
        }
    ).dropna()
    per_date = len(frame) and frame.groupby("d").size().median() >= N_QUANTILES
    key = frame["d"] if per_date else np.zeros(len(frame))
    share = frame.groupby(key)["p"].rank(pct=True)  # ties share a rank: never row order
    quantile = np.ceil(share * N_QUANTILES).clip(1, N_QUANTILES).astype(int)
    means = frame["t"].groupby(quantile).mean()
    return means.reindex(range(1, N_QUANTILES + 1))


def plot_walkforward(
    returns,
    predictions,
    *,
    target_col: str = "target",
    window: int = 63,
    fig=None,
    folds=None,
    metric: str | None = None,
):
    """Draw a walk-forward backtest in five panels.

    (a) compounded net equity against the benchmark; (b) gross against net equity;
    (c) the rolling rank IC (per-date Spearman correlation of prediction and target
    across symbols, averaged over ``window`` dates); (d) turnover per period; (e) the
    mean target by prediction quintile, quintiles cut per date; with ``folds`` and
    ``metric``, (f) that metric per fold.

    Parameters
    ----------
    returns : DataFrame
        By date, with the columns ``gross``, ``cost``, ``net``, ``turnover`` and
        ``benchmark`` (per-period returns and turnover).
    predictions : DataFrame
        Indexed by a (date, symbol) ``MultiIndex`` or a ``DatetimeIndex``, with
        the columns ``prediction`` and ``target_col`` (the target's values).
    target_col : str, default="target"
        The column of ``predictions`` holding the target.
    window : int, default=63
        Dates in the rolling IC window.
    fig : matplotlib.figure.Figure, default=None
        A figure to draw into (cleared first); a new one when None.
    folds : DataFrame, default=None
        One row per fold, with the columns ``fold`` and ``metric``.
    metric : str, default=None
        The column of ``folds`` drawn in a sixth panel; none when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Five axes (six with ``folds`` and ``metric``), titled as the panels above.

    Raises
    ------
    ValueError
        A missing column (named), predictions without dates, ``window`` below 2.
    ImportError
        Without matplotlib, naming the install command.
    """
    if isinstance(window, bool) or not isinstance(window, Real) or window < 2:
        raise ValueError(f"window must be a number of dates >= 2, got {window!r}.")
    window = int(window)
    dates = _check_inputs(returns, predictions, target_col)
    by_fold = metric is not None
    if by_fold and (not isinstance(folds, pd.DataFrame) or metric not in folds.columns):
        raise ValueError(f"metric={metric!r} needs folds, a DataFrame with that column.")
    from skquant.utils._optional import import_optional

    plt = import_optional("matplotlib.pyplot")
    if fig is None:
        fig = plt.figure(figsize=(12, 14 if by_fold else 11))
    else:
        fig.clear()
    heights = [1.3, 1.0, 1.0] + ([0.8] if by_fold else [])
    grid = fig.add_gridspec(len(heights), 2, height_ratios=heights)
    ax_net = fig.add_subplot(grid[0, :])
    ax_cost, ax_ic = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    ax_turn, ax_q = fig.add_subplot(grid[2, 0]), fig.add_subplot(grid[2, 1])
    returns = returns.sort_index()
    index = returns.index

    ax_net.plot(index, equity_curve(returns["net"]), label="strategy (net)", color="tab:blue")
    ax_net.plot(index, equity_curve(returns["benchmark"]), label="benchmark", color="0.4")
    ax_cost.plot(index, equity_curve(returns["gross"]), label="gross", color="tab:green")
    ax_cost.plot(index, equity_curve(returns["net"]), label="net", color="tab:blue")
    for ax in (ax_net, ax_cost):
        ax.set_ylabel("equity")
        ax.legend(loc="upper left")

    ic = rolling_ic(predictions, target_col, dates, window)
    ax_ic.plot(ic.index, ic.to_numpy(), color="tab:purple")
    ax_ic.axhline(0.0, color="black", linewidth=0.6)
    ax_ic.set_ylabel("rank IC")

    ax_turn.plot(index, returns["turnover"], color="tab:orange", linewidth=0.8)
    ax_turn.set_ylabel("turnover")

    means = quantile_means(predictions, target_col, dates)
    colours = np.where(means.fillna(0.0).to_numpy() >= 0, "tab:green", "tab:red")
    ax_q.bar(means.index, means.fillna(0.0).to_numpy(), color=colours)
    ax_q.axhline(0.0, color="black", linewidth=0.6)
    ax_q.set_xticks(list(means.index))
    ax_q.set_xlabel("prediction quintile (1 lowest)")
    ax_q.set_ylabel(f"mean {target_col}")

    titles = list(PANEL_TITLES)
    titles[2] = f"Rolling IC ({window} periods)"
    for ax, title in zip((ax_net, ax_cost, ax_ic, ax_turn, ax_q), titles, strict=True):
        ax.set_title(title)
    if by_fold:
        ax_fold = fig.add_subplot(grid[3, :])
        values = folds[metric].replace([np.inf, -np.inf], np.nan).to_numpy(dtype=np.float64)
        ax_fold.bar(folds["fold"], values, color=np.where(values >= 0, "tab:green", "tab:red"))
        ax_fold.axhline(0.0, color="black", linewidth=0.6)
        ax_fold.set_xlabel("fold")
        ax_fold.set_ylabel(metric)
        ax_fold.set_title(f"{metric} by fold")
    fig.tight_layout()
    return fig


def _figure_png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str)
    return str(value)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
    "th{background:#f3f3f3}img{max-width:100%}"
)


def write_report_html(path, summary: dict, folds: pd.DataFrame, figure, *, warnings=()) -> None:
    """Write one self-contained HTML report: summary, the run's warnings, fold table and
    the figure.

    The figure is embedded as a base64 PNG (``<img src="data:image/png;base64,...">``),
    so the file opens in any browser with nothing beside it. The file is written to
    a temporary file beside ``path`` and renamed into place.

    Parameters
    ----------
    path : str or path-like
        The HTML file to write (its folder must exist).
    summary : dict
        Summary statistics, one table row per key.
    folds : DataFrame
        One row per fold.
    figure : matplotlib.figure.Figure
        The figure to embed, e.g. from :func:`plot_walkforward`.
    warnings : sequence of str, default=()
        The run's warnings (what qualifies its summary: a model that learned nothing,
        a fold cut short, an IC resting on fewer dates), listed in a "Warnings"
        section after the summary; none: no section.
    """
    from skquant.utils._io import atomic_write_bytes

    if not isinstance(folds, pd.DataFrame):
        raise ValueError(f"folds must be a DataFrame, got {type(folds).__name__}.")
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(_cell(value))}</td></tr>"
        for key, value in dict(summary).items()
    )
    if isinstance(warnings, str):
        warnings = [warnings]
    notes = "".join(f"<li>{html.escape(str(message))}</li>" for message in warnings)
    notes = f'<h2>Warnings</h2>\n<ul class="warnings">{notes}</ul>\n' if notes else ""
    fold_table = folds.to_html(
        index=False, float_format=lambda v: f"{v:.4g}", border=0, na_rep="", escape=True
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>skquant walk-forward report</title><style>{_STYLE}</style></head><body>\n"
        "<h1>Walk-forward report</h1>\n"
        f'<h2>Summary</h2>\n<table class="summary">{rows}</table>\n'
        f"{notes}"
        f"<h2>Folds</h2>\n{fold_table}\n"
        '<h2>Charts</h2>\n<img alt="walk-forward charts" '
        f'src="data:image/png;base64,{_figure_png(figure)}">\n'
        "</body></html>\n"
    )
    atomic_write_bytes(Path(path), page.encode("utf-8"))
