"""Several writers on one store give the numbers of one: nothing that decides counts, points or
caps lives only in one process's memory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.core.events import parse_event
from bot.core.settings import Settings
from bot.wiring import build

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def stream() -> list[dict]:
    """Two members chatting all day (anti-farming gaps of 30 and 61 s, far past the daily cap),
    check-ins, a command and a visit."""
    events: list[dict] = []
    for i in range(60):
        for who, gap in (("wxid_a", 61), ("wxid_b", 30)):
            events.append({"type": "message", "id": f"{who}-{i}", "ts": (T0 + timedelta(seconds=gap * i)).isoformat(),
                           "room": "r1@chatroom", "sender": who, "text": f"今天读到第{i}页，很有收获"})
    events.sort(key=lambda e: e["ts"])
    events += [{"type": "message", "id": "c1", "ts": (T0 + timedelta(hours=2)).isoformat(),
                "room": "r1@chatroom", "sender": "wxid_a", "text": "打卡"},
               {"type": "message", "id": "c2", "ts": (T0 + timedelta(hours=2, seconds=5)).isoformat(),
                "room": "r1@chatroom", "sender": "wxid_a", "text": "我的等级"},
               {"type": "visit", "id": "v1", "ts": (T0 + timedelta(hours=3)).isoformat(),
                "member": "wxid_b"}]
    for i in range(30):  # the next day: the cap starts again
        events.append({"type": "message", "id": f"d2-{i}", "ts": (T0 + timedelta(days=1, seconds=70 * i)).isoformat(),
                       "room": "r1@chatroom", "sender": "wxid_a", "text": f"第二天第{i}条发言"})
    return events


def snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            "activity": conn.execute(text(
                "SELECT member, room, day, messages, counted, checkins, commands, visits "
                "FROM dailyactivity ORDER BY member, room, day")).all(),
            "ledger": conn.execute(text(
                "SELECT member, day, kind, sum(delta) FROM pointsentry "
                "GROUP BY member, day, kind ORDER BY member, day, kind")).all(),
            "members": conn.execute(text(
                "SELECT id, points, last_counted_at FROM member ORDER BY id")).all(),
            "outbox": conn.execute(text("SELECT text FROM outbox ORDER BY text")).all(),
        }


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A function giving the URL of a fresh, empty store per name."""
    if request.param == "sqlite":
        yield lambda name: f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    base = request.getfixturevalue("pg_url")
    admin = create_engine(base)
    made: list[str] = []

    def make(name: str) -> str:
        schema = f"writers_{name}_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        return make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    yield make
    with admin.begin() as conn:
        for schema in made:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.mark.parametrize("batch", [1, 7])
def test_two_alternating_writers_give_the_numbers_of_one(store, batch):
    events = [parse_event(e) for e in stream()]
    one = Settings(database_url=store("one"), admins="wxid_admin")
    single, _ = build(one)
    single.process(events)
    expected = snapshot(single.engine)
    assert sum(r[3] for r in expected["ledger"] if r[2] == "speaking") == 60  # 20 a member a day

    two = Settings(database_url=store("two"), admins="wxid_admin")
    first, _ = build(two)
    second, _ = build(two)  # its own engine and memory, as a second process has
    chunks = [events[i:i + batch] for i in range(0, len(events), batch)]
    for n, chunk in enumerate(chunks):
        (first if n % 2 == 0 else second).process(chunk)
    assert snapshot(first.engine) == expected
