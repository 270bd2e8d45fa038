"""The house rules that tools check: ruff everywhere (its complexity check included), mypy
--strict on every package (the pure ones' purity itself: tests/unit/test_purity.py)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What strict turns on: an override that switches any of it off for some module weakens it.
STRICT_FLAGS = {"disallow_untyped_defs", "disallow_incomplete_defs", "disallow_untyped_calls",
                "disallow_any_generics", "disallow_untyped_decorators", "disallow_subclassing_any",
                "warn_return_any", "check_untyped_defs", "no_implicit_reexport", "strict_equality",
                "warn_unused_ignores", "warn_redundant_casts", "extra_checks", "strict"}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_ruff_is_clean():
    res = run("ruff", "check", "bot", "tagging", "tiers", "scripts", "tests")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_is_strict_on_every_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert set(config["files"]) == {"bot", "tagging", "tiers"}
    weakened = [(o["module"], flag) for o in config.get("overrides", [])
                for flag, value in o.items() if flag in STRICT_FLAGS and value is False]
    assert weakened == [], "strict switched off for some modules"
    res = run("mypy")
    assert res.returncode == 0, res.stdout + res.stderr


def test_complexity_is_checked_with_no_exception():
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "C90" in lint["select"]
    assert lint["mccabe"]["max-complexity"] <= 15
    excepted = {f for f, codes in lint.get("per-file-ignores", {}).items() if "C901" in codes or "C90" in codes}
    assert not excepted, f"files excepted from the complexity check: {sorted(excepted)}"
