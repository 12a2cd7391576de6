"""The command line with real files and pipes: closed output pipes, resume, bad symbol files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


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
