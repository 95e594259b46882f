"""No import cycles in the installed ``rugsd`` package.

The graph is built with ``ast`` from the package ``importlib`` finds (the editable
checkout here, the wheel in CI's wheel job): one node per module, one edge per
``import``/``from … import`` of another ``rugsd`` module — at module level, inside
functions and under ``TYPE_CHECKING`` alike, since a helper that types its argument as
another module's class depends on that module just the same. Helpers that need the
decision core or the running daemon type it as a protocol from a leaf module
(``daemon/core/state.py``, ``daemon/runtime/shell.py``) instead of importing it back.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGE = "rugsd"
FOLDERS = ("daemon", "risk", "strategy", "training", "tui")


def _modules(root: Path, folders: tuple[str, ...]) -> dict[str, tuple[Path, bool]]:
    """``rugsd.x.y`` -> (file, is a package) for every module under ``folders``."""
    mods: dict[str, tuple[Path, bool]] = {}
    for folder in folders:
        for path in (root / folder).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            if is_pkg:
                parts = parts[:-1]
            mods[".".join([PACKAGE, *parts])] = (path, is_pkg)
    return mods


def _imports(name: str, path: Path, is_pkg: bool, known: set[str]) -> set[str]:
    """The ``rugsd`` modules ``name`` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # `from pkg import module` imports the module
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in known else module)
    return {m for m in found if m in known and m != name}


def import_graph(root: Path, folders: tuple[str, ...] = FOLDERS) -> dict[str, set[str]]:
    """Module -> the modules it imports."""
    mods = _modules(root, folders)
    known = set(mods)
    return {name: _imports(name, path, is_pkg, known) for name, (path, is_pkg) in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _installed_root() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def test_the_installed_package_has_no_import_cycle() -> None:
    graph = import_graph(_installed_root())
    assert len(graph) > 150  # the whole package was read, not an empty folder
    assert "rugsd.daemon.core.decision" in graph["rugsd.daemon.runtime.build"]
    assert cycles(graph) == []


def test_the_check_finds_a_cycle_even_behind_type_checking(tmp_path: Path) -> None:
    # the detector itself can fail: a planted cycle (one side under TYPE_CHECKING, one
    # relative, one inside a function) is reported, the acyclic module is not
    pkg = tmp_path / "daemon"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from rugsd.daemon.b import B\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "c.py").write_text("import rugsd.daemon.a\n")
    (pkg / "d.py").write_text("from rugsd.daemon import a\n")
    graph = import_graph(tmp_path, ("daemon",))
    assert graph["rugsd.daemon.d"] == {"rugsd.daemon.a"}
    assert cycles(graph) == [["rugsd.daemon.a", "rugsd.daemon.b", "rugsd.daemon.c"]]
