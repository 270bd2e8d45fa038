"""Referrals (转介绍): a join's inviter is stored, the report, 我的等级 and the 邀请排行 count
referrals still in the room and how many spoke, and a referral who stays a week and speaks
pays the inviter once."""

from __future__ import annotations

from datetime import datetime

from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.wiring import FEATURES
from tests.harness import ROOM, Bot, texts


def invited(bot: Bot, member: str, inviter: str, ts: str, room: str = ROOM) -> None:
    bot.feed({"type": "join", "id": bot.next_id("j"), "ts": ts, "room": room, "member": member,
              "member_name": member, "inviter": inviter})


def referrals(bot: Bot, at: str, room: str | None = None) -> dict[str, dict]:
    with bot.engine.connect() as conn:
        scope = resolve_scope(conn, bot.settings, datetime.fromisoformat(at), room, None)
        return {r["id"]: r["referrals"] for r in member_rows(conn, scope, report_fields(FEATURES, bot.deps))}


def referral_points(bot: Bot, member: str) -> list[tuple]:
    return bot.rows("SELECT delta, ref FROM pointsentry WHERE member = :m AND kind = 'referral' ORDER BY ref",
                    m=member)


def test_referrals_who_stay_and_speak_pay_their_inviter_once(bot: Bot):
    bot.say("alice", "大家好，我是 Alice", name="Alice", ts="2026-10-01T09:00:00+08:00")
    invited(bot, "bob", "alice", "2026-10-01T10:00:00+08:00")
    invited(bot, "carol", "alice", "2026-10-01T10:05:00+08:00")
    invited(bot, "dave", "alice", "2026-10-01T10:06:00+08:00")
    invited(bot, "erin", "nobody_seen", "2026-10-01T10:07:00+08:00")  # an inviter with no row yet
    bot.say("bob", "谢谢邀请，很高兴加入", ts="2026-10-02T09:00:00+08:00")
    bot.say("erin", "我来学习的", ts="2026-10-02T09:01:00+08:00")
    bot.leave("dave", ts="2026-10-03T09:00:00+08:00")
    assert referrals(bot, "2026-10-03T12:00:00+08:00")["alice"] == {"stayed": 2, "spoke": 1}
    # Six days in: nothing paid yet.
    bot.say("carol", "早", ts="2026-10-07T09:00:00+08:00")
    assert referral_points(bot, "alice") == []
    # A week after the joins, at the first event of a new day: bob and carol stayed and spoke.
    bot.say("bob", "今天也来看看", ts="2026-10-09T08:00:00+08:00")
    assert referral_points(bot, "alice") == [(20, f"referral:{ROOM}:bob"), (20, f"referral:{ROOM}:carol")]
    assert referral_points(bot, "nobody_seen") == [(20, f"referral:{ROOM}:erin")]
    assert bot.scalar("SELECT points FROM member WHERE id = 'nobody_seen'") == 20
    # Later days and a re-run pay nothing again.
    bot.say("bob", "再来", ts="2026-10-10T08:00:00+08:00")
    bot.time_passes("2026-10-11T08:00:00+08:00")
    assert len(referral_points(bot, "alice")) == 2
    assert referrals(bot, "2026-10-11T12:00:00+08:00", ROOM)["alice"] == {"stayed": 2, "spoke": 2}
    assert referrals(bot, "2026-10-11T12:00:00+08:00", "other@chatroom").get("alice") is None


def test_points_per_referral_come_from_the_settings(tmp_path):
    bot = Bot(tmp_path, referral_points=0)
    invited(bot, "bob", "alice", "2026-10-01T10:00:00+08:00")
    bot.say("bob", "谢谢邀请，很高兴加入", ts="2026-10-02T09:00:00+08:00")
    bot.say("bob", "一周了", ts="2026-10-12T09:00:00+08:00")
    assert referral_points(bot, "alice") == []


def test_invite_board_and_my_level_show_referrals(bot: Bot):
    bot.say("alice", "大家好", name="Alice", ts="2026-10-01T09:00:00+08:00")
    bot.say("zoe", "大家好", name="Zoe", ts="2026-10-01T09:01:00+08:00")
    for m in ("b1", "b2", "b3"):
        invited(bot, m, "alice", "2026-10-01T10:00:00+08:00")
    invited(bot, "z1", "zoe", "2026-10-01T10:00:00+08:00")
    bot.say("b1", "你好呀各位", ts="2026-10-01T11:00:00+08:00")
    board = texts(bot.say("carl", "邀请排行", ts="2026-10-01T12:00:00+08:00"))
    assert "本群邀请排行" in board
    assert board.index("Alice 3 人（1 人发过言）") < board.index("Zoe 1 人（0 人发过言）")
    assert texts(bot.say("carl", "/rank invites", ts="2026-10-01T12:01:00+08:00")) == board
    me = texts(bot.say("alice", "我的等级", ts="2026-10-01T12:02:00+08:00"))
    assert "你邀请的 3 位朋友还在群里，其中 1 位发过言" in me
    assert "你邀请的" not in texts(bot.say("carl", "我的等级", ts="2026-10-01T12:03:00+08:00"))
    assert "邀请（invites）" in texts(bot.say("carl", "/rank yesterday", ts="2026-10-01T12:04:00+08:00"))
