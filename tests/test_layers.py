"""The package's layers, read from every module's import statements (ast; nothing is imported):
the core imports only the core, data only the core and data and never torch, models nothing of
data, and no module reaches itself again through its imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "model" / "mtmixg"
ROOT = "mtmixg"
"""The package's own __init__: it imports nothing, so every layer may read __version__ from it."""


def module_name(path: Path) -> str:
    """mtmixg/data/sequence.py -> mtmixg.data.sequence; a package's __init__.py -> the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> set[str]:
    """Every module a file imports, at its top or inside a function: absolute names, relative
    imports resolved, and `from package import module` counted as that module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            found |= {f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules}
    return found


def import_graph() -> dict[str, set[str]]:
    """Module name -> the names it imports (the package's and others')."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imported(path, set(paths)) for name, path in paths.items()}


def in_layer(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def own(names: set[str]) -> set[str]:
    """The package's modules among names."""
    return {n for n in names if in_layer(n, ROOT)}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, set()) & set(graph)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1 or v in graph.get(v, set()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


GRAPH = import_graph()


def test_the_graph_sees_the_package_and_resolves_relative_imports() -> None:
    assert {"mtmixg", "mtmixg.core.names", "mtmixg.data.sequence", "mtmixg.models.mask", "mtmixg.cli"} <= set(GRAPH)
    assert "mtmixg.core.names" in GRAPH["mtmixg.core.model_config"]  # from .names import ARCHITECTURES
    assert "mtmixg.core.atomic" in GRAPH["mtmixg.data.dataset"]  # from ..core.atomic import ...
    assert "torch" in GRAPH["mtmixg.models.mask"]


def test_the_package_root_imports_nothing_of_the_package() -> None:
    assert own(GRAPH[ROOT]) == set()


@pytest.mark.parametrize(
    ("layer", "allowed"),
    [("mtmixg.core", ("mtmixg.core",)), ("mtmixg.data", (ROOT, "mtmixg.core", "mtmixg.data"))],
)
def test_a_layer_imports_only_the_layers_below_it(layer: str, allowed: tuple[str, ...]) -> None:
    wrong = {
        name: sorted(n for n in own(deps) if not any(n == a if a == ROOT else in_layer(n, a) for a in allowed))
        for name, deps in GRAPH.items()
        if in_layer(name, layer)
    }
    assert {name: bad for name, bad in wrong.items() if bad} == {}


@pytest.mark.parametrize("layer", ["mtmixg.core", "mtmixg.data"])
def test_core_and_data_never_import_torch(layer: str) -> None:
    wrong = sorted(name for name, deps in GRAPH.items() if in_layer(name, layer) and any(in_layer(d, "torch") for d in deps))
    assert wrong == []


def test_models_import_nothing_of_data() -> None:
    wrong = {name: sorted(d for d in deps if in_layer(d, "mtmixg.data"))
             for name, deps in GRAPH.items() if in_layer(name, "mtmixg.models")}
    assert {name: bad for name, bad in wrong.items() if bad} == {}


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_through_others() -> None:
    package_graph = {name: own(deps) - {name} for name, deps in GRAPH.items()}
    assert cycles(package_graph) == []
