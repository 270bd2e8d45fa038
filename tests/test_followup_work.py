"""Working the follow-up list through the real pipeline and the real daily job: the daily cap
and the order, who never appears, members told apart, where a lead was said, snooze,
reassign, age, escalation to the admins, notes and the member's history (/profile)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bot.core.events import parse_event
from bot.core.scheduler import JobContext
from bot.features.followup.jobs import daily_followup
from bot.features.followup.service import current_lists
from tests.harness import ADMIN, NOT_AFTER, Bot, texts

OP = "wxid_op"
OP2 = "wxid_op2"
BOT_ID = "wxid_bot"
MORNING = datetime.fromisoformat("2026-11-20T09:00:00+08:00")


def run_daily(bot: Bot, at: datetime) -> dict[str, str]:
    """The real daily job at `at`: each operator's DMs, joined, by operator."""
    start = bot.scalar("SELECT coalesce(max(id), 0) FROM outbox")
    daily_followup(JobContext(bot.deps, frozenset({BOT_ID})), at)
    out: dict[str, str] = {}
    for to, text in bot.rows("SELECT \"to\", text FROM outbox WHERE id > :s AND room IS NULL ORDER BY id", s=start):
        out[to] = (out[to] + "\n" + text) if to in out else text
    return out


def line_of(text: str, n: int) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"{n}. "))


@pytest.fixture
def bot(tmp_path) -> Bot:
    b = Bot(tmp_path)
    b.join(OP, ts="2026-09-01T10:00:00+08:00", name="小运营")
    b.join(OP2, ts="2026-09-01T10:00:00+08:00", name="小李")
    b.join(BOT_ID, ts="2026-09-01T10:00:00+08:00", name="群管机器人")
    b.say(ADMIN, "/operator @小运营", mentions=[OP], ts="2026-09-01T10:05:00+08:00")
    b.say(ADMIN, "/operator @小李", mentions=[OP2], room="r2@chatroom", ts="2026-09-01T10:06:00+08:00")
    return b


def fading(bot: Bot, member: str) -> None:
    """Present every other day in October, then gone: a churn risk on Nov 20."""
    bot.join(member, ts="2026-09-01T10:00:00+08:00", name=member)
    for day in range(0, 30, 2):
        bot.visit(member, ts=(datetime.fromisoformat("2026-10-10T08:00:00+08:00") + timedelta(days=day)).isoformat())


def test_the_cap_and_the_order(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 意向 多少钱 lead=yes", ts="2026-11-01T09:00:00+08:00")
    fading(bot, "vip")
    fading(bot, "plain")
    bot.say(ADMIN, "/grade vip A 老客户", ts="2026-11-01T09:10:00+08:00")
    bot.join("asker", ts="2026-09-01T10:00:00+08:00", name="asker")
    for i in range(25):
        bot.join(f"newbie{i:02d}", name=f"新朋友{i:02d}", ts="2026-11-12T10:00:00+08:00")
    bot.say("asker", "训练营多少钱？", name="asker", ts="2026-11-19T20:00:00+08:00")
    # The operators and the bot talk too, and the operator and the bot even have reasons to be listed.
    for who in (OP, BOT_ID, ADMIN):
        bot.say(who, "这个多少钱", name=who, ts="2026-11-19T21:00:00+08:00")
    dms = run_daily(bot, MORNING)
    text = dms[OP]
    assert "（共 28 项）" in text  # 1 lead + 2 churn + 25 newcomers
    # The link logs that operator in on their list (tests/web/test_people.py follows it).
    assert re.search(r"另有 8 项，见控制台：http://127\.0\.0\.1:8080/login/link/[\w-]{32}$", text, re.M)
    assert bot.rows("SELECT member, next_path FROM loginlink") == [(OP, "/followup?operator=wxid_op")]
    assert "21. " not in text and "20. " in text
    assert "1. asker（读书群）" in line_of(text, 1) and "意向线索" in text.split("1. ")[0]
    assert "【流失预警（A/B 级客户）】\n2. vip（读书群）" in text
    assert line_of(text, 3).startswith("3. 新朋友")
    # The rest is in the console in the same order: the plain churn after the 25 newcomers.
    kinds = bot.rows("SELECT n, kind, member FROM followupitem i JOIN followuplist l ON l.id = i.list_id "
                     "WHERE l.operator = :op ORDER BY n", op=OP)
    assert [k for _, k, _ in kinds[:3]] == ["lead", "churn_risk", "new_silent"]
    assert kinds[27][1:] == ("churn_risk", "plain") and len(kinds) == 28
    listed = {m for _, _, m in kinds}
    assert not listed & {OP, BOT_ID, ADMIN}  # never the operator, the bot or the admins
    # An operator's own cap.
    assert "最多 30 项" in texts(bot.say(ADMIN, "/operator @小运营 cap=30", mentions=[OP]))
    assert "应为 1 到 200 之间的整数" in texts(bot.say(ADMIN, "/operator @小运营 cap=0", mentions=[OP]))
    assert "本群运营：wxid_op（每天 30 项）" in texts(bot.say(ADMIN, "/operators"))  # renamed above
    text = texts(bot.pipeline.process_batch([parse_event(
        {"type": "message", "id": "report1", "ts": MORNING.isoformat(), "sender": OP, "sender_name": "小运营",
         "text": "/report"}, not_after=NOT_AFTER)], bot_ids=frozenset({BOT_ID})))
    assert "另有" not in text and "28. " in text and "群管机器人" not in text


def test_an_operator_never_sees_themselves_but_sees_other_operators(bot: Bot):
    bot.join(OP2, ts="2026-11-12T10:00:00+08:00", name="小李")  # a newcomer in r1 too
    bot.join(OP, room="r2@chatroom", ts="2026-11-12T10:00:00+08:00", name="小运营")
    dms = run_daily(bot, MORNING)
    assert "小李" in dms[OP] and "小运营（" not in dms[OP]
    assert "小运营" in dms[OP2] and "小李（" not in dms[OP2]


def test_members_with_the_same_name_are_told_apart(bot: Bot):
    for m in ("wxid_mu_a1b2", "wxid_mu_c3d4", "wxid_mu_e5f6"):
        bot.join(m, name="木子", ts="2026-11-12T10:00:00+08:00")
    bot.roster([{"id": "wxid_mu_a1b2", "name": "木子", "room_alias": "木子-上海"},
                {"id": "wxid_mu_c3d4", "name": "木子", "room_alias": "木子-北京"},
                {"id": "wxid_mu_e5f6", "name": "木子"}, OP], ts="2026-11-13T10:00:00+08:00")
    text = run_daily(bot, MORNING)[OP]
    assert "木子［群昵称：木子-上海］" in text and "木子［群昵称：木子-北京］" in text
    assert "木子［id 尾号 e5f6］" in text


def test_a_lead_names_where_it_was_said(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 意向 多少钱 lead=yes", ts="2026-11-01T09:00:00+08:00")
    bot.join("dm_asker", name="私聊客户", ts="2026-09-01T10:00:00+08:00")
    bot.join("other_asker", name="二群客户", ts="2026-09-01T10:00:00+08:00")
    bot.join("other_asker", room="r2@chatroom", name="二群客户", ts="2026-09-01T10:00:00+08:00")
    bot.say("dm_asker", "请问训练营多少钱", name="私聊客户", room=None, ts="2026-11-19T20:00:00+08:00")
    bot.say("other_asker", "多少钱呀", name="二群客户", room="r2@chatroom", ts="2026-11-19T20:05:00+08:00")
    text = run_daily(bot, MORNING)[OP]
    assert "私聊客户（私聊）" in text and "二群客户（r2@chatroom）" in text
    assert bot.rows("SELECT room FROM followupcase WHERE member = 'dm_asker'") == [("",)]


def newcomers(bot: Bot, n: int) -> None:
    for i in range(n):
        bot.join(f"nb{i}", name=f"新人{i}", ts="2026-11-12T10:00:00+08:00")


def test_snooze_an_item(bot: Bot):
    newcomers(bot, 2)
    first = run_daily(bot, MORNING)[OP]
    assert "1. 新人0" in first
    out = texts(bot.say(OP, name="小运营", text="稍后 1 2", room=None, ts="2026-11-20T10:00:00+08:00"))
    assert "第 1 项先放一放，2 天后（11-22）再出现在清单上。" in out
    day2 = run_daily(bot, MORNING + timedelta(days=1))[OP]
    assert "新人0" not in day2 and "新人1" in day2
    day3 = run_daily(bot, MORNING + timedelta(days=2))[OP]
    # its age is in days since it was first listed (11-20), snoozed days included: both wait 3 days
    assert "新人0" in line_of(day3, 1) and "〔第 3 天未跟进〕" in line_of(day3, 1)
    assert "新人1" in line_of(day3, 2) and "〔第 3 天未跟进〕" in line_of(day3, 2)


@pytest.mark.parametrize(("typed", "mentions", "answer"), [
    ("稍后 9 2", [], "清单上没有第 9 项（编号 1–2）。没有改动任何事项。"),
    ("稍后 1 99", [], "天数应为 1 到 30 之间的整数"),
    ("稍后", [], "请写出清单上的编号和天数"),
    ("转给 @小李\u2005 9", [OP2], "清单上没有第 9 项（编号 1–2）。没有改动任何事项。"),
    ("转给 @新人1\u2005 1", ["nb1"], "新人1 不是运营，不能接手跟进"),
    ("转给 @小运营\u2005 1", [OP], "不能转给自己"),
    ("转给 @小李\u2005", [OP2], "请写出要转出的编号"),
])
def test_bad_snoozes_and_reassignments_change_nothing(bot: Bot, typed: str, mentions: list[str], answer: str):
    newcomers(bot, 2)
    run_daily(bot, MORNING)
    before = bot.rows("SELECT * FROM followupcase ORDER BY member")
    out = texts(bot.say(OP, typed, name="小运营", mentions=mentions, room=None, ts="2026-11-20T10:00:00+08:00"))
    assert answer in out
    assert bot.rows("SELECT * FROM followupcase ORDER BY member") == before
    assert bot.scalar("SELECT count(*) FROM auditentry WHERE action IN ('snooze', 'reassign')") == 0


def test_reassign_an_item_to_another_operator(bot: Bot):
    newcomers(bot, 2)
    run_daily(bot, MORNING)
    replies = bot.say(OP, name="小运营", text="转给 @小李\u2005 2", mentions=[OP2], room=None,
                      ts="2026-11-20T10:00:00+08:00")
    assert "第 2 项已转给 小李，从 TA 明天的清单起由 TA 跟进。" in texts(replies)
    assert any(r.to == OP2 and "小运营 把 1 项跟进转给了你：新人1" in r.text for r in replies)
    dms = run_daily(bot, MORNING + timedelta(days=1))
    assert "新人1" not in dms[OP] and "新人0" in dms[OP]
    assert "新人1（读书群）〔第 2 天未跟进〕" in dms[OP2]  # r1 is not even one of 小李's rooms
    n = line_of(dms[OP2], 1)[0]
    assert "已记录第 1 项的跟进" in texts(bot.say(OP2, name="小李", text=f"已跟进 {n} 打过招呼了", room=None,
                                               ts="2026-11-21T10:00:00+08:00"))
    assert "新人1" not in run_daily(bot, MORNING + timedelta(days=2)).get(OP2, "")


def test_items_not_done_escalate_to_the_admins_once(bot: Bot):
    newcomers(bot, 2)
    for day in range(3):
        dms = run_daily(bot, MORNING + timedelta(days=day))
        assert ADMIN not in dms  # every room has an operator: nothing for the admins yet
    bot.say(OP, name="小运营", text="已跟进 2", room=None, ts="2026-11-22T10:00:00+08:00")
    dms = run_daily(bot, MORNING + timedelta(days=3))
    assert "〔第 4 天未跟进〕" in dms[OP]
    admin = dms[ADMIN]
    assert "【超期未跟进（已转给管理员）】" in admin
    assert "1. 新人0（读书群）〔第 4 天未跟进〕〔原负责人：小运营〕" in admin and "新人1" not in admin
    with bot.engine.connect() as conn:  # the console shows the admin's list too
        [shown] = [ol for ol in current_lists(conn, bot.deps, MORNING + timedelta(days=3, hours=1))
                   if ol.operator == ADMIN]
    assert [(i.member, i.age, i.escalated_from) for i in shown.items] == [("nb0", 4, "小运营")]
    dms = run_daily(bot, MORNING + timedelta(days=4))
    assert ADMIN not in dms and "〔第 5 天未跟进〕" in dms[OP]  # once


def test_escalation_days_are_a_setting(tmp_path):
    b = Bot(tmp_path, followup_escalate_days=1)
    b.join(OP, ts="2026-09-01T10:00:00+08:00", name="小运营")
    b.say(ADMIN, "/operator @小运营", mentions=[OP], ts="2026-09-01T10:05:00+08:00")
    newcomers(b, 1)
    assert ADMIN not in run_daily(b, MORNING)
    admin = run_daily(b, MORNING + timedelta(days=1))[ADMIN]
    assert "新人0" in admin
    assert "已记录第 1 项的跟进" in texts(b.say(ADMIN, "已跟进 1 我来", room=None, ts="2026-11-21T10:00:00+08:00"))
    assert "新人0" not in run_daily(b, MORNING + timedelta(days=2)).get(OP, "")


def test_notes_history_and_profile(bot: Bot):
    newcomers(bot, 1)
    run_daily(bot, MORNING)
    bot.say(OP, name="小运营", text="已跟进 1 发了欢迎", room=None, ts="2026-11-20T10:00:00+08:00")
    out = texts(bot.say(OP, name="小运营", text="备注 @新人0\u2005 想了解训练营，下周再聊", mentions=["nb0"],
                        ts="2026-11-20T11:00:00+08:00"))
    assert "已记下对 新人0 的备注" in out
    assert "请写出备注内容" in texts(bot.say(OP, name="小运营", text="备注 @新人0\u2005", mentions=["nb0"]))
    assert "只有运营" in texts(bot.say("nb0", name="新人0", text="/profile @新人0\u2005", mentions=["nb0"]))
    profile = texts(bot.say(OP, name="小运营", text="客户档案 @新人0\u2005", mentions=["nb0"], room=None,
                            ts="2026-11-20T12:00:00+08:00"))
    assert "📇 新人0 的客户档案（id 尾号 nb0）" in profile and "所在群：读书群" in profile
    assert "· 11-20 11:00 小运营 备注：想了解训练营，下周再聊" in profile
    assert "· 11-20 10:00 小运营 已跟进「新人破冰」：发了欢迎" in profile
    actions = [a for (a,) in bot.rows("SELECT action FROM auditentry WHERE actor = :op ORDER BY id", op=OP)]
    assert actions == ["done", "note"]  # /profile only looked


def test_an_event_not_done_stays_for_30_days_then_leaves(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 意向 多少钱 lead=yes", ts="2026-11-01T09:00:00+08:00")
    bot.join("asker", name="asker", ts="2026-09-01T10:00:00+08:00")
    bot.say("asker", "训练营多少钱？", name="asker", ts="2026-11-19T20:00:00+08:00")
    assert "1. asker（读书群）" in run_daily(bot, MORNING)[OP]
    # lists on day 1 and day 30: it has waited 30 days (it used to say 第 2 天, counting lists)
    assert "1. asker（读书群）〔第 30 天未跟进〕" in run_daily(bot, MORNING + timedelta(days=29))[OP]
    assert "asker" not in run_daily(bot, MORNING + timedelta(days=30))[OP]
