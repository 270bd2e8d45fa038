"""Short versions of the soak and bench scripts: a replay killed 10 times ends exactly where a
clean one ends, two replays on one store (SQLite and PostgreSQL) end where one does, and three
accounts' processes on one PostgreSQL store every event once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # scripts/test --quick leaves these out

ROOT = Path(__file__).resolve().parents[1]


def script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


def test_a_replay_killed_ten_times_matches_a_clean_one(tmp_path):
    res = script("soak_crash.py", "--events", "3000", "--kills", "10", "--seed", "3", "--dir", str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "kills: 10 in" in res.stdout
    assert "— total 0" in res.stdout and "report tag rows 0" in res.stdout
    assert "duplicated 0, lost 0" in res.stdout


def test_two_replays_on_one_store_match_one(tmp_path, pg_url):
    res = script("soak_writers.py", "--events", "1500", "--seed", "4", "--dir", str(tmp_path), "--pg", pg_url)
    assert res.returncode == 0, res.stdout + res.stderr
    for store in ("sqlite", "postgresql"):
        assert f"{store}: mismatches:" in res.stdout and "— total 0" in res.stdout
        assert f"{store}: replies:" in res.stdout
    assert res.stdout.count("duplicated 0, lost 0") == 2


def test_three_accounts_on_one_postgresql_store_store_every_event_once(pg_url):
    res = script("bench_accounts.py", "--events", "400", "--pg", pg_url)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 processes × 400 events" in res.stdout and "1040 distinct" in res.stdout
    assert "events/s posted" in res.stdout and "p95" in res.stdout
    assert "store: 1040 events logged, 1040 messages counted, expected 1040: OK" in res.stdout
