"""``train-all``: what a run plans on (no one odd file decides the features), a symbol
whose target gives nothing to learn, and a config key removed between two runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import fast_config, run_cli, write_symbols

N, VAL_DAYS = 120, 20


def _symbol(rng, n=N) -> pd.DataFrame:
    """One symbol's rows: three features, a one-day return and ``peek``, that return
    under another name (plus a little noise): a leak the guard must leave out."""
    X = rng.normal(size=(n, 3))
    ret = 0.001 * X[:, 0] + rng.normal(scale=0.01, size=n)
    return pd.DataFrame(
        {
            "date": pd.bdate_range("2022-01-03", periods=n),
            "f0": X[:, 0],
            "f1": X[:, 1],
            "f2": X[:, 2],
            "fwd_ret_1d": ret,
            "peek": ret + rng.normal(scale=0.003, size=n),
        }
    )


@pytest.fixture(scope="module")
def odd_targets(tmp_path_factory):
    """One train-all run over BBB and CCC (sound), AAA (its target all 0; it sorts first,
    so it alone set the features) and ZZZ (its target 0 on every training row)."""
    root = tmp_path_factory.mktemp("odd_targets")
    data = root / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for symbol in ("AAA", "BBB", "CCC", "ZZZ"):
        frame = _symbol(rng)
        if symbol == "AAA":
            frame["fwd_ret_1d"] = 0.0
        if symbol == "ZZZ":
            frame.loc[: N - VAL_DAYS - 1, "fwd_ret_1d"] = 0.0  # varies in the tail only
        frame.to_parquet(data / f"{symbol}.parquet", index=False)
    out = root / "out"
    proc = run_cli(
        "train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
        "--models", "lightgbm", "--config", fast_config(root, rounds=5, patience=0),
        "--val-days", VAL_DAYS,
    )  # fmt: skip
    return proc, out


def test_one_file_with_a_constant_target_does_not_switch_the_leak_guard_off(odd_targets):
    """The plan was made on the first file alone: AAA's constant target made every leak
    score NaN, and ``peek`` (the target under another name) became a feature of every
    symbol. The plan pools several files and leaves out one whose target is constant."""
    proc, out = odd_targets
    assert "Traceback" not in proc.stderr
    assert "features (3): f0, f1, f2" in proc.stdout, proc.stdout
    assert "peek (" in proc.stderr  # left out by the guard, with its score
    assert "planned on 3 files (BBB.parquet, CCC.parquet, ZZZ.parquet)" in proc.stdout
    assert "left out AAA.parquet: its target fwd_ret_1d holds only the value 0" in proc.stdout
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["features"] == ["f0", "f1", "f2"]
    assert manifest["planned_on"] == ["BBB.parquet", "CCC.parquet", "ZZZ.parquet"]


def test_a_symbol_whose_training_target_is_constant_fails_by_name(odd_targets):
    """AAA printed ``trained 0.0000 0.00``: metrics of a model of a constant, which look
    valid. Such a symbol fails (exit code 1) naming its file and column; the others go on."""
    proc, out = odd_targets
    assert proc.returncode == 1, proc.stderr
    manifest = json.loads((out / "run_manifest.json").read_text())
    status = {res["symbol"]: res["status"] for res in manifest["symbols"]}
    assert status == {"AAA": "failed", "BBB": "ok", "CCC": "ok", "ZZZ": "failed"}
    for name, rows in (("AAA", N - VAL_DAYS - 1), ("ZZZ", N - VAL_DAYS - 1)):
        line = next(ln for ln in proc.stderr.splitlines() if f"symbol {name} failed" in ln)
        assert (
            f"{name}.parquet: column 'fwd_ret_1d' (the target) holds only the value 0 in its "
            f"{rows} training rows" in line
        ), line
        assert not (out / name / "lightgbm").exists()
    assert "2 trained, 0 already finished (skipped), 2 failed" in proc.stdout


def test_plan_sample_reads_a_bounded_number_of_files(tmp_path):
    from skquant.cli._data import plan_sample, symbol_files

    data = write_symbols(tmp_path / "data", [f"S{i:02d}" for i in range(12)], n=80)
    frame = pd.read_parquet(data / "S00.parquet")
    frame["fwd_ret_1d"] = np.nan  # no finite target: left out
    frame.to_parquet(data / "S00.parquet", index=False)
    files = symbol_files(str(data))
    sample, names, left_out = plan_sample(files, ["fwd_ret_1d"], str(data), "fwd_ret_1d")
    assert names == [f"S{i:02d}.parquet" for i in range(1, 9)]  # PLAN_FILES = 8
    assert left_out == {"S00.parquet": "its target fwd_ret_1d holds no finite value"}
    assert sample.index.names == ["date", "symbol"] and len(sample) == 8 * 80
    # too few rows: left out, and when no file qualifies the first readable one plans alone
    _, names, left_out = plan_sample(files, ["fwd_ret_1d"], str(data), "fwd_ret_1d", min_rows=81)
    assert names == ["S00.parquet"] and left_out == {}


def test_a_config_key_removed_from_the_config_file_retrains(tmp_path):
    """A key removed from the --config file falls back to the YAML variant (or the
    trainer's default): the pair was trained otherwise and is retrained, though only the
    keys of the new config were compared with the saved one. A run-only key (n_jobs)
    removed, or an unchanged re-run, retrains nothing."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=N)
    out = tmp_path / "out"
    config = fast_config(tmp_path, rounds=5, patience=0)
    text = config.read_text()
    assert "learning_rate: 0.1" in text and "n_jobs: 1" in text
    args = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm", "--config", config, "--val-days", VAL_DAYS]  # fmt: skip
    saved = out / "AAA" / "lightgbm" / "config.json"

    assert run_cli(*args).returncode == 0
    assert json.loads(saved.read_text())["learning_rate"] == 0.1
    config.write_text(text.replace("    learning_rate: 0.1\n", ""))
    proc = run_cli(*args)
    assert "1 trained, 0 already finished" in proc.stdout, proc.stdout
    assert "retraining, config changed (learning_rate)" in proc.stderr, proc.stderr
    assert json.loads(saved.read_text())["learning_rate"] == 0.03  # the balanced variant's

    config.write_text(text.replace("    learning_rate: 0.1\n", "").replace("  n_jobs: 1\n", ""))
    proc = run_cli(*args)
    assert "0 trained, 1 already finished" in proc.stdout, proc.stderr
    assert "retraining" not in proc.stderr

    # a pair from before the config it was given was kept: checked one way, kept
    metrics = out / "AAA" / "lightgbm" / "metrics.json"
    record = json.loads(metrics.read_text())
    assert "learning_rate" not in record.pop("model_config")
    metrics.write_text(json.dumps(record))
    proc = run_cli(*args)
    assert "0 trained, 1 already finished" in proc.stdout, proc.stderr


def test_a_pair_whose_model_file_is_damaged_is_retrained(tmp_path):
    """A truncated model.joblib was kept ("already finished, kept", exit 0) though
    load_model refuses it: only the files' presence was checked (persistence audit)."""
    from skquant import load_model

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=N)
    out = tmp_path / "out"
    args = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm", "--config", fast_config(tmp_path, rounds=5, patience=0),
            "--val-days", VAL_DAYS]  # fmt: skip
    assert run_cli(*args).returncode == 0
    model_file = out / "AAA" / "lightgbm" / "model.joblib"
    model_file.write_bytes(model_file.read_bytes()[:100])
    untouched = (out / "BBB" / "lightgbm" / "model.joblib").stat().st_mtime_ns
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "1 trained, 1 already finished" in proc.stdout, proc.stdout
    assert "AAA/lightgbm: retraining, its model.joblib differs from the SHA-256" in proc.stderr
    load_model(out / "AAA" / "lightgbm")  # whole again
    assert (out / "BBB" / "lightgbm" / "model.joblib").stat().st_mtime_ns == untouched
