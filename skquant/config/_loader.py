"""Read the per-model YAML files of ``configs/`` and resolve a variant.

A config file looks like::

    model: lightgbm            # registry name the keys are validated against
    defaults:                  # keys shared by every variant
      n_estimators: 1000       # boosting rounds
    search_space:              # what `skquant tune` samples (see load_search_space)
      learning_rate: {type: float, low: 0.005, high: 0.2, log: true}
    variants:
      conservative: {...}      # least overfitting
      balanced: {...}          # the default variant
      aggressive: {...}        # fastest training

``load_model_config(name, variant)`` returns ``defaults`` updated with the variant,
then with ``overrides``. Every key is checked against the trainer's parameters, so a
typo fails loudly instead of being ignored.
"""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from skquant.registry import get_trainer, is_registered, registered_names, unknown_model_error
from skquant.utils._variant import VARIANT_ENV

DEFAULT_VARIANT = "balanced"

# Parameters of every trainer that a config file may not set: they are not hyper-parameters.
_NOT_CONFIG_KEYS = frozenset({"config"})


def _config_text(name: str) -> tuple[str, str]:
    """Return ``(text, where)`` for a registry name or a YAML path."""
    if is_registered(name):
        ref = resources.files("skquant.configs").joinpath(f"{name}.yaml")
        return ref.read_text(encoding="utf-8"), str(ref)
    path = Path(os.fspath(name)).expanduser()
    if path.suffix in {".yaml", ".yml"} or path.exists():
        if path.is_dir():
            raise ValueError(f"Config file {str(path)!r} is a folder, not a YAML file.")
        if not path.is_file():
            hint = ""
            if is_registered(path.stem):  # configs/lightgbm.yaml outside the repository
                hint = (
                    f" skquant's own configs/{path.stem}.yaml ships inside the package: pass "
                    f"the model name {path.stem!r} instead of a path (the command line's "
                    "default when --config is left out)."
                )
            raise ValueError(
                f"Config file {str(path)!r} does not exist (relative to {os.getcwd()}).{hint}"
            )
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"Config file {str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start})."
            ) from None
    raise unknown_model_error(name)


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping (PyYAML keeps
    the last silently: a variant defined twice would lose its first body unseen)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges keys the mapping may then override
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: construct_mapping's own error follows
                break
            if repeated:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 (PyYAML) reads a float only with a dot and a signed exponent: `1e-3`, `1E5`
# and `1.0e5` were strings, which looked right in `skquant configs show` and failed at
# fit. A plain scalar written as YAML 1.2 writes a float is one here; a quoted one stays
# a string.
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$""",
    ),
    list("-+0123456789."),
)


@functools.lru_cache(maxsize=128)
def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` of a file's text, parsed once per distinct text.

    Trainers read their YAML variant at every fit and for their tags (the task), and
    parsing is the slow part; an edited file has a new text and is parsed again.
    Callers must not mutate the result (``load_model_config`` returns a deep copy).
    """
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader


# The top-level keys of a config file.
_SECTIONS = ("model", "defaults", "variants", "search_space")


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        doc = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"Malformed YAML in {where}{line}: {problem}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("variants"), dict):
        raise ValueError(
            f"Config file {where} must be a mapping with a 'variants' mapping "
            "(and optionally 'model' and 'defaults')."
        )
    if not doc["variants"]:
        raise ValueError(f"Config file {where} defines no variants.")
    unknown = sorted(set(map(str, doc)) - set(_SECTIONS))
    if unknown:  # a misspelt section ("defualts:") would be dropped, silently
        close = difflib.get_close_matches(unknown[0], _SECTIONS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Config file {where}: unknown top-level key {unknown[0]!r}; the sections are "
            f"{', '.join(map(repr, _SECTIONS))}.{hint}"
        )
    for section in ("defaults",):
        if doc.get(section) is not None and not isinstance(doc[section], dict):
            raise ValueError(f"Config file {where}: {section!r} must be a mapping.")
    for variant, body in doc["variants"].items():
        if body is not None and not isinstance(body, dict):
            raise ValueError(
                f"Config file {where}: variant {variant!r} must be a mapping of "
                f"parameter: value, got {type(body).__name__}."
            )
    return doc


def read_config_file(name: str | os.PathLike) -> tuple[dict[str, Any], str, str | None]:
    """Read a config file without resolving a variant.

    Parameters
    ----------
    name : str or path-like
        A registry name (its shipped YAML file) or a path to a YAML file.

    Returns
    -------
    doc : dict
        The parsed document (``model``, ``defaults``, ``variants`` and, if the file
        has one, a validated ``search_space``).
    where : str
        Where the text came from, for messages.
    model : str or None
        The registry name the file configures, or None when it names no registered model.
    """
    doc, where, model = _read_config_file(name)
    return copy.deepcopy(doc), where, model  # the parse is cached: never hand it out


def _read_config_file(name: str | os.PathLike) -> tuple[dict[str, Any], str, str | None]:
    """:func:`read_config_file` without the copy: the document is the parse cache's,
    which callers must not mutate."""
    if not isinstance(name, (str, os.PathLike)):
        raise ValueError(
            f"name must be a model's registry name or a YAML file's path, got "
            f"{type(name).__name__} {name!r}."
        )
    text, where = _config_text(name)
    doc = _parse(text, where)
    named = doc.get("model")
    if named is not None and not is_registered(named):
        raise ValueError(f"Config file {where}: model: {unknown_model_error(named)}")
    model = named or (name if is_registered(name) else Path(where).stem)
    model = model if is_registered(model) else None
    if doc.get("search_space") is not None:  # what `skquant tune` samples, not a variant
        _check_search_space(text, where, model)
    return doc, where, model


@functools.lru_cache(maxsize=128)
def _check_search_space(text: str, where: str, model: str | None) -> None:
    """``check_search_space`` of a file's ``search_space``, once per text, file and model
    (an error is not cached: the same file raises again)."""
    from skquant.config._search_space import check_search_space

    check_search_space(_load_yaml(text)["search_space"], model, where)


def valid_config_keys(model: str) -> tuple[set[str], dict[str, str]]:
    """Return the parameter names a config of ``model`` may set, and its key aliases."""
    cls = get_trainer(model)
    return set(_init_parameters(cls)) - _NOT_CONFIG_KEYS, dict(getattr(cls, "_config_aliases", {}))


@functools.cache
def _init_parameters(cls) -> frozenset[str]:
    """The parameters of ``cls.__init__``, read once per class (``inspect.signature`` is
    most of the cost of validating a config, which every fit and every tag read does)."""
    return frozenset(inspect.signature(cls.__init__).parameters) - {"self"}


def validate_config_keys(model: str | None, config: dict[str, Any], where: str) -> dict[str, Any]:
    """Return ``config`` with aliases mapped to parameter names; unknown keys raise."""
    if model is None:
        return dict(config)
    params, aliases = valid_config_keys(model)
    out = {}
    written = {}  # parameter -> the key that set it
    for key, value in config.items():
        canonical = aliases.get(key, key)
        if canonical in written:  # `learning_rate` and `eta`: the last one won, silently
            raise ValueError(
                f"Config keys {written[canonical]!r} and {key!r} in {where} both set "
                f"{canonical!r}; keep one."
            )
        written[canonical] = key
        if canonical not in params:
            close = difflib.get_close_matches(str(key), sorted(params | set(aliases)), n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(
                f"Unknown config key {key!r} for model {model!r} in {where}.{hint} "
                f"Valid keys: {', '.join(sorted(params))}."
            )
        out[canonical] = value
    return out


def _check_config_values(model: str | None, config: dict[str, Any], where: str) -> None:
    """A ValueError naming ``where``, the key and the expected type when a value of
    ``config`` (keys as written, aliases included) is not one the trainer of ``model``
    takes (``n_estimators: "many"``, ``learning_rate: [0.1]``), which only the fit, with
    no word of the file, refused before."""
    if model is None:
        return
    from skquant.utils._sklearn_compat import validate_parameter_constraints

    cls = get_trainer(model)
    constraints = getattr(cls, "_parameter_constraints", None) or {}
    aliases = getattr(cls, "_config_aliases", {})
    for key, value in config.items():
        param = aliases.get(key, key)
        if param not in constraints:
            continue
        named = repr(key) if param == key else f"{key!r} (the parameter {param!r})"
        if isinstance(value, bool) and not _takes_booleans(constraints[param]):
            # scikit-learn counts a bool as an int: `n_estimators: yes` was one tree
            raise ValueError(
                f"Invalid value in {where}: {named}: {value!r} is a boolean (YAML reads "
                f"yes, no, on, off, true and false as booleans), but the {param!r} "
                f"parameter of {cls.__name__} is not one; write a number or a string."
            )
        try:
            validate_parameter_constraints(
                {param: constraints[param]}, {param: value}, caller_name=cls.__name__
            )
        except ValueError as exc:  # InvalidParameterError
            raise ValueError(f"Invalid value in {where}: {named}: {exc}") from None


def _check_file_values(model: str | None, section: dict[str, Any], where: str) -> None:
    """:func:`_check_config_values` of a section of a file, once per distinct content
    (trainers load their variant at every fit and tag read)."""
    key = (model, where, json.dumps(section, sort_keys=True, default=repr))
    if key not in _CHECKED_SECTIONS:
        _check_config_values(model, section, where)
        if len(_CHECKED_SECTIONS) > 1024:
            _CHECKED_SECTIONS.clear()
        _CHECKED_SECTIONS.add(key)


# The sections _check_file_values has found valid: (model, where, content).
_CHECKED_SECTIONS: set[tuple[str | None, str, str]] = set()


def _takes_booleans(constraints: list) -> bool:
    """Whether a parameter's constraints name booleans (not only ints, which a bool is)."""
    return any(
        c in ("boolean", "verbose", "no_validation") or c is bool
        for c in constraints
        if isinstance(c, (str, type))
    )


def _variant_from_env(variant: str | None) -> str:
    if variant is not None:
        return variant
    return os.environ.get(VARIANT_ENV) or DEFAULT_VARIANT


def load_model_config(
    name: str | os.PathLike,
    variant: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load the hyper-parameters of one variant of a model family.

    Parameters
    ----------
    name : str or path-like
        A registry name (``"lightgbm"``; see :func:`list_models`) or the path of a
        YAML file with the same layout as the files in ``configs/``.
    variant : str, default=None
        ``"conservative"``, ``"balanced"``, ``"aggressive"`` or any variant the file
        defines. ``None`` reads the ``MODEL_VARIANT`` environment variable, else
        ``"balanced"``.
    overrides : dict, default=None
        Keys that replace the variant's values. Each must be a parameter of the
        model's trainer.

    Returns
    -------
    config : dict
        The file's ``defaults`` updated with the variant, then with ``overrides``.
        Pass it as the first argument of the trainer.

    Raises
    ------
    ValueError
        Unknown model, variant or key (the message names it and lists the valid
        ones), a value the trainer does not take (``n_estimators: "many"``; the
        message names the file and section, or ``overrides``, the key and what it
        expects), or a malformed YAML file (the message names the file and line).

    Examples
    --------
    >>> from skquant import load_model_config
    >>> cfg = load_model_config("lightgbm", variant="conservative",
    ...                         overrides={"n_estimators": 2000})
    >>> cfg["n_estimators"]
    2000
    """
    doc, where, model = _read_config_file(name)
    chosen = _variant_from_env(variant)
    variants = doc["variants"]
    if chosen not in variants:
        if variant is not None:
            source = "variant"
        elif os.environ.get(VARIANT_ENV):
            source = f"the environment variable {VARIANT_ENV}"
        else:
            source = f"the default: variant=None and no {VARIANT_ENV} set"
        raise ValueError(
            f"Unknown variant {chosen!r} (from {source}) for {where}. "
            f"Valid variants: {', '.join(map(str, variants))}."
        )
    config = validate_config_keys(model, doc.get("defaults") or {}, where)
    config.update(validate_config_keys(model, variants[chosen] or {}, where))
    _check_file_values(model, doc.get("defaults") or {}, f"{where}, defaults")
    _check_file_values(model, variants[chosen] or {}, f"{where}, variant {chosen!r}")
    if overrides:
        if not isinstance(overrides, dict):
            raise ValueError(
                f"overrides must be a dict of parameter: value, got {type(overrides).__name__}."
            )
        config.update(validate_config_keys(model, overrides, "overrides"))
        _check_config_values(model, overrides, "overrides")
    return copy.deepcopy(config)


def list_models() -> list[str]:
    """Registry names of every model family, sorted."""
    return registered_names()


def list_variants(name: str | os.PathLike) -> list[str]:
    """Variants defined for ``name`` (a registry name or a YAML path), in file order."""
    doc, _, _ = _read_config_file(name)
    return list(doc["variants"])
