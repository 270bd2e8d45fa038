"""A rule changed by a command applies from the next message on, wherever batches split."""

from __future__ import annotations

import itertools

import pytest

from tests.harness import ADMIN, ROOM, Bot

_ids = itertools.count(1)


def line(sender: str, text: str, minute: int) -> dict:
    return {"type": "message", "id": f"b{next(_ids)}", "ts": f"2026-11-20T10:{minute:02d}:00+08:00",
            "room": ROOM, "room_name": "读书群", "sender": sender, "sender_name": sender,
            "text": text, "mentions": []}


def replay(bot: Bot, lines: list[dict], split: bool) -> None:
    """All lines in one batch, or each line in a batch of its own."""
    if split:
        for ev in lines:
            bot.feed(ev)
    else:
        bot.feed(*lines)


def tags_of(bot: Bot, member: str) -> list[tuple]:
    return bot.rows("SELECT tag, source FROM membertag WHERE member=:m ORDER BY tag", m=member)


BATCHES = pytest.mark.parametrize("split", [False, True], ids=["one batch", "a batch per line"])


@BATCHES
def test_a_keyword_rule_tags_the_next_message(bot: Bot, split: bool):
    replay(bot, [line(ADMIN, "/rule add keyword 价 价格", 0),
                 line("a", "这个价格能便宜点吗", 1)], split)
    assert tags_of(bot, "a") == [("价", "keyword")]


@BATCHES
def test_a_keyword_rule_does_not_tag_messages_before_it(bot: Bot, split: bool):
    replay(bot, [line("b", "这个价格能便宜点吗", 0),
                 line(ADMIN, "/rule add keyword 价 价格", 1),
                 line("a", "价格多少", 2)], split)
    assert tags_of(bot, "a") == [("价", "keyword")] and tags_of(bot, "b") == []


@BATCHES
def test_a_rule_still_applies_after_other_commands_read_the_rules(bot: Bot, split: bool):
    replay(bot, [line("c", "大家好", 0),
                 line(ADMIN, "/rule add keyword 价 价格", 1),
                 line(ADMIN, "/rules", 2),  # reads the rule set too
                 line("a", "这个价格能便宜点吗", 3)], split)
    assert tags_of(bot, "a") == [("价", "keyword")]


@BATCHES
def test_a_deleted_rule_stops_tagging_the_next_message(bot: Bot, split: bool):
    bot.say(ADMIN, "/rule add keyword 价 价格", ts="2026-11-20T09:00:00+08:00")
    replay(bot, [line("b", "价格多少", 0),
                 line(ADMIN, "/rule del 1", 1),
                 line("a", "这个价格能便宜点吗", 2)], split)
    assert tags_of(bot, "a") == [] and tags_of(bot, "b") == []


@BATCHES
def test_a_count_rule_counts_from_the_next_message(bot: Bot, split: bool):
    replay(bot, [line("a", "早上好", 0),
                 line(ADMIN, "/rule add count 活跃 3 7", 1),
                 line("b", "大家好", 2),
                 line("a", "今天读完了", 3),
                 line("a", "明天继续", 4)], split)
    # The count covers the whole window, also what was said before the rule.
    assert tags_of(bot, "a") == [("活跃", "count")]
    assert tags_of(bot, "b") == []
    assert bot.rows("SELECT count FROM membertag WHERE member='a'") == [(3,)]


@BATCHES
def test_a_deleted_count_rule_stops_counting(bot: Bot, split: bool):
    bot.say(ADMIN, "/rule add count 活跃 2 7", ts="2026-11-20T09:00:00+08:00")
    replay(bot, [line("a", "早上好", 0),
                 line(ADMIN, "/rule del 1", 1),
                 line("a", "今天读完了", 2)], split)
    assert tags_of(bot, "a") == []


@BATCHES
def test_a_count_rule_added_again_mid_batch_sees_every_message(bot: Bot, split: bool):
    bot.say(ADMIN, "/rule add count 活跃 3 7", ts="2026-11-20T09:00:00+08:00")
    replay(bot, [line("a", "第一条", 0),
                 line(ADMIN, "/rule add count 话痨 4 7", 1),
                 line("a", "第二条", 2),
                 line("a", "第三条", 3),
                 line("a", "第四条", 4)], split)
    assert tags_of(bot, "a") == [("活跃", "count"), ("话痨", "count")]
    assert dict(bot.rows("SELECT tag, count FROM membertag WHERE member='a'")) == {"活跃": 4, "话痨": 4}
