"""The house rules that tools check: ruff everywhere, mypy --strict on the pure packages
(their purity itself: tests/unit/test_purity.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_ruff_is_clean():
    res = run("ruff", "check", "bot", "tagging", "tiers", "scripts", "tests")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict_on_pure_packages():
    res = run("mypy")
    assert res.returncode == 0, res.stdout + res.stderr
