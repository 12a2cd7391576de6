"""The command line under the honest-numbers rules, on the demo data's real prices:
the leak guard in build-features and walkforward, feature models never tested
in-sample, and the guide's commands as written."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from tests.test_cli import FAST_YAML, run_cli


class _PCAStandInVAE(TransformerMixin, BaseEstimator):
    """A PCA with the VAE's interface: the build-features pipeline in-process, fast."""

    def __init__(self, config=None, latent_dim=None):
        self.config = config
        self.latent_dim = latent_dim

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        self.inputs_ = list(X.columns)
        self.pca_ = PCA(n_components=self.latent_dim, random_state=0).fit(X)
        return self

    def transform(self, X):
        return self.pca_.transform(X)


@pytest.fixture(scope="module")
def sp500_with_a_renamed_label(tmp_path_factory):
    """The demo's SP500 file plus a column ``target`` equal to ``fwd_ret_5`` (finding 1)."""
    pytest.importorskip("arch")
    pytest.importorskip("statsmodels")
    from skquant import load_demo

    folder = tmp_path_factory.mktemp("labeled")
    sp500 = load_demo().xs("SP500", level="symbol")
    sp500 = sp500.assign(target=sp500["fwd_ret_5"])
    sp500.to_parquet(folder / "SP500.parquet")
    return folder


@pytest.fixture
def stand_in_vae(monkeypatch, tmp_path):
    """Registers the stand-in as 'vae'; returns the path of its (empty) config file."""
    import skquant.registry

    monkeypatch.setitem(skquant.registry._REGISTRY, "vae", (__name__, "_PCAStandInVAE"))
    config = tmp_path / "vae.yaml"
    config.write_text("model: vae\nvariants:\n  balanced: {}\n")
    return str(config)


def _fast_config(folder):
    path = folder / "lightgbm.yaml"
    path.write_text(FAST_YAML.format(rounds=20, patience=0))
    return str(path)


def _walkforward(main, data, out, config, *extra):
    return main(
        ["walkforward", "--input-dir", str(data), "--output-dir", str(out), "--config", config,
         "--train-days", "504", "--test-days", "126", "--step-days", "126",
         "--min-train-samples", "100", "--n-jobs", "1", *extra]
    )  # fmt: skip


def test_build_features_never_feeds_a_label_to_the_feature_model(
    sp500_with_a_renamed_label, tmp_path, stand_in_vae, capsys
):
    """Finding 1: build-features printed "features (8): ... target" and fed it to the VAE;
    walkforward on the result then reported Sharpe 4.80 instead of 0.34."""
    from skquant import load_model
    from skquant.cli import main

    data = sp500_with_a_renamed_label
    args = ["build-features", "--input-dir", str(data), "--latent-dim", "3", "--train-frac", "0.4",
            "--config", stand_in_vae]  # fmt: skip
    assert main([*args, "--output-dir", str(tmp_path / "vae")]) == 0
    out, err = capsys.readouterr()
    assert "features (7): ret_1, ret_5, ret_21, vol_21, range, dist_high_21, volume_z_21" in out
    # no --target: scored against the one-period return fwd_ret (about 0.4 for a 5-day label)
    assert "skquant: warning: Left out 1 column(s)" in err
    assert re.search(r"future of fwd_ret .*: target \(0\.[3-9]\d\)", err), err
    assert load_model(tmp_path / "vae" / "vae_models" / "SP500").inputs_[-1] == "volume_z_21"
    # explicitly listing the label is refused, unless the guard is switched off
    listed = ["--features", "ret_1,ret_5,vol_21,target"]
    assert main([*args, "--output-dir", str(tmp_path / "x"), *listed]) == 2
    assert "--leak-threshold none" in capsys.readouterr().err
    leaky_dir = tmp_path / "leaky"
    assert main([*args, "--output-dir", str(leaky_dir), *listed, "--leak-threshold", "none"]) == 0

    # walkforward on the leaky latents: its own guard drops them (they know the target's
    # future); forced in, they pay far more than the honest latents do
    config = _fast_config(tmp_path)
    common = ["--target", "target", "--return-col", "fwd_ret", "--features", "vae0,vae1,vae2"]
    capsys.readouterr()
    assert _walkforward(main, leaky_dir, tmp_path / "wf_refused", config, *common) == 2
    assert "vae" in capsys.readouterr().err
    assert _walkforward(main, tmp_path / "vae", tmp_path / "wf", config, *common) == 0
    assert (
        _walkforward(
            main, leaky_dir, tmp_path / "wf_leak", config, *common, "--leak-threshold", "none"
        )
        == 0
    )
    honest = json.loads((tmp_path / "wf" / "summary.json").read_text())["sharpe"]
    leaky = json.loads((tmp_path / "wf_leak" / "summary.json").read_text())["sharpe"]
    assert leaky > honest + 1.0, (honest, leaky)
    assert honest < 1.5


def test_walkforward_tests_only_after_the_feature_models_fit_window(
    sp500_with_a_renamed_label, tmp_path, stand_in_vae, capsys
):
    """Finding 4: walkforward on a build-features folder tested 55% of its test dates
    inside the window the encoder was fitted on."""
    from skquant.cli import main

    data, vae = sp500_with_a_renamed_label, tmp_path / "vae"
    args = ["build-features", "--input-dir", str(data), "--output-dir", str(vae),
            "--config", stand_in_vae]  # fmt: skip
    assert main([*args, "--latent-dim", "2", "--train-frac", "0.5"]) == 0
    record = json.loads((vae / "SP500.features.json").read_text())
    cutoff = pd.Timestamp(record["first_unseen_date"])
    assert record["columns"] == ["vae0", "vae1"] and record["model"] == "vae"
    capsys.readouterr()
    out = tmp_path / "wf"
    assert _walkforward(main, vae, out, _fast_config(tmp_path), "--return-col", "fwd_ret") == 0
    printed = capsys.readouterr().out
    assert f"never saw the dates from {cutoff:%Y-%m-%d} on: testing starts there" in printed
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert predictions.index.get_level_values("date").min() >= cutoff
    folds = pd.read_csv(out / "folds.csv", parse_dates=["test_start"])
    assert (folds["test_start"] >= cutoff).all()
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert pd.Timestamp(manifest["min_test_date"]) == cutoff
    assert manifest["windows"]["embargo_days"] == manifest["label_horizon"] == 1


def test_walkforward_defaults_embargo_and_one_period_returns(tmp_path):
    """Findings 2, 3 and 8 through the command: no --target means fwd_ret; a multi-period
    target without --return-col is refused; the embargo is the label horizon."""
    pytest.importorskip("arch")
    proc = run_cli(
        "walkforward", "--target", "fwd_ret_5", "--output-dir", tmp_path / "wf", timeout=300
    )
    assert proc.returncode == 2 and "--return-col" in proc.stderr, proc.stderr
    assert "spans 5 periods" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli(
        "walkforward", "--target", "fwd_ret_5", "--return-col", "fwd_ret", "--embargo-days", "2",
        "--train-days", "1000", "--test-days", "1000", "--step-days", "1000",
        "--output-dir", tmp_path / "wf", timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "skquant: warning: --embargo-days 2 is below the label horizon - 1 = 4" in proc.stderr
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    assert manifest["label_horizon"] == 5 and manifest["label_horizon_source"] == "metadata"
    assert manifest["windows"]["embargo_days"] == 2 and manifest["periods_per_year"] == 252
    assert np.isfinite(json.loads((tmp_path / "wf" / "summary.json").read_text())["sharpe"])


def test_walkforward_on_intraday_bars_counts_bars_and_prints_times(tmp_path, capsys):
    """On a folder of hourly bars (7 a day) `walkforward --target fwd_ret_1d` read the
    1-day (7-bar) return as one period: "embargo: 1 dates", the 7-bar return booked
    every hour (Sharpe 12.17, against 4.90 on fwd_ret). It is now refused, and with
    --return-col the embargo is 7 bars; the fold table printed dates alone, so with
    --test-days 3 two folds both read "2023-02-02 2023-02-02"."""
    from skquant.cli import main
    from skquant.cli._walkforward import _fold_table
    from tests.test_cli import fast_config
    from tests.test_honest_numbers import hourly_panel

    data = tmp_path / "hourly"
    data.mkdir()
    for symbol, frame in hourly_panel(n_days=18).groupby(level="symbol"):
        frame.droplevel("symbol").to_parquet(data / f"{symbol}.parquet")
    args = ["walkforward", "--input-dir", str(data), "--target", "fwd_ret_1d",
            "--config", str(fast_config(tmp_path, rounds=5, patience=0)),
            "--train-days", "70", "--test-days", "3", "--step-days", "3",
            "--min-train-samples", "50", "--n-jobs", "1", "--output-dir", str(tmp_path / "wf")]  # fmt: skip
    assert main(args) == 2
    assert "'fwd_ret_1d' as the P&L, but it spans 7 periods" in capsys.readouterr().err
    assert main([*args, "--return-col", "fwd_ret"]) == 0
    printed = capsys.readouterr().out
    assert "embargo: 7 bars (label horizon 7 of fwd_ret_1d, from its name)" in printed
    assert "2 symbols, 2024-01-02 09:30 to 2024-01-24 15:30" in printed
    folds = pd.read_csv(tmp_path / "wf" / "folds.csv", parse_dates=["test_start", "test_end"])
    assert folds["test_start"].dt.normalize().duplicated().any()  # folds within one date
    table = _fold_table(folds).splitlines()[1:]
    for line, start, end in zip(table, folds["test_start"], folds["test_end"], strict=True):
        assert f"{start:%Y-%m-%d %H:%M} {end:%Y-%m-%d %H:%M}" in line, line
    daily = folds.assign(test_start=folds["test_start"].dt.normalize(),
                         test_end=folds["test_end"].dt.normalize(),
                         train_start=folds["train_start"].str[:10],
                         train_end=folds["train_end"].str[:10])  # fmt: skip
    assert f"{daily['test_start'].iloc[0]:%Y-%m-%d} " in _fold_table(daily)
    assert ":" not in _fold_table(daily)  # daily data: the dates alone


@pytest.fixture(scope="module")
def guide_layout(tmp_path_factory):
    """The README's folder layout: data/labeled/SYMBOL.parquet from the demo (its last
    400 dates, to keep the test short) and the repository's configs/ beside it."""
    pytest.importorskip("arch")
    import shutil
    from pathlib import Path

    from skquant import load_demo

    root = tmp_path_factory.mktemp("guide")
    (root / "data" / "labeled").mkdir(parents=True)
    demo = load_demo()
    recent = demo.index.get_level_values("date") >= demo.index.get_level_values("date")[-800]
    for symbol, frame in demo[recent].groupby(level="symbol"):
        frame.droplevel("symbol").to_parquet(root / "data" / "labeled" / f"{symbol}.parquet")
    shutil.copytree(Path(__file__).resolve().parents[1] / "configs", root / "configs")
    return root


def test_the_guide_train_all_commands_run_as_written(guide_layout):
    """Finding 8: both guide commands exited 2 (no --input-dir, --output-dir, --target)."""
    core = "skquant train-all --phase core --config configs/lightgbm.yaml --variant conservative"
    proc = run_cli(*core.split()[1:], cwd=guide_layout, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "target: fwd_ret; trading metrics on: fwd_ret" in proc.stdout
    for symbol in ("SP500", "NASDAQ"):
        for model in ("lightgbm", "xgboost", "ensemble"):
            metrics = json.loads(
                (guide_layout / "models" / symbol / model / "metrics.json").read_text()
            )
            assert metrics["target"] == "fwd_ret" and np.isfinite(metrics["trading"]["sharpe"])
    # the sequential phase, verbatim (the fastest variant through MODEL_VARIANT)
    sequential = "skquant train-all --phase sequential --models lstm,transformer,ngboost"
    pytest.importorskip("torch")
    proc = run_cli(
        *sequential.split()[1:], cwd=guide_layout, env={"MODEL_VARIANT": "aggressive"}, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    assert "3 trained" in proc.stdout or "6 trained" in proc.stdout


def test_train_all_books_no_multi_period_return_as_daily_pnl(guide_layout, tmp_path):
    """Finding 2: train-all compounded a 10-day target as if it were a daily return
    (total_return -0.73 over 63 days, Sharpe near 10); finding 3: its embargo was 5
    whatever the horizon."""
    args = ["train-all", "--input-dir", guide_layout / "data" / "labeled", "--models", "lightgbm",
            "--config", guide_layout / "configs" / "lightgbm.yaml", "--variant", "aggressive",
            "--target", "fwd_ret_5"]  # fmt: skip
    proc = run_cli(*args, "--output-dir", tmp_path / "plain", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "skquant: warning: no trading metrics: no --return-col books the target" in proc.stderr
    assert "embargo of 5 dates (label horizon 5 of fwd_ret_5, from its metadata)" in proc.stdout
    metrics = json.loads((tmp_path / "plain" / "SP500" / "lightgbm" / "metrics.json").read_text())
    assert "trading" not in metrics and np.isfinite(metrics["rmse"])
    gap = pd.bdate_range(metrics["train_end"], metrics["val_start"])
    assert len(gap) >= 5 + 2  # five embargo dates between training and validation

    proc = run_cli(*args, "--return-col", "fwd_ret", "--output-dir", tmp_path / "ret", timeout=600)
    assert proc.returncode == 0, proc.stderr
    pair = tmp_path / "ret" / "SP500" / "lightgbm"
    trading = json.loads((pair / "metrics.json").read_text())["trading"]
    predictions = pd.read_csv(pair / "predictions_val.csv", index_col=0, parse_dates=True)
    labeled = pd.read_parquet(guide_layout / "data" / "labeled" / "SP500.parquet")
    daily = np.sign(predictions["prediction"]) * labeled.loc[predictions.index, "fwd_ret"]
    assert trading["total_return"] == pytest.approx(np.prod(1 + daily) - 1)
    assert trading["periods_per_year"] == 252 and abs(trading["sharpe"]) < 6


def test_walkforward_portfolio_and_costs_through_the_command(tmp_path):
    """Issue 12 item 7: --portfolio, --quantile and --cost-bps reach the engine; summary.json
    holds every summary key; the printed summary shows the gross and the net Sharpe."""
    from skquant import sharpe_ratio
    from tests.test_cli import fast_config, write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC", "DDD"], n=160, seed=2)
    out = tmp_path / "wf"
    args = ["walkforward", "--input-dir", data, "--target", "fwd_ret_1d",
            "--config", fast_config(tmp_path, rounds=20, patience=0), "--train-days", "60",
            "--test-days", "30", "--step-days", "30", "--min-train-samples", "50",
            "--n-jobs", "1", "--output-dir", out]  # fmt: skip
    proc = run_cli(*args, "--portfolio", "quantile", "--quantile", "0.25", "--cost-bps", "5")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= {"sharpe", "max_drawdown", "hit_rate", "turnover", "ic", "icir",
                            "psr", "benchmark_sharpe"}  # fmt: skip
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["portfolio"] == {"rule": "quantile", "quantile": 0.25, "cost_bps": 5.0}
    # one symbol a leg out of four, half the book each; equal predictions (a small
    # tree's leaves) at a leg's edge share it, and a date of equal ones holds nothing
    predictions = pd.read_parquet(out / "predictions.parquet")
    weight = predictions["weight"].groupby(level="date")
    legs = weight.agg(lambda w: sorted(w.round(12)))
    assert (legs.map(tuple) == (-0.5, 0.0, 0.0, 0.5)).mean() > 0.5
    held = weight.apply(lambda w: w.abs().sum()) > 0
    np.testing.assert_allclose(weight.apply(lambda w: w[w > 0].sum())[held], 0.5)
    np.testing.assert_allclose(weight.apply(lambda w: w[w < 0].sum())[held], -0.5)
    line = re.search(r"Sharpe gross (\S+), net (\S+) \(portfolio quantile, 5 bp", proc.stdout)
    assert line, proc.stdout
    assert float(line.group(2)) == pytest.approx(summary["sharpe"], abs=1e-4)
    returns = pd.concat(
        {s: pd.read_parquet(data / f"{s}.parquet").set_index("date")["fwd_ret_1d"]
         for s in ("AAA", "BBB", "CCC", "DDD")}, names=["symbol", "date"]
    ).swaplevel()  # fmt: skip
    gross = (predictions["weight"] * returns.loc[predictions.index]).groupby(level="date").sum()
    assert float(line.group(1)) == pytest.approx(sharpe_ratio(gross), abs=1e-4)
    assert summary["turnover"] > 0 and float(line.group(1)) > float(line.group(2))

    for bad, needle in (
        (["--quantile", "0.7"], "--quantile: expected a number in (0, 0.5], got '0.7'"),
        (["--cost-bps", "-1"], "--cost-bps: expected a number >= 0, got '-1'"),
        (["--portfolio", "short"], "--portfolio: invalid choice: 'short'"),
    ):
        proc = run_cli(*args, *bad)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "command",
    [["walkforward"], ["tune", "--model", "lightgbm", "--n-trials", "1"], ["benchmark"]],
)
def test_quantile_without_the_quantile_portfolio_is_refused(command, tmp_path):
    # no other rule reads it: `--quantile 0.1` ran the sign portfolio, as if used
    if command[0] == "tune":
        command = [*command, "--input-dir", tmp_path]
    proc = run_cli(*command, "--quantile", "0.1", "--output-dir", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    assert "--quantile 0.1 applies to --portfolio quantile only, and --portfolio is sign" in (
        proc.stderr
    )
    assert not (tmp_path / "out").exists()


def test_walkforward_writes_one_self_contained_report(tmp_path):
    """Issue 12 item 6: the command writes the five-panel picture and report.html, one
    file with every summary key, the fold table and the picture embedded."""
    import base64

    from tests.test_cli import fast_config, write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=150, seed=4)
    out = tmp_path / "wf"
    proc = run_cli(
        "walkforward", "--input-dir", data, "--target", "fwd_ret_1d",
        "--config", fast_config(tmp_path, rounds=10, patience=0), "--train-days", "60",
        "--test-days", "40", "--step-days", "40", "--min-train-samples", "50",
        "--n-jobs", "1", "--cost-bps", "2", "--output-dir", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    text = (out / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for key in summary:
        assert f"<th>{key}</th>" in text, key
    for start in pd.read_csv(out / "folds.csv")["test_start"]:
        assert str(start)[:10] in text
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 1 and base64.b64decode(images[0])[:4] == b"\x89PNG"
    assert not re.search(r'(src|href)="(?!data:)', text)  # nothing beside it is needed
    assert (out / "walkforward.png").read_bytes()[:4] == b"\x89PNG"


def test_an_explicit_year_the_dates_contradict_warns_once(tmp_path):
    """--periods-per-year 52 on daily data annualised every figure by 52, silently (the
    Sharpe ratio sqrt(252 / 52) = 2.2x too low). walkforward warns once, in the
    command's words, not for each fold; train-all once per run, naming the symbols (each
    symbol's year comes from all its dates), not again for the validation tail of each
    pair, nor raw once per worker process."""
    from tests.test_cli import fast_config, write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160, seed=2)
    config = fast_config(tmp_path, rounds=10, patience=0)
    said = "--periods-per-year 52 was given, but the dates tell 252 periods a year"
    proc = run_cli(
        "walkforward", "--input-dir", data, "--target", "fwd_ret_1d", "--config", config,
        "--train-days", "60", "--test-days", "30", "--step-days", "30",
        "--min-train-samples", "50", "--n-jobs", "1", "--output-dir", tmp_path / "wf",
        "--periods-per-year", "52",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count(said) == 1, proc.stderr
    assert (
        f"skquant: warning: {said}" in proc.stderr and "Pass no --periods-per-year" in proc.stderr
    )
    proc = run_cli(
        "train-all", "--input-dir", data, "--output-dir", tmp_path / "out", "--target",
        "fwd_ret_1d", "--models", "lightgbm", "--config", config, "--val-days", "20",
        "--periods-per-year", "52", env={"PYTHONWARNINGS": "default"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # once a run, in its words (each worker printed it raw); the tails' check was twice
    assert proc.stderr.count("periods_per_year=52") == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if said in line]
    assert lines == [lines[0]] and lines[0].startswith(f"skquant: warning: {said}"), lines
    assert lines[0].endswith("(AAA, BBB)")
