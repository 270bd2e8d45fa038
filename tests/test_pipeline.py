"""The spine: idempotent ingest, daily counters in local days, names, memberships."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from bot import wiring
from bot.core.pipeline import Hook, HookOrderError, Pipeline, order_hooks
from bot.core.settings import Settings
from bot.store.db import open_engine
from tests.harness import ADMIN, ROOM, Bot


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


def test_a_membership_begins_at_the_members_earliest_message_in_the_room(bot: Bot):
    """Messages of one batch (one hour: no flush between them) out of time order, and a later
    batch with an earlier one: the membership's first_at is the earliest of them all, per room."""
    def said(i: int, minute: int, room: str = ROOM) -> dict:
        return {"type": "message", "id": f"p{i}", "ts": f"2026-11-02T10:{minute:02d}:00+08:00", "room": room,
                "sender": "a", "text": "hi"}
    bot.feed(said(1, 30), said(2, 20), said(3, 40), said(4, 50, "r2@chatroom"), said(5, 20), said(6, 45))
    at = {m: int(datetime.fromisoformat(f"2026-11-02T10:{m:02d}:00+08:00").timestamp()) for m in (10, 20, 50)}
    first_at = "SELECT room, first_at FROM membership WHERE member='a' ORDER BY room"
    assert bot.rows(first_at) == [(ROOM, at[20]), ("r2@chatroom", at[50])]
    bot.feed(said(7, 55), said(8, 10))
    assert bot.rows(first_at) == [(ROOM, at[10]), ("r2@chatroom", at[50])]


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


def test_a_batch_failing_after_a_committed_one_raises_its_own_error(bot: Bot, monkeypatch):
    """`process` ends a committed batch's commit once: the next batch's error (or a Ctrl-C
    between the two) is raised as it is, not as a lock released twice."""
    from bot.core.events import parse_event
    from tests.harness import NOT_AFTER

    real = Pipeline._work
    batches = []

    def second_fails(self, batch, events):
        batches.append(len(events))
        if len(batches) == 2:
            raise RuntimeError("disk full")
        return real(self, batch, events)

    events = [parse_event({"type": "message", "id": f"m{i}", "ts": f"2026-11-01T10:0{i}:00+08:00",
                           "room": ROOM, "sender": "a", "sender_name": "a", "text": f"第{i}条"},
                          not_after=NOT_AFTER) for i in range(5)]
    monkeypatch.setattr(Pipeline, "_work", second_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        bot.pipeline.process(events, batch_size=2, silent=True)
    monkeypatch.undo()
    assert batches == [2, 2]
    assert bot.scalar("SELECT count(*) FROM eventlog") == 2  # the first batch, committed; the second rolled back
    bot.pipeline.process(events, batch_size=2, silent=True)  # the lock is free: the rest is stored, nothing twice
    assert bot.scalar("SELECT count(*) FROM eventlog") == 5


# ---- hook order: declared by the hooks, worked out by the pipeline ---------------------------

def _hook(name: str, after: tuple[str, ...] = (), priority: int = 0) -> Hook:
    return type(f"Hook_{name}", (Hook,), {"name": name, "after": after, "priority": priority})()


def test_hooks_run_after_what_they_name_whatever_order_they_are_registered_in():
    declared = [_hook("guard", priority=-1), _hook("checkins"), _hook("points"), _hook("tags", ("points",)),
                _hook("faq"), _hook("help", ("faq", "tags")), _hook("commands", priority=1)]
    for hooks in itertools.permutations(declared):
        order = [h.name for h in order_hooks(hooks)]
        assert order[0] == "guard" and order[-1] == "commands", order
        assert order.index("points") < order.index("tags") < order.index("help"), order
        assert order.index("faq") < order.index("help"), order
    # what nothing orders keeps the registry's order
    assert [h.name for h in order_hooks(declared)] == ["guard", "checkins", "points", "tags", "faq", "help",
                                                      "commands"]


@pytest.mark.parametrize(("hooks", "error"), [
    ([_hook("tags", ("points",))], "pipeline hook 'tags' runs after 'points', which no hook is called (hooks: tags)"),
    ([_hook("a"), _hook("a")], "two pipeline hooks are called 'a'"),
    ([_hook("a", ("c",)), _hook("b", ("a",)), _hook("c", ("b",)), _hook("d", ("c",))],
     "pipeline hooks wait for each other in a circle: a after c after b after a"),
])
def test_an_order_that_cannot_be_kept_is_refused_when_the_pipeline_is_made(tmp_path, hooks, error):
    with pytest.raises(HookOrderError) as exc:
        Pipeline(open_engine(f"sqlite:///{tmp_path / 'q.db'}"), Settings(), hooks)
    assert str(exc.value) == error


def test_count_rules_see_what_counted_as_speaking_even_with_the_features_registered_backwards(
        tmp_path, monkeypatch):
    """The tagging hook reads the points hook's Speaking slot of the same message: were it run
    first, no message of the batch would count and nobody would be tagged 活跃."""
    monkeypatch.setattr(wiring, "FEATURES", tuple(reversed(wiring.FEATURES)))
    bot = Bot(tmp_path)
    names = [h.name for h in bot.pipeline.hooks]
    assert names.index("points") < names.index("tags")
    bot.say(ADMIN, "/rule add count 活跃 3 7", ts="2026-11-20T09:00:00+08:00")
    bot.feed(*[{"type": "message", "id": f"c{i}", "ts": f"2026-11-20T10:0{i}:00+08:00", "sender": "a",
                "room": ROOM, "text": text} for i, text in enumerate(["早上好呀", "今天读完了", "明天继续读"])])
    assert bot.rows("SELECT tag, count FROM membertag WHERE member='a'") == [("活跃", 3)]
