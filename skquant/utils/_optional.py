"""Lazy import of the heavy optional dependencies, with install hints."""

from __future__ import annotations

import importlib
from types import ModuleType

# module name -> the pip command that provides it
_INSTALL_HINTS = {
    "lightgbm": "pip install lightgbm",
    "xgboost": "pip install xgboost-cpu  (or xgboost for GPU builds)",
    "ngboost": "pip install ngboost",
    "torch": "pip install torch==2.13.0  (then pip install 'skquant[nets]')",
    "skorch": "pip install 'skquant[nets]'",
    "dask": "pip install 'skquant[dask]'",
    "distributed": "pip install 'skquant[dask]'",
    # dependencies of skquant itself: missing only from a broken install
    "pyarrow": "pip install pyarrow",
    "matplotlib": "pip install matplotlib",
    "skops": "pip install 'skquant[io]'",
    "arch": "pip install 'skquant[demo]'",
    "statsmodels": "pip install 'skquant[demo]'",
    "optuna": "pip install 'skquant[tune]'",
    "numba": "pip install 'skquant[fast]'",
    "mlflow": "pip install 'skquant[mlflow]'",
    "shap": "pip install 'skquant[shap]'",
}


def install_hint(name: str) -> str:
    """The pip command that installs module ``name`` (its top-level package)."""
    top = name.split(".")[0]
    return _INSTALL_HINTS.get(top, f"pip install {top}")


def lacks_message(what: str, modules) -> str:
    """``"WHAT needs A and B, which this install lacks; install it with: ..."``."""
    modules = list(modules)
    return (
        f"{what} needs {' and '.join(modules)}, which this install lacks; install it "
        f"with: {install_hint(modules[0])}"
    )


def import_optional(name: str) -> ModuleType:
    """Import ``name`` or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        raise ImportError(
            f"skquant needs the optional dependency {top!r} for this feature; install it "
            f"with: {install_hint(top)}"
        ) from exc
