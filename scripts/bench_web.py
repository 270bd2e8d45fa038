#!/usr/bin/env python3
"""Web console benchmark over real loopback HTTP.

Builds a store of 100k members with 90 days of daily counters (bulk inserts straight into
the tables), one room of 500 members in it, starts the real web server, then prints the
median and p95 time of the room page and of the members page for that room, and the event
API's events/s for batches of 1000 visits.

    .venv/bin/python scripts/bench_web.py [--members 100000] [--room-size 500] [--requests 50]
                                          [--batches 20] [--store PATH]

Targets: p95 under 200 ms for both pages; at least 5000 events/s for the API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp

from bot.app import build
from bot.settings import Settings
from bot.web import start_server

TZ = ZoneInfo("Asia/Shanghai")
LAST_DAY = date(2026, 11, 20)
DAYS = 90
BENCH_ROOM = "bench@chatroom"
TOKEN = "bench-token"


def _epoch(day: date, hour: int = 20) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=TZ).timestamp())


def build_store(path: Path, members: int, room_size: int, seed: int = 7) -> None:
    """Fill a fresh SQLite file with `members` members, their memberships and counters."""
    rng = random.Random(seed)
    settings = Settings(database_url=f"sqlite:///{path}")
    build(settings)  # creates the tables and seeds the default check-in task
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    first = _epoch(LAST_DAY - timedelta(days=120))
    days = [(LAST_DAY - timedelta(days=i)).isoformat() for i in range(DAYS)]
    other_rooms = max(1, (members - room_size) // 2000)
    rooms = [(BENCH_ROOM, "压测读书群", first, first)] + [
        (f"r{i}@chatroom", f"社群{i}", first, first) for i in range(other_rooms)]
    db.executemany("INSERT INTO room (id, name, name_at, first_at) VALUES (?,?,?,?)", rooms)
    task_id = db.execute("SELECT id FROM checkintask WHERE name='打卡'").fetchone()[0]
    member_rows, memberships, activity, checkins, points, tags = [], [], [], [], [], []

    def flush() -> None:
        db.executemany("INSERT INTO member (id, name, name_at, first_at, points) "
                       "VALUES (?,?,?,?,?)", member_rows)
        db.executemany("INSERT INTO membership (room, member, joined_at, first_at, active) "
                       "VALUES (?,?,?,?,1)", memberships)
        db.executemany("INSERT INTO dailyactivity (member, room, day, messages, counted, checkins,"
                       " commands, visits) VALUES (?,?,?,?,?,?,0,?)", activity)
        db.executemany("INSERT INTO checkin (member, task_id, day, room, ts, made_up) "
                       "VALUES (?,?,?,?,?,0)", checkins)
        db.executemany("INSERT INTO pointsentry (member, ts, day, delta, kind, reason, room) "
                       "VALUES (?,?,?,?,?,?,?)", points)
        db.executemany("INSERT INTO membertag (member, tag, source, keyword, excerpt, at, since,"
                       " lead, message_id, rule_id) VALUES (?,?,?,?,?,?,?,?,?,NULL)", tags)
        for rows in (member_rows, memberships, activity, checkins, points, tags):
            rows.clear()

    for i in range(members):
        mid = f"wxid_{i:06d}"
        in_bench = i < room_size
        room = BENCH_ROOM if in_bench else f"r{(i - room_size) % other_rooms}@chatroom"
        activity_rate = rng.choice((0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7))
        score = 0
        active_days = rng.sample(range(DAYS), int(DAYS * activity_rate))
        for d in active_days:
            day = days[d]
            msgs = rng.randint(1, 12)
            checked = in_bench and rng.random() < 0.6
            activity.append((mid, room, day, msgs, max(0, msgs - rng.randint(0, 3)),
                             1 if checked else 0, 0))
            if rng.random() < 0.5:
                activity.append((mid, "", day, 0, 0, 0, rng.randint(1, 3)))
            if checked:
                checkins.append((mid, task_id, day, room, _epoch(date.fromisoformat(day), 8)))
                points.append((mid, _epoch(date.fromisoformat(day), 8), day, 10, "checkin",
                               f"打卡 第 {d} 天", room))
                score += 10
        member_rows.append((mid, f"成员{i}", first, first, score))
        memberships.append((room, mid, first, first))
        if rng.random() < 0.1:
            tags.append((mid, "意向", "keyword", "多少钱", "这个课多少钱呀", first, first, 1,
                         f"m{i}"))
        if len(activity) > 50_000:
            flush()
    flush()
    db.execute("INSERT INTO eventlog (id, type, ts, room, member, text, kind) "
               "VALUES ('bench-last', 'visit', ?, '', 'wxid_000000', 'h5', NULL)",
               (_epoch(LAST_DAY, 21),))
    db.commit()
    db.execute("ANALYZE")
    db.close()


def summary(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]  # nearest rank
    return statistics.median(times) * 1000, p95 * 1000


async def run(path: Path, requests: int, batches: int) -> None:
    settings = Settings(database_url=f"sqlite:///{path}", api_token=TOKEN)
    pipeline, deps = build(settings)
    runner = await start_server(pipeline, deps, host="127.0.0.1", port=0)
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get("/login") as r:
                text = await r.text()
            csrf = text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            async with http.post("/login", data={"password": TOKEN, "csrf": csrf},
                                 allow_redirects=False) as r:
                assert r.status == 303, await r.text()
            for label, url in (("room page", f"/rooms/{BENCH_ROOM}"),
                               ("members page", f"/members?room={BENCH_ROOM}")):
                times = []
                for i in range(requests + 3):
                    started = time.perf_counter()
                    async with http.get(url) as r:
                        body = await r.read()
                        assert r.status == 200, body[:500]
                    if i >= 3:  # the first requests warm caches and the SQLite page cache
                        times.append(time.perf_counter() - started)
                median, p95 = summary(times)
                print(f"{label:13s} ({len(body) // 1024} KiB): median {median:.1f} ms, "
                      f"p95 {p95:.1f} ms over {requests} requests")

            at = datetime(2026, 11, 21, 9, tzinfo=TZ)
            total = 0
            started = time.perf_counter()
            for b in range(batches):
                events = [{"type": "visit", "id": f"bench-v{b}-{i}",
                           "ts": (at + timedelta(seconds=i)).isoformat(),
                           "member": f"wxid_{(b * 1000 + i) % 100_000:06d}", "source": "h5"}
                          for i in range(1000)]
                async with http.post("/api/events", data=json.dumps(events),
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": "application/json"}) as r:
                    result = await r.json()
                    assert r.status == 200, result
                total += result["stored"]
            took = time.perf_counter() - started
            print(f"event API: {total} visits in {batches} batches of 1000: "
                  f"{total / took:,.0f} events/s")
    finally:
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--room-size", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--store", type=Path, help="keep the store here and reuse it next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.store or Path(tmp) / "bench.db"
        if not path.exists():
            started = time.perf_counter()
            build_store(path, args.members, args.room_size)
            print(f"store: {args.members} members, {DAYS} days of counters, room of "
                  f"{args.room_size}: built in {time.perf_counter() - started:.1f} s")
        asyncio.run(run(path, args.requests, args.batches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
