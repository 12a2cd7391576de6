"""The command line with real files and pipes: closed output pipes, resume, bad symbol files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import run_cli, write_symbols


# ----------------------------------------------------------------------------- closed pipes
@pytest.mark.parametrize(
    "args",
    [("configs", "list"), ("configs", "show", "lightgbm"), ("--help",)],
)
def test_closed_output_pipe_ends_quietly(args):
    """``skquant configs list | head -n 1``: the reader is gone before anything is written
    (its end of a real pipe is closed before the command starts), so every write fails
    with EPIPE. The command stops quietly, as git and ls do."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "skquant", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode in (0, 141), proc.stderr
    assert proc.stderr == ""


def test_head_reads_the_first_line_and_nothing_is_said():
    proc = subprocess.run(
        f"'{sys.executable}' -m skquant configs list | head -n 1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 141), proc.stderr
    assert proc.stdout.split() == ["model", "variants"]
    assert proc.stderr == ""


def test_a_broken_pipe_that_is_not_the_output_is_still_an_unexpected_error(monkeypatch, capsys):
    """Only a closed output pipe is quiet: a worker's broken pipe is a real failure."""
    from skquant.cli import _configs, main

    def handler(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(_configs, "_list", handler)
    assert main(["configs", "list"]) == 3
    assert "unexpected error: BrokenPipeError" in capsys.readouterr().err


# ----------------------------------------------------------------------------- resume
def _pair_files(out: Path) -> dict[str, tuple[int, str]]:
    """``{relative path: (mtime_ns, sha256)}`` of every file of every pair folder."""
    return {
        str(path.relative_to(out)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(out.glob("*/*/*"))
        if path.is_file()
    }


def test_unchanged_rerun_with_the_shipped_configs_touches_no_model_file(tmp_path):
    """The shipped configs set ``embargo_days: 0`` and train-all applies its
    ``--embargo-days 5``: the resume check must compare the config as it was saved."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    args = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm,xgboost", "--variant", "aggressive", "--val-days", "20"]  # fmt: skip
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "2 trained, 0 already finished" in first.stdout
    before = _pair_files(out)
    assert {Path(p).parts[1] for p in before} == {"lightgbm", "xgboost"}
    assert json.loads((out / "AAA" / "lightgbm" / "config.json").read_text())["embargo_days"] == 5

    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert "0 trained, 2 already finished" in again.stdout, again.stderr
    assert "retraining" not in again.stderr
    for pair in ("AAA/lightgbm", "AAA/xgboost"):
        assert f"{pair}: already finished" in again.stderr
    assert _pair_files(out) == before  # not one model file rewritten

    # a longer embargo than the one the pairs were trained with does retrain them
    longer = run_cli(*args, "--embargo-days", "6")
    assert "2 trained, 0 already finished" in longer.stdout, longer.stderr
    assert "config changed (embargo_days)" in longer.stderr
