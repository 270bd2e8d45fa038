"""A count rule's tag given to many members at once (one statement for a batch's members, outside
an exclusive group) does what giving it one by one did: a tag a manager gave stays theirs, and a
tag the member already held keeps the day they first got it."""

from __future__ import annotations

from datetime import datetime

from tests.harness import ADMIN, Bot


def _tag(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT source, by, since FROM membertag WHERE member = 'wxid_a' AND tag = '活跃'")


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def test_a_count_rule_never_takes_over_a_tag_a_manager_gave(bot: Bot):
    bot.say("wxid_a", "大家好", name="Alice", ts="2026-11-20T09:00:00+08:00")
    bot.say(ADMIN, "/tag wxid_a 活跃", ts="2026-11-20T09:01:00+08:00")
    [(source, by, since)] = _tag(bot)
    assert (source, by) == ("manual", ADMIN)
    bot.say(ADMIN, "/rule add count 活跃 2 3")
    bot.say("wxid_a", "一起读", name="Alice", ts="2026-11-20T10:00:00+08:00")
    bot.say("wxid_a", "二刷了", name="Alice", ts="2026-11-20T10:05:00+08:00")  # the rule holds now
    assert _tag(bot) == [("manual", ADMIN, since)]


def test_a_count_rule_keeps_the_since_of_the_tag_the_member_held(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 活跃 读书", ts="2026-11-20T09:00:00+08:00")
    bot.say("wxid_a", "今天读书了", name="Alice", ts="2026-11-20T10:00:00+08:00")
    assert _tag(bot) == [("keyword", None, _epoch("2026-11-20T10:00:00+08:00"))]
    bot.say(ADMIN, "/rule add count 活跃 2 3", ts="2026-11-20T10:01:00+08:00")
    bot.say("wxid_a", "二刷了", name="Alice", ts="2026-11-20T10:05:00+08:00")  # the count rule holds
    assert _tag(bot) == [("count", None, _epoch("2026-11-20T10:00:00+08:00"))]
