"""The house rules that tools can check: ruff everywhere, mypy --strict on the pure packages."""

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


def test_pure_packages_do_no_io():
    forbidden = ("import bot", "from bot", "sqlmodel", "sqlalchemy", "asyncio", "aiohttp",
                 "wechaty", "datetime.now", "date.today", "time.time(")
    for path in [*ROOT.glob("tagging/*.py"), *ROOT.glob("tiers/*.py")]:
        text = path.read_text(encoding="utf-8")
        for word in forbidden:
            assert word not in text, f"{path.name} uses {word}"
