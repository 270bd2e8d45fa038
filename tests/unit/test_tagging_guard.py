"""The guard's rules (tagging.guard) and the FAQ's syntax (tagging.faq): pure tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tagging import guard
from tagging.faq import FaqSyntaxError, may_answer, parse_faq

NOW = datetime(2026, 11, 2, 10, 0)


@pytest.mark.parametrize(("text", "rule"), [
    ("加V领资料 wx12345", guard.BAIT),
    ("加 v 私聊送课", guard.BAIT),
    ("+V: abc123", guard.BAIT),
    ("需要的私我", guard.BAIT),
    ("加微信 领取优惠", guard.BAIT),
    ("我的vx是abc", guard.BAIT),
    ("薇信同号", guard.BAIT),
    ("看这里 https://a.example.com/x", guard.LINK),
    ("www.example.com 有惊喜", guard.LINK),
    ("领取地址 shop123.top", guard.LINK),
    ("今天读了 20 页", None),
    ("谢谢张薇老师", None),  # a name with 薇 is not bait
    ("Python 3.11 真好用", None),
    ("打卡 第3天", None),
])
def test_text_rules(text, rule):
    assert guard.broken_rule(guard.Post(text=text)) == rule


def test_kinds_codes_and_order():
    assert guard.broken_rule(guard.Post(text="", kind="image", qr=("x",))) == guard.QR
    assert guard.broken_rule(guard.Post(text="", kind="image")) is None
    assert guard.broken_rule(guard.Post(text="", kind="contact")) == guard.CARD
    assert guard.broken_rule(guard.Post(text="", kind="mini_program")) == guard.CARD
    assert guard.broken_rule(guard.Post(text="", kind="link")) == guard.LINK
    # The most telling rule wins: bait with a link is bait.
    assert guard.broken_rule(guard.Post(text="加V看 https://x.example.com")) == guard.BAIT


def test_a_link_in_the_first_hour():
    joined = NOW - timedelta(minutes=30)
    assert guard.broken_rule(guard.Post(text="www.example.com", at=NOW, joined_at=joined)) == guard.NEW_LINK
    old = NOW - timedelta(hours=2)
    assert guard.broken_rule(guard.Post(text="www.example.com", at=NOW, joined_at=old)) == guard.LINK


def test_flood_needs_three_rooms_and_a_real_sentence():
    assert guard.broken_rule(guard.Post(text="全场五折快来看看", same_text_rooms=3)) == guard.FLOOD
    assert guard.broken_rule(guard.Post(text="全场五折快来看看", same_text_rooms=2)) is None
    assert guard.broken_rule(guard.Post(text="收到", same_text_rooms=5)) is None


def test_ad_words():
    assert guard.broken_rule(guard.Post(text="诚邀 代理 招募"), ["代理招募"]) == guard.PATTERN
    assert guard.broken_rule(guard.Post(text="今天天气好"), ["代理招募"]) is None


@pytest.mark.parametrize(("hits", "total", "broad"), [(6, 10, True), (5, 10, False), (9, 9, False), (0, 0, False)])
def test_too_broad(hits, total, broad):
    assert guard.too_broad(hits, total) is broad


def test_strikes_and_warnings():
    assert not guard.removes(1) and guard.removes(2)
    text = guard.warning_text(guard.LINK, 1)
    assert "发链接" in text and "第 1 次提醒" in text and "再有 1 次将被移出本群" in text and "申诉" in text


def test_faq_syntax():
    assert parse_faq("几点开课,上课时间 每晚 8 点开课") == (("几点开课", "上课时间"), "每晚 8 点开课")
    assert parse_faq("回放在哪\n在群公告里\n第二行") == (("回放在哪",), "在群公告里\n第二行")
    assert parse_faq("VIP、会员 找客服") == (("vip", "会员"), "找客服")
    for bad in ("", "几点开课", "课 每晚", "几点,开课! 答"):
        with pytest.raises(FaqSyntaxError):
            parse_faq(bad)


def test_cooldown():
    assert may_answer(None, NOW)
    assert not may_answer(NOW - timedelta(minutes=9), NOW)
    assert may_answer(NOW - timedelta(minutes=10), NOW)
