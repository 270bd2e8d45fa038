"""Short versions of the soak scripts: a replay killed 10 times ends exactly where a clean one
ends, and two replays on one store (SQLite and PostgreSQL) end where one does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


def test_a_replay_killed_ten_times_matches_a_clean_one(tmp_path):
    res = script("soak_crash.py", "--events", "5000", "--kills", "10", "--seed", "3", "--dir", str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "kills: 10 in" in res.stdout
    assert "— total 0" in res.stdout and "report tag rows 0" in res.stdout
    assert "duplicated 0, lost 0" in res.stdout


def test_two_replays_on_one_store_match_one(tmp_path, pg_url):
    res = script("soak_writers.py", "--events", "3000", "--seed", "4", "--dir", str(tmp_path), "--pg", pg_url)
    assert res.returncode == 0, res.stdout + res.stderr
    for store in ("sqlite", "postgresql"):
        assert f"{store}: mismatches:" in res.stdout and "— total 0" in res.stdout
        assert f"{store}: replies:" in res.stdout
    assert res.stdout.count("duplicated 0, lost 0") == 2
