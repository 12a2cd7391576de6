"""The model families, one trainer class each (see :mod:`skquant.registry`).

Trainer classes are imported lazily, so ``import skquant.models`` stays light.
"""

from __future__ import annotations

import importlib

from skquant.registry import trainer_class_names

_TRAINERS = trainer_class_names()
__all__ = sorted(_TRAINERS)


def __getattr__(name: str):
    try:
        module = _TRAINERS[name]
    except KeyError:
        raise AttributeError(f"module 'skquant.models' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_TRAINERS))
