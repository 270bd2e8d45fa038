"""The spine: idempotent ingest, daily counters in local days, names, memberships."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.harness import ROOM, Bot


@pytest.fixture
def bot(tmp_path, db_url) -> Bot:
    """The pipeline on each store: a SQLite file and a PostgreSQL schema."""
    return Bot(tmp_path, database_url=db_url)


def counters(bot: Bot, member: str) -> list[tuple]:
    return bot.rows("SELECT room, CAST(day AS TEXT), messages, visits FROM dailyactivity WHERE member=:m "
                    "ORDER BY day, room", m=member)


def test_same_event_twice_counts_once(bot: Bot):
    bot.say("a", "大家好", id="m1", ts="2026-11-01T10:00:00+08:00")
    bot.say("a", "大家好", id="m1", ts="2026-11-01T10:00:00+08:00")
    bot.feed(*[{"type": "message", "id": "m1", "ts": 1761962400, "sender": "a", "text": "x"}] * 3)
    assert bot.scalar("SELECT count(*) FROM eventlog") == 1
    assert counters(bot, "a") == [(ROOM, "2026-11-01", 1, 0)]


def test_duplicates_inside_one_batch_count_once(bot: Bot):
    ev = {"type": "visit", "id": "v1", "ts": "2026-11-01T10:00:00+08:00", "member": "a"}
    bot.feed(ev, ev, ev)
    assert counters(bot, "a") == [("", "2026-11-01", 0, 1)]


def test_local_day_boundary_in_shanghai_for_utc_stamps(bot: Bot):
    bot.say("a", "晚安", ts="2026-11-01T15:59:00+00:00")  # 23:59 in Shanghai, Nov 1
    bot.say("a", "早安", ts="2026-11-01T16:01:00+00:00")  # 00:01 in Shanghai, Nov 2
    assert [r[1] for r in counters(bot, "a")] == ["2026-11-01", "2026-11-02"]


def test_day_boundary_follows_configured_zone(tmp_path):
    bot = Bot(tmp_path, timezone="UTC")
    bot.say("a", "晚安", ts="2026-11-01T15:59:00+00:00")
    bot.say("a", "早安", ts="2026-11-01T16:01:00+00:00")
    assert [r[1] for r in counters(bot, "a")] == ["2026-11-01"]


def test_names_follow_the_latest_event_not_the_latest_arrival(bot: Bot):
    bot.say("a", "hi", name="Alice", ts="2026-11-01T10:00:00+08:00")
    bot.say("a", "hi", name="爱丽丝", ts="2026-11-03T10:00:00+08:00")
    bot.say("a", "late", name="OldAlice", ts="2026-11-02T10:00:00+08:00")  # arrives late
    assert bot.scalar("SELECT name FROM member WHERE id='a'") == "爱丽丝"
    first = datetime.fromisoformat("2026-11-01T10:00:00+08:00").timestamp()
    assert bot.scalar("SELECT first_at FROM member WHERE id='a'") == first


def test_join_leave_and_rejoin(bot: Bot):
    bot.join("b", ts="2026-11-01T09:00:00+08:00")
    assert bot.rows("SELECT active, left_at FROM membership WHERE member='b'") == [(1, None)]
    bot.leave("b", ts="2026-11-02T09:00:00+08:00")
    assert bot.rows("SELECT active FROM membership WHERE member='b'") == [(0,)]
    bot.join("b", ts="2026-11-03T09:00:00+08:00")
    assert bot.rows("SELECT active, left_at FROM membership WHERE member='b'") == [(1, None)]


def test_private_messages_and_visits_have_no_room(bot: Bot):
    bot.say("a", "你好", room=None, ts="2026-11-01T10:00:00+08:00")
    bot.visit("a", ts="2026-11-01T11:00:00+08:00")
    assert counters(bot, "a") == [("", "2026-11-01", 1, 1)]
    assert bot.scalar("SELECT count(*) FROM membership") == 0


def test_a_failing_batch_leaves_nothing_behind(bot: Bot, monkeypatch):
    from bot.core import pipeline

    bot.say("a", "先来一条", ts="2026-11-01T10:00:00+08:00")

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    # 帮助 queues a reply, and writing it to the outbox fails: the whole batch must roll back.
    monkeypatch.setattr(pipeline, "enqueue", boom)
    with pytest.raises(RuntimeError):
        bot.say("a", "帮助")
    monkeypatch.undo()
    assert bot.scalar("SELECT count(*) FROM eventlog") == 1
    assert bot.scalar("SELECT sum(commands) FROM dailyactivity") == 0
    bot.say("a", "帮助", id="m99")
    assert bot.scalar("SELECT sum(commands) FROM dailyactivity") == 1
