"""The layer graph holds: no import cycle (function-level imports included), nothing but the
CLI imports the package root. The layer contracts themselves are import-linter's (pyproject).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fairaudit"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> set[str]:
    """The fairaudit modules ``module`` imports anywhere (functions too), but for type checks."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fairaudit":
                    found.add(resolve(alias.name) or "fairaudit")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            if base.split(".")[0] == "fairaudit":
                for alias in node.names:
                    target = resolve(f"{base}.{alias.name}")
                    if target is not None:
                        found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found - {module}


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return out


def test_the_walk_sees_function_level_imports():
    # debias/_estimators.py imports its torch backend inside a function, by importlib; the
    # policy imports metrics at module level; both must be edges of the graph
    assert "fairaudit.metrics" in GRAPH["fairaudit.policy._rules"]
    assert "fairaudit._optional" in GRAPH["fairaudit._results"]  # imported inside get_axes


def test_no_import_cycle_among_fairaudit_modules():
    # the package root imports its subpackages and is imported by the CLI only, so it is
    # left out: a cycle through it would be the root-import rule broken (checked below)
    graph = {m: t - {"fairaudit"} for m, t in GRAPH.items() if m != "fairaudit"}
    assert _cycles(graph) == []


def test_only_the_cli_imports_the_package_root():
    importers = sorted(m for m, targets in GRAPH.items() if "fairaudit" in targets)
    assert set(importers) <= {"fairaudit.cli", "fairaudit.__main__"}, importers
