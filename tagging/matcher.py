"""Finding which keyword rules a chat message hits: a jieba tokenizer of our own and a rule index."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jieba

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
    `match` per message. One pass slides over the message: at each character that starts
    some keyword, the slices of the keyword lengths starting with that character are looked
    up in a dict, so the cost grows with the message, not with the number of rules. That
    pass settles substring rules outright. A jieba token is a slice of the message, so a
    word-mode keyword can only be a token if the pass saw it; only then is the message
    tokenized and its tokens looked up in a second dict.
    """

    def __init__(self, rules: Sequence[KeywordRule], tokenizer: Tokenizer) -> None:
        self._rules = tuple(rules)
        self._tokenizer = tokenizer
        word_index: dict[str, list[_Entry]] = {}
        substring_index: dict[str, list[_Entry]] = {}
        for position, rule in enumerate(self._rules):
            index = word_index if rule.mode == "word" else substring_index
            for keyword in rule.keywords:
                # A rule spelling one keyword twice (VIP, vip) gets two entries; the
                # first wins when hits are recorded, so that costs nothing but a lookup.
                index.setdefault(normalize(keyword), []).append((position, Hit(rule.id, keyword)))
        tokenizer.add_words(word_index)
        self._word_index = {key: tuple(entries) for key, entries in word_index.items()}
        self._word_keys = frozenset(self._word_index)
        # Every keyword, for the sliding pass: its substring-rule entries, and whether it is
        # also a word-mode keyword (seeing it means the message must be tokenized).
        self._pieces: dict[str, tuple[tuple[_Entry, ...], bool]] = {
            key: (tuple(substring_index.get(key, ())), key in word_index)
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
        place, the longer one). Rules whose scope does not cover `room` are left out.
        """
        lowered = normalize(text)
        found: dict[int, Hit] = {}
        if self._slide(lowered, found):
            tokens = self._tokenizer.lcut(lowered)
            # Usually one keyword is a token, often none (评价格式 holds 价格 but not as a
            # token); the intersection finds that in C, and only several need token order.
            matched = self._word_keys.intersection(tokens)
            if len(matched) == 1:
                for position, hit in self._word_index[next(iter(matched))]:
                    found.setdefault(position, hit)
            elif matched:
                word_index = self._word_index
                for token in tokens:
                    if token in matched:
                        for position, hit in word_index[token]:
                            found.setdefault(position, hit)
        if not found:
            return []
        everywhere = self._everywhere
        rules = self._rules
        return [
            found[position]
            for position in sorted(found)
            if everywhere[position] or rules[position].scope.applies(room)
        ]

    def _slide(self, lowered: str, found: dict[int, Hit]) -> bool:
        """Record substring-rule hits in `found`; True when a word-mode keyword occurs."""
        lengths_by_first = self._lengths_by_first
        pieces = self._pieces
        word_seen = False
        for start, char in enumerate(lowered):
            lengths = lengths_by_first.get(char)
            if lengths is None:
                continue
            for length in lengths:
                piece = pieces.get(lowered[start : start + length])
                if piece is not None:
                    entries, is_word = piece
                    word_seen = word_seen or is_word
                    for position, hit in entries:
                        found.setdefault(position, hit)
        return word_seen
