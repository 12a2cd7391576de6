"""Packaging facts a green test run would otherwise hide."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_is_listed_for_the_wheel():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "skquant").rglob("__init__.py")
    }
    found.add("skquant.configs")
    assert found == listed, (
        f"pyproject packages differ: missing {found - listed}, stale {listed - found}"
    )


def test_configs_ship_as_package_data():
    setuptools = _pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"]["skquant.configs"] == "configs"
    assert "*.yaml" in setuptools["package-data"]["skquant.configs"]
    assert (ROOT / "configs" / "__init__.py").is_file()


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", setup, flags=re.S)


def test_readme_has_exactly_two_setup_commands_and_ci_runs_them():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in command for command in commands)
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci, f".ci/run does not run the README command: {command}"
    assert "torch==2.13.0" in commands[0]
    assert "pytest" in commands[1]


def test_every_registered_model_has_a_config_file():
    from skquant import list_models

    for name in list_models():
        assert (ROOT / "configs" / f"{name}.yaml").is_file(), name
