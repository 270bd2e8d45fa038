"""tagging/ and tiers/ stay pure: no I/O-side imports, no reading of the clock, and each
module starts with a one-line docstring saying what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"bot", "sqlmodel", "sqlalchemy", "asyncio", "aiohttp", "wechaty", "time"}
CLOCK = {"now", "today", "utcnow", "time_ns", "monotonic", "perf_counter", "localtime"}
MODULES = sorted([*ROOT.glob("tagging/*.py"), *ROOT.glob("tiers/*.py")])


def test_the_modules_are_there() -> None:
    names = {f"{p.parent.name}.{p.stem}" for p in MODULES}
    assert {"tagging.rules", "tagging.matcher", "tagging.decide", "tagging.reasons",
            "tiers.types", "tiers.checkin", "tiers.levels", "tiers.antifarm", "tiers.ranking",
            "tiers.followup"} <= names


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_no_forbidden_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_no_clock_reads(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not calls & CLOCK


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_module_starts_with_a_one_line_docstring(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc
    assert "\n" not in doc
