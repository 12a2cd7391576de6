"""`import skquant` stays light: heavy libraries load only when a model needs them."""

from __future__ import annotations

import subprocess
import sys

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
