"""Every public estimator documents exactly its parameters, in a docstring that parses.

The docstrings are read as users (``help``, IDEs, Sphinx) read them: through
``inspect.getdoc``, which dedents. numpydoc is not a dependency, so the Parameters
section is parsed here with numpydoc's layout rules: section headers and entries at
column 0, descriptions indented by four spaces.
"""

from __future__ import annotations

import inspect
import re

import pytest

import skquant.model_selection as model_selection
from skquant import (
    CascadeStrategy,
    MultiTaskStrategy,
    SingleTaskStrategy,
    WalkForwardEngine,
    WalkForwardSplit,
)
from skquant.registry import get_trainer, registered_names
from skquant.utils._docs import fill_doc

_ENTRY = re.compile(r"^(\*{0,2}\w+(?:, \*{0,2}\w+)*)(?: : \S.*)?$")


def _public_estimators() -> list[type]:
    splitters = [
        getattr(model_selection, name)
        for name in model_selection.__all__
        if inspect.isclass(getattr(model_selection, name))
        and not name.startswith("Base")
        and hasattr(getattr(model_selection, name), "split")
    ]
    return [
        *(get_trainer(name) for name in registered_names()),
        SingleTaskStrategy,
        MultiTaskStrategy,
        CascadeStrategy,
        WalkForwardEngine,
        WalkForwardSplit,
        *(splitter for splitter in splitters if splitter is not WalkForwardSplit),
    ]


def _sections(doc: str) -> dict[str, list[str]]:
    """numpydoc sections by title; raises AssertionError on a misaligned header."""
    lines = doc.splitlines()
    sections: dict[str, list[str]] = {}
    title = None
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt.strip() and set(nxt.strip()) == {"-"}:
            assert line and not line[0].isspace(), f"section header {line.strip()!r} is indented"
            assert nxt == "-" * len(line), f"underline of {line!r} is {nxt!r}"
            title = line
            sections[title] = []
        elif title is not None and not (line.strip() and set(line.strip()) == {"-"}):
            sections[title].append(line)
    return sections


def _documented_parameters(cls) -> list[str]:
    doc = inspect.getdoc(cls)
    assert doc, f"{cls.__name__} has no docstring"
    sections = _sections(doc)
    assert "Parameters" in sections, f"{cls.__name__}: no 'Parameters' section at column 0"
    names = []
    for line in sections["Parameters"]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            match = _ENTRY.match(line)
            assert match, f"{cls.__name__}: {line!r} is not 'name : type'"
            names += [n.strip().lstrip("*") for n in match.group(1).split(",")]
        else:
            assert indent >= 4, f"{cls.__name__}: description {line!r} indented {indent}"
    return names


@pytest.mark.parametrize("cls", _public_estimators(), ids=lambda cls: cls.__name__)
def test_parameters_section_matches_the_signature(cls):
    documented = _documented_parameters(cls)
    assert len(documented) == len(set(documented)), f"documented twice: {documented}"
    signature = [
        name
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert not set(signature) - set(documented), "undocumented: " + ", ".join(
        sorted(set(signature) - set(documented))
    )
    assert not set(documented) - set(signature), "not parameters: " + ", ".join(
        sorted(set(documented) - set(signature))
    )


@pytest.mark.parametrize("cls", _public_estimators(), ids=lambda cls: cls.__name__)
def test_every_section_is_aligned(cls):
    doc = inspect.getdoc(cls)
    unfilled = re.findall(r"^ *\{[\w.]+\}$", doc, flags=re.M)
    assert not unfilled, f"{cls.__name__}: fragments left unfilled: {unfilled}"
    for title, lines in _sections(doc).items():
        entries = title in ("Parameters", "Attributes", "Returns")
        for line in lines:
            if line.strip() and entries:
                indent = len(line) - len(line.lstrip())
                assert indent == 0 or indent >= 4, f"{cls.__name__} {title}: {line!r}"


def _two_ways(doc: str) -> tuple[type, type]:
    """The same class docstring as Python 3.10-3.12 keeps it and as 3.13 dedents it."""
    indented = type("Indented", (), {"__doc__": doc})
    dedented = type("Dedented", (), {"__doc__": inspect.cleandoc(doc)})
    return indented, dedented


def test_fill_doc_renders_the_same_on_every_python():
    doc = """Summary line.

        Parameters
        ----------
        config : dict, default=None
            Own text.
        {validation_fraction}
        {embargo_days}

        Notes
        -----
        Text.
        """
    rendered = [inspect.getdoc(fill_doc(cls)) for cls in _two_ways(doc)]
    assert rendered[0] == rendered[1]
    lines = rendered[0].splitlines()
    assert "validation_fraction : float, default=None" in lines
    assert "embargo_days : int, default=None" in lines
    assert "Parameters" in lines and "    Own text." in lines
    assert all(not line.startswith(("  ", "\t")) or line.startswith("    ") for line in lines)


def test_fill_doc_names_an_unknown_fragment():
    with pytest.raises(KeyError, match="no_such_fragment"):
        fill_doc(type("C", (), {"__doc__": "Summary.\n\n    {no_such_fragment}\n"}))


def test_fill_doc_without_docstrings_under_python_OO():
    bare = type("Bare", (), {"__doc__": None})
    assert fill_doc(bare) is bare and bare.__doc__ is None


def test_section_fragments_keep_the_description_indent():
    """A one-line-body section fragment (``{returns.self}``) keeps its entry's indent."""
    doc = inspect.getdoc(get_trainer("lightgbm").fit)
    assert "Returns\n-------\nself : object\n    The fitted trainer." in doc


def test_fill_doc_decorates_functions_and_methods():
    def metric(returns):
        """Summary.

        Parameters
        ----------
        {metrics.returns}
        """

    filled = fill_doc(metric)
    assert filled is metric
    assert "returns : array-like of shape (n_periods,)" in inspect.getdoc(metric).splitlines()


def _public_callables():
    import skquant.metrics
    import skquant.model_selection
    import skquant.strategies

    for cls in _public_estimators():
        yield from (
            (f"{cls.__name__}.{name}", getattr(cls, name))
            for name in dir(cls)
            if not name.startswith("_") and callable(getattr(cls, name, None))
        )
    for module in (skquant.metrics, skquant.model_selection, skquant.strategies):
        yield from ((name, getattr(module, name)) for name in module.__all__)


def test_no_method_or_function_docstring_keeps_a_fragment():
    """A ``{fragment}`` line in a method without ``@fill_doc`` would reach users as is."""
    unfilled = {
        name: re.findall(r"^ *\{[\w.]+\}$", obj.__doc__, flags=re.M)
        for name, obj in _public_callables()
        if isinstance(getattr(obj, "__doc__", None), str)
    }
    assert not {name: found for name, found in unfilled.items() if found}
