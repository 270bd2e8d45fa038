"""A large store for benchmarks, written straight into the tables (what the pipeline would
have produced): 100k members with 90 days of daily counters, check-ins, points, tags and orders, one
room of `room_size` members and the rest in rooms of about 2000.

    from bigstore import BENCH_ROOM, build_store
    build_store(path, members=100_000, room_size=500)
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.settings import Settings
from bot.wiring import build

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
    member_rows, memberships, activity, checkins, points, tags, orders = [], [], [], [], [], [], []

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
        db.executemany("INSERT INTO purchase (id, member, ts, day, amount_fen, item, room, refund_of) "
                       "VALUES (?,?,?,?,?,?,?,NULL)", orders)
        for rows in (member_rows, memberships, activity, checkins, points, tags, orders):
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
        if active_days and rng.random() < 0.3:  # about a quarter of the active members buy, some again
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                day = days[rng.choice(active_days)]
                orders.append((f"o{len(orders)}-{i}", mid, _epoch(date.fromisoformat(day), 21), day,
                               rng.choice((9900, 19900, 36500, 49900)), "21天训练营", room))
        if rng.random() < 0.1:
            tags.append((mid, "意向", "keyword", "多少钱", "这个课多少钱呀", first, first, 1,
                         f"m{i}"))
        if len(activity) > 50_000:
            flush()
    flush()
    db.execute("INSERT INTO memberday (member, day, messages, counted, checkins, commands, visits)"
               " SELECT member, day, sum(messages), sum(counted), sum(checkins), sum(commands), sum(visits)"
               " FROM dailyactivity GROUP BY member, day")
    db.execute("INSERT INTO eventlog (id, type, ts, room, member, text, kind) "
               "VALUES ('bench-last', 'visit', ?, '', 'wxid_000000', 'h5', NULL)",
               (_epoch(LAST_DAY, 21),))
    db.commit()
    db.execute("ANALYZE")
    db.close()
