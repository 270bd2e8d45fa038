"""The types' split values (medians of login days and speaking) of a day come from the complete
days before it: computed once per scope and day, kept, and computed again only when an event of
an earlier day (an import, a late delivery) or a change of who is in a room says so."""

from __future__ import annotations

from datetime import datetime

from bot.core.scheduler import JobContext
from bot.features.member_types.jobs import daily_splits
from bot.features.member_types.service import scope_for, type_members, type_some
from tests.harness import ADMIN, ROOM, Bot, texts


def _group(bot: Bot) -> None:
    """a spoke 10 days, b came 4 days, c 2 days, d never: all members since September."""
    for m in ("a", "b", "c", "d"):
        bot.join(m, ts="2026-09-01T10:00:00+08:00")
    for day in range(1, 11):
        ts = f"2026-11-{day:02d}T10:00:00+08:00"
        bot.say("a", f"第{day}天的读书笔记", ts=ts)
        if day <= 4:
            bot.visit("b", ts=ts)
        if day <= 2:
            bot.visit("c", ts=ts)


def _splits(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT scope, window_days, day, login_days, speaking FROM typesplit ORDER BY scope")


def test_the_split_of_a_day_is_of_the_days_before_it_and_kept(bot: Bot):
    _group(bot)
    # Login days before 11-11: 10, 4, 2 (d is not present): the median is 4; speaking's median 0
    # is below the floor of 5.
    reply = texts(bot.say(ADMIN, "/tiers", ts="2026-11-11T09:00:00+08:00"))
    assert "登录 ≥4 天、发言 ≥5 条为高" in reply
    [(scope, window, day, login, speaking)] = _splits(bot)
    assert (scope, window, str(day)[:10], login, speaking) == (ROOM, 30, "2026-11-11", 4.0, 0.0)
    # Today's activity moves no bar today: b and c speak a lot, the split stays.
    for i in range(8):
        bot.say("b", f"今天的想法{i}", ts=f"2026-11-11T10:{i:02d}:00+08:00")
        bot.say("c", f"我也说说{i}", ts=f"2026-11-11T10:{i:02d}:30+08:00")
    assert "登录 ≥4 天、发言 ≥5 条为高" in texts(bot.say(ADMIN, "/tiers", ts="2026-11-11T11:00:00+08:00"))
    # The next day it counts: login days 10, 5, 3 (the admin, new since 11-11, is left out):
    # median 5; speaking 10, 8, 8: median 8.
    assert "登录 ≥5 天、发言 ≥8 条为高" in texts(bot.say(ADMIN, "/tiers", ts="2026-11-12T09:00:00+08:00"))
    assert [str(r[2])[:10] for r in _splits(bot)] == ["2026-11-11", "2026-11-12"]


def test_an_event_of_an_earlier_day_removes_the_values_it_changes(bot: Bot):
    _group(bot)
    assert "登录 ≥4 天" in texts(bot.say(ADMIN, "/tiers", ts="2026-11-11T09:00:00+08:00"))
    bot.say("a", "/me", room=None, ts="2026-11-11T09:05:00+08:00")  # the community's split, 1:1
    assert {r[0] for r in _splits(bot)} == {ROOM, "*"}
    # A late delivery of d's visit on 11-05: d is present, the median of 10, 4, 2, 1 is 3.
    bot.visit("d", ts="2026-11-05T10:00:00+08:00")
    assert _splits(bot) == []
    assert "登录 ≥3 天" in texts(bot.say(ADMIN, "/tiers", ts="2026-11-11T09:10:00+08:00"))
    # An event of today changes no value of today.
    bot.visit("d", ts="2026-11-11T09:20:00+08:00")
    assert len(_splits(bot)) == 1


def test_who_is_in_a_room_changes_that_rooms_values(bot: Bot):
    _group(bot)
    bot.say(ADMIN, "/tiers", ts="2026-11-11T09:00:00+08:00")
    bot.say("x", "别的群的人", room="r2@chatroom", ts="2026-11-11T09:01:00+08:00")
    bot.say(ADMIN, "/tiers", room="r2@chatroom", ts="2026-11-11T09:02:00+08:00")
    assert {r[0] for r in _splits(bot)} == {ROOM, "r2@chatroom"}
    # b leaves: the room's split is of its current members, a and c: (10 + 2) / 2.
    bot.leave("b", ts="2026-11-11T09:30:00+08:00")
    assert {r[0] for r in _splits(bot)} == {"r2@chatroom"}
    assert "登录 ≥6 天" in texts(bot.say(ADMIN, "/tiers", ts="2026-11-11T09:40:00+08:00"))
    # A roster may change who was there before the bot anywhere: every value goes.
    bot.roster(["x"], room="r2@chatroom", ts="2026-11-11T10:00:00+08:00")
    assert _splits(bot) == []


def test_the_daily_job_keeps_the_days_values_and_one_members_type_is_the_scopes(bot: Bot):
    _group(bot)
    bot.say("x", "别的群的人", room="r2@chatroom", ts="2026-11-10T09:01:00+08:00")
    at = datetime.fromisoformat("2026-11-11T00:01:00+08:00")
    assert daily_splits(JobContext(bot.deps, frozenset()), at) == ("split values of 2026-11-11 kept for 3 scopes, "
                                                                  "activity figures for 4 members, the assessment of 5")
    assert {(r[0], str(r[2])[:10]) for r in _splits(bot)} == {
        ("*", "2026-11-11"), (ROOM, "2026-11-11"), ("r2@chatroom", "2026-11-11")}
    bot.say("c", "今天来说一句", ts="2026-11-11T08:00:00+08:00")
    at = datetime.fromisoformat("2026-11-11T12:00:00+08:00")
    with bot.engine.connect() as conn:
        for room in (ROOM, None):
            scope = scope_for(conn, at, room, 30)
            everyone = type_members(conn, at, scope)
            assert len(everyone) >= 4
            for m, typing in everyone.items():
                assert type_some(conn, at, scope, [m]) == {m: typing}
            assert type_some(conn, at, scope, [*everyone, "nobody"]) == everyone
