"""Shared test set-up.

Tests run under pytest-xdist with one worker per core, so each worker keeps its
numeric libraries to one thread: OpenMP busy-waiting in LightGBM and XGBoost under
oversubscription makes tiny fits a hundred times slower.
"""

import importlib.util
import os
from functools import cache

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run and machine (derived from each
# test), so that a green CI is reproducible and a rare draw cannot fail a landing at
# random; HYPOTHESIS_PROFILE=explore draws new ones, to hunt for failures.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# --- warnings under pytest-xdist ---------------------------------------------------
# The controller rebuilds each warning a worker reports by importing the module of its
# category, in the thread that serves that worker. Two workers reporting their first
# warning at once import from two threads, and scikit-learn's package (whose
# `__init__` and `base` import each other) then comes out half initialised: "cannot
# import name 'clone' from partially initialized module 'sklearn.base'" crashed both
# workers and the run (CI on the core install: a NoDatesWarning and a
# BinaryTargetWarning at once). This file is loaded by the controller before any worker
# starts, so the modules of the categories the suite raises are imported here, once,
# in one thread; `test_controller_has_imported_every_warning_module` keeps the list
# complete for skquant's own categories.
WARNING_MODULES = (
    "sklearn.exceptions",
    "pandas.errors",
    "skquant.leakage",
    "skquant.model_selection",
    "skquant.models._base",
    "skquant.persistence",
)
# and those of an optional extra, where it is installed (Optuna's and MLflow's storage)
OPTIONAL_WARNING_MODULES = ("sqlalchemy.exc",)
for _module in WARNING_MODULES:
    importlib.import_module(_module)
for _module in OPTIONAL_WARNING_MODULES:
    if importlib.util.find_spec(_module.partition(".")[0]) is not None:
        importlib.import_module(_module)


# --- optional dependencies -----------------------------------------------------------
# The nets need the `nets` extra (torch, skorch), and other tests other extras. A test
# that needs one is skipped, not failed, on an install without it: by its
# `@pytest.mark.requires("module", ...)` marker (or `pytest.param(..., marks=...)`), or
# because one of its parameters is a trainer instance of a family that needs it (nested
# trainers included), which the test is bound to fit. A class or a registry name is not
# enough: many tests only read a family's parameters or config, which needs no extra.


@cache
def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def family_needs(name: str) -> tuple[str, ...]:
    """The optional modules registry family ``name`` needs to fit (for a test that
    takes the family by name: ``pytest.param(name, marks=pytest.mark.requires(...))``)."""
    from skquant.registry import _required_modules

    return tuple(_required_modules(name))


def _needed_by(value, depth: int = 0) -> set[str]:
    """The optional modules a test parameter needs: those of a trainer instance's
    family and of the trainers nested in it, through lists and dicts."""
    if depth > 3:
        return set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_needed_by(v, depth + 1) for v in value))
    if isinstance(value, dict):
        return set().union(*(_needed_by(v, depth + 1) for v in value.values()))
    if isinstance(value, type) or not hasattr(value, "get_params"):
        return set()
    name = getattr(type(value), "_registry_name", None)  # a skquant trainer's family
    needed = set(family_needs(name)) if name is not None else set()
    return needed | _needed_by(list(value.get_params(deep=False).values()), depth + 1)


def pytest_collection_modifyitems(config, items):
    for item in items:
        needed = {module for mark in item.iter_markers("requires") for module in mark.args}
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            needed |= _needed_by(list(callspec.params.values()))
        missing = sorted(module for module in needed if not _importable(module))
        if missing:
            reason = f"needs {', '.join(missing)}, which is not installed (an optional extra)"
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _fresh_once_per_process_warnings():
    """skquant shows some warnings once per process (the embargo of a target that
    tells no horizon); each test starts as a fresh process would."""
    from skquant.utils import _target

    _target._WARNED_NO_HORIZON.clear()
