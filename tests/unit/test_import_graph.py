"""The package's import graph has no circle: not between modules, not between packages.

``lint-imports`` (pyproject's layers contract) checks the direction between the top-level
packages; this checks what a layers contract cannot see — a circle inside one package (a face
importing a submodule that imports the face back: submodules import their siblings, never
their own package's face) — and says which modules form it. grimp is
import-linter's own graph builder, so both read the same graph, function-level imports included.
"""

from __future__ import annotations

import grimp

ROOT = "genaicompare"


def _circles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(imports.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(imports):
        if node not in index:
            visit(node)
    return found


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(ROOT, cache_dir=None)


def test_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    imports = {
        m: {i for i in graph.find_modules_directly_imported_by(m) if i != ROOT}
        for m in graph.modules
        if m.startswith(ROOT)
    }
    circles = _circles(imports)
    assert not circles, "modules that import each other, directly or not:\n" + "\n".join(
        ", ".join(c) for c in circles
    )


def test_no_package_imports_itself_back() -> None:
    graph = _graph()
    packages = sorted(graph.find_children(ROOT))
    for package in packages:
        if graph.find_children(package):
            graph.squash_module(package)
    imports = {
        p: {i for i in graph.find_modules_directly_imported_by(p) if i in packages and i != p}
        for p in packages
    }
    circles = _circles(imports)
    assert not circles, "packages that import each other:\n" + "\n".join(
        ", ".join(c) for c in circles
    )
