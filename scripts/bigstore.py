"""Build a large store fast, for benchmarks: members, rooms, memberships and 90 days of
daily counters written straight into the tables (what the pipeline would have produced).

    from scripts.bigstore import build_store
    engine, settings = build_store(path, members=100_000, rooms=50, days=90)
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import Settings  # noqa: E402
from bot.store.db import bulk, open_engine  # noqa: E402
from bot.store.models import (  # noqa: E402
    Checkin,
    DailyActivity,
    Member,
    Membership,
    MemberTag,
    Room,
)

END = date(2026, 11, 20)


def build_store(path: Path, *, members: int = 100_000, rooms: int = 50, days: int = 90,
                seed: int = 1) -> tuple:
    """A store with `members` members spread over `rooms` rooms; each member has a
    persona-like daily presence (some daily, most occasional) over `days` days."""
    settings = Settings(database_url=f"sqlite:///{path}")
    engine = open_engine(settings.database_url)
    rng = random.Random(seed)
    start = END - timedelta(days=days - 1)
    t0 = int(datetime(2026, 1, 1).timestamp())
    with engine.begin() as conn:
        bulk(conn, Room.__table__.insert(), [
            {"id": f"r{r}@chatroom", "name": f"群{r}", "name_at": t0, "first_at": t0}
            for r in range(rooms)])
        member_rows, ships, counters, checkins, tags = [], [], [], [], []
        for i in range(members):
            mid = f"wxid_{i:06d}"
            room = f"r{i % rooms}@chatroom"
            member_rows.append({"id": mid, "name": f"成员{i}", "name_at": t0, "first_at": t0,
                                "points": rng.randint(0, 1200)})
            ships.append({"room": room, "member": mid, "first_at": t0, "joined_at": t0,
                          "active": True})
            p = rng.choice((0.9, 0.5, 0.2, 0.05, 0.02))
            talk = rng.random() < 0.6
            for d in range(days):
                if rng.random() < p:
                    day = start + timedelta(days=d)
                    n = rng.randint(1, 12) if talk else 0
                    counters.append({"member": mid, "room": room, "day": day, "messages": n,
                                     "counted": n // 2, "checkins": 1, "commands": 0,
                                     "visits": 0})
                    checkins.append({"member": mid, "task_id": 1, "day": day, "room": room,
                                     "ts": t0, "made_up": False})
            if i % 50 == 0:
                tags.append({"member": mid, "tag": "意向", "source": "keyword", "rule_id": 1,
                             "keyword": "价格", "excerpt": "价格多少", "at": t0, "since": t0,
                             "lead": True})
            if len(counters) > 200_000:
                bulk(conn, DailyActivity.__table__.insert(), counters)
                bulk(conn, Checkin.__table__.insert(), checkins)
                counters, checkins = [], []
        bulk(conn, Member.__table__.insert(), member_rows)
        bulk(conn, Membership.__table__.insert(), ships)
        bulk(conn, DailyActivity.__table__.insert(), counters)
        bulk(conn, Checkin.__table__.insert(), checkins)
        bulk(conn, MemberTag.__table__.insert(), tags)
    return engine, settings
