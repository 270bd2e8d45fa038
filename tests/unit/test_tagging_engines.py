"""jieba-rs and python-jieba give the same tokens and the same rule hits (tagging/matcher.py).

Every keyword rule written in the tests and the example config, all at once (as a busy
community would have them), over more than 10,000 generated sentences: chat lines built
from jieba's own dictionary words, the rules' keywords in and around other words,
negations, ASCII words, URLs, e-mail addresses, decimals, percentages, emoji sequences
with ZWJ and keycaps, full-width forms, rare CJK extension characters and odd spacing.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagging.matcher import ENGINES, KeywordMatcher, Tokenizer, dictionary_frequencies
from tagging.rules import KeywordRule, RuleSyntaxError, parse_rule

pytestmark = pytest.mark.skipif("rjieba" not in ENGINES, reason="rjieba did not install here: python-jieba alone")

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = 12_000


def _written_rules() -> list[KeywordRule]:
    """Every `keyword …` rule spelled in a test file or the example config."""
    sources = [*sorted((ROOT / "tests").rglob("*.py")), ROOT / "bot" / "example_config.toml"]
    rules: list[KeywordRule] = []
    seen: set[str] = set()
    for path in sources:
        for found in re.finditer(r"[\"'](?:/rule (?:add|preview) )?(keyword [^\"'\n]+)[\"']", path.read_text("utf-8")):
            text = found.group(1)
            if text in seen:
                continue
            seen.add(text)
            parts = text.split()
            words = [p for p in parts if "=" not in p]
            options = dict(p.split("=", 1) for p in parts if "=" in p)
            for tried in (options, {k: v for k, v in options.items() if k == "mode"}, {}):
                try:
                    rule = parse_rule(words, tried, rule_id=len(rules) + 1)
                except RuleSyntaxError:
                    continue
                if isinstance(rule, KeywordRule):
                    rules.append(rule)
                break
    return rules


def _dictionary_words(rng: random.Random) -> list[str]:
    import jieba

    words = []
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word = line.split(" ", 1)[0]
            words.append(word)
    rng.shuffle(words)
    return words[:40_000]


_ASCII = ["vip", "VIP会员", "price", "ok", "app", "www.baidu.com", "https://u.wechat.com/abc?x=1&y=2", "a_b@qq.com",
          "3.5", "50%", "1.5.2", "c++", "c#", "x-ray", "iPhone15", "138-0000-0000", "...", "v.i.p", "wx12345",
          "Day 12", "D12", "2026-12-07", "12:30", "#接龙", "@小王", "ID:abc_123", "9.9元", "100%好评"]
_EMOJI = ["👩\u200d💻", "🏳️\u200d🌈", "🧑\u200d🎓", "4⃣️", "✅", "💪", "😂😂", "\u200b", "\u200e", "🙏🏻"]
_RARE = ["㐀", "䶵", "鿖", "鿿", "豈", "𠀀", "𪚥", "𫝀"]
_PUNCT = ["，", "。", "？", "！", "、", "～", "…", "——", "“", "”", "（", "）",
          ",", ".", "?", "!", " ", "  ", "\t", "\n"]
_NEGATIONS = ["不", "没", "别", "不想", "不用", "无需"]
_CHAT = ["我想报个名", "这个课多少钱呀", "还差多少钱包邮", "评价格式不对", "新人报到，请多关照", "对了，快递到了吗",
         "打卡第18天 跑步5公里", "小舟-减脂 打卡第十天", "我今天忘了打卡", "明天记得打卡哦", "价格还算合理",
         "能分期付款吗", "想退款", "怎么收费", "学费多少", "贵吗", "发我链接", "课程表发了吗", "这门课程表现不错"]


def _sentences(keywords: list[str]) -> Iterator[str]:
    rng = random.Random(20261207)
    words = _dictionary_words(rng)
    pools = [words, keywords or words, _ASCII, _EMOJI, _RARE, _PUNCT, _NEGATIONS]
    weights = [50, 12, 6, 4, 1, 12, 3]
    yield from _CHAT
    for i in range(SENTENCES):
        parts = []
        for _ in range(rng.randint(1, 12)):
            pool = rng.choices(pools, weights)[0]
            parts.append(pool[int(rng.random() * len(pool))])
        if i % 7 == 0:
            parts.insert(rng.randint(0, len(parts)), rng.choice(_CHAT))
        yield "".join(parts)


@pytest.fixture(scope="module")
def rules() -> list[KeywordRule]:
    found = _written_rules()
    assert len(found) >= 30, "the tests and the example config spell dozens of keyword rules"
    return found


def test_both_engines_cut_and_match_alike(rules: list[KeywordRule]) -> None:
    keywords = sorted({k for rule in rules for k in rule.keywords})
    python, rust = Tokenizer("jieba"), Tokenizer("rjieba")
    matchers = KeywordMatcher(rules, python), KeywordMatcher(rules, rust)
    token_diffs, hit_diffs, hits, n = [], [], 0, 0
    for text in _sentences(keywords):
        n += 1
        lowered = text.lower()
        if python.lcut(lowered) != rust.lcut(lowered):
            token_diffs.append((text, python.lcut(lowered), rust.lcut(lowered)))
        for room in (None, "r1@chatroom"):
            a, b = (m.match(text, room) for m in matchers)
            hits += len(a)
            if a != b:
                hit_diffs.append((text, room, a, b))
    assert n > 10_000
    assert hits > 2_000  # the sentences do reach the rules
    assert hit_diffs == []
    assert token_diffs == []


def test_both_engines_cut_alike_with_no_words_added() -> None:
    python, rust = Tokenizer("jieba"), Tokenizer("rjieba")
    diffs = [t for t in _sentences([]) if python.lcut(t.lower()) != rust.lcut(t.lower())]
    assert diffs == []


def test_a_fork_of_the_rust_engine_cuts_like_a_fork_of_python() -> None:
    words = ["多少钱", "云打卡群", "课程表"]
    python, rust = Tokenizer("jieba"), Tokenizer("rjieba")
    python.add_words(words[:1])
    rust.add_words(words[:1])
    forks = python.fork(), rust.fork()
    for fork in forks:
        fork.add_words(words[1:])
    for text in ["下周的课程表发了吗", "欢迎加入云打卡群", "还差多少钱包邮", "这门课程表现不错"]:
        assert forks[0].lcut(text) == forks[1].lcut(text)
        assert python.lcut(text) == rust.lcut(text)
    assert "云打卡群" not in rust.lcut("欢迎加入云打卡群")  # the fork's words stay in the fork


def test_dictionary_frequencies_read_jiebas_own_file() -> None:
    """The frequencies python-jieba reads from its dictionary, for words of the file, words that
    only begin one (not themselves listed), longer ones and none."""
    import jieba

    known = dictionary_frequencies(["价格", "一个", "没有这个词吧"])
    reference = jieba.Tokenizer()
    reference.initialize()
    assert known == {w: reference.FREQ[w] for w in ("价格", "一个")}
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as fh:
        listed = {line.split(" ", 1)[0] for line in fh}
    sample = random.Random(5).sample(sorted(listed), 3_000)
    asked = [*sample, *(w[:-1] for w in sample), *(w + "们" for w in sample[:300]), "价" * 70, "c++", "AT&T"]
    expected = {w: reference.FREQ[w] for w in asked if w in listed}
    assert len(expected) > 3_000 and len(set(asked) - set(expected)) > 300
    assert dictionary_frequencies(asked) == expected
    assert dictionary_frequencies([]) == {}
