"""群规: a manager sets a room's rules, newcomers get them under the welcome, anyone asks 「群规」."""

from __future__ import annotations

from tests.harness import ADMIN, ROOM, Bot, texts

T = "2026-11-02T10:00:{:02d}+08:00"
RULES = "1. 友善交流，不发广告\n2. 每天 21 点前打卡 = 积分"


def test_a_manager_sets_the_rules_and_newcomers_get_them_with_the_welcome(bot: Bot):
    assert texts(bot.say("wxid_m", "群规", ts=T.format(0))) == "本群还没有群规。"
    out = bot.say(ADMIN, f"设置群规 {RULES}", ts=T.format(1))
    assert "已设置群规" in texts(out) and RULES in texts(out)
    bot.join("wxid_bob", name="Bob", ts=T.format(2))
    [w] = [o for o in bot.time_passes(T.format(6)) if "欢迎" in o.text]
    assert w.room == ROOM and "Bob" in w.text and w.text.endswith(f"📋 本群群规：\n{RULES}")
    assert texts(bot.say("wxid_bob", "群规", ts=T.format(7))) == f"📋 本群群规：\n{RULES}"
    # Another room has its own (none).
    assert texts(bot.say("wxid_bob", "群规", room="r2@chatroom", ts=T.format(8))) == "本群还没有群规。"


def test_rules_are_changed_and_cleared_only_by_managers(bot: Bot):
    assert "只有管理员" in texts(bot.say("wxid_m", "设置群规 不许说话", ts=T.format(0)))
    assert "已设置群规" in texts(bot.say(ADMIN, "/grouprules set 第一条", ts=T.format(1)))
    assert "只有管理员" in texts(bot.say("wxid_m", "/grouprules off", ts=T.format(2)))
    assert texts(bot.say("wxid_m", "/grouprules", ts=T.format(3))) == "📋 本群群规：\n第一条"
    assert texts(bot.say(ADMIN, "删除群规", ts=T.format(4))) == "已删除本群群规。"
    assert texts(bot.say(ADMIN, "删除群规", ts=T.format(5))) == "本群本来就没有群规。"
    bot.join("wxid_bob", name="Bob", ts=T.format(6))
    [w] = [o for o in bot.time_passes(T.format(10)) if "欢迎" in o.text]
    assert "群规" not in w.text


def test_mistakes_get_a_line_saying_how(bot: Bot):
    assert "请写出群规" in texts(bot.say(ADMIN, "设置群规", ts=T.format(0)))
    assert "最多 1000 字" in texts(bot.say(ADMIN, "设置群规 " + "长" * 1001, ts=T.format(1)))
    assert "请在群里" in texts(bot.say("wxid_m", "群规", room=None, ts=T.format(2)))
    assert "不认识" in texts(bot.say("wxid_m", "群规 什么", ts=T.format(3)))
    assert texts(bot.say("wxid_m", "群规", ts=T.format(4))) == "本群还没有群规。"  # nothing was stored
