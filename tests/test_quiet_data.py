"""Quiet groups: the median split needs a floor; members read their activity, not a label."""

from __future__ import annotations

from tests.harness import ADMIN, Bot, texts


def quiet_group(bot: Bot) -> None:
    """Four members there before the bot; in a month one says two things on two days."""
    bot.roster([ADMIN, "wxid_a", "wxid_b", "wxid_c", "wxid_d"], ts="2026-10-01T09:00:00+08:00")
    bot.say("wxid_a", "请问这周读哪本", ts="2026-11-10T10:00:00+08:00")
    bot.say("wxid_a", "好的谢谢群主", ts="2026-11-12T10:00:00+08:00")


def test_two_messages_do_not_make_a_core_member(bot: Bot):
    quiet_group(bot)
    reply = texts(bot.say(ADMIN, "/tiers", ts="2026-11-20T10:00:00+08:00"))
    assert "核心成员：0 人" in reply
    # The admin turned up today too: both are below the floor of 3 days and 5 messages.
    assert "登录 ≥3 天、发言 ≥5 条为高" in reply
    who = texts(bot.say(ADMIN, "/who 沉默"))
    assert "wxid_a：登录 2 天，发言 2 条" in who


def test_the_floor_is_configurable(tmp_path):
    bot = Bot(tmp_path, type_floor_login=1, type_floor_speaking=1)
    quiet_group(bot)
    reply = texts(bot.say(ADMIN, "/tiers", ts="2026-11-20T10:00:00+08:00"))
    assert "核心成员：1 人" in reply


def test_members_read_their_activity_and_managers_the_type(bot: Bot):
    quiet_group(bot)
    [me] = bot.say("wxid_a", "我的等级", ts="2026-11-20T10:00:00+08:00")
    assert "最近 30 天来了 3 天，发言 2 条" in me.text
    assert "沉默" not in me.text and "中位数" not in me.text and "下限" not in me.text
    [me] = bot.say(ADMIN, "我的等级")
    assert "（管理员可见）" in me.text and "下限" in me.text
