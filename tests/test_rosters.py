"""Rosters replayed through the real pipeline: silent members count from the first day."""

from __future__ import annotations

import json
import logging

import pytest

from bot.core.events import EventError, Roster, RosterMember, parse_event
from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.core.scheduler import JobContext
from bot.features.rosters.jobs import ROSTER_REFRESH
from bot.wiring import FEATURES
from tests.harness import ADMIN, ROOM, Bot, texts

SILENT = [f"wxid_s{i}" for i in range(1, 7)]


def report(bot: Bot, room: str | None = None) -> dict[str, dict]:
    with bot.engine.connect() as conn:
        scope = resolve_scope(conn, bot.settings, bot.clock, room, None)
        return {r["id"]: r for r in member_rows(conn, scope, report_fields(FEATURES, bot.deps))}


def active(bot: Bot, room: str = ROOM) -> set[str]:
    return {m for (m,) in bot.rows("SELECT member FROM membership WHERE room = :r AND active", r=room)}


def test_first_sight_one_speaker_and_six_silent_members(bot):
    bot.roster(["wxid_alice", *SILENT], ts="2026-11-02T09:00:00+08:00")
    bot.say("wxid_alice", "今天读完了第三章，收获很大", ts="2026-11-02T10:00:00+08:00")
    for rows in (report(bot), report(bot, ROOM)):
        assert set(rows) == {"wxid_alice", *SILENT}
        assert {rows[m]["type"] for m in SILENT} == {"dormant"}
        assert all(r["type"] != "new" for r in rows.values())
        assert all(rows[m]["login_days"] == 0 and rows[m]["rooms"] == [ROOM] for m in SILENT)
    # Still not new a few days on, and never on the 新人破冰 list.
    bot.say("wxid_alice", "继续读第四章", ts="2026-11-04T10:00:00+08:00")
    assert report(bot, ROOM)["wxid_s1"]["type"] == "dormant"
    assert bot.scalar("SELECT count(*) FROM membership WHERE pre_existing AND joined_at IS NULL") == 7


def test_a_silent_member_is_known_to_commands(bot):
    bot.roster(["wxid_alice", {"id": "wxid_op1", "name": "运营小王"}], ts="2026-11-02T09:00:00+08:00")
    out = bot.say(ADMIN, "/operator @运营小王\u2005", mentions=["wxid_op1"], ts="2026-11-02T10:00:00+08:00")
    assert "还没有" not in texts(out) and "运营小王" in texts(out)
    out = bot.say(ADMIN, "/who 沉默")
    assert "运营小王" in texts(out) and "wxid_alice" in texts(out)


def test_a_member_missing_from_a_later_roster_has_left(bot):
    bot.roster(["wxid_a", "wxid_b", "wxid_c"], ts="2026-11-02T09:00:00+08:00")
    bot.roster(["wxid_a", "wxid_c"], ts="2026-11-02T15:00:00+08:00")
    assert active(bot) == {"wxid_a", "wxid_c"}
    left_at = bot.scalar("SELECT left_at FROM membership WHERE member = 'wxid_b'")
    assert left_at == int(bot.clock.timestamp())
    assert "wxid_b" not in report(bot, ROOM)
    # Listed again later: back in the room, still not a newcomer.
    bot.roster(["wxid_a", "wxid_b", "wxid_c"], ts="2026-11-02T21:00:00+08:00")
    assert active(bot) == {"wxid_a", "wxid_b", "wxid_c"}
    assert report(bot, ROOM)["wxid_b"]["type"] == "dormant"


def test_who_joined_or_spoke_after_the_roster_was_taken_is_not_marked_left(bot):
    bot.join("wxid_new", ts="2026-11-02T09:05:00+08:00")
    bot.say("wxid_talker", "大家好呀", ts="2026-11-02T09:06:00+08:00")
    bot.roster(["wxid_a"], ts="2026-11-02T09:00:00+08:00")  # taken before both, applied after
    assert active(bot) == {"wxid_a", "wxid_new", "wxid_talker"}
    bot.at("2026-11-02T10:00:00+08:00")
    assert report(bot, ROOM)["wxid_new"]["type"] == "new"  # a join seen is a join


def test_redelivery_and_older_rosters_change_nothing(bot, caplog):
    bot.roster(["wxid_a", "wxid_b"], ts="2026-11-02T09:00:00+08:00", id="ro-1")
    bot.roster(["wxid_a"], ts="2026-11-02T15:00:00+08:00", id="ro-2")
    before = bot.rows("SELECT * FROM membership ORDER BY member")
    bot.roster(["wxid_a", "wxid_b"], ts="2026-11-02T09:00:00+08:00", id="ro-1")  # redelivered
    assert bot.rows("SELECT * FROM membership ORDER BY member") == before
    with caplog.at_level(logging.INFO, logger="bot.features.rosters.hook"):
        bot.roster(["wxid_a", "wxid_b"], ts="2026-11-02T12:00:00+08:00", id="ro-3")  # late and stale
    assert bot.rows("SELECT * FROM membership ORDER BY member") == before
    assert "ro-3" in caplog.text and "ignored" in caplog.text
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE type = 'roster'") == 3  # kept, not lost


def test_names_and_group_aliases_update(bot):
    bot.roster([{"id": "wxid_a", "name": "Alice", "room_alias": "A姐"}, {"id": "wxid_b"}],
               ts="2026-11-02T09:00:00+08:00")
    assert bot.rows("SELECT id, name FROM member ORDER BY id") == [("wxid_a", "Alice"), ("wxid_b", None)]
    bot.roster([{"id": "wxid_a", "name": "Alice Wang", "room_alias": "读书委员"}, {"id": "wxid_b", "name": "Bob"}],
               ts="2026-11-02T15:00:00+08:00")
    assert bot.rows("SELECT id, name FROM member ORDER BY id") == [("wxid_a", "Alice Wang"), ("wxid_b", "Bob")]
    assert bot.scalar("SELECT room_alias FROM membership WHERE member = 'wxid_a'") == "读书委员"


def test_a_roster_of_an_unknown_room_creates_it(bot):
    bot.roster(["wxid_a"], room="r9@chatroom", ts="2026-11-02T09:00:00+08:00")
    assert bot.rows("SELECT id, name, roster_at FROM room") == [
        ("r9@chatroom", "r9@chatroom", int(bot.clock.timestamp()))]


def raw(members) -> dict:
    return {"type": "roster", "id": "ro1", "ts": "2026-11-01T07:00:00+08:00", "room": ROOM, "members": members}


@pytest.mark.parametrize(("members", "why"), [
    ([], "不能为空"),
    (None, "缺少字段 members"),
    ("wxid_a", "成员列表"),
    (["wxid_a"], "第 1 项应为对象"),
    ([{"name": "Alice"}], "第 1 项缺少 id"),
    ([{"id": "wxid_a"}, {"id": " "}], "第 2 项缺少 id"),
    ([{"id": "x" * 201}], "id 太长"),
])
def test_bad_rosters_are_refused_with_a_reason(members, why):
    with pytest.raises(EventError, match=why):
        parse_event(raw(members))


def test_duplicate_ids_are_one_member_and_nameless_members_are_fine():
    event = parse_event(raw([{"id": "wxid_a", "name": "Alice"}, {"id": "wxid_b"},
                             {"id": "wxid_a", "room_alias": "A姐"}]))
    assert isinstance(event, Roster)
    assert [(m.id, m.name, m.room_alias) for m in event.members] == [
        ("wxid_a", "Alice", "A姐"), ("wxid_b", None, None)]


def test_design_example_parses():
    line = ('{"type":"roster","id":"ro1","ts":"2026-11-01T07:00:00+08:00","room":"r1@chatroom",'
            '"room_name":"读书群","members":[{"id":"wxid_a","name":"Alice","room_alias":"A姐"},'
            '{"id":"wxid_c","name":"Carol"}]}')
    event = parse_event(json.loads(line))
    assert isinstance(event, Roster) and event.room_name == "读书群"
    assert event.members == (RosterMember("wxid_a", "Alice", "A姐"), RosterMember("wxid_c", "Carol"))


@pytest.fixture
def pg_bot(pg_schemas, tmp_path):
    """The harness on a fresh schema of the test PostgreSQL server."""
    bot = Bot(tmp_path, database_url=pg_schemas("rosters"))
    yield bot
    bot.engine.dispose()


def test_rosters_welcomes_and_summaries_on_postgresql(pg_bot):
    bot = pg_bot
    bot.roster(["wxid_alice", *SILENT], ts="2026-11-02T09:00:00+08:00")
    bot.roster(["wxid_alice", *SILENT[:5]], ts="2026-11-02T15:00:00+08:00")
    assert active(bot) == {"wxid_alice", *SILENT[:5]}
    bot.say("wxid_alice", "今天读完了第三章，收获很大", ts="2026-11-02T16:00:00+08:00")
    rows = report(bot, ROOM)
    assert {rows[m]["type"] for m in SILENT[:5]} == {"dormant"} and "new" not in {r["type"] for r in rows.values()}
    bot.join("wxid_bob", name="Bob", ts="2026-11-02T17:00:00+08:00")
    [welcome] = bot.time_passes("2026-11-02T17:00:05+08:00")
    assert welcome.mentions == ("wxid_bob",)
    bot.say(ADMIN, "/task reply 打卡 summary", ts="2026-11-02T18:00:00+08:00")
    assert bot.say("wxid_alice", "打卡 今天读了20页", ts="2026-11-02T19:00:00+08:00") == []
    [summary] = bot.time_passes("2026-11-02T22:00:00+08:00")
    assert summary.text == "「打卡」今日已打卡 1 人 🎉"
    assert bot.rows("SELECT note, quiet FROM checkin") == [("今天读了20页", True)]


def test_the_roster_job_asks_the_adapter_every_6_hours(bot):
    asked = []
    note = ROSTER_REFRESH.work(JobContext(bot.deps, frozenset(), lambda: asked.append(1)), bot.clock)
    assert asked == [1] and "rosters" in note
    trigger = ROSTER_REFRESH.trigger(bot.settings)
    assert trigger.interval.total_seconds() == 6 * 3600  # type: ignore[attr-defined]
