"""The module-level import graph over bot/ has no cycle, and the console imports nothing inside
functions (the old way of dodging one)."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in BOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        named: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                named |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                named |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        # Importing a.b.c runs a and a.b first; a module's own packages run before it, too.
        named |= {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
        graph[name] = {".".join(d.split(".")[:i]) for d in named for i in range(1, d.count(".") + 2)
                       if ".".join(d.split(".")[:i]) in files} - {name}
    return graph


def test_no_import_cycles():
    graph = import_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep):], dep])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == []


def test_the_console_imports_at_module_level():
    files = [*(BOT / "web").rglob("*.py"), *BOT.glob("features/*/web.py")]
    inside = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inside += [f"{path.name}:{node.name}" for sub in ast.walk(node)
                           if isinstance(sub, ast.Import | ast.ImportFrom)]
    assert inside == []
