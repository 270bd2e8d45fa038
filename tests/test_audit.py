"""The audit log through the real pipeline: every manager and operator action is recorded with
who, when, where and what changed; failures, refusals and views are not; /audit shows them."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core import audit
from bot.core.scheduler import JobContext
from bot.features.audit.jobs import prune_audit
from tests.harness import ADMIN, ROOM, Bot, texts

OP = "wxid_op"
AT = "2026-11-02T10:00:00+08:00"


@pytest.fixture
def bot(tmp_path) -> Bot:
    b = Bot(tmp_path)
    b.say("wxid_a", "大家好", name="Alice", ts="2026-11-01T09:00:00+08:00")
    b.say(OP, "早", name="小运营")
    b.say(ADMIN, "在", name="管理员")
    return b


def log(bot: Bot) -> list[tuple]:
    return bot.rows('SELECT actor, place, room, action, detail, result FROM auditentry ORDER BY id')


# Each manager action of the issue, as typed, and the action it is recorded under.
ACTIONS = [
    ("/rule add keyword 意向 多少钱 lead=yes", "rule"),
    ("/tag wxid_a 老学员", "tag"),
    ("/untag wxid_a 老学员", "untag"),
    ("/points wxid_a +20 分享", "points"),
    ("/threshold login=3 speaking=5", "threshold"),
    ("/task add 早起打卡 triggers=早起打卡", "task"),
    ("/operator 小运营", "operator"),
    ("/grade wxid_a A 老客户", "grade"),
    ("/shop add 答疑券 30", "shop"),
    ("/welcome off", "welcome"),
]


@pytest.mark.parametrize(("typed", "action"), ACTIONS)
def test_each_manager_action_is_recorded(bot: Bot, typed: str, action: str):
    if action == "untag":
        bot.say(ADMIN, "/tag wxid_a 老学员", ts=AT)
    before = len(log(bot))
    reply = texts(bot.say(ADMIN, typed, ts=AT))
    [(actor, where, room, got, detail, result)] = log(bot)[before:]
    assert (actor, where, room, got, detail) == (ADMIN, "group", ROOM, action, typed)
    assert result == reply.removeprefix("@管理员 ").strip() or result in reply
    when = bot.scalar("SELECT max(at) FROM auditentry")
    assert when == int(datetime.fromisoformat(AT).timestamp())


def test_failures_refusals_and_views_are_not_actions(bot: Bot):
    assert "应为" in texts(bot.say(ADMIN, "/points wxid_a +abc 分享"))  # bad input
    assert "只有管理员" in texts(bot.say("wxid_a", "/tag wxid_a 老学员"))  # refused
    bot.say(ADMIN, "/rules")  # a view
    bot.say(ADMIN, "/audit")
    bot.say("wxid_a", "打卡")  # not a manager's command
    bot.say(ADMIN, "/shop")  # anyone's command, a view
    assert log(bot) == []


def test_private_chat_and_operator_actions(bot: Bot):
    bot.say(ADMIN, "/operator 小运营", ts=AT)
    bot.say(ADMIN, "/points wxid_a +5 私聊加分", room=None)
    bot.say(OP, "/report", room=None)  # issues a list: the operator's action
    rows = log(bot)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (ADMIN, "group", ROOM, "operator"), (ADMIN, "private", "", "points"), (OP, "private", "", "report")]


def test_audit_command_lists_latest_for_admins(bot: Bot):
    bot.say(ADMIN, "/tag wxid_a 老学员", ts=AT)
    bot.say(ADMIN, "/points wxid_a +20 分享", ts="2026-11-02T10:05:00+08:00")
    out = texts(bot.say(ADMIN, "/audit 1"))
    assert "最近 1 条操作记录" in out
    assert "11-02 10:05 wxid_admin（读书群）/points wxid_a +20 分享 → 已为 Alice 加 20 分（分享），1 → 21 分。" in out
    assert "/tag" not in out
    assert "/tag wxid_a 老学员" in texts(bot.say(ADMIN, "操作记录"))
    assert "只有管理员" in texts(bot.say(OP, "/audit"))
    assert "条数应为 1 到 50 之间的整数" in texts(bot.say(ADMIN, "/audit 500"))


def test_record_api_for_other_features(tmp_path):
    bot = Bot(tmp_path)
    with bot.engine.begin() as conn:
        audit.record(conn, at=datetime.fromisoformat(AT), actor="wxid_a", where=audit.PRIVATE,
                     action="delete_request", result="删除了 TA 的数据")
        with pytest.raises(ValueError):
            audit.record(conn, at=0, actor="x", where="chat", action="x")
    with bot.engine.connect() as conn:
        [e] = audit.entries(conn, audit.AuditQuery(action="delete_request"))
    assert (e.actor, e.place, e.result) == ("wxid_a", "private", "删除了 TA 的数据")


@pytest.mark.parametrize(("days", "kept"), [(365, ["recent", "a year less a day"]),
                                            (0, ["old", "a year less a day", "recent"])])
def test_the_audit_log_is_pruned_after_its_retention(tmp_path, days, kept):
    """Before: the audit log was never pruned (a flood of failed logins stayed forever)."""
    bot = Bot(tmp_path, audit_retention_days=days)
    now = datetime.fromisoformat("2027-11-02T04:40:00+08:00")
    with bot.engine.begin() as conn:
        for what, age in (("old", 366), ("a year less a day", 364), ("recent", 1)):
            audit.record(conn, at=int(now.timestamp()) - age * 86400, actor=ADMIN, where=audit.PRIVATE,
                         action="note", result=what)
    note = prune_audit(JobContext(bot.deps, frozenset()), now)
    assert note == ("audit retention off" if not days else "audit entries older than 365 days deleted: 1")
    assert sorted(r[0] for r in bot.rows("SELECT result FROM auditentry")) == sorted(kept)
