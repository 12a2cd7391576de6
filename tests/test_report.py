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


def test_rolling_ic_of_a_panel_left_with_one_labelled_symbol_is_undefined():
    """NaN labels on every symbol but one left one row a date, and the rolling IC
    became that symbol's correlation over time, printed as the cross-sectional IC."""
    _, predictions = _inputs(n_dates=30, n_symbols=4, seed=1)
    one_left = predictions.copy()
    symbols = one_left.index.get_level_values("symbol")
    one_left.loc[symbols != symbols[0], "target"] = np.nan
    dates = one_left.index.get_level_values("date").to_numpy()
    assert rolling_ic(one_left, "target", dates, 5).isna().all()


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


def test_result_plot_draws_the_run_in_five_panels(tmp_path):
    """Issue 12 item 6: result.plot() is plot_walkforward of the run's returns, its scores
    and the target of each row; a classifier's IC ranks its probabilities."""
    from sklearn.linear_model import LogisticRegression, Ridge

    from skquant import WalkForwardEngine, make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=6, n_days=200, random_state=4)
    engine = WalkForwardEngine(
        panel, target="fwd_ret", train_days=80, test_days=40, step_days=40, min_train_samples=1
    )
    result = engine.run(estimator=Ridge(), metrics=["sharpe"])
    fig = result.plot(window=20, path=tmp_path / "wf.png")
    assert (tmp_path / "wf.png").read_bytes()[:4] == b"\x89PNG"
    assert len(fig.axes) == 5 and {ax.get_title() for ax in fig.axes} == TITLES
    net, benchmark = fig.axes[0].get_lines()
    np.testing.assert_allclose(net.get_ydata(), np.cumprod(1 + result.returns["net"]))
    np.testing.assert_allclose(benchmark.get_ydata(), np.cumprod(1 + result.returns["benchmark"]))
    np.testing.assert_allclose(fig.axes[3].get_lines()[0].get_ydata(), result.returns["turnover"])
    rows = result.predictions.assign(target=panel["fwd_ret"].loc[result.predictions.index])
    dates = rows.index.get_level_values("date").to_numpy()
    bars = [patch.get_height() for patch in fig.axes[4].patches]
    np.testing.assert_allclose(bars, quantile_means(rows, "target", dates).to_numpy())
    ic = fig.axes[2].get_lines()[0].get_ydata()
    np.testing.assert_allclose(ic, rolling_ic(rows, "target", dates, 20), equal_nan=True)
    with pytest.raises(ValueError, match="Unknown metric 'calmar'"):
        result.plot("calmar")

    binary = panel.assign(up=(panel["fwd_ret"] > 0).astype(float).where(panel["fwd_ret"].notna()))
    engine = WalkForwardEngine(
        binary, target="up", return_col="fwd_ret", features=["ret_1", "ret_5", "vol_21"],
        train_days=80, test_days=40, step_days=40, min_train_samples=1,
    )  # fmt: skip
    result = engine.run(estimator=LogisticRegression(), metrics=["sharpe"])
    fig = result.plot(window=20)
    rows = result.predictions.assign(prediction=result.predictions["proba"], target=binary["up"])
    dates = rows.index.get_level_values("date").to_numpy()
    ic = fig.axes[2].get_lines()[0].get_ydata()
    np.testing.assert_allclose(ic, rolling_ic(rows, "target", dates, 20), equal_nan=True)


def test_plot_needs_a_run_and_a_known_metric_panel():
    from skquant.walkforward import WalkForwardResult

    dates = pd.bdate_range("2024-01-01", periods=3)
    predictions = pd.DataFrame({"prediction": [0.1, -0.2, 0.3]}, index=dates)
    result = WalkForwardResult(pd.DataFrame({"fold": [0]}), {}, predictions, dates, ("sharpe",))
    with pytest.raises(ValueError, match="WalkForwardEngine.run"):
        result.plot()
    returns, predictions = _inputs(n_dates=10, n_symbols=2)
    with pytest.raises(ValueError, match="metric='sharpe' needs folds"):
        plot_walkforward(returns, predictions, metric="sharpe")


def test_quintiles_of_a_two_symbol_panel_are_all_filled():
    """With fewer symbols than quintiles a per-date cut leaves quintiles 1, 2 and 4 empty
    (the demo's two indices); the rows are then cut together."""
    _, predictions = _inputs(n_dates=50, n_symbols=2, seed=5)
    dates = predictions.index.get_level_values("date").to_numpy()
    means = quantile_means(predictions, "target", dates)
    assert means.notna().all()
    pooled = np.ceil(predictions["prediction"].rank(method="first", pct=True) * 5)
    np.testing.assert_allclose(means, predictions["target"].groupby(pooled.to_numpy()).mean())


def test_tied_predictions_share_a_quintile():
    """Ties were cut by row order: a constant prediction spread the symbols over all
    five quintiles by name and drew a spread that the model does not make."""
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=30).to_numpy(), 5)
    target = np.tile(np.arange(5.0), 30)  # the last symbol always does best
    predictions = pd.DataFrame({"prediction": 0.1, "target": target})
    means = quantile_means(predictions, "target", dates)
    assert means.notna().sum() == 1 and means.dropna().iloc[0] == pytest.approx(2.0)


def test_report_lists_the_runs_warnings_escaped(tmp_path):
    """report.html carried no mark of the run's warnings (a model that learned nothing,
    an IC resting on fewer dates): they reached only the console and the manifest."""
    fig = plt.figure()
    folds = pd.DataFrame({"fold": [0]})
    notes = ["the model predicted one constant value in 2 of 3 folds", "a <b> & c"]
    write_report_html(tmp_path / "r.html", {"sharpe": 1.0}, folds, fig, warnings=notes)
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    section = re.search(r"<h2>Warnings</h2>\s*<ul[^>]*>(.*?)</ul>", text, re.S)
    assert section is not None
    assert re.findall(r"<li>(.*?)</li>", section.group(1)) == [notes[0], "a &lt;b&gt; &amp; c"]
    assert text.index("<h2>Summary</h2>") < section.start() < text.index("<h2>Folds</h2>")
    write_report_html(tmp_path / "none.html", {"sharpe": 1.0}, folds, fig, warnings=[])
    assert "Warnings" not in (tmp_path / "none.html").read_text(encoding="utf-8")
    plt.close(fig)
