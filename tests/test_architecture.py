"""The packages of skquant and what each may import.

A package is a folder under ``skquant/`` (``cli``, ``config``, ...) or a top-level
module (``persistence``, ``registry``, ``leakage``, ``labels``, ``inspection``). Two rules hold:

1. **Public faces.** A package uses another package only through its public names:
   no ``skquant.<other>._module`` and no ``_name`` from another package.
   ``skquant.utils`` is the shared internal toolbox and is exempt.
2. **Layers.** Each package imports only ``skquant.utils`` and the packages listed
   for it below (imports inside functions count too). Read from the top down, each
   package uses only packages above it::

       utils            nothing of skquant (the shared internal toolbox)
       registry         nothing (trainer modules are strings, imported on demand)
       labels           -
       metrics          -
       model_selection  -
       persistence      skquant.__version__
       leakage          labels
       datasets         labels
       config           registry
       models           config, metrics, model_selection, registry
       inspection       metrics
       strategies       leakage, model_selection, registry (trainers come from the registry)
       walkforward      config, leakage, metrics, model_selection, registry (config: tune
                        starts from a variant and samples the YAML's search space; the
                        benchmark loads each family's variant)
       cli              config, datasets, labels, leakage, metrics, persistence, registry,
                        strategies, walkforward, skquant.__version__
       skquant          registry (every other public name is resolved lazily)
       __main__         cli

   Nothing but ``skquant.__main__`` imports ``cli``, and no library package imports
   ``models``, ``strategies`` or ``walkforward`` directly: trainers are reached
   through ``skquant.registry``, and ``skquant.model_selection.tune`` (which lives in
   walkforward) by module name on first use, as the registry does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import skquant

ROOT = Path(skquant.__file__).resolve().parent

_TABLE: dict[str, set[str]] = {
    "utils": set(),
    "registry": set(),
    "labels": set(),
    "metrics": set(),
    "model_selection": set(),
    "persistence": {"__version__"},
    "leakage": {"labels"},
    "datasets": {"labels"},
    "config": {"registry"},
    "models": {"config", "metrics", "model_selection", "registry"},
    "inspection": {"metrics"},
    "strategies": {"leakage", "model_selection", "registry"},
    # config: tune starts from a variant and samples the YAML's search space; the
    # benchmark loads each family's variant
    "walkforward": {"config", "leakage", "metrics", "model_selection", "registry"},
    "cli": {
        "__version__",
        "config",
        "datasets",
        "labels",
        "leakage",
        "metrics",
        "persistence",
        "registry",
        "strategies",
        "walkforward",
    },
    "__init__": {"registry"},
    "__main__": {"cli"},
}
# every package may use the shared toolbox
ALLOWED = {package: uses | {"utils"} for package, uses in _TABLE.items()}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _modules():
    return sorted(p for p in ROOT.rglob("*.py") if "configs" not in p.relative_to(ROOT).parts)


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path, root: Path = ROOT):
    """Yield ``(line, dotted module, imported names)`` for every import in ``path``."""
    here = list(path.relative_to(root.parent).parts[:-1])  # the package holding ``path``
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module, [alias.name for alias in node.names]


def _targets(module: str, names: list[str]):
    """Yield ``(package, private part)`` for each skquant package ``module``/``names`` reach."""
    parts = module.split(".")
    if parts[0] != "skquant":
        return
    if len(parts) == 1:  # from skquant import x: x is a package or a top-level name
        for name in names:
            yield name, name if _private(name) else None
        return
    private_module = next((p for p in parts[2:] if _private(p)), None)
    private_name = next((n for n in names if _private(n)), None)
    yield parts[1], private_module or private_name


def _crossings():
    for path in _modules():
        own = _package_of(path)
        for line, module, names in _imports(path):
            for package, private in _targets(module, names):
                if package == own:
                    continue
                where = f"{path.relative_to(ROOT.parent)}:{line}"
                yield where, own, package, private, module


def test_package_table_names_every_package():
    packages = {_package_of(p) for p in _modules()}
    assert packages <= set(ALLOWED), f"packages missing from ALLOWED: {packages - set(ALLOWED)}"


def test_packages_import_only_public_names():
    found = [
        f"{where}: imports {private!r} from {module} (private to skquant.{package})"
        for where, _, package, private, module in _crossings()
        if private and package != "utils"
    ]
    assert not found, "cross-package private imports:\n" + "\n".join(found)


def test_packages_import_only_the_layers_beneath():
    found = [
        f"{where}: {own} imports {module} ({package} is not allowed for {own})"
        for where, own, package, _, module in _crossings()
        if package not in ALLOWED.get(own, set())
    ]
    assert not found, "layering broken:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from skquant.persistence import _atomic_write", "_atomic_write"),
        ("from skquant.config._loader import read", "_loader"),
        ("import skquant.metrics._scorer", "_scorer"),
        ("from ..metrics._scorer import compute_metric", "_scorer"),
        ("from ..registry import _REGISTRY", "_REGISTRY"),
        ("from skquant import _secret", "_secret"),
        ("from skquant.utils._io import atomic_write", "_io"),  # utils: exempt in the check
        ("from skquant.metrics import sharpe_ratio", None),
    ],
)
def test_the_walker_sees_each_import_form(tmp_path, source, expected):
    """The checker itself resolves every import form to its package and private part."""
    package = tmp_path / "skquant" / "cli"
    package.mkdir(parents=True)
    module = package / "_mod.py"
    module.write_text(source + "\n")
    [(_, name, names)] = _imports(module, root=tmp_path / "skquant")
    [(target, private)] = _targets(name, names)
    assert target != "cli"
    assert private == expected
