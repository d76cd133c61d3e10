"""The import graph: every module imports in a fresh interpreter, no module takes part in an
import cycle, and no `newretail` import hides inside a function or a TYPE_CHECKING block
(the way a cycle is usually dodged). The layer contracts themselves are in pyproject.toml
(`lint-imports`, run by `make lint`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import newretail

SOURCE = Path(newretail.__file__).parent


def _modules() -> list[str]:
    """Every module of the package but Alembic's environment and revisions (Alembic loads
    them, with its context)."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        found.append(".".join(parts))
    return found


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    modules = _modules()
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, *modules],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert (done.returncode, done.stderr[-2000:]) == (0, "")
    assert len(modules) > 150


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    modules = sorted(m for m in graph.modules if m.startswith("newretail"))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next((c for c in children if c.startswith("newretail")), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_between_modules() -> None:
    """Every import statement counts, wherever it is written (grimp reads them all)."""
    graph = grimp.build_graph("newretail", exclude_type_checking_imports=False)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("newretail.a", "newretail.b", "newretail.c", "newretail.d"):
        graph.add_module(name)
    graph.add_import(importer="newretail.a", imported="newretail.b")
    graph.add_import(importer="newretail.b", imported="newretail.c")
    graph.add_import(importer="newretail.c", imported="newretail.a")
    graph.add_import(importer="newretail.c", imported="newretail.d")
    assert _cycles(graph) == [["newretail.a", "newretail.b", "newretail.c"]]


def _hidden_imports(path: Path) -> list[tuple[int, str]]:
    """`newretail` imports inside a function or an `if TYPE_CHECKING:` block."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, hidden: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = hidden or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inside = True
            if (
                inside
                and isinstance(child, ast.ImportFrom)
                and child.level == 0
                and (child.module or "").startswith("newretail")
            ):
                found.append((child.lineno, child.module or ""))
            if inside and isinstance(child, ast.Import):
                found.extend(
                    (child.lineno, a.name) for a in child.names if a.name.startswith("newretail")
                )
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_no_newretail_import_inside_a_function() -> None:
    hidden = {
        (str(path.relative_to(SOURCE)), module)
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.relative_to(SOURCE).parts
        for _, module in _hidden_imports(path)
    }
    assert hidden == set()


def test_the_hidden_import_finder_finds_them(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import newretail.core\n"
        "if TYPE_CHECKING:\n"
        "    from newretail.events import pipeline\n"
        "def late():\n"
        "    import json\n"
        "    from newretail.main import create_app\n"
        "    return create_app\n",
        encoding="utf-8",
    )
    assert _hidden_imports(module) == [(4, "newretail.events"), (7, "newretail.main")]


@pytest.mark.parametrize("module", ["newretail.core", "newretail.warehouse"])
def test_core_and_warehouse_import_no_domain(module: str) -> None:
    graph = grimp.build_graph("newretail", exclude_type_checking_imports=False)
    below = {"newretail.core", "newretail.warehouse"}
    outside = {
        imported
        for importer in graph.find_descendants(module) | {module}
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith("newretail.")
        and not any(imported == b or imported.startswith(b + ".") for b in below)
    }
    assert outside == set()
