"""Same answer every time: one community replayed in one batch, in batches of one event, and by
a `qunguan replay` killed with SIGKILL ten times gives the same report, ledger and replies."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.core.events import parse_event
from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.core.settings import Settings
from bot.demo.run import EXAMPLE_CONFIG
from bot.demo.sample import generate_community
from bot.wiring import FEATURES, build
from tests.harness import NOT_AFTER

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("我的等级", "排行", "帮助", "补签", "排行 本周", "邀请排行", "我的积分", "/me")


def community() -> tuple[list[dict], str]:
    """Two weeks of a small community (roster, joins with inviters, leaves, visits, orders,
    check-ins, chat) with members' commands and an admin's 跟进清单 mixed in. Returns (events,
    the admin)."""
    base = generate_community(seed=11, members=36, days=14, rooms=2)
    talk = Counter(e["sender"] for e in base if e["type"] == "message")
    admin = talk.most_common(1)[0][0]
    rng = random.Random(5)
    out: list[dict] = []
    for i, e in enumerate(base):
        out.append(e)
        if e["type"] == "message" and rng.random() < 0.04:
            out.append({**e, "id": f"cmd-{i}", "text": rng.choice(COMMANDS)})
        if e["type"] == "message" and e["sender"] == admin and rng.random() < 0.2:
            out.append({**e, "id": f"list-{i}", "text": "跟进清单"})
    assert sum(1 for e in out if e["type"] == "join" and e.get("inviter")) >= 5
    assert sum(1 for e in out if e["type"] == "leave") >= 2
    return [{k: v for k, v in e.items() if v is not None} for e in out], admin


LOGIN_TOKEN = re.compile(r"/login/link/[A-Za-z0-9_-]+")


def snapshot(url: str, admin: str) -> dict[str, Counter]:
    """The report (every member's row), the ledger and the replies queued, as multisets. Speaking
    points are one ledger row per member, day and batch, so they are compared as sums per member
    and day; every other ledger row is compared as it is."""
    settings = Settings(database_url=url, admins=admin, config=EXAMPLE_CONFIG)
    _, deps = build(settings)
    with deps.engine.connect() as conn:
        scope = resolve_scope(conn, settings, None, None, None)
        report = Counter(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str)
                         for r in member_rows(conn, scope, report_fields(FEATURES, deps)))
    deps.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        ledger = Counter(tuple(map(str, r)) for r in conn.execute(text(
            "SELECT member, ts, day, delta, kind, reason, room, ref, \"by\" FROM pointsentry "
            "WHERE kind != 'speaking'")))
        ledger.update(tuple(map(str, r)) for r in conn.execute(text(
            "SELECT member, day, sum(delta) FROM pointsentry WHERE kind = 'speaking' GROUP BY member, day")))
        # A capped list ends with a one-time console login link: its token is random by design
        # (a secret), so it is compared without it.
        replies = Counter(tuple(LOGIN_TOKEN.sub("/login/link/<token>", str(v)) for v in r) for r in conn.execute(text(
            "SELECT room, \"to\", text, mentions, reply_to FROM outbox")))
    engine.dispose()
    return {"report": report, "ledger": ledger, "replies": replies}


def differences(a: dict[str, Counter], b: dict[str, Counter]) -> dict[str, list]:
    return {k: sorted(((a[k] - b[k]) + (b[k] - a[k])).items())[:6] for k in a if a[k] != b[k]}


def in_process(url: str, admin: str, events: list[dict], batch_size: int) -> None:
    pipeline, _ = build(Settings(database_url=url, admins=admin, config=EXAMPLE_CONFIG))
    pipeline.process([parse_event(e, not_after=NOT_AFTER) for e in events], batch_size=batch_size)
    pipeline.engine.dispose()


def stored(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM eventlog")).scalar_one()
    except Exception:
        return 0  # not created yet
    finally:
        engine.dispose()


def killed_ten_times(url: str, admin: str, path: Path, total: int) -> int:
    """`qunguan replay` in batches of 40 events, killed with SIGKILL at ten points spread over the
    stream, then run to its end. Returns how many kills landed.

    The killed runs read the events through a FIFO held open: they cannot reach the end of the
    stream and exit before the kill (a fast replay finished the last 5 % between two looks),
    while the kill still lands wherever the replay is, in a batch or in its commit."""
    env = {**os.environ, "QUNGUAN_ADMINS": admin, "PYTHONPATH": str(ROOT)}

    def replay(source: Path) -> list[str]:
        return [sys.executable, "-m", "bot.cli", "replay", str(source), "--db", url, "--batch", "40",
                "--config", str(EXAMPLE_CONFIG), "--replies", str(path.with_suffix(".replies"))]

    fifo = path.with_suffix(".fifo")
    os.mkfifo(fifo)
    lines = path.read_bytes()
    rng = random.Random(2)
    kills = 0
    for goal in sorted(rng.uniform(0.05, 0.95) * total for _ in range(10)):
        proc = subprocess.Popen(replay(fifo), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        killed = threading.Event()
        feeder = threading.Thread(target=feed, args=(fifo, lines, killed))
        feeder.start()
        deadline = time.monotonic() + 120
        while proc.poll() is None and stored(url) < goal:
            assert time.monotonic() < deadline, f"the replay stored {stored(url)} of {goal:.0f} events in 2 minutes"
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        killed.set()
        # A replay killed before it opened the FIFO (an earlier run got past this goal) leaves the
        # feeder waiting for a reader: be one for a moment, so it finds the pipe closed.
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        feeder.join()
    res = subprocess.run(replay(path), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return kills


def feed(fifo: Path, data: bytes, killed: threading.Event) -> None:
    """Write every event into the FIFO, then keep it open (no end of stream) until the kill."""
    try:
        with open(fifo, "wb") as fh:
            fh.write(data)
            fh.flush()
            killed.wait()
    except BrokenPipeError:
        pass  # killed while the events were still being written


@pytest.mark.slow  # kill -9: in the whole suite, not in `scripts/test --quick`
def test_one_batch_batches_of_one_and_ten_kills_give_the_same_answer(store, tmp_path):
    events, admin = community()
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")

    one = store("one")
    in_process(one, admin, events, batch_size=len(events))
    expected = snapshot(one, admin)
    assert sum(expected["ledger"][k] for k in expected["ledger"] if "referral" in k) >= 1
    assert any("跟进" in r[2] for r in expected["replies"])

    singles = store("singles")
    in_process(singles, admin, events, batch_size=1)
    assert differences(expected, snapshot(singles, admin)) == {}

    killed = store("killed")
    assert killed_ten_times(killed, admin, path, len({e["id"] for e in events})) == 10
    assert differences(expected, snapshot(killed, admin)) == {}
