"""Keyword matching: token boundaries, substring mode, case, scopes and the tokenizer (tagging/matcher.py)."""

from __future__ import annotations

from collections.abc import Callable

import jieba  # type: ignore[import-untyped]
import pytest

from tagging.matcher import ENGINES, KEYWORD_FREQ, Hit, KeywordMatcher, Tokenizer, dictionary_frequencies, get_tokenizer
from tagging.rules import KeywordRule, Scope


@pytest.fixture(scope="module", params=ENGINES)
def tokenizer(request: pytest.FixtureRequest) -> Tokenizer:
    # One fresh tokenizer per engine for this file: words other test files add to the
    # shared one must not change how the boundary cases below are cut.
    return Tokenizer(request.param)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _rule(*keywords: str, mode: str = "word", rule_id: int = 1, **fields: object) -> KeywordRule:
    return KeywordRule(id=rule_id, tag="意向", keywords=keywords, mode=mode, **fields)  # type: ignore[arg-type]


def _keywords_hit(tokenizer: Tokenizer, rule: KeywordRule, text: str) -> list[str]:
    return [hit.keyword for hit in KeywordMatcher([rule], tokenizer).match(text, None)]


# --- token boundaries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "hit"),
    [
        ("价格", "这个课价格多少", True),
        ("价格", "评价格式不对", False),  # 评价/格式: 价格 straddles two words
        ("价格", "评价格外好", False),
        ("价格", "价格", True),
        ("多少钱", "这个课多少钱呀", True),  # jieba alone cuts 多少/钱
        ("多少钱", "还差多少钱包邮", True),  # not 多少/钱包/邮
        ("多少钱", "多少", False),
        ("报名", "怎么报名啊", True),
        ("报名", "报名费多少", False),  # 报名费 is one word in jieba's dictionary
        ("质量", "这个产品质量怎么样", True),  # survives inside 产品质量
        ("vip会员", "我想开通VIP会员", True),
        ("课程表", "下周的课程表发了吗", True),
    ],
)
def test_word_mode_matches_whole_tokens_only(
    tokenizer: Tokenizer, keyword: str, text: str, hit: bool
) -> None:
    assert _keywords_hit(tokenizer, _rule(keyword), text) == ([keyword] if hit else [])


@pytest.mark.parametrize(
    ("keyword", "text", "hit"),
    [
        ("价格", "这个课价格多少", True),
        ("价格", "评价格式不对", True),
        ("多少钱", "这个课多少钱呀", True),
        ("多少钱", "多少", False),
        ("多少钱？", "这个多少钱？", True),  # punctuation is fine in substring mode
        ("vip", "我是SVIP用户", True),
    ],
)
def test_substring_mode_is_plain_containment(
    tokenizer: Tokenizer, keyword: str, text: str, hit: bool
) -> None:
    rule = _rule(keyword, mode="substring")
    assert _keywords_hit(tokenizer, rule, text) == ([keyword] if hit else [])


@pytest.mark.parametrize(
    ("mode", "keyword", "text", "hit"),
    [
        ("word", "VIP", "开通vip要多少钱", True),
        ("word", "vip", "开通VIP要多少钱", True),
        ("word", "VIP", "svip会员", False),  # jieba keeps the ASCII run svip whole
        ("word", "price", "Price多少", True),
        ("word", "price", "this is priceless", False),
        ("word", "price", "PRICE?", True),
        ("substring", "VIP", "开通vip要多少钱", True),
        ("substring", "price", "PRICELESS", True),
        ("substring", "Price", "no match here", False),
    ],
)
def test_ascii_keywords_ignore_case(
    tokenizer: Tokenizer, mode: str, keyword: str, text: str, hit: bool
) -> None:
    rule = _rule(keyword, mode=mode)
    # The hit reports the keyword as the rule spells it, whatever the message's case.
    assert _keywords_hit(tokenizer, rule, text) == ([keyword] if hit else [])


# --- what a match returns ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["word", "substring"])
def test_one_hit_per_rule_with_the_earliest_keyword(tokenizer: Tokenizer, mode: str) -> None:
    rule = _rule("价格", "多少钱", mode=mode)
    assert _keywords_hit(tokenizer, rule, "多少钱？价格呢，价格") == ["多少钱"]
    assert _keywords_hit(tokenizer, rule, "价格多少钱") == ["价格"]


def test_substring_prefers_the_longer_keyword_at_the_same_place(tokenizer: Tokenizer) -> None:
    rule = _rule("多少", "多少钱", mode="substring")
    assert _keywords_hit(tokenizer, rule, "这个多少钱") == ["多少钱"]
    assert _keywords_hit(tokenizer, rule, "多少人") == ["多少"]


def test_hits_come_in_rule_order_and_rules_may_share_keywords(tokenizer: Tokenizer) -> None:
    rules = [
        _rule("退款", rule_id=7),
        _rule("价格", mode="substring", rule_id=3),
        _rule("价格", "学费", rule_id=5),
        _rule("发货", rule_id=9),
    ]
    matcher = KeywordMatcher(rules, tokenizer)
    assert matcher.match("学费和价格都发一下，还能退款吗", "r1") == [
        Hit(7, "退款"),
        Hit(3, "价格"),
        Hit(5, "学费"),
    ]


@pytest.mark.parametrize("keyword", ["^_^", "-5折", "]]", "\\n", "[强]", "a-c", "👍👍"])
def test_a_keyword_starting_with_a_sign_is_found_wherever_it_stands(tokenizer: Tokenizer, keyword: str) -> None:
    # The sliding pass looks only where a keyword's first character stands, found by a regex
    # character class: a sign that means something in one (^ ] - \\) is still itself there.
    rules = [_rule(keyword, mode="substring", rule_id=1), _rule("价格", mode="substring", rule_id=2)]
    matcher = KeywordMatcher(rules, tokenizer)
    assert matcher.match(f"价格{keyword}", None) == [Hit(1, keyword), Hit(2, "价格")]
    assert matcher.match(f"{keyword}b{keyword}", None) == [Hit(1, keyword)]
    assert matcher.match("b_5折价", None) == []  # a character in the signs' range, not one of them


@pytest.mark.parametrize("text", ["", "   ", "👍👍", "[强]", "\n"])
def test_messages_without_keywords_hit_nothing(tokenizer: Tokenizer, text: str) -> None:
    matcher = KeywordMatcher([_rule("价格"), _rule("多少钱", mode="substring")], tokenizer)
    assert matcher.match(text, None) == []


def test_no_rules_no_hits(tokenizer: Tokenizer) -> None:
    assert KeywordMatcher([], tokenizer).match("这个课价格多少", "r1") == []


# --- scopes ------------------------------------------------------------------------------

_SCOPED = [
    _rule("价格", rule_id=1, scope=Scope("all")),
    _rule("价格", rule_id=2, scope=Scope("rooms", ("r1", "r2"))),
    _rule("价格", rule_id=3, scope=Scope("private")),
    _rule("价格", mode="substring", rule_id=4, scope=Scope("rooms", ("r2",))),
    _rule("价格", mode="substring", rule_id=5, scope=Scope("private")),
]


@pytest.mark.parametrize(
    ("room", "rule_ids"),
    [
        ("r1", [1, 2]),
        ("r2", [1, 2, 4]),
        ("r3", [1]),
        (None, [1, 3, 5]),  # None: a 1:1 chat with the bot
    ],
)
def test_scopes(tokenizer: Tokenizer, room: str | None, rule_ids: list[int]) -> None:
    hits = KeywordMatcher(_SCOPED, tokenizer).match("这个课价格多少", room)
    assert [hit.rule_id for hit in hits] == rule_ids


# --- tokenizer ---------------------------------------------------------------------------


@pytest.fixture
def lcut_calls(tokenizer: Tokenizer, count_lcut: Callable[[Tokenizer], list[str]]) -> list[str]:
    return count_lcut(tokenizer)


def test_tokenizes_once_and_only_when_a_word_keyword_occurs(
    tokenizer: Tokenizer, lcut_calls: list[str]
) -> None:
    matcher = KeywordMatcher([_rule("价格", "多少钱"), _rule("退款", mode="substring")], tokenizer)
    matcher.match("大家早上好，退款到账了", "r1")
    assert lcut_calls == []  # no word keyword in the text: no token can equal one
    matcher.match("评价格式不对", "r1")  # 价格 occurs as text, so tokens must decide
    matcher.match("这个课价格多少，多少钱", "r1")
    assert lcut_calls == ["评价格式不对", "这个课价格多少，多少钱"]


def test_substring_rules_alone_never_tokenize(tokenizer: Tokenizer, lcut_calls: list[str]) -> None:
    matcher = KeywordMatcher([_rule("价格", "多少钱", mode="substring")], tokenizer)
    assert matcher.match("这个课价格多少", "r1") == [Hit(1, "价格")]
    assert lcut_calls == []


def test_tokenizer_is_lazy_and_shared() -> None:
    assert not Tokenizer().loaded  # constructing it does not read the dictionary
    assert get_tokenizer() is get_tokenizer()


def test_a_fork_cuts_with_the_dictionary_so_far_and_keeps_its_own_words(engine: str) -> None:
    own = Tokenizer(engine)
    own.add_words(["多少"])
    fork = own.fork()
    assert fork.lcut("这个多少钱") == own.lcut("这个多少钱") == ["这个", "多少", "钱"]
    fork.add_words(["多少钱"])
    assert fork.lcut("这个多少钱") == ["这个", "多少钱"]
    assert own.lcut("这个多少钱") == ["这个", "多少", "钱"]
    assert own.added == {"多少"} and fork.added == {"多少", "多少钱"}
    own.add_words(["钱包"])
    assert "钱包" not in fork.added


def test_tokenizer_cuts_like_jieba_lcut(engine: str) -> None:
    own = Tokenizer(engine)
    for text in [
        "这个课多少钱呀",
        "我想开通VIP会员，price多少？",
        "评价格式不对",
        "新人报到，请多关照",
    ]:
        assert own.lcut(text) == jieba.lcut(text)


def test_added_words_stay_out_of_the_global_jieba(tokenizer: Tokenizer) -> None:
    tokenizer.add_words(["云打卡群"])
    assert "云打卡群" in tokenizer.lcut("欢迎加入云打卡群")
    assert "云打卡群" not in jieba.lcut("欢迎加入云打卡群")


def test_add_words_adds_each_word_once(
    tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    added: list[str] = []
    engine = tokenizer._engine
    real_add_keywords = engine.add_keywords

    def counting_add_keywords(words: list[str]) -> None:
        added.extend(words)
        real_add_keywords(words)

    monkeypatch.setattr(engine, "add_keywords", counting_add_keywords)
    tokenizer.add_words(["晨读打卡", "晨读打卡", "夜读打卡"])
    tokenizer.add_words(["夜读打卡"])
    KeywordMatcher([_rule("晨读打卡", "夜读打卡")], tokenizer)
    assert added == ["晨读打卡", "夜读打卡"]
    assert {"晨读打卡", "夜读打卡"} <= tokenizer.added
    assert "晨读打卡" in tokenizer.lcut("我们晨读打卡吧")


def test_single_characters_and_ascii_runs_are_not_added(
    tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    added: list[str] = []
    monkeypatch.setattr(tokenizer._engine, "add_keywords", lambda words: added.extend(words))
    tokenizer.add_words(["钱", "price", "VIP2", "多少钱？"])
    assert added == []


def test_a_dictionary_word_keeps_a_higher_frequency() -> None:
    known = dictionary_frequencies(["一个"])["一个"]  # about 1.4e5 in jieba's dictionary
    python = Tokenizer("jieba")
    python.add_words(["一个"])
    assert python._engine._jieba.FREQ["一个"] == max(KEYWORD_FREQ, known)  # type: ignore[attr-defined]


def test_many_keywords_leave_other_text_cut_as_before(engine: str) -> None:
    # jieba's add_word grows the dictionary total; with a thousand keywords that alone
    # turned 对/了 into 对了 and 报/到 into 报到 far from any keyword.
    texts = ["对了，快递到了吗", "新人报到，请多关照", "几点开始", "对了，发票抬头写公司名"]
    joined = "".join(texts)
    words = []
    with jieba.get_dict_file() as dictionary:
        for line in dictionary:
            word, freq, *_ = line.decode("utf-8").split()
            if 2 <= len(word) <= 4 and int(freq) > 1000 and not set(word) & set(joined):
                words.append(word)
    own = Tokenizer(engine)
    own.add_words(words[:: max(1, len(words) // 1000)])
    assert [own.lcut(text) for text in texts] == [jieba.lcut(text) for text in texts]
