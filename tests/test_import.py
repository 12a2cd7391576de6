"""`import skquant` stays light: heavy libraries load only when a model needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import skquant

HEAVY = ("torch", "skorch", "lightgbm", "xgboost", "ngboost", "numba")


def _heavy_modules_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return out.split()


def test_import_skquant_loads_no_heavy_library():
    assert _heavy_modules_after("import skquant") == []


def test_public_names_resolve_lazily_without_heavy_imports():
    code = (
        "import skquant\n"
        "skquant.load_model_config('lightgbm')\n"
        "skquant.all_estimators()\n"
        "[getattr(skquant, n) for n in skquant.__all__]\n"
    )
    assert _heavy_modules_after(code) == []


@pytest.mark.parametrize("name", sorted(skquant.__all__))
def test_every_public_name_is_reachable(name):
    assert getattr(skquant, name) is not None


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        skquant.nope  # noqa: B018


def test_controller_has_imported_every_warning_module():
    # pytest-xdist's controller imports a reported warning's module from the thread of
    # the worker that reported it; two at once half-initialise scikit-learn (a crashed
    # CI run). The conftest, which the controller loads first, must have imported the
    # module of every warning category skquant defines, and scikit-learn's and pandas'.
    probe = """
import importlib, pkgutil, sys
import tests.conftest
loaded = set(sys.modules)
import skquant
modules = {"sklearn.exceptions", "pandas.errors"}
for info in pkgutil.walk_packages(skquant.__path__, "skquant."):
    try:
        module = importlib.import_module(info.name)
    except ImportError:  # a module of an optional extra that is not installed
        continue
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Warning):
            if value.__module__.startswith("skquant"):
                modules.add(value.__module__)
print(" ".join(sorted(modules - loaded)))
print(" ".join(sorted(modules)))
"""
    root = Path(__file__).resolve().parents[1]  # where `tests` imports from
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root
    ).stdout.splitlines()
    assert "skquant.model_selection" in out[1].split()  # the probe found the categories
    assert out[0] == ""
