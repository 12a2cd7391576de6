"""The ``skquant`` command line, run for real in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_cli(*args, cwd=None, env=None, timeout=120):
    """Run ``python -m skquant ARGS`` and return the completed process."""
    full_env = dict(os.environ)
    full_env.update({"OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"})
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "skquant", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_help_lists_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "configs" in proc.stdout
    assert "Exit codes" in proc.stdout
    assert "3 unexpected error" in " ".join(proc.stdout.split())


@pytest.mark.parametrize("args", [("configs", "--help"), ("configs", "show", "--help")])
def test_every_command_has_help(args):
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "usage: skquant configs" in proc.stdout


def test_configs_list_and_show():
    proc = run_cli("configs", "list")
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("lightgbm"))
    assert "conservative" in row and "balanced" in row and "aggressive" in row

    proc = run_cli("-q", "configs", "show", "lightgbm", "--variant", "conservative")
    assert proc.returncode == 0, proc.stderr
    import yaml

    from skquant import load_model_config

    shown = yaml.safe_load(proc.stdout)
    assert shown == load_model_config("lightgbm", variant="conservative")


def test_configs_show_variant_from_environment():
    proc = run_cli("configs", "show", "lightgbm", env={"MODEL_VARIANT": "aggressive"})
    assert proc.returncode == 0, proc.stderr
    assert "variant aggressive" in proc.stdout


@pytest.mark.parametrize(
    "args, needles",
    [
        (("configs", "show", "no_such_model"), ["no_such_model", "lightgbm"]),
        (("configs", "show", "lightgbm", "--variant", "nope"), ["nope", "balanced"]),
        (("no-such-command",), ["no-such-command"]),
        (("configs",), ["required"]),
    ],
)
def test_bad_usage_is_one_line_exit_2(args, needles):
    assert_one_line_error(run_cli(*args), *needles)


# ----------------------------------------------------------------------------- train-all
import json  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

FAST_YAML = """\
model: lightgbm
defaults:
  n_jobs: 1
  embargo_days: 0  # explicit: train-all and walkforward raise it to the label horizon
variants:
  balanced:
    n_estimators: {rounds}
    learning_rate: 0.1
    num_leaves: 7
    min_child_samples: 5
    early_stopping_rounds: {patience}
"""


def write_symbols(folder: Path, symbols, n=160, seed=0, csv=()):
    """Tiny labeled per-symbol files: features, a forward return and label-like columns."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for symbol in symbols:
        X = rng.normal(size=(n, 3))
        # a realistic edge (correlation about 0.1): a stronger one is what a leak looks like
        ret = 0.001 * X[:, 0] + rng.normal(scale=0.01, size=n)
        frame = pd.DataFrame(
            {
                "date": pd.bdate_range("2022-01-03", periods=n),
                "f0": X[:, 0],
                "f1": X[:, 1],
                "f2": X[:, 2],
                "fwd_ret_1d": ret,
                "y_will_peak": (ret > 0).astype(int),
                "MFE": np.abs(ret),
            }
        )
        if symbol in csv:
            frame.to_csv(folder / f"{symbol}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{symbol}.parquet", index=False)
    return folder


def fast_config(folder: Path, rounds=40, patience=10) -> Path:
    path = folder / "lightgbm.yaml"
    path.write_text(FAST_YAML.format(rounds=rounds, patience=patience))
    return path


@pytest.fixture(scope="module")
def corrupt_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("train_all")
    data = write_symbols(root / "data", ["AAA", "BBB", "CCC"], csv=("CCC",))
    (data / "BAD.parquet").write_bytes(b"PAR1 this is not a parquet file")
    out = root / "out"
    proc = run_cli(
        "train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
        "--models", "lightgbm", "--config", fast_config(root), "--val-days", "30",
        "--n-jobs", "2",
    )  # fmt: skip
    return proc, data, out


def test_train_all_corrupt_file_others_finish(corrupt_run):
    from skquant import load_model

    proc, data, out = corrupt_run
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "symbol BAD failed" in proc.stderr and "BAD.parquet" in proc.stderr
    # the features were chosen automatically, never a label-like column
    assert "features (3): f0, f1, f2" in proc.stdout
    assert "excluded label-like columns: y_will_peak, MFE" in proc.stdout
    assert "symbols" in proc.stderr  # the tqdm bar
    for symbol in ("AAA", "BBB", "CCC"):
        pair = out / symbol / "lightgbm"
        for name in ("config.json", "metrics.json", "feature_importance.csv", "metadata.json"):
            assert (pair / name).is_file(), (symbol, name)
        assert (pair / "learning_curve.png").stat().st_size > 1000
        metrics = json.loads((pair / "metrics.json").read_text())
        assert metrics["n_val"] == 30 and np.isfinite(metrics["rmse"])
        # training stops an embargo before the validation tail: by default the target's
        # label horizon, 1 date for the one-period fwd_ret_1d (named so)
        gap = pd.bdate_range(metrics["train_end"], metrics["val_start"])
        assert len(gap) == 1 + 2 and metrics["n_train"] == 160 - 30 - 1
        assert set(metrics["trading"]) >= {"sharpe", "max_drawdown", "hit_rate", "profit_factor"}
        assert json.loads((pair / "config.json").read_text())["n_estimators"] == 40
        # the saved model reproduces the validation predictions made before saving
        frame = (
            pd.read_parquet(data / f"{symbol}.parquet")
            if symbol != "CCC"
            else pd.read_csv(data / "CCC.csv")
        )
        val = frame.tail(30)
        saved = pd.read_csv(pair / "predictions_val.csv")
        np.testing.assert_allclose(
            load_model(pair).predict(val[["f0", "f1", "f2"]]), saved["prediction"], rtol=1e-12
        )
    assert not (out / "BAD" / "lightgbm").exists()
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["counts"] == {"trained": 3, "rescored": 0, "skipped": 0, "failed": 1}
    assert manifest["features"] == ["f0", "f1", "f2"]
    by_symbol = {s["symbol"]: s for s in manifest["symbols"]}
    assert by_symbol["BAD"]["status"] == "failed" and "BAD.parquet" in by_symbol["BAD"]["error"]
    assert by_symbol["AAA"]["peak_memory_mb"] > 10
    # the summary table names every pair
    assert "AAA" in proc.stdout and "failed" in proc.stdout


def test_flipped_byte_in_saved_model_is_refused(corrupt_run, tmp_path):
    import shutil

    from skquant import load_model
    from skquant.persistence import ModelIntegrityError

    _, _, out = corrupt_run
    pair = shutil.copytree(out / "AAA" / "lightgbm", tmp_path / "copy")
    payload = bytearray((pair / "model.joblib").read_bytes())
    payload[100] ^= 0x20
    (pair / "model.joblib").write_bytes(bytes(payload))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load_model(pair)


@pytest.mark.parametrize(
    "extra, needle",
    [
        (("--input-dir", "/no/such/folder"), "/no/such/folder"),
        (("--models", "lightgbm,nope"), "nope"),
        (("--target", "not_a_column"), "not_a_column"),
        (("--variant", "ultra"), "ultra"),
        (("--features", "f0,zz"), "zz"),
        (("--features", "f0,fwd_ret_1d"), "cannot also be a feature"),
    ],
)
def test_train_all_bad_input_exit_2(tmp_path, extra, needle):
    data = write_symbols(tmp_path / "data", ["AAA"], n=20)
    args = {"--input-dir": data, "--output-dir": tmp_path / "out", "--target": "fwd_ret_1d",
            "--models": "lightgbm"}  # fmt: skip
    args.update(dict(zip(extra[::2], extra[1::2], strict=True)))
    proc = run_cli("train-all", *[v for kv in args.items() for v in kv])
    assert_one_line_error(proc, needle)


def test_train_all_help():
    proc = run_cli("train-all", "--help")
    assert proc.returncode == 0
    for option in ("--phase", "--input-dir", "--features", "--val-days", "--n-jobs", "--config"):
        assert option in proc.stdout


def _finished_pairs(out: Path) -> dict[str, str]:
    return {
        pair.parent.name: (pair / "metadata.json").read_text()
        for pair in out.glob("*/lightgbm")
        if (pair / "metadata.json").is_file()
    }


def test_sigkill_then_resume(tmp_path):
    from skquant import load_model

    symbols = [f"S{i}" for i in range(6)]
    data = write_symbols(tmp_path / "data", symbols, n=400, seed=3)
    out = tmp_path / "out"
    args = [
        sys.executable, "-m", "skquant", "train-all", "--input-dir", data, "--output-dir", out,
        "--target", "y_will_peak", "--return-col", "fwd_ret_1d", "--models", "lightgbm",
        "--val-days", "40",
        "--config", fast_config(tmp_path, rounds=300, patience=0),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 90
    while not _finished_pairs(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _finished_pairs(out)
    assert 1 <= len(before) < len(symbols), "the run must be killed mid-way"

    proc = run_cli(*args[3:])
    assert proc.returncode == 0, proc.stderr
    after = _finished_pairs(out)
    assert set(after) == set(symbols)
    for symbol, meta in before.items():  # finished pairs were not retrained
        assert after[symbol] == meta
    assert f"{len(symbols) - len(before)} trained, {len(before)} already finished" in proc.stdout
    assert not list(out.glob("*/.lightgbm.tmp-*")), "no temporary folder is left behind"
    X = pd.DataFrame(np.zeros((2, 3)), columns=["f0", "f1", "f2"])
    for symbol in symbols:  # a binary target is fitted as a classifier
        model = load_model(out / symbol / "lightgbm")
        assert model.predict_proba(X).shape == (2, 2)
    metrics = json.loads((out / "S0" / "lightgbm" / "metrics.json").read_text())
    assert metrics["task"] == "classification" and 0 <= metrics["roc_auc"] <= 1
    assert np.isfinite(metrics["trading"]["sharpe"])


# ----------------------------------------------------------------------------- walkforward
def test_walkforward_on_a_folder_panel(tmp_path):
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=200, seed=5)
    (data / "BAD.csv").write_text("date,f0\nnot-a-date,1\n")
    out = tmp_path / "wf"
    features = tmp_path / "features.txt"
    features.write_text("# one per line or comma-separated\nf0\nf1, f2\n")
    proc = run_cli(
        "walkforward", "--input-dir", data, "--target", "fwd_ret_1d", "--output-dir", out,
        "--features", f"@{features}",
        "--config", fast_config(tmp_path, rounds=20, patience=0), "--train-days", "60",
        "--test-days", "30", "--step-days", "30", "--embargo-days", "1",
        "--min-train-samples", "50", "--n-jobs", "1",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # BAD.csv is skipped and named
    assert "symbol BAD skipped" in proc.stderr and "Traceback" not in proc.stderr
    assert "2 symbols" in proc.stdout and "features (3): f0, f1, f2" in proc.stdout
    sharpe_line = next(
        line for line in proc.stdout.splitlines() if line.strip().startswith("sharpe")
    )
    assert np.isfinite(float(sharpe_line.split()[-1]))
    for name in ("walkforward.png", "feature_importance.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    folds = pd.read_csv(out / "folds.csv")
    assert len(folds) == 5  # ceil((200 - 60 - 1) test dates / 30), the last window short
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert set(predictions.index.get_level_values("symbol")) == {"AAA", "BBB"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sharpe"] == pytest.approx(float(sharpe_line.split()[-1]), abs=1e-4)


def test_walkforward_rerun_loads_its_fold_checkpoints(tmp_path):
    """Each fold is kept in OUT/checkpoints/ as it finishes: the same command again,
    or with another --cost-bps, refits nothing; --force or another config refits all,
    and the files of the replaced run go."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160, seed=5)
    out = tmp_path / "wf"
    args = ["walkforward", "--input-dir", data, "--target", "fwd_ret_1d", "--output-dir", out,
            "--config", fast_config(tmp_path, rounds=20, patience=0), "--train-days", "60",
            "--test-days", "30", "--step-days", "30", "--min-train-samples", "50",
            "--n-jobs", "1"]  # fmt: skip
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "loaded from" not in first.stderr
    n_folds = len(pd.read_csv(out / "folds.csv"))
    files = sorted((out / "checkpoints").glob("fold-*.joblib"))
    assert len(files) == n_folds >= 3
    predictions = pd.read_parquet(out / "predictions.parquet")

    again = run_cli(*args, "--cost-bps", "5")
    assert again.returncode == 0, again.stderr
    assert f"{n_folds} of {n_folds} folds loaded from" in again.stderr, again.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "predictions.parquet"), predictions)
    assert json.loads((out / "run_manifest.json").read_text())["portfolio"]["cost_bps"] == 5

    forced = run_cli(*args, "--force")
    assert forced.returncode == 0 and "loaded from" not in forced.stderr, forced.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "predictions.parquet"), predictions)
    (tmp_path / "other").mkdir()
    other = list(args)  # another config: other rounds
    other[other.index("--config") + 1] = fast_config(tmp_path / "other", rounds=25, patience=0)
    leftover = out / "checkpoints" / f".{files[0].name}.x1y2.tmp"  # a killed run's write
    leftover.write_bytes(b"half a file")
    os.utime(leftover, (0, 0))
    changed = run_cli(*other)
    assert changed.returncode == 0 and "loaded from" not in changed.stderr, changed.stderr
    now = sorted((out / "checkpoints").glob("fold-*.joblib"))
    assert len(now) == n_folds and not set(now) & set(files)  # the old run's folds went
    assert not leftover.exists()


def test_walkforward_rerun_fits_no_model_for_its_feature_importance(tmp_path, monkeypatch):
    """The importance table comes from the last fold's model, kept with its checkpoint:
    a re-run that loads every fold fits nothing at all (it refitted one model)."""
    import lightgbm

    from skquant.cli import main

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160, seed=7)
    out = tmp_path / "wf"
    args = ["walkforward", "--input-dir", data, "--target", "fwd_ret_1d", "--output-dir", out,
            "--config", fast_config(tmp_path, rounds=20, patience=0), "--train-days", "60",
            "--test-days", "30", "--step-days", "30", "--min-train-samples", "50",
            "--n-jobs", "1", "--quiet"]  # fmt: skip
    args = [str(arg) for arg in args]
    assert main(args) == 0
    importance = (out / "feature_importance.csv").read_text()
    fits = []
    fit = lightgbm.LGBMRegressor.fit

    def counting(self, *a, **k):
        fits.append(1)
        return fit(self, *a, **k)

    monkeypatch.setattr(lightgbm.LGBMRegressor, "fit", counting)
    assert main(args) == 0
    assert not fits
    assert (out / "feature_importance.csv").read_text() == importance


def test_walkforward_missing_folder_exit_2(tmp_path):
    proc = run_cli("walkforward", "--input-dir", tmp_path / "nope", "--output-dir", tmp_path)
    assert_one_line_error(proc, str(tmp_path / "nope"))


def test_walkforward_binary_target_needs_return_col(tmp_path):
    data = write_symbols(tmp_path / "data", ["AAA"], n=80)
    proc = run_cli(
        "walkforward", "--input-dir", data, "--target", "y_will_peak",
        "--output-dir", tmp_path / "wf",
    )  # fmt: skip
    assert_one_line_error(proc, "'y_will_peak' is binary", "--return-col")
    assert not (tmp_path / "wf").exists()


def test_walkforward_too_few_dates_for_one_fold_exit_2(tmp_path):
    data = write_symbols(tmp_path / "data", ["AAA"], n=40)
    proc = run_cli(
        "walkforward", "--input-dir", data, "--target", "fwd_ret_1d",
        "--output-dir", tmp_path / "wf", "--train-days", "60",
    )  # fmt: skip
    assert_one_line_error(proc, "skquant walkforward: error:", "40 distinct dates")


def _walkforward_args(tmp_path, *extra) -> list[str]:
    """A fast walkforward on two tiny symbols, in-process (``main``)."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160, seed=5)
    config = fast_config(tmp_path, rounds=20, patience=0)
    args = ["walkforward", "--input-dir", data, "--target", "fwd_ret_1d",
            "--output-dir", tmp_path / "wf", "--config", config, "--train-days", "60",
            "--test-days", "30", "--step-days", "30", "--min-train-samples", "50",
            "--n-jobs", "1", *extra]  # fmt: skip
    return [str(arg) for arg in args]


def test_walkforward_equity_csv_holds_what_the_help_says(tmp_path, capsys):
    """equity.csv held strategy_return, equity, drawdown and fold while the help promised
    gross, cost, net, turnover and benchmark by date."""
    import re

    from skquant.cli import main
    from skquant.metrics import sharpe_ratio

    assert main(_walkforward_args(tmp_path, "--cost-bps", "5")) == 0
    out = tmp_path / "wf"
    equity = pd.read_csv(out / "equity.csv", index_col="date", parse_dates=["date"])
    columns = ["gross", "cost", "net", "turnover", "benchmark", "equity", "drawdown", "fold"]
    assert list(equity.columns) == columns
    assert equity.index.is_monotonic_increasing and equity.index.is_unique
    assert (equity["cost"] > 0).any()  # costs are booked: net is not gross
    np.testing.assert_allclose(equity["net"], equity["gross"] - equity["cost"], atol=1e-12)
    np.testing.assert_allclose(equity["equity"], (1 + equity["net"].fillna(0)).cumprod())
    assert (equity["drawdown"] <= 0).all()
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "run_manifest.json").read_text())
    net_sharpe = sharpe_ratio(equity["net"], periods_per_year=manifest["periods_per_year"])
    assert net_sharpe == pytest.approx(summary["sharpe"], rel=1e-9)
    predictions = pd.read_parquet(out / "predictions.parquet")
    served = predictions.groupby(level="date")["fold"].max()
    assert equity["fold"].equals(served.rename("fold"))
    # the help names each column
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["walkforward", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    described = re.search(r"equity\.csv \(([^)]*)\)", helped).group(1)
    assert described == (
        "by date: gross, cost, net, turnover and benchmark, the equity and drawdown of net, "
        "and the serving fold"
    )


def test_walkforward_says_when_its_model_learned_nothing(tmp_path, capsys):
    """A config whose split floor no gain reaches (XGBoost's conservative gamma on
    returns) gave constant predictions in every fold and a Sharpe for holding the market;
    the engine's warning reaches the command's stderr in its words."""
    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    config = Path(args[args.index("--config") + 1])
    config.write_text(config.read_text() + "    min_split_gain: 1000.0\n")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "skquant: warning: the model predicted one constant value for every test row" in err
    assert "UserWarning" not in err


def test_walkforward_manifest_keeps_the_warnings_that_qualify_its_summary(tmp_path, capsys):
    """summary.json and the manifest of a run whose every fold predicted one constant
    (a Sharpe for holding the market) carried no mark of it: the warning was only a
    console line printed before the fold table."""
    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    config = Path(args[args.index("--config") + 1])
    config.write_text(config.read_text() + "    min_split_gain: 1000.0\n")
    assert main(args) == 0
    err = capsys.readouterr().err
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    constant = [w for w in manifest["warnings"] if "predicted one constant value" in w]
    assert len(constant) == 1 and f"skquant: warning: {constant[0]}" in err


def test_walkforward_records_the_all_zero_importance_of_its_last_model(tmp_path, capsys):
    """The last fold's get_feature_importance() ran after the warnings were caught: its
    'every importance is 0' printed as a raw Python warning naming a call the user never
    made, and was missing from run_manifest.json and report.html."""
    import html

    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    config = Path(args[args.index("--config") + 1])
    config.write_text(config.read_text() + "    min_split_gain: 1000.0\n")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "UserWarning" not in err and "get_feature_importance" not in err, err
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    zero = [w for w in manifest["warnings"] if "every importance is 0" in w]
    assert len(zero) == 1, manifest["warnings"]
    assert zero[0].startswith("feature_importance.csv (the last fold's LightGBMTrainer)")
    assert f"skquant: warning: {zero[0]}" in err
    assert html.escape(zero[0]) in (tmp_path / "wf" / "report.html").read_text()


def test_walkforward_manifest_keeps_the_warnings_of_reading_the_data(tmp_path, capsys):
    """An explicit --periods-per-year the dates contradict was said on stderr while the
    engine read the data, but run_manifest.json (and report.html) kept only engine.run's
    warnings."""
    import html

    from skquant.cli import main

    assert main(_walkforward_args(tmp_path, "--periods-per-year", "52")) == 0
    err = capsys.readouterr().err
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    said = [w for w in manifest["warnings"] if "--periods-per-year 52" in w]
    assert len(said) == 1, manifest["warnings"]
    assert err.count(f"skquant: warning: {said[0]}") == 1
    assert manifest["warnings"].index(said[0]) == 0  # in order: read before the run
    assert html.escape(said[0]) in (tmp_path / "wf" / "report.html").read_text()


def test_walkforward_report_lists_the_manifest_warnings(tmp_path, capsys):
    """report.html of a run whose every fold predicted one constant showed its summary
    (Sharpe for holding the market) with no mark of the warning the manifest kept."""
    import html
    import re

    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    config = Path(args[args.index("--config") + 1])
    config.write_text(config.read_text() + "    min_split_gain: 1000.0\n")
    assert main(args) == 0
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    assert any("predicted one constant value" in w for w in manifest["warnings"])
    text = (tmp_path / "wf" / "report.html").read_text(encoding="utf-8")
    section = re.search(r"<h2>Warnings</h2>\s*<ul[^>]*>(.*?)</ul>", text, re.S)
    assert section is not None
    listed = re.findall(r"<li>(.*?)</li>", section.group(1), re.S)
    assert listed == [html.escape(w) for w in manifest["warnings"]]


@pytest.mark.parametrize("quiet", [False, True])
def test_walkforward_summary_says_how_many_test_periods_it_rests_on(tmp_path, capsys, quiet):
    """The summary line named the folds but not the test periods the summary's Sharpe and
    drawdown rest on (the fold table's n_periods per fold only); the quiet (-q) line,
    "sharpe S (gross G)", named neither."""
    import re

    from skquant.cli import main

    args = _walkforward_args(tmp_path, "--step-days", "20")  # overlapping windows
    assert main([*args, "-q"] if quiet else args) == 0
    out = capsys.readouterr().out
    pattern = (r"over (\d+) folds, (\d+) test periods\)$" if quiet
               else r"summary over (\d+) folds, (\d+) test periods:")  # fmt: skip
    folds, periods = map(int, re.search(pattern, out, re.M).groups())
    equity = pd.read_csv(tmp_path / "wf" / "equity.csv", index_col="date")
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    fold_table = pd.read_csv(tmp_path / "wf" / "folds.csv")
    assert periods == equity["net"].notna().sum() == manifest["n_periods"]
    assert folds == len(fold_table) == manifest["n_folds"] and folds > 1
    assert periods < fold_table["n_periods"].sum()  # the overlap is counted once


def test_walkforward_lists_no_top_features_of_a_model_without_splits(tmp_path, capsys):
    """A last-fold model that never split (every importance 0) had its first five
    columns, in file order, printed as the run's "top features"."""
    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    config = Path(args[args.index("--config") + 1])
    config.write_text(config.read_text() + "    min_split_gain: 1000.0\n")
    assert main(args) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("top features"))
    assert line.startswith("top features (last fold): none, every importance is 0")
    importance = pd.read_csv(tmp_path / "wf" / "feature_importance.csv", index_col=0)
    assert (importance.iloc[:, 0] == 0).all()


def test_walkforward_names_the_config_file_its_variant_comes_from(tmp_path, capsys):
    """With --config best_config.yaml it printed "variant balanced", as if the shipped
    balanced variant were run."""
    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    config = args[args.index("--config") + 1]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"model: lightgbm (variant balanced of {config}); " in printed
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    assert manifest["config_file"] == config and manifest["variant"] == "balanced"


def test_walkforward_errors_name_the_window_options(tmp_path, capsys):
    """ "No walk-forward fold has min_train_samples=100000 ... Lower min_train_samples or
    raise train_days." named the library's parameters, not the command's options."""
    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    args[args.index("--min-train-samples") + 1] = "100000"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--min-train-samples 100000 training rows" in err
    assert "Lower --min-train-samples or raise --train-days." in err
    assert "min_train_samples" not in err and "train_days" not in err


def test_cli_words_never_rewrite_a_name_inside_another():
    """The library's names become the command's options, whole names only: "n_features=None"
    read "n_no --features"."""
    from skquant.cli._common import cli_words

    assert cli_words("n_features=None, target=None, return_col=None") == (
        "n_features=None, no --target, no --return-col"
    )
    assert cli_words("train_days=60 and min_train_samples=5; raise train_days.") == (
        "--train-days 60 and --min-train-samples 5; raise --train-days."
    )
    assert cli_words("the target column and my_train_days_x stay") == (
        "the target column and my_train_days_x stay"
    )
    assert cli_words("Pass a new study_name; study_name='s' was run") == (
        "Pass a new --study-name; --study-name 's' was run"
    )


def test_train_all_trading_metrics_follow_the_engine_position_rule():
    """Validation trading metrics use the engine's rule (0 at P = 0.5) and its
    per-date equal weighting."""
    from skquant.metrics import compute_metric, validation_metrics

    dates = pd.DatetimeIndex(["2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04"])
    y = np.array([1, 0, 1, 0])
    proba = np.array([0.5, 0.7, 0.2, 0.9])
    returns = np.array([0.04, -0.01, 0.02, 0.03])
    out = validation_metrics("classification", y, (proba > 0.5).astype(int), proba, returns, dates)
    position = np.array([0.0, 1.0, -1.0, 1.0])  # no position at exactly 0.5
    period = np.array([(0.0 - 0.01) / 2, -0.02, 0.03])  # mean over each date's rows
    assert out["trading"]["n_periods"] == 3
    assert out["trading"]["total_return"] == pytest.approx(np.prod(1 + period) - 1)
    for name in ("sharpe", "max_drawdown", "profit_factor"):
        expected = compute_metric(name, returns, proba, position, dates.to_numpy())
        assert out["trading"][name] == pytest.approx(expected)


def test_train_all_table_flags_constant_models_and_gives_psr():
    """A pair whose model predicted one constant value, or one sign, printed its Sharpe
    ratio beside the others' (three models, -0.87 each: buy-or-short-and-hold, audit),
    from 63 dates with no word of its uncertainty. The table gives the PSR and the
    dates and marks a one-sided model's Sharpe."""
    from skquant.cli._pairs import _headline, summary_table
    from skquant.metrics import probabilistic_sharpe_ratio, sharpe_ratio, validation_metrics

    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2024-01-01", periods=63)
    y = rng.normal(0.001, 0.01, 63)
    flat = validation_metrics("regression", y, np.full(63, 0.002), returns=y, dates=dates)
    real = validation_metrics("regression", y, y + rng.normal(0, 0.01, 63), returns=y, dates=dates)
    # varying predictions of one sign: long throughout, as the constant model
    bullish = validation_metrics("regression", y, rng.uniform(1, 2, 63), returns=y, dates=dates)
    assert flat["constant_predictions"] and not real["constant_predictions"]
    assert not bullish["constant_predictions"] and bullish["trading"]["one_sided"]
    assert flat["trading"]["one_sided"] and not real["trading"]["one_sided"]
    assert flat["trading"]["psr"] == pytest.approx(probabilistic_sharpe_ratio(y))
    assert flat["trading"]["sharpe"] == pytest.approx(sharpe_ratio(y, periods_per_year=252))
    pairs = [
        {"model": m, "status": "trained", **_headline(v)}
        for m, v in (("a", flat), ("b", real), ("c", bullish))
    ]
    table = summary_table([{"symbol": "SYM", "pairs": pairs}]).splitlines()
    assert table[0].split() == [
        "symbol",
        "model",
        "status",
        "rmse/auc",
        "sharpe",
        "psr",
        "dates",
        "seconds",
        "peak",
        "MB",
    ]
    row_a, row_b = table[2].split(), table[3].split()
    assert row_a[4] == f"{flat['trading']['sharpe']:.2f}*" and row_a[6] == "63"
    assert (
        row_b[4] == f"{real['trading']['sharpe']:.2f}"
        and row_b[5] == f"{real['trading']['psr']:.2f}"
    )
    assert table[4].split()[4] == f"{flat['trading']['sharpe']:.2f}*"  # the same as a's
    assert table[-1].startswith("*: the model took the same side on every validation row")
    # a pair saved before the PSR was kept shows "-", and no constant-model note
    old = {"model": "c", "status": "trained", "sharpe": 0.5}
    lines = summary_table([{"symbol": "SYM", "pairs": [old]}]).splitlines()
    assert lines[2].split()[4:7] == ["0.50", "-", "-"] and not lines[-1].startswith("*")


def _raising(exc):
    """A stand-in for a library function the command calls, failing with ``exc``."""

    def fail(*args, **kwargs):
        raise exc

    return fail


def test_late_value_error_is_one_line_exit_2(monkeypatch, capsys):
    import skquant.config
    from skquant.cli import main

    monkeypatch.setattr(
        skquant.config, "list_models", _raising(ValueError("bad\ninput found late"))
    )
    assert main(["configs", "list"]) == 2
    err = capsys.readouterr().err
    assert err == "skquant configs: error: bad input found late\n"


@pytest.mark.parametrize("verbose", [False, True])
def test_unexpected_error_exit_3_traceback_only_with_v(monkeypatch, capsys, verbose):
    import skquant.config
    from skquant.cli import main

    monkeypatch.setattr(skquant.config, "list_models", _raising(RuntimeError("boom")))
    assert main(["-v", "configs", "list"] if verbose else ["configs", "list"]) == 3
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("skquant configs: unexpected error: RuntimeError: boom")
    assert ("Traceback" in err) is verbose
    assert ("rerun with -v" in last) is not verbose
    if not verbose:
        assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_readme_main_job_on_demo_data(tmp_path):
    # how long it takes is measured by benchmarks, not asserted here
    pytest.importorskip("arch")
    proc = run_cli("walkforward", "--output-dir", tmp_path / "wf", timeout=400)
    assert proc.returncode == 0, proc.stderr
    assert "sharpe" in proc.stdout
    assert (tmp_path / "wf" / "walkforward.png").is_file()


# ----------------------------------------------------------------------------- build-features
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402


class _StandInVAE(TransformerMixin, BaseEstimator):
    """A PCA with the VAE's interface, to test the build-features pipeline in-process
    (the real VAE is exercised by the subprocess test below when it is installed)."""

    def __init__(self, config=None, latent_dim=None):
        self.config = config
        self.latent_dim = latent_dim

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        self.fit_dates_ = pd.DatetimeIndex(X.index)
        self.pca_ = PCA(n_components=self.latent_dim).fit(X)
        return self

    def transform(self, X):
        return self.pca_.transform(X)


def test_build_features_pipeline_with_a_stand_in_vae(tmp_path, monkeypatch, capsys):
    import skquant.registry
    from skquant import load_model
    from skquant.cli import main

    monkeypatch.setitem(skquant.registry._REGISTRY, "vae", (__name__, "_StandInVAE"))
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=100, csv=("BBB",))
    (data / "BAD.parquet").write_bytes(b"not parquet")
    config = tmp_path / "vae.yaml"
    config.write_text("model: vae\nvariants:\n  balanced: {}\n")
    out = tmp_path / "out"
    args = ["build-features", "--input-dir", str(data), "--output-dir", str(out),
            "--latent-dim", "2", "--config", str(config), "--train-frac", "0.6"]  # fmt: skip
    assert main(args) == 1  # BAD fails, the others are built
    first = capsys.readouterr()
    assert "symbol BAD failed" in first.err
    built = pd.read_parquet(out / "AAA.parquet")
    assert list(built.columns[-2:]) == ["vae0", "vae1"]
    assert pd.read_csv(out / "BBB.csv").columns[-1] == "vae1"  # the input format is kept
    vae = load_model(out / "vae_models" / "AAA")
    # fitted on the earliest 60% of the dates only: no look-ahead
    dates = pd.bdate_range("2022-01-03", periods=100)
    assert vae.fit_dates_.equals(dates[:60])
    np.testing.assert_allclose(
        built[["vae0", "vae1"]].to_numpy(), vae.transform(built[["f0", "f1", "f2"]])
    )
    metrics = json.loads((out / "vae_models" / "AAA" / "metrics.json").read_text())
    assert metrics["n_fit"] == 60 and metrics["first_unseen_date"].startswith("2022-03-28")
    # a second run skips the finished symbols, and its table keeps their figures (they
    # were dashes: audit)
    before = (out / "AAA.parquet").stat().st_mtime_ns
    first_row = next(r for r in first.out.splitlines() if r.startswith("AAA"))
    assert main(args) == 1
    assert (out / "AAA.parquet").stat().st_mtime_ns == before
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("AAA"))
    assert row.split()[1:4] == ["skipped", "60", "2022-03-25"]
    assert row.split()[2:4] == first_row.split()[2:4]
    # another latent size or fitting share is another set of features: built again
    assert main([*args[:-1], "0.5"]) == 1
    assert pd.read_parquet(out / "AAA.parquet")["vae0"].ne(built["vae0"]).any()
    assert load_model(out / "vae_models" / "AAA").fit_dates_.equals(dates[:50])
    assert main([*args, "--latent-dim", "3"]) == 1
    assert list(pd.read_parquet(out / "AAA.parquet").columns[-3:]) == ["vae0", "vae1", "vae2"]
    record = json.loads((out / "AAA.features.json").read_text())
    assert record["settings"]["latent_dim"] == 3 and record["settings"]["train_frac"] == 0.6
    latent_param = next(k for k in ("latent_dim", "n_latent", "n_components")
                        if k in record["settings"]["config"])  # fmt: skip
    assert record["settings"]["config"][latent_param] == 3  # as fitted (it said the YAML's)
    # dates appended to an input file: its output is built again and holds them
    args = [*args, "--latent-dim", "3"]
    before = (out / "BBB.csv").stat().st_mtime_ns
    frame = pd.read_parquet(data / "AAA.parquet")
    more = frame.iloc[-5:].copy()
    more["date"] = pd.bdate_range(frame["date"].iloc[-1], periods=6)[1:]
    pd.concat([frame, more]).to_parquet(data / "AAA.parquet", index=False)
    assert main(args) == 1
    assert len(pd.read_parquet(out / "AAA.parquet")) == 105
    assert (out / "BBB.csv").stat().st_mtime_ns == before  # unchanged: skipped


def test_build_features_names_the_earlier_runs_files_it_did_not_build(
    tmp_path, monkeypatch, capsys
):
    """A symbol gone from --input-dir kept its output file and record from an earlier
    run (another --latent-dim here), silently: walkforward and train-all on the folder
    read it beside this run's files, and the run's manifest did not list it."""
    import skquant.registry
    from skquant.cli import main

    monkeypatch.setitem(skquant.registry._REGISTRY, "vae", (__name__, "_StandInVAE"))
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=100)
    config = tmp_path / "vae.yaml"
    config.write_text("model: vae\nvariants:\n  balanced: {}\n")
    out = tmp_path / "out"
    args = ["-q", "build-features", "--input-dir", str(data), "--output-dir", str(out),
            "--config", str(config), "--target", "fwd_ret_1d"]  # fmt: skip
    assert main([*args, "--latent-dim", "2"]) == 0
    (data / "BBB.parquet").unlink()
    capsys.readouterr()
    assert main([*args, "--latent-dim", "3"]) == 0
    err = capsys.readouterr().err
    assert "BBB.parquet" in err and "earlier" in err, err
    manifest = json.loads((out / "vae_models" / "run_manifest.json").read_text())
    assert manifest["not_built_by_this_run"] == ["BBB.parquet"]
    assert [r["symbol"] for r in manifest["symbols"]] == ["AAA"]


def test_build_features_plans_on_files_it_can_fit_on(tmp_path, monkeypatch, capsys):
    """The leak guard's plan read the first files whatever their length: a file too
    short to fit a feature model on (it fails by name) took a place in the plan, as
    train-all leaves out files too short to train on. The manifest says the plan's files."""
    import skquant.registry
    from skquant.cli import main

    monkeypatch.setitem(skquant.registry._REGISTRY, "vae", (__name__, "_StandInVAE"))
    data = write_symbols(tmp_path / "data", ["BBB", "CCC"], n=100)
    write_symbols(tmp_path / "short", ["AAA"], n=15)  # 9 rows to fit on, at 0.6
    (tmp_path / "short" / "AAA.parquet").rename(data / "AAA.parquet")
    config = tmp_path / "vae.yaml"
    config.write_text("model: vae\nvariants:\n  balanced: {}\n")
    out = tmp_path / "out"
    args = ["build-features", "--input-dir", str(data), "--output-dir", str(out),
            "--latent-dim", "2", "--config", str(config), "--train-frac", "0.6"]  # fmt: skip
    assert main(args) == 1
    assert "symbol AAA failed: " in capsys.readouterr().err
    manifest = json.loads((out / "vae_models" / "run_manifest.json").read_text())
    assert manifest["planned_on"] == ["BBB.parquet", "CCC.parquet"]
    assert [r["status"] for r in manifest["symbols"]] == ["failed", "built", "built"]


def _build(main, data, out, config, latent_dim, train_frac, *extra):
    return main(
        ["build-features", "--input-dir", str(data), "--output-dir", str(out), "--config",
         str(config), "--latent-dim", str(latent_dim), "--train-frac", str(train_frac),
         "--target", "fwd_ret_1d", *extra]
    )  # fmt: skip


@pytest.fixture
def stand_in_config(tmp_path, monkeypatch):
    import skquant.registry

    monkeypatch.setitem(skquant.registry._REGISTRY, "vae", (__name__, "_StandInVAE"))
    config = tmp_path / "vae.yaml"
    config.write_text("model: vae\nvariants:\n  balanced: {}\n")
    return config


def test_build_features_on_a_built_folder_drops_the_earlier_latent_columns(
    tmp_path, stand_in_config, capsys
):
    """build-features on its own output kept the earlier build's vae1 (fitted until a
    later date) beside the new vae0 and recorded only the new, earlier cutoff:
    train-all then validated vae1 in-sample. Now every earlier latent column goes."""
    from skquant.cli import main
    from skquant.cli._data import first_unseen_date

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160, csv=("BBB",))
    first, second = tmp_path / "vaeA", tmp_path / "vaeB"
    assert _build(main, data, first, stand_in_config, 2, 0.8) == 0
    capsys.readouterr()
    assert _build(main, first, second, stand_in_config, 1, 0.3) == 0
    printed = capsys.readouterr().out
    built = pd.read_parquet(second / "AAA.parquet")
    assert [c for c in built.columns if c.startswith("vae")] == ["vae0"]  # was vae1, vae0
    assert [c for c in pd.read_csv(second / "BBB.csv").columns if c.startswith("vae")] == ["vae0"]
    assert "dropped the latent columns vae0, vae1 of the input files (AAA, BBB)" in printed
    dates = pd.bdate_range("2022-01-03", periods=160)
    assert first_unseen_date(second / "AAA.parquet") == dates[48]
    # its inputs are the data's columns, never the earlier build's latent ones
    record = json.loads((second / "AAA.features.json").read_text())
    assert record["inputs"] == ["f0", "f1", "f2"] and record["columns"] == ["vae0"]
    # train-all validates after the new cutoff: nothing of the earlier model is left
    out = tmp_path / "models"
    args = ["-q", "train-all", "--input-dir", str(second), "--output-dir", str(out),
            "--target", "fwd_ret_1d", "--models", "ftrl_proximal", "--val-days", "40"]  # fmt: skip
    assert main(args) == 0
    meta = json.loads((out / "AAA" / "ftrl_proximal" / "metadata.json").read_text())
    assert [c for c in meta["feature_names"] if c.startswith("vae")] == ["vae0"]


def test_build_features_refuses_latent_columns_as_inputs(tmp_path, stand_in_config, capsys):
    """--features vae0 on a built folder said "Unknown feature column 'vae0'", though the
    file holds it (run() had dropped it before checking)."""
    from skquant.cli import main

    data = write_symbols(tmp_path / "data", ["AAA"], n=160)
    assert _build(main, data, tmp_path / "vaeA", stand_in_config, 2, 0.6) == 0
    capsys.readouterr()
    code = _build(main, tmp_path / "vaeA", tmp_path / "vaeB", stand_in_config, 1, 0.6,
                  "--features", "f0,f1,vae0")  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "--features names vae0: latent columns" in err and "never its inputs" in err, err
    assert "Unknown feature column" not in err


def test_the_in_sample_guard_survives_a_copy_without_the_record(tmp_path, stand_in_config):
    """The cutoff lived only in SYMBOL.features.json: a parquet file copied without it
    was validated and tested in-sample, and a record of another build was believed.
    Now a parquet file holds its cutoff in its own metadata; latent columns with no
    record to trust (a CSV file copied alone, a record written for other bytes) are
    refused by file name."""
    import shutil

    from skquant.cli import main
    from skquant.cli._data import first_unseen_date, has_build_record, sidecar_path

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160, csv=("BBB",))
    built = tmp_path / "vaeA"
    assert _build(main, data, built, stand_in_config, 2, 0.8) == 0
    cutoff = pd.bdate_range("2022-01-03", periods=160)[128]
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("AAA.parquet", "BBB.csv"):
        shutil.copy(built / name, copy / name)  # the .features.json left behind
    assert first_unseen_date(copy / "AAA.parquet") == cutoff
    with pytest.raises(ValueError, match=r"^BBB\.csv holds vae0, vae1, latent columns .* no "
                       r"record of the dates"):  # fmt: skip
        first_unseen_date(copy / "BBB.csv")
    assert has_build_record(copy / "AAA.parquet") and not has_build_record(copy / "BBB.csv")
    # the copy's validation tail (the last 40 dates) starts before the cutoff: refused
    out = tmp_path / "models"
    args = ["-q", "train-all", "--input-dir", str(copy), "--output-dir", str(out),
            "--target", "fwd_ret_1d", "--models", "ftrl_proximal", "--val-days", "40"]  # fmt: skip
    assert main(args) == 1
    manifest = json.loads((out / "run_manifest.json").read_text())
    errors = {r["symbol"]: r.get("error", "") for r in manifest["symbols"]}
    assert f"saw the dates before {cutoff:%Y-%m-%d} (the first it never saw)" in errors["AAA"]
    assert "no record of the dates" in errors["BBB"], errors
    # a record of another build beside a file that holds none of its own: not believed
    frame = pd.read_parquet(built / "AAA.parquet")  # pandas keeps no build record
    frame.to_parquet(copy / "AAA.parquet")
    shutil.copy(sidecar_path(built / "AAA.parquet"), sidecar_path(copy / "AAA.parquet"))
    with pytest.raises(ValueError, match=r"AAA\.features\.json beside it was written for other"):
        first_unseen_date(copy / "AAA.parquet")
    # its own record (the file unchanged) is believed; a file of no latent columns
    # needs none
    shutil.copy(sidecar_path(built / "BBB.csv"), sidecar_path(copy / "BBB.csv"))
    assert first_unseen_date(copy / "BBB.csv") == cutoff
    frame.drop(columns=["vae0", "vae1"]).to_parquet(copy / "AAA.parquet")
    assert first_unseen_date(copy / "AAA.parquet") is None


def test_build_features_with_the_vae(tmp_path):
    pytest.importorskip("torch")
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=120)
    out = tmp_path / "out"
    config = tmp_path / "vae.yaml"
    config.write_text(
        "model: vae\nvariants:\n  balanced:\n    epochs: 5\n    hidden_layer_sizes: [16]\n"
        "    device: cpu\n    early_stopping_rounds: 0\n"
    )
    proc = run_cli(
        "build-features", "--input-dir", data, "--output-dir", out, "--latent-dim", "3",
        "--config", config, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for symbol in ("AAA", "BBB"):
        frame = pd.read_parquet(out / f"{symbol}.parquet")
        latent = frame[["vae0", "vae1", "vae2"]].to_numpy()
        assert np.isfinite(latent).all() and "vae3" not in frame
        assert (out / "vae_models" / symbol / "model.joblib").is_file()


class _WideStandInVAE(_StandInVAE):
    """The stand-in, warning in fit as the VAE does of a latent space too wide."""

    def fit(self, X, y=None):
        import warnings

        warnings.warn(
            f"_WideStandInVAE: latent_dim={self.latent_dim} is not below "
            f"n_features_in_={X.shape[1]}, the number of input features.",
            UserWarning,
            stacklevel=2,
        )
        return super().fit(X)


def test_build_features_says_a_fit_warning_once_per_run(tmp_path, monkeypatch, capsys):
    """A warning every symbol's fit gives was printed as a raw Python warning by each
    worker, or not at all: the run says it once, in the command's words, naming the
    symbols, and the manifest keeps each symbol's."""
    import skquant.registry
    from skquant.cli import main

    monkeypatch.setitem(skquant.registry._REGISTRY, "vae", (__name__, "_WideStandInVAE"))
    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=100)
    config = tmp_path / "vae.yaml"
    config.write_text("model: vae\nvariants:\n  balanced: {}\n")
    out = tmp_path / "out"
    args = ["-q", "build-features", "--input-dir", str(data), "--output-dir", str(out),
            "--latent-dim", "3", "--config", str(config), "--target", "fwd_ret_1d"]  # fmt: skip
    assert main(args) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "is not below" in line]
    assert lines == [
        "skquant: warning: _WideStandInVAE: --latent-dim 3 is not below n_features_in_=3, "
        "the number of input features. (AAA, BBB, CCC)"
    ]
    manifest = json.loads((out / "vae_models" / "run_manifest.json").read_text())
    assert all("is not below" in r["warnings"][0] for r in manifest["symbols"])


def test_build_features_with_a_too_wide_vae_warns_once(tmp_path):
    """--latent-dim 8 on 3 input features fitted every symbol's VAE without a word."""
    pytest.importorskip("torch")
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=80)
    config = tmp_path / "vae.yaml"
    config.write_text(
        "model: vae\nvariants:\n  balanced:\n    epochs: 2\n    hidden_layer_sizes: [8]\n"
        "    device: cpu\n    early_stopping_rounds: 0\n"
    )
    proc = run_cli(
        "build-features", "--input-dir", data, "--output-dir", tmp_path / "out",
        "--latent-dim", "8", "--config", config, "--n-jobs", "2", timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "not below" in line]
    assert len(lines) == 1, proc.stderr
    assert "--latent-dim 8 is not below n_features_in_=3" in lines[0]
    assert lines[0].startswith("skquant: warning: VAETrainer") and "(AAA, BBB)" in lines[0]


def test_build_features_without_input_folder_exit_2(tmp_path):
    proc = run_cli("build-features", "--input-dir", tmp_path / "nope", "--output-dir", tmp_path)
    assert_one_line_error(proc, str(tmp_path / "nope"))


def test_train_all_retrains_when_the_settings_change(tmp_path):
    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    base = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm", "--val-days", "20"]  # fmt: skip
    config = fast_config(tmp_path, rounds=10, patience=0)
    first = run_cli(*base, "--config", config)
    assert first.returncode == 0
    trained = json.loads((out / "run_manifest.json").read_text())["symbols"][0]["pairs"][0]
    proc = run_cli(*base, "--config", config)
    assert "0 trained, 1 already finished" in proc.stdout
    # the resumed run's table and manifest keep the finished pair's scores (they were
    # dashes and {"status": "skipped"}: audit)
    kept = json.loads((out / "run_manifest.json").read_text())["symbols"][0]["pairs"][0]
    assert kept.pop("status") == "skipped" and trained.pop("status") == "trained"
    trained.pop("seconds")
    assert kept == trained and "sharpe" in kept
    table = lambda text: [line for line in text.splitlines() if line.startswith("AAA")]  # noqa: E731
    assert table(proc.stdout)[0].split()[3:7] == table(first.stdout)[0].split()[3:7]  # rmse..dates
    proc = run_cli(*base, "--config", fast_config(tmp_path, rounds=12, patience=0))
    assert "1 trained, 0 already finished" in proc.stdout, proc.stdout
    assert "config changed (n_estimators)" in proc.stderr
    assert json.loads((out / "AAA" / "lightgbm" / "config.json").read_text())["n_estimators"] == 12


def test_train_all_retrains_when_the_validation_settings_change(tmp_path):
    """The validation tail and its embargo shape the model and metrics.json: a re-run
    with others retrains; another annualisation only rescores the saved predictions,
    so that no pair keeps results scored otherwise."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    base = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm", "--config", fast_config(tmp_path, rounds=10, patience=0)]  # fmt: skip
    metrics = out / "AAA" / "lightgbm" / "metrics.json"
    assert run_cli(*base, "--val-days", "20").returncode == 0
    assert json.loads(metrics.read_text())["n_val"] == 20
    for extra, reason in [
        (["--val-days", "15"], "retraining, val_days was 20"),
        (["--val-days", "15", "--periods-per-year", "52"], "rescored, periods_per_year was None"),
        (["--val-days", "15", "--periods-per-year", "52", "--embargo-days", "3"],
         "retraining, embargo_days was 1"),
    ]:  # fmt: skip
        proc = run_cli(*base, *extra)
        counts = "1 rescored" if reason.startswith("rescored") else "1 trained, 0 already"
        assert counts in proc.stdout, (extra, proc.stdout)
        assert reason in proc.stderr, (extra, proc.stderr)
    saved = json.loads(metrics.read_text())
    assert saved["n_val"] == 15 and saved["trading"]["periods_per_year"] == 52
    assert saved["settings"] == {
        "val_days": 15, "embargo_days": 3, "return_col": "fwd_ret_1d", "periods_per_year": 52,
        "cost_bps": 0.0,
    }  # fmt: skip
    proc = run_cli(*base, *extra)
    assert "0 trained, 1 already finished" in proc.stdout, proc.stdout


def _lightgbm_run(tmp_path):
    """(data folder, output folder, train-all arguments) of one symbol, one fast
    LightGBM and a 20-day validation tail."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    base = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm", "--config", fast_config(tmp_path, rounds=10, patience=0),
            "--val-days", "20"]  # fmt: skip
    return data, out, base


def test_train_all_annualises_by_all_the_dates_of_a_symbol(tmp_path):
    """The validation tail's own dates set the year: 20 hourly bars of a 24/7 market,
    all on one Wednesday, were annualised as 252 days of 20 bars (5040), not 8760."""
    data, out, base = _lightgbm_run(tmp_path)
    path = data / "AAA.parquet"
    frame = pd.read_parquet(path)
    frame["date"] = pd.date_range("2024-01-06", periods=len(frame), freq="h")  # Sat to Wed
    assert frame["date"].iloc[-20:].dt.date.nunique() == 1
    # on hourly bars a return named in days spans a day of bars (24): book the next bar's
    frame = frame.rename(columns={"fwd_ret_1d": "fwd_ret"})
    base = [arg if arg != "fwd_ret_1d" else "fwd_ret" for arg in base]
    frame.to_parquet(path, index=False)
    proc = run_cli(*base)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "AAA" / "lightgbm" / "metrics.json").read_text())
    assert metrics["trading"]["periods_per_year"] == 24 * 365
    # a rescore (another cost) uses the same year
    assert "1 rescored" in run_cli(*base, "--cost-bps", "5").stdout
    path = out / "AAA" / "lightgbm" / "metrics.json"
    metrics = json.loads(path.read_text())
    assert metrics["trading"]["periods_per_year"] == 24 * 365
    # a pair finished before the year came from all the dates is rescored (review)
    metrics["trading"]["periods_per_year"] = 5040.0
    path.write_text(json.dumps(metrics))
    proc = run_cli(*base, "--cost-bps", "5")
    assert "rescored, annualised by 5040 periods a year, its dates' year is 8760" in proc.stderr
    assert json.loads(path.read_text())["trading"]["periods_per_year"] == 24 * 365


def test_train_all_says_a_worker_warning_once_per_run(tmp_path):
    """Each train-all worker printed its symbol's warnings raw, once per process
    ('.../__main__.py:8: UserWarning: periods_per_year=52 ...'): the run says each
    once, in the command's words, naming the symbols, and the manifest keeps each
    symbol's."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=120)
    out = tmp_path / "out"
    proc = run_cli(
        "train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
        "--models", "lightgbm", "--config", fast_config(tmp_path, rounds=10, patience=0),
        "--val-days", "20", "--n-jobs", "2", "--periods-per-year", "52",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "UserWarning" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "52" in line and "year" in line]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("skquant: warning: --periods-per-year 52 was given")
    assert lines[0].endswith("(AAA, BBB)")
    manifest = json.loads((out / "run_manifest.json").read_text())
    for res in manifest["symbols"]:
        assert any("periods_per_year=52" in w for w in res["warnings"]), res


def test_train_all_trading_metrics_are_net_of_cost_bps(tmp_path):
    import pandas as pd

    from skquant.metrics import validation_metrics

    data, out, base = _lightgbm_run(tmp_path)
    proc = run_cli(*base, "--cost-bps", "25")
    assert proc.returncode == 0, proc.stderr
    assert "trading metrics on: fwd_ret_1d, net of 25 bps per unit traded" in proc.stdout
    pair = out / "AAA" / "lightgbm"
    trading = json.loads((pair / "metrics.json").read_text())["trading"]
    assert trading["cost_bps"] == 25 and trading["turnover"] > 0
    assert trading["sharpe"] < trading["gross_sharpe"]
    # the same numbers from the saved validation predictions (the target is the return)
    val = pd.read_csv(pair / "predictions_val.csv", index_col=0, parse_dates=True)
    again = validation_metrics(
        "regression", val["y_true"], val["prediction"], None, val["y_true"], val.index,
        cost_bps=25,
    )["trading"]  # fmt: skip
    for key in ("sharpe", "gross_sharpe", "turnover", "total_return", "max_drawdown"):
        assert trading[key] == pytest.approx(again[key], rel=1e-9), key
    proc = run_cli(*base)
    assert "rescored, cost_bps was 25.0 (model kept)" in proc.stderr, proc.stderr
    assert "trading metrics on: fwd_ret_1d, gross: no --cost-bps" in proc.stdout
    trading = json.loads((pair / "metrics.json").read_text())["trading"]
    assert trading["cost_bps"] == 0 and trading["sharpe"] == trading["gross_sharpe"]
    assert json.loads((out / "run_manifest.json").read_text())["cost_bps"] == 0


def test_train_all_rescores_a_pair_whose_only_change_is_how_it_is_traded(tmp_path):
    """Another --cost-bps or --periods-per-year changes the scores, not the model: the
    pair is rescored from predictions_val.csv, its model file untouched, and the new
    metrics.json is the one a retrain with those settings writes."""
    from tests.test_cli_files import _pair_files

    data, out, base = _lightgbm_run(tmp_path)
    assert run_cli(*base).returncode == 0
    pair = out / "AAA" / "lightgbm"
    model = {k: v for k, v in _pair_files(out).items() if k.endswith("model.joblib")}
    assert model
    # a pair written before metrics.json had constant_predictions gets it when rescored
    older = json.loads((pair / "metrics.json").read_text())
    constant = older.pop("constant_predictions")
    (pair / "metrics.json").write_text(json.dumps(older))
    for extra, reason in [
        (["--cost-bps", "25"], "cost_bps was 0.0"),
        (["--cost-bps", "25", "--periods-per-year", "52"], "periods_per_year was None"),
    ]:  # fmt: skip
        proc = run_cli(*base, *extra)
        assert proc.returncode == 0, proc.stderr
        assert f"AAA/lightgbm: rescored, {reason} (model kept)" in proc.stderr, proc.stderr
        assert "0 trained, 0 already finished (skipped), 1 rescored" in proc.stdout
        assert all(_pair_files(out)[k] == v for k, v in model.items())  # not refitted
        rescored = json.loads((pair / "metrics.json").read_text())
        assert rescored["settings"]["cost_bps"] == 25.0
        assert rescored["trading"]["cost_bps"] == 25.0 and rescored["trading"]["turnover"] > 0
        assert rescored["constant_predictions"] is constant
    assert rescored["trading"]["periods_per_year"] == 52
    assert "0 trained, 1 already finished" in run_cli(*base, *extra).stdout
    proc = run_cli(*base, *extra, "--force")  # the same settings, fitted again
    assert "1 trained" in proc.stdout, proc.stdout
    retrained = json.loads((pair / "metrics.json").read_text())
    assert rescored.pop("fit_seconds") > 0 and retrained.pop("fit_seconds") > 0
    assert rescored["trading"] == pytest.approx(retrained["trading"], rel=1e-12)
    assert rescored == retrained | {"trading": rescored["trading"]}
    trading = json.loads((pair / "metrics.json").read_text())["trading"]
    assert trading["sharpe"] < trading["gross_sharpe"]


def test_train_all_rescores_a_pair_whose_return_column_changed(tmp_path):
    """The returns the validation predictions are traded on are hashed too: an edited
    --return-col value rescores the pair (the model and its predictions stay)."""
    import pandas as pd

    data, out, base = _lightgbm_run(tmp_path)
    path = data / "AAA.parquet"
    frame = pd.read_parquet(path)
    frame["fwd_ret_x"] = frame["fwd_ret_1d"].shift(-1).fillna(0.0)  # another P&L column
    frame.to_parquet(path, index=False)
    base = [*base, "--return-col", "fwd_ret_x", "--features", "f0,f1,f2"]
    assert run_cli(*base).returncode == 0
    metrics = out / "AAA" / "lightgbm" / "metrics.json"
    before = json.loads(metrics.read_text())["trading"]
    frame.loc[len(frame) - 3 :, "fwd_ret_x"] *= -5.0  # in the validation tail
    frame.to_parquet(path, index=False)
    proc = run_cli(*base)
    assert "rescored, other --return-col values" in proc.stderr, proc.stderr
    after = json.loads(metrics.read_text())["trading"]
    assert after["total_return"] != before["total_return"]
    assert "0 trained, 1 already finished" in run_cli(*base).stdout


def test_train_all_retrains_a_pair_whose_rows_changed(tmp_path):
    """Dates appended to a symbol file, or a value edited in its training rows, make
    its finished pairs stale: a re-run retrains them instead of keeping a model (and
    validation metrics) of other data."""
    import pandas as pd

    data, out, base = _lightgbm_run(tmp_path)
    assert run_cli(*base).returncode == 0
    path = data / "AAA.parquet"
    frame = pd.read_parquet(path)
    more = frame.iloc[-5:].copy()  # five dates appended
    more["date"] = pd.bdate_range(frame["date"].iloc[-1], periods=6)[1:]
    frame_longer = pd.concat([frame, more], ignore_index=True)
    frame_longer.to_parquet(path, index=False)
    proc = run_cli(*base)
    assert "1 trained, 0 already finished" in proc.stdout, proc.stdout
    assert "retraining, the data changed (n_train was 99)" in proc.stderr, proc.stderr
    metrics = json.loads((out / "AAA" / "lightgbm" / "metrics.json").read_text())
    assert metrics["val_end"].startswith(str(frame_longer["date"].iloc[-1].date()))

    frame_longer.loc[10, "f1"] += 1.0  # one training value edited, same dates
    frame_longer.to_parquet(path, index=False)
    proc = run_cli(*base)
    assert "retraining, the data changed (other training rows)" in proc.stderr, proc.stderr
    frame_longer.loc[122, "fwd_ret_1d"] += 0.01  # one validation label edited
    frame_longer.to_parquet(path, index=False)
    proc = run_cli(*base, "--cost-bps", "5")  # other rows win over a rescore
    assert "retraining, the data changed (other validation rows)" in proc.stderr, proc.stderr
    assert "0 trained, 1 already finished" in run_cli(*base, "--cost-bps", "5").stdout


def test_library_rules_live_prints_each_warning_once_when_given(capsys):
    import warnings

    from skquant.cli._common import UsageError, library_rules

    with library_rules(0, live=True):  # tune and benchmark: long runs
        warnings.warn("fold 1 is short", stacklevel=1)
        print("still running", file=sys.stderr)
        warnings.warn("fold 1 is short", stacklevel=1)  # the same message again: not repeated
        warnings.warn("fold 2 is short", stacklevel=1)
    assert capsys.readouterr().err.splitlines() == [
        "skquant: warning: fold 1 is short",
        "still running",
        "skquant: warning: fold 2 is short",
    ]
    with library_rules(0):  # set-up checks: held until the block ends
        warnings.warn("held", stacklevel=1)
        print("first", file=sys.stderr)
    assert capsys.readouterr().err.splitlines() == ["first", "skquant: warning: held"]
    with pytest.raises(UsageError, match="bad"), library_rules(0):
        warnings.warn("never printed: the error is the one line", stacklevel=1)
        raise ValueError("bad")
    assert capsys.readouterr().err == ""
    with library_rules(-2, live=True):  # -qq: no warnings
        warnings.warn("quiet", stacklevel=1)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        (["walkforward"], None),
        (["train-all", "--target", "fwd_ret_1d", "--models", "lightgbm"], None),
        (["build-features"], "torch"),
        (["tune", "--model", "lightgbm", "--n-trials", "1"], "optuna"),
        (["benchmark", "--models", "lightgbm", "--seeds", "1"], None),
    ],
)
def test_an_output_dir_that_cannot_be_a_folder_is_refused_before_any_work(tmp_path, command, needs):
    """--output-dir a file, or a folder under one: tune ran every trial, benchmark every
    fit, then ended in "unexpected error: FileExistsError" (exit 3), the study lost
    (audit). Every command refuses it first, in one line."""
    if needs:
        pytest.importorskip(needs)
    data = write_symbols(tmp_path / "data", ["AAA"], n=20)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, words in [(afile, "exists and is not a folder"), (afile / "sub", "is under the file")]:
        proc = run_cli(*command, "--input-dir", data, "--output-dir", out)
        assert_one_line_error(proc, "--output-dir", words)


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        (["walkforward", "--model", "gmm_regime"], None),
        (["walkforward", "--model", "vae"], "torch"),
        (["tune", "--model", "change_point", "--n-trials", "1"], "optuna"),
        (["train-all", "--target", "fwd_ret_1d", "--models", "lightgbm,gmm_regime"], None),
    ],
)
def test_a_feature_model_to_train_is_refused_before_any_work(tmp_path, command, needs):
    """walkforward --model vae fitted a fold, then "unexpected error: AttributeError:
    'VAETrainer' object has no attribute 'predict'" (exit 3); train-all failed every
    symbol on it (audit)."""
    if needs:
        pytest.importorskip(needs)
    data = write_symbols(tmp_path / "data", ["AAA"], n=20)
    proc = run_cli(*command, "--input-dir", data, "--output-dir", tmp_path / "out")
    assert_one_line_error(proc, "is a feature model", "build-features")


@pytest.mark.parametrize("models", [",", " , "])
def test_train_all_refuses_models_that_name_no_model(tmp_path, models):
    """--models "," trained nothing, exit 0, and overwrote run_manifest.json (audit)."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=20)
    out = tmp_path / "out"
    proc = run_cli("train-all", "--input-dir", data, "--output-dir", out, "--target",
                   "fwd_ret_1d", "--models", models)  # fmt: skip
    assert_one_line_error(proc, "--models", "names no model")
    assert not out.exists()


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        (["walkforward", "--model", "lightgbm"], None),
        (["train-all", "--target", "fwd_ret_1d", "--models", "lightgbm"], None),
        (["tune", "--model", "lightgbm", "--n-trials", "1"], "optuna"),
    ],
)
def test_a_config_value_the_model_does_not_take_is_refused_before_any_work(
    tmp_path, command, needs
):
    """n_estimators: ten failed every symbol of train-all one by one (exit 1), and tune's
    first trial with an Optuna traceback (audit)."""
    if needs:
        pytest.importorskip(needs)
    data = write_symbols(tmp_path / "data", ["AAA"], n=20)
    config = tmp_path / "bad.yaml"
    config.write_text("model: lightgbm\nvariants:\n  balanced:\n    n_estimators: ten\n")
    proc = run_cli(*command, "--config", config, "--input-dir", data,
                   "--output-dir", tmp_path / "out")  # fmt: skip
    assert_one_line_error(proc, "bad.yaml", "'n_estimators' parameter", "Got 'ten'")


@pytest.mark.parametrize("storage", ["notaurl", "sqlite:////no/such/folder/x.db", "FILE"])
def test_tune_names_a_storage_it_cannot_open(tmp_path, storage):
    """A bad --storage ended in "unexpected error: ArgumentError / OperationalError /
    DatabaseError" (exit 3, audit)."""
    pytest.importorskip("optuna")
    if storage == "FILE":  # a file that is not a database
        (tmp_path / "notes.txt").write_text("these are notes, not a database\n" * 40)
        storage = f"sqlite:///{tmp_path / 'notes.txt'}"
    data = write_symbols(tmp_path / "data", ["AAA"], n=200)
    proc = run_cli("tune", "--model", "lightgbm", "--n-trials", "1", "--input-dir", data,
                   "--target", "fwd_ret_1d", "--storage", storage, "--output-dir", tmp_path / "o",
                   "--train-days", "100", "--test-days", "50", "--step-days", "50",
                   "--min-train-samples", "50", "-q")  # fmt: skip
    assert_one_line_error(proc, f"storage {storage!r} cannot be opened")


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        (["walkforward", "--train-days", "100", "--test-days", "40", "--step-days", "40"], None),
        (
            [
                "tune",
                "--model",
                "lightgbm",
                "--n-trials",
                "1",
                "--train-days",
                "100",
                "--test-days",
                "40",
                "--step-days",
                "40",
            ],  # fmt: skip
            "optuna",
        ),  # fmt: skip
        (["train-all", "--models", "lightgbm", "--val-days", "20"], None),
    ],
)
@pytest.mark.parametrize("target", ["fwd_ret", None])
def test_a_symbol_whose_target_holds_no_value_is_named_and_left_out(
    tmp_path, command, needs, target
):
    """A file whose target column is all NaN: walkforward kept it, its test rows taken
    for a delisted symbol's (a survivorship warning), exit 0; train-all said "too few
    rows: 0 dates" (audit)."""
    if needs:
        pytest.importorskip(needs)
    if target is None and command[0] == "train-all":
        pytest.skip("train-all takes --target")
    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=200, seed=5)
    for symbol in ("AAA", "BBB", "CCC"):  # the default target is the one-period return
        frame = pd.read_parquet(data / f"{symbol}.parquet").rename(
            columns={"fwd_ret_1d": "fwd_ret"}
        )
        if symbol == "AAA":
            frame["fwd_ret"] = np.nan
        frame.to_parquet(data / f"{symbol}.parquet", index=False)
    chosen = () if target is None else ("--target", "fwd_ret")
    proc = run_cli(*command, "--input-dir", data, *chosen,
                   "--min-train-samples" if command[0] != "train-all" else "--embargo-days",
                   "50" if command[0] != "train-all" else "1",
                   "--output-dir", tmp_path / "out", "-q")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "survivorship" not in proc.stderr and "Traceback" not in proc.stderr
    line = next(x for x in proc.stderr.splitlines() if "symbol AAA" in x)
    assert "column 'fwd_ret' (the target) holds no value" in line, proc.stderr


def test_train_all_validation_windows_read_the_rows_before_the_tail(tmp_path):
    """A sequence net's validation predictions came from the tail alone: its first
    seq_len - 1 rows were zero-padded windows. They are now those of the unbroken
    series: the saved model's prediction on all the symbol's rows, at the tail."""
    pytest.importorskip("torch")
    from skquant.persistence import load_model

    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    config = tmp_path / "lstm.yaml"
    config.write_text(
        "model: lstm\nvariants:\n  balanced:\n    seq_len: 5\n    hidden_size: 4\n"
        "    epochs: 2\n    device: cpu\n    random_state: 0\n    early_stopping_rounds: 0\n"
    )
    proc = run_cli("train-all", "--input-dir", data, "--output-dir", out, "--target",
                   "fwd_ret_1d", "--models", "lstm", "--config", config, "--val-days", "20")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    saved = pd.read_csv(out / "AAA" / "lstm" / "predictions_val.csv", index_col=0)
    frame = pd.read_parquet(data / "AAA.parquet").set_index("date")
    model = load_model(out / "AAA" / "lstm")
    unbroken = model.predict(frame[["f0", "f1", "f2"]])[-len(saved) :]
    np.testing.assert_allclose(saved["prediction"], unbroken, rtol=1e-5, atol=1e-7)


def test_walkforward_keeps_a_warning_whose_category_needs_more_than_a_message():
    """The command rebuilt every caught warning as category(text in its words): one
    whose constructor is keyword-only (scikit-learn's InconsistentVersionWarning) would
    raise TypeError after the run, before any output was written. It is kept as it came."""
    import warnings

    from skquant.cli._walkforward import _reworded

    class KeywordOnly(UserWarning):
        def __init__(self, *, message):
            super().__init__(message)

    text = "LightGBMTrainer.get_feature_importance(kind='gain'): every importance is 0"
    item = warnings.WarningMessage(KeywordOnly(message=text), KeywordOnly, "f.py", 1)
    assert _reworded(item) is item
    plain = warnings.WarningMessage(UserWarning(text), UserWarning, "f.py", 1)
    assert str(_reworded(plain).message) != text  # in the command's words
    assert str(_reworded(plain).message).startswith("feature_importance.csv (the last fold's")


def test_record_warnings_files_each_worker_threads_warnings_under_its_own_symbol(capsys):
    """Dask runs several symbols in threads of one process, and catch_warnings swaps
    process-wide state: with two overlapping symbols, A's warning was recorded under B,
    B's printed raw, and a later warning of the main thread vanished into A's list."""
    import threading
    import warnings

    from skquant.utils._warnings import record_warnings

    both_inside, a_warned = threading.Barrier(2), threading.Event()
    lists = {}

    def symbol(name):
        with record_warnings() as caught:
            both_inside.wait()
            if name == "B":
                a_warned.wait()
            warnings.warn(f"warning of {name}", UserWarning, stacklevel=1)
            if name == "A":
                a_warned.set()
            both_inside.wait()  # neither leaves before both warned
        lists[name] = [str(w.message) for w in caught]

    threads = [threading.Thread(target=symbol, args=(name,)) for name in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lists == {"A": ["warning of A"], "B": ["warning of B"]}
    with warnings.catch_warnings(record=True) as caught:  # the main thread's own
        warnings.simplefilter("always")
        warnings.warn("warning of the main thread", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["warning of the main thread"]
    assert "warning of" not in capsys.readouterr().err
