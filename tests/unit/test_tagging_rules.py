"""Rules, scopes, tag names and the `/rule add` argument grammar (tagging/rules.py)."""

from __future__ import annotations

import re

import jieba  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import UsageError
from bot.features.tags.service import parse_rule_text
from tagging.rules import (
    KEYWORD_USAGE,
    MAX_NAME_LEN,
    RULE_FLAGS,
    WORD_TOKEN_CHARS,
    CountRule,
    KeywordRule,
    RuleSyntaxError,
    Scope,
    as_word,
    can_be_token,
    display_len,
    format_rule_args,
    parse_rule,
    validate_group,
    validate_tag,
)

# --- Scope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "room", "applies"),
    [
        (Scope("all"), "r1@chatroom", True),
        (Scope("all"), None, True),
        (Scope("rooms", ("r1", "r2")), "r2", True),
        (Scope("rooms", ("r1", "r2")), "r3", False),
        (Scope("rooms", ("r1", "r2")), None, False),
        (Scope("private"), None, True),
        (Scope("private"), "r1", False),
    ],
)
def test_scope_applies(scope: Scope, room: str | None, applies: bool) -> None:
    assert scope.applies(room) is applies


@pytest.mark.parametrize(
    ("scope", "text"),
    [
        (Scope("all"), "所有群和私聊"),
        (Scope("private"), "仅私聊"),
        (Scope("rooms", ("读书群", "r2")), "仅限群：读书群、r2"),
    ],
)
def test_scope_describe(scope: Scope, text: str) -> None:
    assert scope.describe() == text


@pytest.mark.parametrize(
    ("kind", "rooms"),
    [("everywhere", ()), ("rooms", ()), ("all", ("r1",)), ("private", ("r1",))],
)
def test_scope_rejects_inconsistent_values(kind: str, rooms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        Scope(kind, rooms)


def test_scope_from_a_json_list_is_a_hashable_tuple() -> None:
    scope = Scope("rooms", ["r1"])  # type: ignore[arg-type]
    assert scope.rooms == ("r1",)
    assert hash(scope) == hash(Scope("rooms", ("r1",)))


# --- rules and their /rules lines --------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "line"),
    [
        (
            KeywordRule(id=3, tag="意向", keywords=("多少钱", "价格"), expire_days=30, lead=True),
            "#3 意向 ← 关键词 多少钱/价格（整词，1次/1天，30天无新命中即失效，线索）",
        ),
        (
            KeywordRule(id=4, tag="售后", keywords=("退款",), mode="substring", hits=2, days=7),
            "#4 售后 ← 关键词 退款（包含，2次/7天）",
        ),
        (
            KeywordRule(
                id=6,
                tag="咨询",
                keywords=("报名",),
                group="阶段",
                scope=Scope("private"),
            ),
            "#6 咨询 ← 关键词 报名（整词，1次/1天，组：阶段，仅私聊）",
        ),
        (
            KeywordRule(id=0, tag="意向", keywords=("价格",), scope=Scope("rooms", ("r1",))),
            "意向 ← 关键词 价格（整词，1次/1天，仅限群：r1）",
        ),
        (CountRule(id=5, tag="活跃", threshold=20, days=7), "#5 活跃 ← 近7天发言≥20条"),
        (
            CountRule(id=8, tag="话痨", threshold=100, days=7, group="活跃度"),
            "#8 话痨 ← 近7天发言≥100条（组：活跃度）",
        ),
    ],
)
def test_describe(rule: KeywordRule | CountRule, line: str) -> None:
    assert rule.describe() == line


@pytest.mark.parametrize(
    "fields",
    [
        {"keywords": ()},
        {"keywords": ("",)},
        {"mode": "regex"},
        {"hits": 0},
        {"days": -1},
        {"expire_days": 0},
        {"keywords": ("多少钱？",)},  # word mode: jieba never returns it as one token
    ],
)
def test_keyword_rule_rejects_impossible_values(fields: dict[str, object]) -> None:
    values: dict[str, object] = {"id": 1, "tag": "意向", "keywords": ("价格",), **fields}
    with pytest.raises(ValueError):
        KeywordRule(**values)  # type: ignore[arg-type]


def test_substring_rule_takes_punctuation() -> None:
    rule = KeywordRule(id=1, tag="意向", keywords=("多少钱？",), mode="substring")
    assert rule.keywords == ("多少钱？",)


@pytest.mark.parametrize(("threshold", "days"), [(0, 7), (20, 0), (-1, 7)])
def test_count_rule_rejects_non_positive_values(threshold: int, days: int) -> None:
    with pytest.raises(ValueError):
        CountRule(id=1, tag="活跃", threshold=threshold, days=days)


def test_word_token_chars_are_jiebas() -> None:
    # can_be_token relies on this class being exactly what jieba cuts as one block.
    ours = re.compile(WORD_TOKEN_CHARS)
    theirs = jieba.re_han_default
    differ = [
        hex(cp)
        for cp in range(0x30000)
        if bool(ours.fullmatch(chr(cp))) != bool(theirs.fullmatch(chr(cp)))
    ]
    assert differ == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [("价格", True), ("VIP会员", True), ("c++", True), ("多少钱？", False), ("a b", False)],
)
def test_can_be_token(word: str, expected: bool) -> None:
    assert can_be_token(word) is expected


# --- tag names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("意向", "意向"),
        ("  意向客户 ", "意向客户"),
        ("VIP", "VIP"),
        ("2024届", "2024届"),
        ("🔥高意向", "🔥高意向"),
        ("一二三四五六七八九十一二", "一二三四五六七八九十一二"),  # exactly 12
        ("👨‍👩‍👧" * 12, "👨‍👩‍👧" * 12),  # 12 family emoji, 5 code points each
    ],
)
def test_validate_tag_accepts(name: str, clean: str) -> None:
    assert validate_tag(name) == clean


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "不能为空"),
        ("   ", "不能为空"),
        ("意向 客户", "不能含空格"),
        ("意向\u3000客户", "不能含空格"),
        ("意向\n客户", "不能含空格"),
        ("<b>意向</b>", "不能含 / < > 这些符号"),
        ("A&B", "不能含 & 这些符号"),
        ('"意向"', '不能含 " 这些符号'),
        ("意'向", "不能含 ' 这些符号"),
        ("意向=1", "不能含等号"),
        ("意\u200b向", "看不见的控制字符"),
        ("意\x07向", "看不见的控制字符"),
        ("\u202e意向", "看不见的控制字符"),
        ("一二三四五六七八九十一二三", "最多12个字"),
        ("🔥" * 50, "有50个字"),
        ("👍🏽" * 13, "有13个字"),
    ],
)
def test_validate_tag_rejects_with_a_reason(name: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_tag(name)
    assert says in str(caught.value)
    assert "标签名" in str(caught.value)
    assert "例如：" in str(caught.value)  # and shows a good name


def test_validate_group_names_the_group() -> None:
    with pytest.raises(ValueError, match="组名不能含空格"):
        validate_group("客户 阶段")


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("意向", 2),
        ("🔥" * 50, 50),
        ("👍🏽", 1),  # skin tone joins the hand
        ("👨‍👩‍👧", 1),  # ZWJ sequence
        ("🇨🇳🇯🇵", 2),  # two flags, four regional indicators
        ("é", 1),  # e + combining accent
        ("❤️", 1),  # heart + variation selector
    ],
)
def test_display_len(text: str, length: int) -> None:
    assert display_len(text) == length


_BAD_INSIDE = st.sampled_from([" ", "\t", "\n", "\u3000", "\u00a0", "<", ">", "&", '"', "'", "/"])


@given(st.text(max_size=8), _BAD_INSIDE, st.text(max_size=8))
def test_validate_tag_never_accepts_whitespace_or_html_inside(
    before: str, bad: str, after: str
) -> None:
    name = "意" + before + bad + after + "向"  # bad is strictly inside, strip cannot drop it
    with pytest.raises(ValueError):
        validate_tag(name)


@given(st.text(max_size=30))
def test_validate_tag_result_is_always_clean(name: str) -> None:
    try:
        clean = validate_tag(name)
    except ValueError as exc:
        assert str(exc)  # always says why
        return
    assert clean == name.strip()
    assert clean
    assert not any(ch.isspace() for ch in clean)
    assert not set(clean) & set("<>&\"'/=")
    assert display_len(clean) <= MAX_NAME_LEN


# --- /rule add: good input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (
            ["keyword", "意向", "多少钱,价格", "hits=2", "days=7", "lead=yes"],
            KeywordRule(id=9, tag="意向", keywords=("多少钱", "价格"), hits=2, days=7, lead=True),
        ),
        (
            ["关键词", "意向", "多少钱，价格、学费"],
            KeywordRule(id=9, tag="意向", keywords=("多少钱", "价格", "学费")),
        ),
        (
            ["KEYWORD", "会员", "VIP,vip,Vip会员", "mode=substring", "expire=30"],
            KeywordRule(
                id=9, tag="会员", keywords=("VIP", "Vip会员"), mode="substring", expire_days=30
            ),
        ),
        (
            ["keyword", "售后", "退款", "rooms=r1@chatroom,读书群", "group=阶段"],
            KeywordRule(
                id=9,
                tag="售后",
                keywords=("退款",),
                scope=Scope("rooms", ("r1@chatroom", "读书群")),
                group="阶段",
            ),
        ),
        (
            ["keyword", "咨询", "报名", "rooms=private", "lead=no"],
            KeywordRule(id=9, tag="咨询", keywords=("报名",), scope=Scope("private")),
        ),
        (
            ["keyword", "咨询", "报名", "rooms=私聊", "模式=整词", "次数=３", "天数=7天"],
            KeywordRule(
                id=9, tag="咨询", keywords=("报名",), hits=3, days=7, scope=Scope("private")
            ),
        ),
        (
            ["keyword", "意向", "多少钱？", "mode=包含", "hits＝2"],
            KeywordRule(id=9, tag="意向", keywords=("多少钱？",), mode="substring", hits=2),
        ),
        (
            ["keyword", "意向", "多少钱", "线索", "group=２班", "rooms=３群,A－B"],
            KeywordRule(
                id=9,
                tag="意向",
                keywords=("多少钱",),
                lead=True,
                group="２班",  # names are kept as typed; only numbers are read leniently
                scope=Scope("rooms", ("３群", "A－B")),
            ),
        ),
        (["count", "活跃", "20", "7"], CountRule(id=9, tag="活跃", threshold=20, days=7)),
        (
            ["计数", "活跃", "20条", "7天", "group=活跃度"],
            CountRule(id=9, tag="活跃", threshold=20, days=7, group="活跃度"),
        ),
        (
            ["count", "活跃", "group=活跃度", "20", "7"],
            CountRule(id=9, tag="活跃", threshold=20, days=7, group="活跃度"),
        ),
    ],
)
def test_parse_rule_args(args: list[str], rule: KeywordRule | CountRule) -> None:
    assert parse_rule_args(args, rule_id=9) == rule


def parse_rule_args(args: list[str], *, rule_id: int = 0) -> KeywordRule | CountRule:
    """The words as a manager types them, through the chat-option parser and `parse_rule`."""
    return parse_rule_text(" ".join(f"「{a}」" if " " in a else a for a in args), rule_id=rule_id)


def test_parse_rule_args_defaults_to_an_unsaved_rule() -> None:
    rule = parse_rule_args(["keyword", "意向", "价格"])
    assert rule == KeywordRule(id=0, tag="意向", keywords=("价格",))
    assert rule.scope == Scope("all")


# --- /rule add: bad input ----------------------------------------------------------------

_BAD_ARGS = [
    ([], "缺少规则类型"),
    (["regex", "意向", "价格"], "不认识的规则类型「regex」"),
    (["keyword"], "缺少标签名和关键词"),
    (["keyword", "hits=2"], "缺少标签名和关键词"),
    (["keyword", "意向"], "缺少关键词"),
    (["keyword", "意向", "hits=2"], "缺少关键词"),
    (["keyword", "意向", ",，、"], "关键词列表是空的"),
    (["keyword", "意向", "多少钱,,价格"], "关键词列表里有空词"),
    (["keyword", "意向", "多少钱,"], "关键词列表里有空词"),
    (["keyword", "意向", "多少钱", "价格"], "多个关键词要用逗号连起来"),
    (["keyword", "意向", "一" * 21], "太长了（21个字）"),
    (["keyword", "意向", ",".join(f"词{i}" for i in range(31))], "关键词最多30个，你写了31个"),
    (["keyword", "意向", "「a=b」", "mode=substring"], "不能含等号"),
    (["keyword", "意向", "多少钱？"], "整词模式认不出来"),
    (["keyword", "意向", "价格", "mode=regex"], "不认识的匹配模式「regex」"),
    (["keyword", "意向", "价格", "hits=0"], "不能是 0"),
    (["keyword", "意向", "价格", "hits=-3"], "不能是 -3"),
    (["keyword", "意向", "价格", "hits=two"], "「two」不是整数"),
    (["keyword", "意向", "价格", "hits=1.5"], "「1.5」不是整数"),
    (["keyword", "意向", "价格", "hits=1_000"], "不是整数"),
    (["keyword", "意向", "价格", "days=0"], "days（天数）要写正整数"),
    (["keyword", "意向", "价格", "days=366"], "最多 365"),
    (["keyword", "意向", "价格", "expire=0"], "expire（失效天数）要写正整数"),
    (["keyword", "意向", "价格", "expire=-1"], "不能是 -1"),
    (["keyword", "意向", "价格", "lead=maybe"], "lead 只能是 yes 或 no"),
    (["keyword", "意向", "价格", "group=a b"], "组名"),
    (["keyword", "意向", "价格", "rooms=r1,,r2"], "rooms 里有空的群名"),
    (["keyword", "意向", "价格", "rooms=r1,private"], "不能和群名混写"),
    (["keyword", "意 向", "价格"], "标签名不能含空格"),
    (["keyword", "<script>", "价格"], "标签名不能含 < > 这些符号"),
    (["keyword", "🔥" * 50, "价格"], "标签名最多12个字"),
    (["keyword", "意向", "价格", "rooms=a＝b"], "含有等号或控制字符"),
    (["count", "活跃", "20", "7", "lead"], "不认识的选项「lead」，可用的选项：group"),
    (["count"], "缺少标签名、条数和天数"),
    (["count", "活跃"], "缺少条数和天数"),
    (["count", "活跃", "20"], "缺少天数"),
    (["count", "活跃", "20", "7", "8"], "多了「8」"),
    (["count", "活跃", "0", "7"], "条数要写正整数（至少1），不能是 0"),
    (["count", "活跃", "-5", "7"], "不能是 -5"),
    (["count", "活跃", "20", "0"], "天数要写正整数（至少1），不能是 0"),
    (["count", "活跃", "lots", "7"], "「lots」不是整数"),
    (["count", "活跃", "20", "7", "hits=2"], "不认识的选项「hits」，可用的选项：group"),
    (["count", "活 跃", "20", "7"], "标签名不能含空格"),
]


@pytest.mark.parametrize(("args", "says"), _BAD_ARGS)
def test_parse_rule_args_says_what_was_wrong(args: list[str], says: str) -> None:
    words = [a.strip("「」") for a in args if ("=" not in a or a.startswith("「")) and a not in RULE_FLAGS]
    options = dict(a.split("=", 1) for a in args if "=" in a and not a.startswith("「"))
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(words, options, {RULE_FLAGS[a] for a in args if a in RULE_FLAGS})
    error = caught.value
    assert says in error.problem
    # The reply carries the problem and the right form together.
    assert str(error).startswith(error.problem)
    assert "用法：/rule add" in str(error)
    with pytest.raises(UsageError, match=re.escape(says)):  # the same through the chat parser
        parse_rule_args(args)


# Mistakes the chat-option parser catches before a rule is read: one wording for every command.
@pytest.mark.parametrize(("args", "says"), [
    (["keyword", "意向", "价格", "color=red"], "不认识的选项「color」，可用的选项：mode/模式"),
    (["keyword", "意向", "价格", "hits=2", "hits=3"], "选项「hits」写了两次"),
    (["keyword", "意向", "价格", "hits=2", "次数=3"], "是同一个选项"),
    (["keyword", "意向", "价格", "hits="], "选项「hits」后面缺少值"),
    (["keyword", "意向", "a=b", "mode=substring"], "不认识的选项「a」"),
])
def test_option_mistakes_are_caught_by_the_shared_parser(args: list[str], says: str) -> None:
    with pytest.raises(UsageError, match=re.escape(says)):
        parse_rule_args(args)


def test_keyword_errors_show_the_keyword_usage_and_an_example() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(["keyword", "意向", "价格"], {"hits": "0"})
    assert caught.value.usage == KEYWORD_USAGE
    assert "例如：/rule add keyword 意向 价格,报名 intent=ask lead=yes" in str(caught.value)


def test_count_errors_show_the_count_usage() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(["count", "活跃", "0", "7"], {})
    assert "用法：/rule add count 标签 条数 天数" in str(caught.value)
    assert "keyword" not in caught.value.usage


def test_rule_syntax_error_is_a_value_error() -> None:
    assert issubclass(RuleSyntaxError, ValueError)


# --- round trip --------------------------------------------------------------------------

_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_NAME_CHARS = st.one_of(_HAN, st.sampled_from(list("ABCxyz019_-·２－🔥👍")))
_names = st.text(_NAME_CHARS, min_size=1, max_size=MAX_NAME_LEN)
_WORD_CHARS = st.one_of(_HAN, st.sampled_from(list("abcXYZ0189+#&._%-")))
# Anything a keyword may hold in substring mode: no whitespace, separators, "=" or controls.
_SUBSTRING_CHARS = st.characters(
    blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"),
    blacklist_characters=",，、=＝\u0085",
)
_rooms = st.text(_SUBSTRING_CHARS, min_size=1, max_size=20).filter(
    lambda room: room.lower() not in {"private", "私聊", "all", "全部", "所有"}
)


def _unique_keywords(chars: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, ...]]:
    words = st.text(chars, min_size=1, max_size=20)
    return st.lists(words, min_size=1, max_size=30, unique_by=str.lower).map(tuple)


@st.composite
def keyword_rules(draw: st.DrawFn) -> KeywordRule:
    mode = draw(st.sampled_from(["word", "substring"]))
    chars = _WORD_CHARS if mode == "word" else _SUBSTRING_CHARS
    scope = draw(
        st.one_of(
            st.just(Scope("all")),
            st.just(Scope("private")),
            st.lists(_rooms, min_size=1, max_size=3, unique=True).map(
                lambda rooms: Scope("rooms", tuple(rooms))
            ),
        )
    )
    return KeywordRule(
        id=draw(st.integers(0, 10_000)),
        tag=draw(_names),
        keywords=draw(_unique_keywords(chars)),
        mode=mode,
        hits=draw(st.integers(1, 999)),
        days=draw(st.integers(1, 365)),
        scope=scope,
        expire_days=draw(st.none() | st.integers(1, 365)),
        lead=draw(st.booleans()),
        group=draw(st.none() | _names),
    )


count_rules = st.builds(
    CountRule,
    id=st.integers(0, 10_000),
    tag=_names,
    threshold=st.integers(1, 99_999),
    days=st.integers(1, 365),
    group=st.none() | _names,
)


@settings(max_examples=300)
@given(st.one_of(keyword_rules(), count_rules))
def test_format_then_parse_gives_the_same_rule(rule: KeywordRule | CountRule) -> None:
    args = format_rule_args(rule)
    assert all(arg and not any(ch.isspace() for ch in arg) for arg in args)  # one token each
    assert parse_rule_args(args, rule_id=rule.id) == rule


@settings(max_examples=200)
@given(
    tag=_names,
    words=_unique_keywords(_WORD_CHARS),
    separator=st.sampled_from([",", "，", "、"]),
    kind=st.sampled_from(["keyword", "关键词", "Keyword"]),
    hits=st.integers(1, 999),
    hits_key=st.sampled_from(["hits", "次数", "HITS"]),
    fullwidth=st.booleans(),
)
def test_parse_then_format_then_parse_is_stable(
    tag: str,
    words: tuple[str, ...],
    separator: str,
    kind: str,
    hits: int,
    hits_key: str,
    fullwidth: bool,
) -> None:
    number = str(hits).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    # A tag that reads as a flag or an option (线索, a=b) is quoted, as a manager must.
    args = [kind, as_word(tag), separator.join(words), f"{hits_key}={number if fullwidth else hits}"]
    rule = parse_rule_args(args, rule_id=1)
    assert isinstance(rule, KeywordRule)
    assert rule.keywords == words
    assert rule.hits == hits
    assert parse_rule_args(format_rule_args(rule), rule_id=1) == rule


def test_format_rule_args_leaves_defaults_out() -> None:
    assert format_rule_args(KeywordRule(id=1, tag="意向", keywords=("多少钱", "价格"))) == [
        "keyword",
        "意向",
        "多少钱,价格",
    ]
    assert format_rule_args(CountRule(id=2, tag="活跃", threshold=20, days=7)) == [
        "count",
        "活跃",
        "20",
        "7",
    ]
