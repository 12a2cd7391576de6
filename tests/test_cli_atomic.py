"""A command stopped while it writes its outputs leaves no folder that reads as finished
with files of two runs: build-features' file, model and record, walkforward's results
and run_manifest.json. The stop is simulated by an error raised at one write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import fast_config, write_symbols


# ----------------------------------------------------------------------------- build-features
@pytest.fixture
def stand_in_vae(monkeypatch, tmp_path):
    """The PCA stand-in of tests/test_cli.py registered as 'vae'; its config file's path."""
    import skquant.registry

    monkeypatch.setitem(skquant.registry._REGISTRY, "vae", ("tests.test_cli", "_StandInVAE"))
    config = tmp_path / "vae.yaml"
    config.write_text("model: vae\nvariants:\n  balanced: {}\n")
    return config


def _build(data, out, config, train_frac):
    from skquant.cli import main

    return main(
        ["-q", "build-features", "--input-dir", str(data), "--output-dir", str(out),
         "--latent-dim", "2", "--config", str(config), "--train-frac", str(train_frac)]
    )  # fmt: skip


def _statuses(out: Path) -> dict[str, str]:
    manifest = json.loads((out / "vae_models" / "run_manifest.json").read_text())
    return {r["symbol"]: r["status"] for r in manifest["symbols"]}


def _assert_same_build(out: Path, ref: Path, symbol: str) -> None:
    """``out``'s file, record and model of ``symbol`` are those of the clean build ``ref``."""
    from skquant import load_model

    pd.testing.assert_frame_equal(
        pd.read_parquet(out / f"{symbol}.parquet"), pd.read_parquet(ref / f"{symbol}.parquet")
    )
    record = json.loads((out / f"{symbol}.features.json").read_text())
    assert record == json.loads((ref / f"{symbol}.features.json").read_text())
    model = load_model(out / "vae_models" / symbol)
    assert model.fit_dates_.equals(load_model(ref / "vae_models" / symbol).fit_dates_)


def test_build_features_stopped_at_the_data_file_builds_the_symbol_again(
    tmp_path, stand_in_vae, monkeypatch
):
    """A run killed after a symbol's model and record but before its file kept the file
    of the earlier build (--train-frac 0.6) beside a record that said 0.4; the re-run
    skipped it, and walkforward tested on dates that VAE was fitted on."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=100)
    out, ref = tmp_path / "out", tmp_path / "ref"
    assert _build(data, out, stand_in_vae, 0.6) == 0
    early = pd.read_parquet(out / "AAA.parquet")

    # the next build, 0.4, stops at the write of AAA's file
    target = os.fspath(out / "AAA.parquet")
    replace = os.replace

    def stopped(src, dst, *args, **kwargs):
        if os.fspath(dst) == target:
            raise OSError("killed at the data file")
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", stopped)
    assert _build(data, out, stand_in_vae, 0.4) == 1
    monkeypatch.setattr(os, "replace", replace)
    assert _statuses(out) == {"AAA": "failed", "BBB": "built"}
    # no file of the 0.6 build stands beside the 0.4 record: the next walkforward
    # would test it from the 0.4 cutoff on, inside the 0.6 fit window
    record = json.loads((out / "AAA.features.json").read_text())
    assert record["settings"]["train_frac"] == 0.4
    if (out / "AAA.parquet").exists():
        assert not pd.read_parquet(out / "AAA.parquet").equals(early)

    # the re-run builds AAA again and ends as a clean 0.4 build
    assert _build(data, out, stand_in_vae, 0.4) == 0
    assert _statuses(out) == {"AAA": "built", "BBB": "skipped"}
    assert _build(data, ref, stand_in_vae, 0.4) == 0
    for symbol in ("AAA", "BBB"):
        _assert_same_build(out, ref, symbol)
    dates = pd.bdate_range("2022-01-03", periods=100)
    assert pd.Timestamp(record["first_unseen_date"]) == dates[40]


def test_build_features_rebuilds_a_file_its_record_does_not_describe(tmp_path, stand_in_vae):
    """A record names the SHA-256 of the file it describes: a file of another build (as
    an older skquant killed between the record and the file left it) is built again."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=100)
    out = tmp_path / "out"
    assert _build(data, out, stand_in_vae, 0.6) == 0
    built = pd.read_parquet(out / "AAA.parquet")
    other = built.assign(vae0=np.zeros(len(built)))  # features of another VAE
    other.to_parquet(out / "AAA.parquet")
    assert _build(data, out, stand_in_vae, 0.6) == 0
    assert _statuses(out) == {"AAA": "built"}
    pd.testing.assert_frame_equal(pd.read_parquet(out / "AAA.parquet"), built)
    # unchanged, it is skipped
    assert _build(data, out, stand_in_vae, 0.6) == 0
    assert _statuses(out) == {"AAA": "skipped"}


# ----------------------------------------------------------------------------- walkforward
def test_walkforward_stopped_while_writing_leaves_no_manifest_and_resumes(
    tmp_path, monkeypatch, capsys
):
    """A run killed at its plots kept summary.json, folds.csv and predictions.parquet of
    the new run beside run_manifest.json and report.html of the old one: a folder that
    read as one finished run."""
    import skquant.utils._io as io
    from skquant.cli import main

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160, seed=5)
    out = tmp_path / "wf"
    args = ["-q", "walkforward", "--input-dir", data, "--target", "fwd_ret_1d",
            "--output-dir", out, "--config", fast_config(tmp_path, rounds=20, patience=0),
            "--train-days", "60", "--test-days", "30", "--step-days", "30",
            "--min-train-samples", "50", "--n-jobs", "1"]  # fmt: skip
    args = [str(arg) for arg in args]
    assert main(args) == 0
    first = json.loads((out / "summary.json").read_text())

    def stopped(*a, **k):
        raise RuntimeError("killed at the figure")

    monkeypatch.setattr(io, "atomic_write_figure", stopped)
    assert main([*args, "--cost-bps", "5"]) == 3
    monkeypatch.undo()
    capsys.readouterr()
    # the new run's first files are in; nothing says the folder holds a finished run
    assert json.loads((out / "summary.json").read_text()) != first
    assert not (out / "run_manifest.json").exists()

    # the same command again resumes from the fold checkpoints and finishes the folder
    assert main([*args[1:], "--cost-bps", "5"]) == 0
    n_folds = len(pd.read_csv(out / "folds.csv"))
    assert f"{n_folds} of {n_folds} folds loaded from" in capsys.readouterr().err
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["portfolio"]["cost_bps"] == 5
    assert manifest["summary"] == json.loads((out / "summary.json").read_text())
    names = ("summary.json", "folds.csv", "predictions.parquet", "equity.csv",
             "walkforward.png", "report.html", "feature_importance.csv")  # fmt: skip
    written = max((out / name).stat().st_mtime_ns for name in names)
    assert (out / "run_manifest.json").stat().st_mtime_ns >= written


def test_build_features_keeps_a_leak_out_whatever_the_first_file_holds(
    tmp_path, stand_in_vae, capsys
):
    """build-features chose the VAE's inputs on the first file alone: a constant target
    there made every leak score NaN, and ``peek`` (the target under another name) became
    a VAE input of every symbol. It plans on a few files pooled, as train-all does."""
    from skquant.cli import main
    from tests.test_cli_resume_keys import _symbol

    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for symbol in ("AAA", "BBB", "CCC"):
        frame = _symbol(rng)
        if symbol == "AAA":
            frame["fwd_ret_1d"] = 0.0
        frame.to_parquet(data / f"{symbol}.parquet", index=False)
    code = main(
        ["build-features", "--input-dir", str(data), "--output-dir", str(tmp_path / "out"),
         "--latent-dim", "2", "--config", str(stand_in_vae), "--target", "fwd_ret_1d"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "features (3): f0, f1, f2" in out, out
    assert "peek (" in err


# ----------------------------------------------------------------------------- stale temp folders
def _dead_pid() -> int:
    """The id of a process that has finished (as a killed run's is)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_build_features_removes_the_temporary_folders_a_killed_run_left(tmp_path, stand_in_vae):
    """A run killed inside atomic_folder left `.AAA.tmp-PID-xxxx` beside the symbol's
    model folder (a whole saved VAE each); build-features never removed them, so every
    killed run added one for good (train-all removed its own)."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=100)
    models = tmp_path / "out" / "vae_models"
    stale = models / f".AAA.tmp-{_dead_pid()}-0badc0de"
    (stale / "model").mkdir(parents=True)
    (stale / "model" / "model.joblib").write_bytes(b"half a model")
    assert _build(data, tmp_path / "out", stand_in_vae, 0.6) == 0
    assert not stale.exists()
    assert _statuses(tmp_path / "out") == {"AAA": "built"}


@pytest.mark.parametrize("symbol", ["AAA", "BRK[B]"])
def test_stale_temp_folders_of_a_running_process_are_kept(tmp_path, symbol):
    """clean_stale_temp removed every `.NAME.tmp-*` folder, a live run's on the same
    folder too (its rename then failed); only those of finished processes go."""
    from skquant.cli._runner import clean_stale_temp

    final = tmp_path / "vae_models" / symbol  # build-features' model folder of a symbol
    final.parent.mkdir()
    live = final.parent / f".{symbol}.tmp-{os.getpid()}-0000aaaa"
    dead = final.parent / f".{symbol}.tmp-{_dead_pid()}-0000bbbb"
    foreign = final.parent / f".{symbol}.tmp-notapid"
    for folder in (live, dead, foreign):
        folder.mkdir()
    clean_stale_temp(final)
    assert live.is_dir() and not dead.exists()


# ----------------------------------------------------------------------------- atomic_folder
# train-all, its process killed (os._exit: no finally runs) just as atomic_folder renames
# the new pair folder in, after the earlier one left its place
_KILLED_BETWEEN_THE_RENAMES = """
import os, sys, types
import skquant.cli._runner as runner
from skquant.cli import main

real_rename = os.rename

def rename(src, dst):
    if ".tmp-" in os.fspath(src):
        os._exit(9)
    return real_rename(src, dst)

runner.os = types.SimpleNamespace(**{**vars(os), "rename": rename})
sys.exit(main(sys.argv[1:]))
"""


def test_train_all_killed_while_replacing_a_pair_keeps_the_earlier_model(tmp_path):
    """atomic_folder deleted the finished pair folder, then renamed the new one in: a run
    killed between the two lost the earlier model, and the rerun trained it again. The
    earlier folder is now set aside, and the next run puts it back and keeps it."""
    import subprocess
    import sys

    from skquant.cli import main

    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    args = ["-q", "train-all", "--input-dir", str(data), "--output-dir", str(out),
            "--target", "fwd_ret_1d", "--models", "lightgbm", "--val-days", "20",
            "--config", str(fast_config(tmp_path, rounds=10, patience=0))]  # fmt: skip
    assert main(args) == 0
    pair = out / "AAA" / "lightgbm"
    model = (pair / "model.joblib").read_bytes()
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_BETWEEN_THE_RENAMES, *args, "--force"],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == 9, killed.stderr
    assert not pair.exists()  # killed between the renames
    assert main(args) == 0
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["counts"]["skipped"] == 1 and manifest["counts"]["trained"] == 0
    assert (pair / "model.joblib").read_bytes() == model
    assert [p.name for p in (out / "AAA").iterdir()] == ["lightgbm"]  # nothing left aside


def test_a_live_runs_set_aside_folder_is_left_alone(tmp_path):
    """Only a finished process's set-aside folder is put back: a live run's is between
    its two renames, and its own new folder is about to take the place."""
    from skquant.cli._runner import clean_stale_temp

    final = tmp_path / "models" / "AAA"
    final.parent.mkdir()
    live = final.parent / f".AAA.old-{os.getpid()}-0000aaaa"
    live.mkdir()
    clean_stale_temp(final)
    assert live.is_dir() and not final.exists()
    dead = final.parent / f".AAA.old-{_dead_pid()}-0000bbbb"
    dead.mkdir()
    (dead / "metadata.json").write_text("{}")
    clean_stale_temp(final)
    assert (final / "metadata.json").is_file() and not dead.exists() and live.is_dir()
