"""The sandbox's modules import on their own and form no import cycle.

A cycle hidden by a function-level import works until someone moves that import to the top; the
walk below reads every ``import`` statement (function-level and ``TYPE_CHECKING`` ones included) with
the standard library's ``ast``, so such a cycle fails here instead.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import trastpay_sandbox

PACKAGE_DIR = Path(trastpay_sandbox.__file__).parent
PACKAGE = "trastpay_sandbox"


def _module_names() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _module_names()


def _imports_of(name: str, path: Path) -> set[str]:
    """The sandbox modules ``name`` imports anywhere in its source (absolute or relative imports)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(base)
    return {module for module in found if module in MODULES and module != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_given_a_known_cycle_when_searching_then_it_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert _cycles(graph) == [["a", "b", "c"]]


def test_given_every_sandbox_module_when_walking_its_imports_then_there_is_no_cycle() -> None:
    graph = {name: _imports_of(name, path) for name, path in MODULES.items()}

    assert graph[f"{PACKAGE}.app"], "the import walk found nothing; it is broken"
    assert _cycles(graph) == []


def _import_alone(module: str) -> tuple[str, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60, check=False
    )
    return module, done.returncode, done.stderr[-2000:]


@pytest.mark.timeout(300)
def test_given_each_sandbox_module_when_imported_alone_in_a_fresh_interpreter_then_it_imports() -> None:
    # __main__ is the entry point: importing it starts the server, which is what it is for.
    importable = sorted(name for name in MODULES if not name.endswith(".__main__"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_import_alone, importable))

    failures = {module: stderr for module, code, stderr in results if code != 0}
    assert len(results) == len(importable) > 40
    assert failures == {}
