"""Each public module's ``__all__`` lists exactly its public names (httpx's rule).

A public module is one whose dotted name has no component starting with ``_`` (new packages
are covered as they appear). Its public names are the names it binds at top level, read from
its source (so no import order changes them): functions, classes and assignments not starting
with ``_``; in a package's ``__init__``, also the names it imports from fairaudit (re-exports; a plain
module re-exports only the imported names its ``__all__`` declares);
plus ``__version__`` in the root, less a module's ``logger``, plus the names a module serves lazily through ``__getattr__``
(listed by its ``__dir__``). Imports under ``if TYPE_CHECKING:`` and ``from __future__`` bind
nothing at run time and are skipped.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fairaudit"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PUBLIC = sorted(
    (_module_name(p), p)
    for p in PACKAGE.rglob("*.py")
    if not any(part.startswith("_") for part in _module_name(p).split("."))
)


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _top_level(statements: list[ast.stmt]):
    """Top-level statements, inside try/except and run-time ifs too (not TYPE_CHECKING)."""
    for node in statements:
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.Try):
            yield from _top_level(node.body)
            for handler in node.handlers:
                yield from _top_level(handler.body)
            yield from _top_level(node.orelse + node.finalbody)
        elif isinstance(node, ast.If):
            yield from _top_level(node.body + node.orelse)
        else:
            yield node


def _bound_names(path: Path, exported: set[str]) -> set[str]:
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in _top_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] == "fairaudit":
                imported = {a.asname or a.name for a in node.names}
                # a package re-exports what it imports; a plain module re-exports only what
                # its __all__ declares (its other imports are helpers)
                names.update(imported if is_package else imported & exported)
        elif isinstance(node, ast.Import) and is_package:
            names.update(
                a.asname or a.name.split(".")[0]
                for a in node.names
                if a.name.split(".")[0] == "fairaudit"
            )
    names.discard("logger")  # a module's logger is not API
    return {n for n in names if not n.startswith("_") or n == "__version__"}


def _all_bound_names(path: Path) -> set[str]:
    """Every name the module binds at top level at run time (imports included)."""
    names: set[str] = set()
    for node in _top_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        else:
            names.update(
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            )
    return names


def test_the_public_modules_are_found():
    names = [name for name, _ in PUBLIC]
    assert {"fairaudit", "fairaudit.metrics", "fairaudit.policy", "fairaudit.testing"} <= set(names)
    assert not [n for n in names if "._" in n]


@pytest.mark.parametrize(("name", "path"), PUBLIC, ids=[name for name, _ in PUBLIC])
def test_all_lists_exactly_the_public_names(name, path):
    module = importlib.import_module(name)
    public = _bound_names(path, set(module.__all__))
    if "__getattr__" in vars(module):  # names served lazily (fairaudit.debias's torch classes)
        bound = _all_bound_names(path)  # cached in the module's globals once served
        public |= {
            n for n in dir(module) if n[0].isalpha() and n not in bound and n != "annotations"
        }
    assert sorted(module.__all__) == sorted(public), (
        f"{name}.__all__ is missing {sorted(public - set(module.__all__))} and lists "
        f"{sorted(set(module.__all__) - public)} that it does not define"
    )
    assert len(set(module.__all__)) == len(module.__all__), f"{name}.__all__ has duplicates"
