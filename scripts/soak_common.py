"""What the soak scripts share: a community to replay, `qunguan replay` as a process, and a
snapshot of everything a replay decides, to compare two stores field by field.

Used by scripts/soak_crash.py and scripts/soak_writers.py (run them, not this)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.core.settings import Settings
from bot.demo.run import EXAMPLE_CONFIG
from bot.demo.sample import generate_community, write_jsonl
from bot.wiring import FEATURES, build

ROOT = Path(__file__).resolve().parents[1]
QUNGUAN = [sys.executable, "-m", "bot.cli"]


def community(events: int, seed: int) -> tuple[list[dict], list[str]]:
    """A month of a sample community grown to about `events` events, with what a replay must
    survive mixed in: members' commands, an admin adding and deleting tag rules mid-stream,
    and redeliveries (an event again, later, with the same id). Returns (events, admins)."""
    members = max(20, events // 48)  # the sample writes about 48 events per member a month
    base = generate_community(seed=seed, members=members)
    rng = random.Random(seed)
    talk: Counter[str] = Counter(e["sender"] for e in base if e["type"] == "message")
    admin = talk.most_common(1)[0][0]
    rooms = sorted({e["room"] for e in base if e.get("room")})
    out: list[dict] = []
    n = len(base)
    changes = {n // 4: "/rule add keyword 读书 读书,看书,读完 hits=2 days=7",
               n // 2: "/rule add count 话唠 25 7",
               (2 * n) // 3: "/rule del 2",
               (3 * n) // 4: "/rule add keyword 求助 怎么办,求助,请教 mode=substring expire=14"}
    for i, e in enumerate(base):
        out.append(e)
        if i in changes:
            out.append({"type": "message", "id": f"soak-admin-{i}", "ts": e["ts"], "room": rooms[0],
                        "sender": admin, "sender_name": "群主", "text": changes[i]})
        if e["type"] == "message" and rng.random() < 0.01:
            word = rng.choice(["我的等级", "排行", "帮助", "排行 本周", "补签", "/me"])
            out.append({"type": "message", "id": f"soak-cmd-{i}", "ts": e["ts"], "room": e.get("room"),
                        "room_name": e.get("room_name"), "sender": e["sender"],
                        "sender_name": e.get("sender_name"), "text": word})
        if rng.random() < 0.01:
            out.append(base[rng.randrange(max(1, i - 500), i + 1)])  # a redelivery
    return [{k: v for k, v in e.items() if v is not None} for e in out], [admin]


def write_events(path: Path, events: Iterable[dict]) -> int:
    return write_jsonl(events, path)


def env(admins: list[str], url: str | None = None) -> dict[str, str]:
    out = {**os.environ, "QUNGUAN_ADMINS": ",".join(admins), "PYTHONPATH": str(ROOT)}
    if url:
        out["QUNGUAN_DATABASE_URL"] = url
    return out


def replay(events: Path, url: str, replies: Path, admins: list[str]) -> subprocess.Popen:
    """`qunguan replay` of `events` into `url`, replies appended to `replies`."""
    return subprocess.Popen(
        [*QUNGUAN, "replay", str(events), "--db", url, "--replies", str(replies),
         "--config", str(EXAMPLE_CONFIG)],
        env=env(admins), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)


def settings(url: str, admins: list[str]) -> Settings:
    return Settings(database_url=url, admins=",".join(admins), config=EXAMPLE_CONFIG)


TABLES = {
    "ledger": "SELECT member, ts, day, delta, kind, reason, room, ref, \"by\" FROM pointsentry",
    "activity": "SELECT member, room, day, messages, counted, checkins, commands, visits FROM dailyactivity",
    "member_days": "SELECT member, day, messages, counted, checkins, commands, visits FROM memberday",
    "members": "SELECT id, name, first_at, last_counted_at, points FROM member",
    "memberships": "SELECT room, member, joined_at, first_at, left_at, active FROM membership",
    "tags": "SELECT member, tag, source, rule_id, grp, keyword, message_id, excerpt, \"by\", count, days, "
            "at, since, expires_at, lead FROM membertag",
    "hits": "SELECT member, rule_id, ts, message_id FROM keywordhit",
    "rules": "SELECT id, kind, tag, args, active, created_by, created_at FROM tagrule",
    "checkins": "SELECT member, task_id, day, room, ts, made_up FROM checkin",
    "cards": "SELECT member, task_id, cards FROM checkincards",
    "events": "SELECT id, type, ts, room, member, text, kind FROM eventlog",
    "outbox": "SELECT created_at, room, \"to\", text, mentions, reply_to FROM outbox",
}


def snapshot(url: str, admins: list[str]) -> dict[str, Any]:
    """Every member's report row (tags and their reasons included) as `qunguan report` builds
    it, and every table a replay writes, as multisets of rows."""
    s = settings(url, admins)
    _, deps = build(s)
    out: dict[str, Any] = {}
    with deps.engine.connect() as conn:
        scope = resolve_scope(conn, s, None, None, None)
        out["report"] = {r["id"]: r for r in member_rows(conn, scope, report_fields(FEATURES, deps))}
    deps.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        for name, sql in TABLES.items():
            out[name] = Counter(tuple(str(v) for v in row) for row in conn.execute(text(sql)))
        out["status"] = Counter(s for (s,) in conn.execute(text("SELECT status FROM outbox")))
        out["unknown"] = Counter(
            tuple(str(v) for v in row) for row in conn.execute(text(
                "SELECT room, \"to\", text, mentions, reply_to FROM outbox WHERE status IN ('unknown', 'sending')")))
    engine.dispose()
    return out


def mismatches(a: dict[str, Any], b: dict[str, Any]) -> dict[str, int]:
    """How many members' report rows and how many table rows differ, per item (0 everywhere
    when the two stores agree)."""
    out: dict[str, int] = {}
    ra, rb = a["report"], b["report"]
    out["report members"] = sum(1 for m in set(ra) | set(rb) if ra.get(m) != rb.get(m))
    out["report tag rows"] = sum(
        1 for m in set(ra) | set(rb)
        if (ra.get(m) or {}).get("tags") != (rb.get(m) or {}).get("tags"))
    for name in TABLES:
        diff = (a[name] - b[name]) + (b[name] - a[name])
        out[name] = sum(diff.values())
    return out


def first_differences(a: dict[str, Any], b: dict[str, Any], limit: int = 3) -> list[str]:
    lines = []
    for m in sorted(set(a["report"]) | set(b["report"])):
        if a["report"].get(m) != b["report"].get(m):
            lines.append(f"report {m}: {a['report'].get(m)} != {b['report'].get(m)}")
            if len(lines) >= limit:
                break
    for name in TABLES:
        diff = list(((a[name] - b[name]) + (b[name] - a[name])).items())[:limit]
        lines += [f"{name}: {row} x{n}" for row, n in diff]
    return lines[: limit * 4]


def reply_key(r: dict) -> tuple[str, ...]:
    return (str(r.get("room")), str(r.get("to")), str(r.get("text")), ",".join(r.get("mentions") or []),
            str(r.get("reply_to")))


def read_replies(*paths: Path) -> Counter[tuple[str, ...]]:
    out: Counter[tuple[str, ...]] = Counter()
    for p in paths:
        if p.exists():
            with open(p, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        out[reply_key(json.loads(line))] += 1
    return out


def delivery(expected: Counter, sent: Counter, maybe: Counter) -> dict[str, int]:
    """Replies sent more often than queued (duplicated), and queued replies neither sent nor
    marked unknown (lost)."""
    duplicated = sum((sent - expected).values())
    lost = sum((expected - sent - maybe).values())
    return {"replies expected": sum(expected.values()), "sent": sum(sent.values()),
            "unknown": sum(maybe.values()), "duplicated": duplicated, "lost": lost}


def stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")
