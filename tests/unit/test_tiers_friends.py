"""Private-account rules (pure): which requests are accepted, welcome texts, 进群, timing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tagging.rules import RuleSyntaxError, format_rule_args, parse_rule
from tiers.friends import (
    AcceptRule,
    ChannelPlan,
    accepts,
    may_invite_again,
    not_in_group_yet,
    parse_friend_settings,
    wants_group,
    welcome_text,
)

T = datetime(2026, 11, 2, 10, 0)


@pytest.mark.parametrize(("mode", "hello", "expected"), [
    ("keyword", "我是从抖音直播来的，想报名", True),
    ("keyword", "想了解一下课程", True),
    ("keyword", "你好", False),
    ("keyword", None, False),
    ("keyword", "", False),
    ("all", None, True),
    ("off", "想报名", False),
])
def test_accepts(mode, hello, expected):
    assert accepts(AcceptRule(mode, ("课程", "报名", "直播")), hello) is expected


def test_welcome_text_names_the_group_once():
    assert welcome_text(ChannelPlan("你好 {name}！"), "Amy", None) == "你好 Amy！"
    text = welcome_text(ChannelPlan("你好 {name}！"), "Amy", "读书群")
    assert text.startswith("你好 Amy！\n") and text.endswith("我拉你进「读书群」，大家都在里面交流、打卡～")
    assert welcome_text(ChannelPlan("{name}，进「{group}」吧"), "Amy", "读书群") == "Amy，进「读书群」吧"


@pytest.mark.parametrize(("text", "expected"), [
    ("进群", True), ("加群！", True), (" 拉我进群 ", True), ("我想进群聊聊", False), ("群", False)])
def test_wants_group(text, expected):
    assert wants_group(text) is expected


def test_reinvite_once_a_day_and_not_in_group_after_3_days():
    assert may_invite_again(None, T)
    assert not may_invite_again(T, T + timedelta(hours=23))
    assert may_invite_again(T, T + timedelta(days=1))
    assert not not_in_group_yet(T, False, T + timedelta(days=2, hours=23))
    assert not_in_group_yet(T, False, T + timedelta(days=3))
    assert not not_in_group_yet(T, True, T + timedelta(days=9))


@pytest.mark.parametrize(("table", "key"), [
    ({"auto_accept": "sometimes"}, "auto_accept"),
    ({"keywords": "课程"}, "keywords"),
    ({"invite": "qr"}, "invite"),
    ({"accept_per_day": 0}, "accept_per_day"),
    ({"welcome": "很" * 301}, "welcome"),
    ({"channels": {"来源-抖音": "抖音群"}}, "channels"),
    ({"greeting": "hi"}, "greeting"),
])
def test_settings_errors_name_the_key(table, key):
    with pytest.raises(ValueError, match=key):
        parse_friend_settings(table)


def test_a_channel_plan_falls_back_to_the_default():
    s = parse_friend_settings({"group": "读书群", "channels": {"来源-抖音": {"welcome": "嗨 {name}"}},
                               "accounts": {"wxid_shop": {"auto_accept": "all"}}})
    assert s.plan("来源-抖音") == ChannelPlan("嗨 {name}", "读书群", None)
    assert s.plan(None).group == "读书群" and s.rule_for("wxid_shop").mode == "all"
    assert s.rule_for("wxid_other").mode == "keyword"


def test_on_hello_rules_parse_round_trip_and_refuse_what_a_greeting_cannot_have():
    rule = parse_rule(["keyword", "来源-抖音", "抖音,直播间"], {"on": "hello"})
    assert rule.on == "hello" and "好友申请" in rule.describe()
    assert format_rule_args(rule)[-1] == "on=hello"
    with pytest.raises(RuleSyntaxError, match="hits"):
        parse_rule(["keyword", "来源", "抖音"], {"on": "hello", "hits": "2"})
    with pytest.raises(RuleSyntaxError, match="on=hello"):
        parse_rule(["keyword", "来源", "抖音"], {"on": "greet"})
