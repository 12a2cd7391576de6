"""The walk-forward pictures and the one-file HTML report, on synthetic inputs."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skquant.walkforward._report import (  # noqa: E402
    plot_walkforward,
    quantile_means,
    rolling_ic,
    write_report_html,
)

TITLES = {
    "Net equity vs benchmark",
    "Gross vs net equity",
    "Rolling IC (20 periods)",
    "Turnover",
    "Mean target by prediction quintile",
}


def _inputs(n_dates=120, n_symbols=10, seed=0, panel=True):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2022-01-03", periods=n_dates)
    if panel:
        index = pd.MultiIndex.from_product(
            [dates, [f"S{i}" for i in range(n_symbols)]], names=["date", "symbol"]
        )
    else:
        index = dates
    prediction = rng.normal(size=len(index))
    target = 0.01 * prediction + rng.normal(scale=0.02, size=len(index))
    predictions = pd.DataFrame(
        {"prediction": prediction, "target": target, "weight": np.sign(prediction) / 10},
        index=index,
    )
    gross = rng.normal(0.001, 0.01, n_dates)
    turnover = rng.uniform(0, 1, n_dates)
    cost = turnover * 5 / 10_000
    returns = pd.DataFrame(
        {
            "gross": gross,
            "cost": cost,
            "net": gross - cost,
            "turnover": turnover,
            "benchmark": rng.normal(0.0005, 0.01, n_dates),
        },
        index=dates,
    )
    return returns, predictions


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("panel", [True, False])
def test_figure_has_the_five_titled_panels(panel):
    returns, predictions = _inputs(panel=panel)
    fig = plot_walkforward(returns, predictions, window=20)
    assert len(fig.axes) == 5
    assert {ax.get_title() for ax in fig.axes} == TITLES
    equity = next(ax for ax in fig.axes if ax.get_title() == "Gross vs net equity")
    gross_line, net_line = equity.get_lines()
    np.testing.assert_allclose(gross_line.get_ydata(), np.cumprod(1 + returns["gross"]))
    np.testing.assert_allclose(net_line.get_ydata(), np.cumprod(1 + returns["net"]))


def test_rolling_ic_is_the_mean_of_per_date_spearman():
    from scipy.stats import spearmanr

    _, predictions = _inputs(n_dates=30, n_symbols=6, seed=1)
    shuffled = predictions.sample(frac=1.0, random_state=0)
    got = rolling_ic(shuffled, "target", shuffled.index.get_level_values("date").to_numpy(), 5)
    daily = predictions.groupby(level="date").apply(
        lambda g: spearmanr(g["prediction"], g["target"])[0]
    )
    want = daily.rolling(5, min_periods=2).mean()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=1e-12, equal_nan=True)


def test_quintiles_are_cut_per_date():
    # on every date, symbol i predicts i and earns i: quintile q holds symbols 2q-2, 2q-1
    dates = pd.bdate_range("2024-01-01", periods=4)
    index = pd.MultiIndex.from_product([dates, range(10)])
    shift = np.repeat(np.arange(4) * 100.0, 10)  # predictions' level differs by date
    symbol = np.tile(np.arange(10.0), 4)
    predictions = pd.DataFrame({"prediction": symbol + shift, "target": symbol}, index=index)
    means = quantile_means(predictions, "target", index.get_level_values(0).to_numpy())
    assert means.tolist() == [0.5, 2.5, 4.5, 6.5, 8.5]


def test_report_is_one_self_contained_file(tmp_path):
    returns, predictions = _inputs()
    fig = plot_walkforward(returns, predictions, window=20)
    summary = {"sharpe": 0.8123456, "turnover": 0.31, "ic": 0.02, "psr": 0.91, "n_folds": 3}
    folds = pd.DataFrame(
        {
            "fold": [0, 1, 2],
            "test_start": pd.to_datetime(["2022-03-01", "2022-04-01", "2022-05-02"]),
            "sharpe": [1.25, -0.5, 0.75],
        }
    )
    path = tmp_path / "report.html"
    write_report_html(path, summary, folds, fig)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    match = re.search(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert match and base64.b64decode(match.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert not re.search(r'(src|href)="(?!data:)', text)  # nothing loaded from elsewhere
    for key in summary:
        assert f"<th>{key}</th>" in text
    assert "0.8123" in text
    for start in ("2022-03-01", "2022-04-01", "2022-05-02"):
        assert start in text
    assert text.count("<tr") == len(summary) + 1 + len(folds)  # + the fold table's header


def test_report_escapes_text(tmp_path):
    fig = plt.figure()
    write_report_html(tmp_path / "r.html", {"<b>": "a&b"}, pd.DataFrame({"x": ["<i>"]}), fig)
    text = (tmp_path / "r.html").read_text()
    assert "&lt;b&gt;" in text and "a&amp;b" in text and "&lt;i&gt;" in text


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r, p: (r.drop(columns="turnover"), p), r"returns lacks the columns \['turnover'\]"),
        (lambda r, p: (r, p.drop(columns="target")), r"lacks the columns \['target'\]"),
        (lambda r, p: (r, p.reset_index(drop=True)), "predictions needs dates"),
        (lambda r, p: (r["net"], p), "returns must be a DataFrame"),
    ],
)
def test_bad_inputs_are_named(change, match):
    returns, predictions = change(*_inputs(n_dates=10, n_symbols=2))
    with pytest.raises(ValueError, match=match):
        plot_walkforward(returns, predictions)


def test_window_is_checked():
    with pytest.raises(ValueError, match="window"):
        plot_walkforward(*_inputs(n_dates=10), window=1)


def test_matplotlib_is_imported_lazily():
    import subprocess
    import sys

    code = "import skquant.walkforward._report, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_rolling_ic_of_one_series_is_spearman_over_the_window():
    from scipy.stats import spearmanr

    _, predictions = _inputs(n_dates=40, panel=False, seed=2)
    got = rolling_ic(predictions, "target", predictions.index.to_numpy(), 10)
    tail = predictions.iloc[-10:]
    assert got.iloc[-1] == pytest.approx(spearmanr(tail["prediction"], tail["target"])[0])
    head = predictions.iloc[:6]  # a window shorter than 10 dates, from the start
    assert got.iloc[5] == pytest.approx(spearmanr(head["prediction"], head["target"])[0])
    assert got.iloc[:2].isna().all() and got.iloc[3:].notna().all()  # min_periods = 10 // 3
