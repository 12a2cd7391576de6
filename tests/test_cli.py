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
