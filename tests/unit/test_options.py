"""The shared chat-option parser: real command lines, its Chinese errors, and that any text
gives either Options or a UsageError (`check_parse_never_crashes`, reusable by a soak run)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import UsageError
from bot.core.options import (
    MAX_TEXT,
    MAX_TOKENS,
    MemberRef,
    Options,
    Token,
    int_between,
    non_negative_int,
    parse,
    positive_int,
    tokenize,
)

PROPERTY = settings(database=None, deadline=None, max_examples=300)
ROOT = Path(__file__).resolve().parents[2]
M = "\u2005"  # what WeChat writes after a mention

# The option keys and flags the commands use today (bot/commands/*.py, tagging/rules.py).
RULE = {
    "keys": {"mode": "mode", "模式": "mode", "hits": "hits", "次数": "hits", "days": "days", "天数": "days",
             "expire": "expire", "失效": "expire", "lead": "lead", "线索": "lead", "group": "group",
             "组": "group", "分组": "group", "rooms": "rooms", "群": "rooms", "范围": "rooms"},
    "flags": {"lead": "lead", "线索": "lead"},
}
TASK = {"keys": {"triggers": "triggers", "触发词": "triggers", "window": "window", "时间": "window",
                 "points": "points", "积分": "points", "days": "days", "天数": "days"}}
THRESHOLD = {
    "keys": {"login": "login", "登录": "login", "speaking": "speaking", "发言": "speaking",
             "window": "window", "窗口": "window"},
    "flags": {"median": "median", "中位数": "median"},
}
ONE_MEMBER = {"member_args": 1}


def args_of(line: str) -> str:
    """The text after the command word, untouched (no strip: that would eat a final U+2005)."""
    return line.partition(" ")[2]


def mention(text: str, wxid: str) -> MemberRef:
    return MemberRef("mention", text, wxid)


def name(text: str) -> MemberRef:
    return MemberRef("name", text)


def opts(*positional: str, named: Mapping[str, str] | None = None, members: Sequence[MemberRef] = (),
         flags: Sequence[str] = ()) -> Options:
    return Options(tuple(positional), dict(named or {}), tuple(members), frozenset(flags))


# (command line, mentions WeChat reported, parse settings, expected)
CASES: list[tuple[str, tuple[str, ...], dict[str, Any], Options]] = [
    ("/rule add keyword 意向 多少钱,价格 lead=yes rooms=群1,群2", (), RULE,
     opts("add", "keyword", "意向", "多少钱,价格", named={"lead": "yes", "rooms": "群1,群2"})),
    ("/rule add keyword 意向 多少钱，价格 hits=2 days=7 线索", (), RULE,
     opts("add", "keyword", "意向", "多少钱，价格", named={"hits": "2", "days": "7"}, flags=["lead"])),
    ("/rule add 关键词 意向 价格 模式＝包含 次数=2 天数=7", (), RULE,
     opts("add", "关键词", "意向", "价格", named={"mode": "包含", "hits": "2", "days": "7"})),
    ("/rule add kw 兴趣 免费试听 MODE=substring 群=「读书 群」,打卡群", (), RULE,
     opts("add", "kw", "兴趣", "免费试听", named={"mode": "substring", "rooms": "读书 群,打卡群"})),
    ("/rule add count 活跃 20 7 group=客户阶段", (), RULE,
     opts("add", "count", "活跃", "20", "7", named={"group": "客户阶段"})),
    # Quoted words are plain text, never a flag or an option: how to name a tag 线索.
    ('/rule add keyword 「线索」 "a=b" lead', (), RULE, opts("add", "keyword", "线索", "a=b", flags=["lead"])),
    ("/rule del 3", (), RULE, opts("del", "3")),
    ("/task add 名称 triggers=词1,词2 window=05:00-09:00 points=10 days=21", (), TASK,
     opts("add", "名称", named={"triggers": "词1,词2", "window": "05:00-09:00", "points": "10", "days": "21"})),
    ("/task add 早起打卡 触发词=早安,打卡 时间=05:00-09:00 积分=15 天数=21", (), TASK,
     opts("add", "早起打卡", named={"triggers": "早安,打卡", "window": "05:00-09:00", "points": "15", "days": "21"})),
    ('/task add "晨读 打卡" 触发词＝“早读 打卡”,早读', (), TASK,
     opts("add", "晨读 打卡", named={"triggers": "早读 打卡,早读"})),
    ("/task add 『夜跑\u3000打卡』 window=『20:00 - 23:00』", (), TASK,
     opts("add", "夜跑\u3000打卡", named={"window": "20:00 - 23:00"})),
    ('/task add 夜读 points=""', (), TASK, opts("add", "夜读", named={"points": ""})),
    ("/task off 早起 打卡", (), TASK, opts("off", "早起", "打卡")),
    ("/threshold login=3 speaking=5 window=30", (), THRESHOLD,
     opts(named={"login": "3", "speaking": "5", "window": "30"})),
    ("/threshold 登录=3\u3000发言=5 窗口=30", (), THRESHOLD,
     opts(named={"login": "3", "speaking": "5", "window": "30"})),
    ("/threshold 中位数 WINDOW=14", (), THRESHOLD, opts(named={"window": "14"}, flags=["median"])),
    ("/threshold", (), THRESHOLD, opts()),
    (f"/points @Alice{M}+20 原因", ("wxid_a",), ONE_MEMBER,
     opts("+20", "原因", members=[mention("Alice", "wxid_a")])),
    (f"/points @Alice Smith{M}+20 迟到 补分", ("wxid_a",), ONE_MEMBER,
     opts("+20", "迟到", "补分", members=[mention("Alice Smith", "wxid_a")])),
    ('/points "Alice Smith" +20 原因', (), ONE_MEMBER, opts("+20", "原因", members=[name("Alice Smith")])),
    ("/points 「张 三」 －5 迟到", (), ONE_MEMBER, opts("－5", "迟到", members=[name("张 三")])),
    ("/points Alice +20 原因", (), ONE_MEMBER, opts("+20", "原因", members=[name("Alice")])),
    # A mention is a member wherever it stands, and never part of the reason text.
    (f"/points @Alice{M}+20 感谢 @Bob{M} 帮忙", ("wxid_a", "wxid_b"), ONE_MEMBER,
     opts("+20", "感谢", "帮忙", members=[mention("Alice", "wxid_a"), mention("Bob", "wxid_b")])),
    # In WeChat text a hand-typed "@张三" (no U+2005) must not take Alice's id.
    (f"/points @张三 @Alice Smith{M}+5 补分", ("wxid_a",), ONE_MEMBER,
     opts("+5", "补分", members=[name("张三"), mention("Alice Smith", "wxid_a")])),
    (f"/tag @Bob{M}意向", ("wxid_b",), ONE_MEMBER, opts("意向", members=[mention("Bob", "wxid_b")])),
    (f"/untag @小明 {M} 意向", ("wxid_m",), ONE_MEMBER, opts("意向", members=[mention("小明", "wxid_m")])),
    # The console adapter writes no U+2005: each @name takes the next id.
    ("/tag @Bob 意向", ("wxid_b",), ONE_MEMBER, opts("意向", members=[mention("Bob", "wxid_b")])),
    # A name with a space, "@"-typed without U+2005: the mention ends at the space, the rest is a word
    # (the handler then sees one word too many); quoting is the way to name such a member.
    ("/tag @Bob Lee 意向", (), ONE_MEMBER, opts("Lee", "意向", members=[name("Bob")])),
    ("/tag @Bob Lee 意向", ("wxid_b",), ONE_MEMBER, opts("Lee", "意向", members=[mention("Bob", "wxid_b")])),
    ('/tag @"Bob Lee" 意向', (), ONE_MEMBER, opts("意向", members=[name("Bob Lee")])),
    ('/tag @"Bob Lee" 意向', ("wxid_x",), ONE_MEMBER, opts("意向", members=[name("Bob Lee")])),
    (f"/tags @Alice Smith{M}", ("wxid_a",), ONE_MEMBER, opts(members=[mention("Alice Smith", "wxid_a")])),
    # More mentions than ids (a test adapter without ids): the rest are names to look up.
    (f"/tags @Alice Smith{M}", (), ONE_MEMBER, opts(members=[name("Alice Smith")])),
    ("/tags wxid_abc123", (), ONE_MEMBER, opts(members=[name("wxid_abc123")])),
    (f"/operator del @运营 小王{M}", ("wxid_w",), {}, opts("del", members=[mention("运营 小王", "wxid_w")])),
    ("/done 3 5 备注", (), {}, opts("3", "5", "备注")),
    ("/done 3,5 已私聊\u3000客户说下周来 a=b", (), {}, opts("3,5", "已私聊", "客户说下周来", "a=b")),
    ("/done 3 已发「课程表」 给他", (), {}, opts("3", "已发「课程表」", "给他")),
    ("/done 3 @ 处理了", (), {}, opts("3", "@", "处理了")),
]


@pytest.mark.parametrize(("line", "mentions", "how", "expected"), CASES, ids=[c[0] for c in CASES])
def test_command_lines(line: str, mentions: tuple[str, ...], how: dict[str, Any], expected: Options) -> None:
    assert parse(args_of(line), mentions=mentions, **how) == expected


def test_a_first_member_then_the_rest_as_text() -> None:
    got = parse(args_of(f"/points @Alice Smith{M}+20 迟到 补分"), mentions=["wxid_a"], member_args=1)
    assert got.member(0) == mention("Alice Smith", "wxid_a")
    assert got.positional[0] == "+20"
    assert got.rest_text(1) == "迟到 补分"
    assert got.rest_text(3) == ""


def test_options_are_hashable_values() -> None:
    a = parse("x=1 y", keys={"x": "x"})
    b = parse("x=1  y", keys={"x": "x"})
    assert a == b and hash(a) == hash(b)
    assert a.named == {"x": "1"}
    with pytest.raises(TypeError):
        a.named["x"] = "2"  # type: ignore[index]


def test_tokens_keep_order_and_kind() -> None:
    assert tokenize(f'@Alice Smith{M}+20 "a b" k＝「v w」 @Bob') == [
        Token("mention", "Alice Smith", closed=True),
        Token("positional", "+20"),
        Token("positional", "a b", quoted=True),
        Token("option", "k＝v w", key="k", value="v w", quoted=True),
        Token("mention", "Bob"),
    ]


def test_blank_input_gives_no_tokens() -> None:
    for text in ("", "   ", M, "\u3000\t\n", f"{M}{M} "):
        assert tokenize(text) == []
        assert parse(text, keys={}) == Options()


def test_mention_without_a_name_is_the_plain_word() -> None:
    assert tokenize(f"@ @{M} @") == [Token("positional", "@")] * 3


def test_int_option() -> None:
    got = parse("window=30 days=２０天", keys={"window": "window", "days": "days"})
    assert got.int_option("window", "窗口天数", 1, 365) == 30
    assert got.int_option("days", "天数", 1, 365) == 20
    assert got.int_option("hits", "次数", 1, 999) is None
    assert got.int_option("hits", "次数", 1, 999, 1) == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("10", 10), ("１０", 10), ("+5", 5), ("20天", 20), ("＋20分", 20), (" 7 ", 7),
])
def test_positive_int_reads_what_people_type(value: str, expected: int) -> None:
    assert positive_int(value, "积分") == expected


# (call, expected reply text)
ERRORS: list[tuple[str, Any, str]] = [
    ("empty value", lambda: parse("早起 window=", **TASK), "选项「window」后面缺少值：等号后面紧接着写值，不要空格。"),
    ("space after =", lambda: parse("早起 points= 10", **TASK),
     "选项「points」后面缺少值：等号后面紧接着写值，不要空格。"),
    ("unknown key", lambda: parse("早起 color=red", **TASK),
     "不认识的选项「color」，可用的选项：triggers/触发词、window/时间、points/积分、days/天数。"),
    ("unknown key, none known", lambda: parse("a=b", keys={}), "不认识的选项「a」，可用的选项：无。"),
    ("key twice", lambda: parse("login=3 login=4", **THRESHOLD), "选项「login」写了两次，只能写一次。"),
    ("key twice, two aliases", lambda: parse("login=3 登录=4", **THRESHOLD),
     "选项「登录」和「login」是同一个选项，只能写一次。"),
    ("= alone", lambda: parse("=", **TASK), "「=」缺少选项名：选项应写成 名称=值，等号前后不要空格。"),
    ("space before =", lambda: parse("login =3", **THRESHOLD),
     "「=3」缺少选项名：选项应写成 名称=值，等号前后不要空格。"),
    ("unclosed straight quote", lambda: parse('add "早起 打卡 window=05:00', **TASK),
     '引号 " 没有配对的 "：「"早起 打卡 win…」。请补上 "，或去掉 "。'),
    ("unclosed corner quote", lambda: parse("「Bob Lee 意向", member_args=1),
     "引号 「 没有配对的 」：「「Bob Lee 意…」。请补上 」，或去掉 「。"),
    ("unclosed quote in a value", lambda: parse("add 夜读 window=“20:00", **TASK),
     "引号 “ 没有配对的 ”：「“20:00」。请补上 ”，或去掉 “。"),
    ("too long", lambda: parse("字" * (MAX_TEXT + 1)), "命令太长了：最多 2000 个字，这条有 2001 个字。"),
    ("too many words", lambda: parse("词 " * (MAX_TOKENS + 1)), "参数太多了：一条命令最多 50 个词。"),
    ("no member", lambda: parse("+20 原因").member(0), "请 @ 一位成员，或写出成员的昵称。"),
    ("no second member", lambda: parse(f"@A{M}", mentions=["a"]).member(1),
     "请写出第 2 位成员：@ 对方，或写出成员的昵称。"),
    ("not a number", lambda: positive_int("abc", "积分"), "积分应为正整数，你写的是「abc」。"),
    ("not positive", lambda: positive_int("-3", "积分"), "积分应为正整数，你写的是「-3」。"),
    ("underscores", lambda: positive_int("1_000", "积分"), "积分应为正整数，你写的是「1_000」。"),
    ("negative", lambda: non_negative_int("-1", "登录天数阈值"), "登录天数阈值应为不小于 0 的整数，你写的是「-1」。"),
    ("out of range", lambda: parse("window=400", **THRESHOLD).int_option("window", "窗口天数", 1, 365),
     "窗口天数应为 1 到 365 之间的整数，你写的是「400」。"),
    ("huge", lambda: int_between("9" * 40, "次数", 1, 999),
     "次数应为 1 到 999 之间的整数，你写的是「99999999999999999999…」。"),
    ("control characters are not echoed", lambda: positive_int("1\x00\ud800", "积分"),
     "积分应为正整数，你写的是「1\ufffd\ufffd」。"),
]


@pytest.mark.parametrize(("call", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_say_what_was_wrong(call: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        call()
    assert str(caught.value) == message


def test_limits_are_inclusive() -> None:
    assert len(parse("字" * MAX_TEXT).positional) == 1
    assert len(parse("词 " * MAX_TOKENS).positional) == MAX_TOKENS


# --- any text: Options or UsageError, nothing else ------------------------------------------

_CONFIGS: list[dict[str, Any]] = [{}, {"member_args": 2, **RULE}, TASK, THRESHOLD, {"keys": {}}]


def check_parse_never_crashes(text: str, mentions: Sequence[str] = ("wxid_a", "wxid_b")) -> None:
    """parse() gives Options or raises UsageError for `text`, under every command's settings.

    Plain function so a soak script can run it on many more examples than the suite does.
    """
    for config in _CONFIGS:
        try:
            got = parse(text, mentions=mentions, **config)
        except UsageError as exc:
            assert str(exc)
            continue
        words = len(got.positional) + len(got.members) + len(got.named) + len(got.flags)
        assert words <= MAX_TOKENS
        assert all(isinstance(p, str) for p in got.positional)
        ids = [m.wxid for m in got.members if m.kind == "mention"]
        assert ids == list(mentions[: len(ids)])
        if len(got.members) < config.get("member_args", 0):
            assert not got.positional  # positional words fill the member slots first


_FRAGMENTS = [
    " ", "  ", "\u3000", M, "\n", "\t", '"', "“", "”", "「", "」", "『", "』", "＂", "=", "＝", "@",
    "key", "triggers", "触发词", "时间", "login", "lead", "median", "中位数", "Alice Smith", "小明",
    "+20", "－5", "10", "05:00-09:00", "词1,词2", "群1，群2", "意向", "\x00", "\ud800", "\u200b", "a",
]
grammar_text = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=40).map("".join)


@PROPERTY
@given(st.text())
def test_any_text_parses_or_is_a_usage_error(text: str) -> None:
    check_parse_never_crashes(text)


@PROPERTY
@given(grammar_text, st.lists(st.text(min_size=1, max_size=5), max_size=3))
def test_command_like_text_parses_or_is_a_usage_error(text: str, mentions: list[str]) -> None:
    check_parse_never_crashes(text, mentions)


_PLAIN = st.text(st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs"),
                               exclude_characters="\"“”＂「『=＝@\u2005\x1c\x1d\x1e\x1f\x85"), min_size=1)


@PROPERTY
@given(st.lists(_PLAIN, max_size=MAX_TOKENS))
def test_plain_words_come_back_as_they_were(words: list[str]) -> None:
    assert parse(" ".join(words), **TASK).positional == tuple(words)


@PROPERTY
@given(st.text(st.characters(exclude_characters="」"), max_size=200))
def test_anything_in_corner_quotes_is_one_word(word: str) -> None:
    assert parse(f"「{word}」", **TASK).positional == (word,)


@PROPERTY
@given(st.text(st.characters(exclude_characters=f"@\n\r{M}"), max_size=30))
def test_a_wechat_mention_takes_the_whole_display_name(display: str) -> None:
    got = parse(f"@{display}{M}+20", mentions=["wxid_a"], member_args=1)
    if display.strip():
        assert got.members == (mention(display.strip(), "wxid_a"),)
        assert got.positional == ("+20",)


# --- purity ------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["options", "errors"])
def test_core_modules_import_only_the_standard_library(module: str) -> None:
    tree = ast.parse((ROOT / "bot" / "core" / f"{module}.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names} <= {"bot.core.errors"}
    doc = ast.get_docstring(tree)
    assert doc and "\n" not in doc
