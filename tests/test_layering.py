"""The layers depend on interfaces, not on each other's concrete classes (README, Layout)."""

from __future__ import annotations

import ast
import re

import pytest

from .support import ROOT

PACKAGE = ROOT / "handlers"


def imports_of(path: str) -> set[str]:
    """The handlers modules (and names of them) a module imports, as dotted paths."""
    tree = ast.parse((PACKAGE / path).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("handlers"):
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("handlers")}
    return found


MODULES = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", [m for m in MODULES if not m.startswith("storage/")])
def test_the_concrete_reader_is_used_only_inside_storage(module: str) -> None:
    concrete = {"handlers.storage.reader", "handlers.storage.readahead"}
    assert not imports_of(module) & concrete, f"{module} imports a concrete reader: use storage.interfaces"


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("fits/")])
def test_the_fits_layer_knows_storage_only_by_its_interfaces(module: str) -> None:
    allowed = ("handlers.storage.interfaces", "handlers.aws.observability")
    reached = {name for name in imports_of(module) if name.startswith(("handlers.storage", "handlers.aws"))}
    assert all(name.startswith(allowed) for name in reached), f"{module} imports {sorted(reached)}"
    assert not {name for name in imports_of(module) if name.startswith("handlers.pipeline")}


def test_the_fits_sizes_are_defined_once() -> None:
    """BLOCK (2880) and CARD (80) live in fits/format.py; nobody else defines them."""
    definition = re.compile(r"^\s*(\w+)\s*(?::\s*\w+)?\s*=\s*(2880|80)\s*$", re.M)
    found = {m: definition.findall((PACKAGE / m).read_text()) for m in MODULES}
    assert {m: names for m, names in found.items() if names} == {"fits/format.py": [("BLOCK", "2880"), ("CARD", "80")]}


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("obscore/")])
def test_the_obscore_record_is_pure(module: str) -> None:
    """The record is derived from documents alone: no storage, no AWS, no pipeline."""
    reached = {name for name in imports_of(module)
               if name.startswith(("handlers.storage", "handlers.aws", "handlers.pipeline", "handlers.cli"))}
    assert not reached, f"{module} imports {sorted(reached)}"
