"""The layers of the repository: core/ is pure (standard library only), and no two first-party
packages import each other, directly or around a loop."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "harness", "faults", "load", "system", "reports", "scenarios", "benchmarks")


def package_graph(root: Path = REPO) -> dict[str, set[str]]:
    """Which first-party package imports which (absolute imports, read from the source)."""
    graph: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for pkg in PACKAGES:
        for path in (root / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                graph[pkg] |= {n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES} - {pkg}
    return graph


def cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One import loop between packages (["a", "b", "a"]), or [] when there is none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return []


def test_cycle_finder_finds_a_loop_and_passes_a_layering() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"harness": {"load"}, "load": {"harness"}}) == ["harness", "load", "harness"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_loop_between_packages() -> None:
    graph = package_graph()
    assert cycle(graph) == [], f"import loop between packages: {' -> '.join(cycle(graph))}"
    assert graph["core"] == set(), f"core imports {sorted(graph['core'])}"


def test_core_imports_only_the_standard_library() -> None:
    # every module of core, imported in a fresh interpreter: what it pulled in besides itself
    modules = sorted(
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in (REPO / "core").rglob("*.py")
    )
    code = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"  # what the interpreter's start-up loaded (site hooks)
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in set(sys.modules) - before})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    foreign = set(json.loads(out.stdout)) - set(sys.stdlib_module_names) - {"core"}
    assert not foreign, f"core pulls in {sorted(foreign)}"
