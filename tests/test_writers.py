"""Several writers on one store give the numbers of one: nothing that decides counts, points or
caps lives only in one process's memory."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.core.events import Event, parse_event
from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.core.settings import Settings
from bot.wiring import FEATURES, build

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


def snapshot(engine, *, ledger_rows: bool = False) -> dict[str, list]:
    """The store's numbers; the ledger as sums per member, day and kind (one award per batch:
    writers that cut the stream differently write the same sums in different rows), or with
    `ledger_rows` row by row, with the message each award names."""
    with engine.connect() as conn:
        return {
            "activity": conn.execute(text(
                "SELECT member, room, day, messages, counted, checkins, commands, visits "
                "FROM dailyactivity ORDER BY member, room, day")).all(),
            # the member days are the counters summed over rooms, whoever wrote them
            "member_days": conn.execute(text(
                "SELECT member, day, messages, counted, checkins, commands, visits FROM memberday "
                "ORDER BY member, day")).all(),
            "summed": conn.execute(text(
                "SELECT member, day, sum(messages), sum(counted), sum(checkins), sum(commands), sum(visits) "
                "FROM dailyactivity GROUP BY member, day ORDER BY member, day")).all(),
            "ledger": conn.execute(text(
                "SELECT member, day, kind, delta, ts, room, ref, reason FROM pointsentry "
                "ORDER BY member, day, kind, ts, ref") if ledger_rows else text(
                "SELECT member, day, kind, sum(delta) FROM pointsentry "
                "GROUP BY member, day, kind ORDER BY member, day, kind")).all(),
            "members": conn.execute(text(
                "SELECT id, points, last_counted_at FROM member ORDER BY id")).all(),
            "outbox": conn.execute(text("SELECT text FROM outbox ORDER BY text")).all(),
        }




@pytest.mark.parametrize("batch", [1, 7])
def test_two_alternating_writers_give_the_numbers_of_one(store, batch):
    events = [parse_event(e) for e in stream()]
    one = Settings(database_url=store("one"), admins="wxid_admin")
    single, _ = build(one)
    single.process(events)
    expected = snapshot(single.engine)
    assert expected["member_days"] and expected["member_days"] == expected["summed"]
    assert sum(r[3] for r in expected["ledger"] if r[2] == "speaking") == 60  # 20 a member a day

    two = Settings(database_url=store("two"), admins="wxid_admin")
    first, _ = build(two)
    second, _ = build(two)  # its own engine and memory, as a second process has
    chunks = [events[i:i + batch] for i in range(0, len(events), batch)]
    for n, chunk in enumerate(chunks):
        (first if n % 2 == 0 else second).process(chunk)
    assert snapshot(first.engine) == expected


@pytest.mark.parametrize("batch", [1, 7, 40])
def test_a_writer_restarted_after_every_batch_gives_the_numbers_of_one(store, batch):
    """As after a crash: a new process knows nothing of today's counts and reads them back,
    paying the same points for the same messages (the ledger rows name the same message)."""
    events = [parse_event(e) for e in stream()]
    chunks = [events[i:i + batch] for i in range(0, len(events), batch)]
    single, _ = build(Settings(database_url=store("one"), admins="wxid_admin"))
    for chunk in chunks:
        single.process(chunk)
    restarted = Settings(database_url=store("restarted"), admins="wxid_admin")
    for chunk in chunks:
        pipeline, _ = build(restarted)
        pipeline.process(chunk)
        pipeline.engine.dispose()
    assert snapshot(build(restarted)[0].engine, ledger_rows=True) == snapshot(single.engine, ledger_rows=True)


def test_a_members_tags_come_in_one_order_whatever_the_store(store):
    """Two tags given at the same moment: the report lists them by name on every store, not in
    the order the rows happen to lie (which on PostgreSQL changes when a row is rewritten, as
    another writer's update does: the soak on PostgreSQL found 12 members listed differently)."""
    url = store("order")
    pipeline, deps = build(Settings(database_url=url, admins="wxid_admin"))
    pipeline.process([parse_event(e) for e in stream()[:3]])
    with deps.engine.begin() as conn:
        for tag in ("甲", "乙"):  # stored out of name order
            conn.execute(text("INSERT INTO membertag (member, tag, source, at, since, lead) "
                              "VALUES ('wxid_a', :t, 'manual', 1, 1, false)"), {"t": tag})
        conn.execute(text("UPDATE membertag SET \"by\" = 'wxid_admin' WHERE tag = '乙'"))
    with deps.engine.connect() as conn:
        scope = resolve_scope(conn, deps.settings, None, None, None)
        rows = member_rows(conn, scope, report_fields(FEATURES, deps))
    tags = next(r for r in rows if r["id"] == "wxid_a")["tags"]
    assert [t["name"] for t in tags] == sorted(["甲", "乙"])


def test_a_batch_that_meets_a_locked_sqlite_store_is_run_again_and_lands_once(tmp_path, caplog):
    """Another writer holds SQLite's write lock past the busy timeout (0.2 s here, 30 s by
    default): the batch rolled back whole used to end the replay with 「database is locked」.
    It is run again after a logged wait, and lands once: its check-in, points and reply once."""
    path = tmp_path / "q.db"
    pipeline, _ = build(Settings(database_url=f"sqlite:///{path}?timeout=0.2", admins="wxid_admin"))
    pipeline.process([parse_event({"type": "message", "id": "m0", "ts": T0.isoformat(), "room": "r1@chatroom",
                                   "sender": "wxid_a", "text": "大家早上好"})])
    held, retried = threading.Event(), threading.Event()

    class Released(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "locked by another writer" in record.getMessage():
                retried.set()  # the first try failed: let the other writer finish

    def other_writer() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        retried.wait(60)
        other.execute("COMMIT")
        other.close()

    handler = Released()
    logging.getLogger("bot.core.pipeline").addHandler(handler)
    writer = threading.Thread(target=other_writer)
    writer.start()
    try:
        assert held.wait(10)
        with caplog.at_level(logging.WARNING, logger="bot.core.pipeline"):
            replies = pipeline.process([parse_event(e) for e in (
                {"type": "message", "id": "c1", "ts": (T0 + timedelta(hours=1)).isoformat(), "room": "r1@chatroom",
                 "sender": "wxid_a", "text": "打卡 今天读了二十页"},
                {"type": "message", "id": "m1", "ts": (T0 + timedelta(hours=2)).isoformat(), "room": "r1@chatroom",
                 "sender": "wxid_a", "text": "今天读到第二章，很有收获"})])
    finally:
        retried.set()
        writer.join()
        logging.getLogger("bot.core.pipeline").removeHandler(handler)
    tries = [r.getMessage() for r in caplog.records if "locked by another writer" in r.getMessage()]
    assert len(tries) == 1
    assert "the batch of 2 events was rolled back whole; trying again in 2 s (try 2 of 5)" in tries[0]
    with pipeline.engine.connect() as conn:
        def one(sql: str) -> object:
            return conn.execute(text(sql)).scalar()
        assert one("SELECT count(*) FROM eventlog WHERE id IN ('c1', 'm1')") == 2
        assert one("SELECT count(*) FROM checkin WHERE member = 'wxid_a'") == 1
        assert one("SELECT sum(counted) FROM dailyactivity WHERE member = 'wxid_a'") == 3
        assert one("SELECT count(*) FROM outbox") == len(replies) > 0
        assert one("SELECT count(*) FROM pointsentry WHERE member = 'wxid_a' AND kind = 'checkin'") == 1


def test_a_check_in_pays_the_same_speaking_rows_whether_its_members_day_is_remembered_or_read_back(store):
    """A check-in after chat first pays the speaking earned earlier in the batch (Ledger.settle).
    With 26923f8 what it paid depended on what the process remembered: only its member's when it
    knew their day, everyone's when it read it back (restarted, or after another writer), so
    wxid_b's speaking was one row or two, and the soaks (soak_writers, soak_crash) found speaking
    rows split differently. The same rows either way."""
    def said(i: int, who: str, minutes: int, words: str) -> Event:
        return parse_event({"type": "message", "id": f"s{i}", "ts": (T0 + timedelta(minutes=minutes)).isoformat(),
                            "room": "r1@chatroom", "sender": who, "text": words})
    earlier = [said(1, "wxid_a", 0, "早上好，今天开始读第三章")]
    batch = [said(2, "wxid_b", 60, "我昨天读完了第二章，很有收获"),
             said(3, "wxid_a", 62, "第三章讲的是时间管理"),
             said(4, "wxid_a", 64, "打卡 今天读了二十页，记下三点想法"),
             said(5, "wxid_b", 70, "我也来打个招呼，晚点再聊")]
    running, _ = build(Settings(database_url=store("running"), admins="wxid_admin"))
    running.process(earlier)
    running.process(batch)
    url = store("restarted")
    before, _ = build(Settings(database_url=url, admins="wxid_admin"))
    before.process(earlier)
    before.engine.dispose()
    after, _ = build(Settings(database_url=url, admins="wxid_admin"))  # knows nothing of today
    after.process(batch)
    rows = snapshot(after.engine, ledger_rows=True)["ledger"]
    assert {r[0] for r in rows if r[2] == "speaking"} == {"wxid_a", "wxid_b"}
    assert rows == snapshot(running.engine, ledger_rows=True)["ledger"]
