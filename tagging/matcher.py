"""Finding which keyword rules a chat message hits: a jieba tokenizer of our own and a rule index."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jieba

from tagging.intent import NEGATIONS, OPPOSITE_MARKERS, PRICE, REFUND, SIGNUP, Synonyms, asks, clause_bounds, negated
from tagging.rules import KeywordRule, can_be_token

# Frequency given to an added keyword (jieba's dictionary total is about 6e7; 价格 is
# about 1.2e4, 的 about 3e6). High enough that a keyword beats the splits its neighbours
# offer (还差多少钱包邮 → 多少钱/包邮 rather than 多少/钱包; 产品质量 → 产品/质量), low
# enough that it does not steal characters from established words (评价格式 stays
# 评价/格式 until 价格 is given about 8e6). The price of "high": a keyword can also win a
# genuinely ambiguous spot (课程表 in 这门课程表现不错, from 1e4 up).
KEYWORD_FREQ = 200_000

# jieba always keeps a run of ASCII letters and digits as one token; putting such a word in
# the dictionary would only let jieba split longer runs around it (priceless → price/less).
_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")
_NEGATING_CHARS = frozenset("".join(NEGATIONS))
_SENTENCE_END = re.compile(r"[。！!？?\n]")


def normalize(text: str) -> str:
    """The form keywords and messages are compared in: case does not matter (VIP = vip)."""
    return text.lower()


class Tokenizer:
    """A jieba tokenizer of our own, so added keywords never leak into the global one.

    The dictionary (about 0.9 s to load) is read on first use; call `initialize()` at
    start-up to pay that before the first message instead.
    """

    def __init__(self) -> None:
        self._jieba = jieba.Tokenizer()
        self._added: set[str] = set()
        self._lock = threading.Lock()

    def initialize(self) -> None:
        self._jieba.initialize()

    @property
    def loaded(self) -> bool:
        """True once the dictionary has been read."""
        return bool(self._jieba.initialized)

    def add_words(self, words: Iterable[str]) -> None:
        """Add each word to the dictionary once, weighted so it survives segmentation.

        Single characters, plain ASCII runs and words jieba can never return whole are
        skipped: jieba already keeps the first two whole, and the last cannot be helped.
        A word already in the dictionary with a higher frequency keeps it.
        """
        with self._lock:
            for word in words:
                if word in self._added:
                    continue
                self._added.add(word)
                if len(word) < 2 or _ASCII_RUN.fullmatch(word) or not can_be_token(word):
                    continue
                self._jieba.check_initialized()
                total = self._jieba.total
                known = self._jieba.FREQ.get(word) or 0
                self._jieba.add_word(word, freq=max(known, KEYWORD_FREQ))
                # add_word also grows the dictionary total, which makes every extra token
                # costlier and so changes how text far from any keyword is cut (1,000
                # keywords turn 对/了 into 对了, 报/到 into 报到). Keeping the total fixed
                # leaves segmentation as it was except around the keywords themselves.
                self._jieba.total = total

    def fork(self) -> Tokenizer:
        """A copy with this dictionary as it is now, which later `add_words` on either side
        do not reach: a rule preview cuts text as its rule would, and leaves no trace here.

        Copies the word table (about 0.5M entries, some 10 ms), not the file: no reload."""
        twin = Tokenizer()
        with self._lock:
            self._jieba.check_initialized()
            source, target = self._jieba, twin._jieba
            target.FREQ = dict(source.FREQ)
            target.total = source.total
            target.user_word_tag_tab = dict(source.user_word_tag_tab)
            target.initialized = True
            twin._added = set(self._added)
        return twin

    @property
    def added(self) -> frozenset[str]:
        """Every word passed to `add_words` so far (including the skipped ones)."""
        with self._lock:
            return frozenset(self._added)

    def lcut(self, text: str) -> list[str]:
        """Same as `jieba.lcut(text)`: accurate mode, HMM on."""
        tokens: list[str] = self._jieba.lcut(text)
        return tokens


_shared: Tokenizer | None = None
_shared_lock = threading.Lock()


def get_tokenizer() -> Tokenizer:
    """The process-wide Tokenizer: the dictionary is loaded once per process, not per rule set.

    Words added for rules that were later deleted stay in its dictionary until restart;
    they can shift how nearby text is cut but never produce a hit on their own.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Tokenizer()
        return _shared


@dataclass(frozen=True)
class Hit:
    """`keyword` (as the rule spells it) of rule `rule_id` appears in a message."""

    rule_id: int
    keyword: str


# An index entry: a rule's position in the rule list, and the hit to report for it. Hits
# are immutable, so each is built once here rather than once per matching message.
_Entry = tuple[int, Hit]


class KeywordMatcher:
    """All keyword rules of a community, indexed so a message costs at most one tokenization.

    Build it once per rule set (it adds the word-mode keywords to `tokenizer`) and call
    `match` per message. A keyword that names a synonym set (价格) stands for every word of
    it (`synonyms`). One pass slides over the message: at each character that starts some
    keyword, the slices of the keyword lengths starting with that character are looked up in
    a dict, so the cost grows with the message, not with the number of rules. Only when that
    pass finds something is the message tokenized: a word-mode keyword must be a jieba token,
    and every keyword is then read in its clause — a negation earlier in the clause stops it
    (「我不想报名了」), a sign-up word beside 退款/取消 reads as the refund intent, and a rule
    with `intent=ask` needs the clause to ask (see tagging.intent).
    """

    def __init__(self, rules: Sequence[KeywordRule], tokenizer: Tokenizer,
                 synonyms: Synonyms | None = None) -> None:
        self._rules = tuple(rules)
        self._tokenizer = tokenizer
        self._synonyms = synonyms or Synonyms()
        word_index: dict[str, list[_Entry]] = {}
        substring_index: dict[str, list[_Entry]] = {}
        refund: list[int] = []
        for position, rule in enumerate(self._rules):
            index = word_index if rule.mode == "word" else substring_index
            if REFUND in rule.keywords:
                refund.append(position)
            for keyword in expand(rule, self._synonyms):
                # A rule spelling one keyword twice (VIP, vip) gets two entries; the
                # first wins when hits are recorded, so that costs nothing but a lookup.
                index.setdefault(normalize(keyword), []).append((position, Hit(rule.id, keyword)))
        tokenizer.add_words(word_index)
        self._refund = tuple(refund)
        # Words of wanting (price, sign-up) are read with their negation whatever the rule:
        # 「我不想报名了」 wants nothing. Other words only in `intent=ask` rules, so a plain
        # rule on 发货 still hears 「还没发货」; complaint words never (「还没退款」 is one).
        self._signup = frozenset(normalize(w) for w in self._synonyms.expand(SIGNUP))
        self._wanting = self._signup | {normalize(w) for w in self._synonyms.expand(PRICE)}
        self._complaint = frozenset(normalize(w) for w in self._synonyms.expand(REFUND))
        # Every keyword, for the sliding pass: its substring-rule and word-rule entries.
        self._pieces: dict[str, tuple[tuple[_Entry, ...], tuple[_Entry, ...]]] = {
            key: (tuple(substring_index.get(key, ())), tuple(word_index.get(key, ())))
            for key in (*substring_index, *word_index)
        }
        lengths: dict[str, set[int]] = {}
        for key in self._pieces:
            lengths.setdefault(key[0], set()).add(len(key))
        # Longest first, so at one place a rule reports 多少钱 rather than 多少.
        self._lengths_by_first = {
            first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()
        }
        self._everywhere = tuple(rule.scope.kind == "all" for rule in self._rules)

    @property
    def rules(self) -> tuple[KeywordRule, ...]:
        return self._rules

    def match(self, text: str, room: str | None) -> list[Hit]:
        """Rules hit by `text` sent in `room` (None: a 1:1 chat), in rule order.

        At most one hit per rule: the keyword found earliest in the message (at the same
        place, the longer one) that is not negated and, for `intent=ask`, asks. Rules whose
        scope does not cover `room` are left out.
        """
        lowered = normalize(text)
        seen = self._slide(lowered)
        if not seen:
            return []
        reading = _Reading(lowered, self._tokenizer)
        found: dict[int, Hit] = {}
        rules = self._rules
        for start, key in seen:
            substring_entries, word_entries = self._pieces[key]
            end = start + len(key)
            entries = substring_entries + word_entries if word_entries and reading.is_token(
                start, end) else substring_entries
            if not entries or all(position in found for position, _ in entries):
                continue
            if key in self._signup and reading.beside_opposite(start, end):
                # 「取消报名」「报名的钱能退吗」: not a sign-up, the refund intent
                for position in self._refund:
                    if position not in found and (rules[position].intent != "ask" or reading.asks(start, end)):
                        found[position] = Hit(rules[position].id, reading.opposite_word(start, end))
                continue
            complaint = key in self._complaint
            wanting = key in self._wanting and not complaint
            negation: bool | None = None
            for position, hit in entries:
                rule = rules[position]
                if position in found:
                    continue
                if wanting or complaint or rule.intent == "ask":
                    if negation is None:
                        negation = reading.negated(start, end, complaint=complaint)
                    if negation:
                        continue
                if rule.intent == "ask" and not reading.asks(start, end):
                    continue
                found[position] = hit
        if not found:
            return []
        everywhere = self._everywhere
        return [
            found[position]
            for position in sorted(found)
            if everywhere[position] or rules[position].scope.applies(room)
        ]

    def _slide(self, lowered: str) -> list[tuple[int, str]]:
        """Every (start, keyword) occurring in the message, in order (longer first at a place)."""
        lengths_by_first = self._lengths_by_first
        pieces = self._pieces
        seen: list[tuple[int, str]] = []
        for start, char in enumerate(lowered):
            lengths = lengths_by_first.get(char)
            if lengths is None:
                continue
            for length in lengths:
                piece = lowered[start : start + length]
                if piece in pieces:
                    seen.append((start, piece))
        return seen


def expand(rule: KeywordRule, synonyms: Synonyms) -> tuple[str, ...]:
    """The words a rule listens for: its keywords, each naming a synonym set expanded."""
    words: list[str] = []
    for keyword in rule.keywords:
        for word in synonyms.expand(keyword):
            # A set's one-character words (贵, 价) are whole tokens in word mode; as
            # substrings they would be found inside every other word.
            if word not in words and (word == keyword or rule.mode == "word" or len(word) > 1):
                words.append(word)
    return tuple(words)


class _Reading:
    """One message read around its keywords: tokens (cut once, on first need) and clauses."""

    def __init__(self, lowered: str, tokenizer: Tokenizer) -> None:
        self.text = lowered
        self._tokenizer = tokenizer
        self._spans: list[tuple[int, int, str]] | None = None
        self._starts: dict[int, int] = {}

    @property
    def spans(self) -> list[tuple[int, int, str]]:
        if self._spans is None:
            spans: list[tuple[int, int, str]] = []
            at = 0
            for token in self._tokenizer.lcut(self.text):
                self._starts[at] = len(spans)
                spans.append((at, at + len(token), token))
                at += len(token)
            self._spans = spans
        return self._spans

    def is_token(self, start: int, end: int) -> bool:
        spans = self.spans
        index = self._starts.get(start)
        return index is not None and spans[index][1] == end

    def _clause_tokens(self, start: int, end: int) -> tuple[list[str], list[str]]:
        left, right = clause_bounds(self.text, start, end)
        before = [t for s, e, t in self.spans if s >= left and e <= start]
        around = [t for s, e, t in self.spans if s >= left and e <= right and (e <= start or s >= end)]
        return before, around

    def negated(self, start: int, end: int, *, complaint: bool = False) -> bool:
        left = clause_bounds(self.text, start, end)[0]
        # Most clauses hold no negating character at all: no need to cut them.
        if not _NEGATING_CHARS.intersection(self.text[left:start]):
            return False
        return negated(self._clause_tokens(start, end)[0], complaint=complaint)

    def beside_opposite(self, start: int, end: int) -> bool:
        left, right = clause_bounds(self.text, start, end)
        clause = self.text[left:right]
        if not any(marker in clause for marker in OPPOSITE_MARKERS):
            return False
        return any(t in OPPOSITE_MARKERS for t in self._clause_tokens(start, end)[1])

    def opposite_word(self, start: int, end: int) -> str:
        return next(t for t in self._clause_tokens(start, end)[1] if t in OPPOSITE_MARKERS)

    def asks(self, start: int, end: int) -> bool:
        """Whether the keyword's clause asks, read on to the end of its sentence: 「报名的话，
        需要什么条件？」 asks, 「价格还算合理」 does not."""
        left = clause_bounds(self.text, start, end)[0]
        stop = _SENTENCE_END.search(self.text, end)
        return asks(self.text[left:stop.end() if stop else len(self.text)])
