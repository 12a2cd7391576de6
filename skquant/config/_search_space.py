"""The ``search_space:`` section of a model's YAML file: what ``skquant tune`` samples.

A search space maps trainer parameters to distributions::

    search_space:
      learning_rate: {type: float, low: 0.005, high: 0.2, log: true}
      num_leaves: {type: int, low: 7, high: 127, log: true}
      max_depth: {type: categorical, choices: [4, 6, 8]}

``type`` is ``int`` or ``float`` (with ``low`` < ``high``, optional ``log`` and
``step``) or ``categorical`` (with a non-empty list ``choices`` of numbers, strings,
booleans or null). Keys are checked against the trainer's parameters as config keys are.
"""

from __future__ import annotations

import copy
import os
from numbers import Integral, Real
from typing import Any

from skquant.config._loader import (
    _check_config_values,
    read_config_file,
    validate_config_keys,
)

SEARCH_SPACE_KEY = "search_space"
_FIELDS = {
    "int": {"type", "low", "high", "log", "step"},
    "float": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}


def _is_number(value, kind) -> bool:
    return not isinstance(value, bool) and isinstance(value, kind)


def _check_range(spec: dict, kind: str, where: str) -> None:
    number = Integral if kind == "int" else Real
    for field in ("low", "high"):
        if field not in spec:
            raise ValueError(f"{where}: a {kind} parameter needs {field!r}.")
        if not _is_number(spec[field], number):
            raise ValueError(
                f"{where}: {field!r} must be {'an integer' if kind == 'int' else 'a number'}, "
                f"got {spec[field]!r}."
            )
    if not spec["low"] < spec["high"]:
        raise ValueError(f"{where}: 'low' ({spec['low']}) must be below 'high' ({spec['high']}).")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ValueError(f"{where}: 'log' must be true or false, got {log!r}.")
    if log and spec["low"] <= 0:
        raise ValueError(f"{where}: a log scale needs 'low' > 0, got {spec['low']}.")
    step = spec.get("step")
    if step is not None:
        if not _is_number(step, number) or step <= 0:
            raise ValueError(f"{where}: 'step' must be a positive {kind}, got {step!r}.")
        if log:
            raise ValueError(f"{where}: 'step' and 'log' cannot be combined.")


def _check_entry(name: str, spec: Any, where: str) -> dict[str, Any]:
    where = f"{where}: search_space.{name}"
    if not isinstance(spec, dict):
        raise ValueError(
            f"{where} must be a mapping with 'type' (int, float or categorical), "
            f"got {type(spec).__name__}."
        )
    kind = spec.get("type")
    if kind not in _FIELDS:
        raise ValueError(f"{where}: 'type' must be one of int, float, categorical; got {kind!r}.")
    unknown = sorted(set(spec) - _FIELDS[kind])
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))} for type {kind}; "
            f"valid: {', '.join(sorted(_FIELDS[kind]))}."
        )
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"{where}: 'choices' must be a non-empty list, got {choices!r}.")
        bad = [c for c in choices if c is not None and not isinstance(c, (bool, int, float, str))]
        if bad:
            raise ValueError(
                f"{where}: choices must be numbers, strings, booleans or null; got {bad[0]!r}."
            )
    else:
        _check_range(spec, kind, where)
    return copy.deepcopy(spec)  # a fresh copy: the parsed file is cached


def check_search_space(space: Any, model: str | None, where: str) -> dict[str, dict[str, Any]]:
    """``space`` validated (aliases mapped to parameter names), or a ValueError naming
    ``where`` and the bad key."""
    if not isinstance(space, dict) or not space:
        raise ValueError(
            f"{where}: {SEARCH_SPACE_KEY!r} must be a non-empty mapping of parameter: "
            f"{{type: ..., ...}}, got {space!r}."
        )
    names = validate_config_keys(model, dict.fromkeys(space), f"{where} ({SEARCH_SPACE_KEY})")
    checked = {
        canonical: _check_entry(str(key), space[key], where)
        for key, canonical in zip(space, names, strict=True)
    }
    for key, spec in zip(space, checked.values(), strict=True):
        # the values a trial can draw, as it draws them: a float range of an int
        # parameter, a bound or a choice the trainer refuses failed every trial's fit
        if spec["type"] == "categorical":
            values = spec["choices"]
        else:
            cast = int if spec["type"] == "int" else float
            values = [cast(spec["low"]), cast(spec["high"])]
        for value in values:
            _check_config_values(model, {key: value}, f"{where}: {SEARCH_SPACE_KEY}.{key}")
    return checked


def load_search_space(model: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The hyper-parameter search space of a model family, from its YAML file.

    Parameters
    ----------
    model : str or path-like
        A registry name (its shipped ``configs/<model>.yaml``) or the path of a YAML
        config file; a file without a ``search_space:`` section that configures a
        registered family (``model:``, or its file name) has that family's.

    Returns
    -------
    space : dict
        ``{parameter: {"type": "int" | "float" | "categorical", ...}}`` with ``low``,
        ``high``, ``log``, ``step`` or ``choices`` as the file gives them.

    Raises
    ------
    ValueError
        The file has no ``search_space`` or a malformed one; the message names the
        file and the parameter.

    See Also
    --------
    sample_search_space : draw one configuration from it with an Optuna trial.

    Examples
    --------
    >>> from skquant.config import load_search_space
    >>> load_search_space("lightgbm")["learning_rate"]["type"]
    'float'
    """
    source = os.fspath(model)
    doc, where, name = read_config_file(source)
    if doc.get(SEARCH_SPACE_KEY) is not None:
        return check_search_space(doc[SEARCH_SPACE_KEY], name, where)
    if name is not None and source != name:  # a user's file for a family: the family's
        return load_search_space(name)
    raise ValueError(f"Config file {where} has no {SEARCH_SPACE_KEY!r} section.")


def sample_search_space(trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One value per parameter of ``space``, drawn by ``trial``'s ``suggest_*`` methods.

    ``trial`` is an ``optuna.Trial`` (or ``optuna.trial.FixedTrial``); nothing of
    Optuna is imported here.
    """
    params = {}
    for name, spec in space.items():
        kind = spec["type"]
        if kind == "categorical":
            params[name] = trial.suggest_categorical(name, spec["choices"])
            continue
        options = {"log": bool(spec.get("log", False))}
        if spec.get("step") is not None:
            options["step"] = spec["step"]
        suggest = trial.suggest_int if kind == "int" else trial.suggest_float
        low, high = (
            (spec["low"], spec["high"])
            if kind == "int"
            else (
                float(spec["low"]),
                float(spec["high"]),
            )
        )
        params[name] = suggest(name, low, high, **options)
    return params
