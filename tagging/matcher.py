"""Finding which keyword rules a chat message hits: a jieba tokenizer of our own and a rule index."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from tagging.intent import NEGATIONS, OPPOSITE_MARKERS, PRICE, REFUND, SIGNUP, Synonyms, asks, clause_bounds, negated
from tagging.rules import KeywordRule, can_be_token

if TYPE_CHECKING:
    import rjieba

# Both engines are imported when a tokenizer first needs one, not with this module: python-jieba's
# import alone takes about 0.3 s (pkg_resources) and a process cutting with jieba-rs never uses it;
# rjieba's builds a dictionary (below). A process that cuts no text (`qunguan db`, an import's
# --dry-run) pays for neither.
# jieba-rs through its binding: the same dictionary, HMM and algorithm, about 50x faster; where
# no wheel installed for this platform, python-jieba alone.
HAVE_RJIEBA = importlib.util.find_spec("rjieba") is not None


def _python_jieba() -> ModuleType:
    import jieba

    # jieba sets its logger to DEBUG when imported: its dictionary chatter is noise here.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    module: ModuleType = jieba
    return module


_rjieba_lock = threading.Lock()
_rjieba_default_taken = False


def _fresh_rjieba() -> rjieba.Jieba:
    """A jieba-rs with its default dictionary and nothing added. Importing rjieba builds one for
    its module-level functions (about 0.25 s and 25 MB), which nothing here calls: the process's
    first engine takes that one instead of building a second."""
    global _rjieba_default_taken
    import rjieba

    with _rjieba_lock:
        if not _rjieba_default_taken:
            _rjieba_default_taken = True
            return rjieba._DEFAULT_JIEBA
    return rjieba.Jieba()

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



# Which engine a Tokenizer cuts with: "rjieba" where its wheel installed, else "jieba";
# QUNGUAN_TOKENIZER=jieba forces python-jieba (both give the same tokens, see _RustEngine).
ENGINES = ("rjieba", "jieba") if HAVE_RJIEBA else ("jieba",)


def default_engine() -> str:
    wanted = os.environ.get("QUNGUAN_TOKENIZER", "").strip().lower()
    return wanted if wanted in ENGINES else ENGINES[0]


def normalize(text: str) -> str:
    """The form keywords and messages are compared in: case does not matter (VIP = vip)."""
    return text.lower()


class _Engine(Protocol):
    @property
    def loaded(self) -> bool: ...

    def initialize(self) -> object: ...
    def lcut(self, text: str) -> list[str]: ...
    def add_keywords(self, words: list[str]) -> None: ...
    def twin(self) -> _Engine: ...


class _PythonEngine:
    """python-jieba: the reference the Rust engine is checked against."""

    def __init__(self) -> None:
        self._jieba = _python_jieba().Tokenizer()

    @property
    def loaded(self) -> bool:
        return bool(self._jieba.initialized)

    def initialize(self) -> None:
        self._jieba.initialize()

    def lcut(self, text: str) -> list[str]:
        tokens: list[str] = self._jieba.lcut(text)
        return tokens

    def add_keywords(self, words: list[str]) -> None:
        self._jieba.check_initialized()
        total = self._jieba.total
        for word in words:
            known = self._jieba.FREQ.get(word) or 0
            self._jieba.add_word(word, freq=max(known, KEYWORD_FREQ))
        # add_word also grows the dictionary total, which makes every extra token
        # costlier and so changes how text far from any keyword is cut (1,000
        # keywords turn 对/了 into 对了, 报/到 into 报到). Keeping the total fixed
        # leaves segmentation as it was except around the keywords themselves.
        self._jieba.total = total

    def twin(self) -> _PythonEngine:
        """Copies the word table (about 0.5M entries, some 10 ms), not the file: no reload."""
        twin = _PythonEngine()
        self._jieba.check_initialized()
        source, target = self._jieba, twin._jieba
        target.FREQ = dict(source.FREQ)
        target.total = source.total
        target.user_word_tag_tab = dict(source.user_word_tag_tab)
        target.initialized = True
        return twin


# python-jieba cuts a run of ASCII letters, digits and `+#&._%-` (outside dictionary words
# such as c++) at every character but letter/digit runs, decimals and percentages
# (www.baidu.com → www/./baidu/./com); jieba-rs keeps such a run whole. Re-cutting those
# tokens the python way makes the two engines' tokens equal, so keywords match alike.
_ASCII_PIECES = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_PLAIN_ASCII_TOKEN = re.compile(r"[a-zA-Z0-9]+(?:\.\d+)?%?")
# Characters jieba-rs reads as Chinese and python-jieba does not (CJK extensions and
# compatibility ideographs, U+9FD6–U+9FFF): python-jieba cuts the text around each one.
_RUST_ONLY_HAN = re.compile(
    "([\u3400-\u4DBF\u9FD6-\u9FFF\uF900-\uFAFF\U00020000-\U0002A6DF\U0002A700-\U0002EBEF"
    "\U0002F800-\U0002FA1F])"
)
# A word no message can hold (plane 15 private use; not Chinese to either engine): its
# frequency takes up what added keywords add to jieba-rs's dictionary total, see below.
_BALLAST = "\U000F0000\U000F0001"
_U64 = 2**64


class _RustEngine:
    """jieba-rs (rjieba): same dictionary, HMM and route as python-jieba; tokens re-cut
    where the two differ (ASCII runs, rare CJK), so rules match exactly as with python-jieba.

    python-jieba keeps the dictionary total fixed when keywords are added (see
    _PythonEngine.add_keywords); rjieba has no way to set it. Its total is an unsigned 64-bit
    sum that wraps, so one ballast word whose frequency is 2^64 minus what the keywords
    added brings the total back to exactly the dictionary's own. `initialize` checks that
    this holds for the wheel installed (a build with overflow checks would raise)."""

    def __init__(self) -> None:
        self._rs: rjieba.Jieba | None = None
        self._added: dict[str, int] = {}  # keyword → the frequency it was given
        self._excess = 0  # what the keywords added to the total

    @property
    def loaded(self) -> bool:
        return self._rs is not None

    def initialize(self) -> rjieba.Jieba:
        if self._rs is None:
            self._rs = _fresh_rjieba()
        return self._rs

    def _cut(self, text: str) -> list[str]:
        return self.initialize().cut(text, True)

    def lcut(self, text: str) -> list[str]:
        if _RUST_ONLY_HAN.search(text) is None:
            return self._python_ascii(self._cut(text))
        out: list[str] = []
        for i, part in enumerate(_RUST_ONLY_HAN.split(text)):
            if i % 2:
                out.append(part)
            elif part:
                out.extend(self._python_ascii(self._cut(part)))
        return out

    def _python_ascii(self, tokens: list[str]) -> list[str]:
        fixed: list[str] | None = None
        for i, token in enumerate(tokens):
            if (len(token) > 1 and token.isascii() and not _PLAIN_ASCII_TOKEN.fullmatch(token)
                    and not token.isspace() and can_be_token(token) and not self._in_dictionary(token)):
                if fixed is None:
                    fixed = tokens[:i]
                fixed.extend(piece for piece in _ASCII_PIECES.split(token) if piece)
            elif fixed is not None:
                fixed.append(token)
        return tokens if fixed is None else fixed

    def _in_dictionary(self, token: str) -> bool:
        return self.initialize().has_word(token)

    def add_keywords(self, words: list[str]) -> None:
        rs = self.initialize()
        known = dictionary_frequencies(words)
        for word in words:
            had = max(known.get(word, 0), self._added.get(word, 0))
            if had >= KEYWORD_FREQ:
                continue
            self._excess += KEYWORD_FREQ - had
            self._added[word] = KEYWORD_FREQ
            rs.add_word(word, KEYWORD_FREQ, "")
        if self._excess:
            rs.add_word(_BALLAST, _U64 - self._excess, "")

    def twin(self) -> _RustEngine:
        """A new engine with the same added words: reads the dictionary again (about 0.3 s)."""
        twin = _RustEngine()
        twin.add_keywords(list(self._added))
        return twin


def dictionary_frequencies(words: Iterable[str]) -> dict[str, int]:
    """The frequencies jieba's own dictionary gives `words` (absent words are left out).

    One regex pass over the file's bytes finds the lines of those words only (a Python loop
    over its 350k lines took 0.1-0.2 s a call): the words as a trie, so a line costs a few
    byte comparisons however many words are asked for."""
    wanted = {w.encode() for w in words if 0 < len(w) <= _LONGEST_WORD}
    if not wanted:
        return {}
    spec = importlib.util.find_spec("jieba")  # its file, without importing it
    assert spec is not None and spec.origin is not None, "python-jieba is a dependency"
    data = b"\n" + Path(spec.origin).with_name("dict.txt").read_bytes()  # a line is "word freq tag"
    line = re.compile(b"\n(" + _trie(wanted) + rb") (\d+)[ \r\n]")
    return {m[1].decode(): int(m[2]) for m in line.finditer(data)}


_LONGEST_WORD = 64  # characters: no longer word is looked up (the dictionary's longest has 16)
_Trie = dict[int, "_Trie"]  # byte → the rest; -1: a word ends here


def _trie(words: set[bytes]) -> bytes:
    """A regex matching exactly `words` (non-empty), shared prefixes written once."""
    root: _Trie = {}
    for word in words:
        node = root
        for byte in word:
            node = node.setdefault(byte, {})
        node[-1] = {}

    def pattern(node: _Trie) -> bytes:
        branches = [re.escape(bytes([b])) + pattern(child) for b, child in sorted(node.items()) if b >= 0]
        if not branches:
            return b""
        if -1 in node:  # a word ends here: the longer ones are optional
            return b"(?:" + b"|".join(branches) + b")?"
        return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"

    return pattern(root)


def _engine(name: str) -> _Engine:
    if name == "rjieba":
        return _RustEngine()
    return _PythonEngine()


class Tokenizer:
    """A jieba tokenizer of our own, so added keywords never leak into the global one.

    Cuts with jieba-rs where its wheel installed, else with python-jieba; both give the same
    tokens (tests/unit/test_tagging_engines.py compares them). The dictionary (about 0.4 s
    with jieba-rs, 0.9 s with python-jieba) is read on first use; call `initialize()` at
    start-up to pay that before the first message instead.
    """

    def __init__(self, engine: str | None = None) -> None:
        self.engine = engine or default_engine()
        self._engine = _engine(self.engine)
        self._added: set[str] = set()
        self._lock = threading.Lock()

    def initialize(self) -> None:
        with self._lock:
            self._engine.initialize()

    @property
    def loaded(self) -> bool:
        """True once the dictionary has been read."""
        return self._engine.loaded

    def add_words(self, words: Iterable[str]) -> None:
        """Add each word to the dictionary once, weighted so it survives segmentation.

        Single characters, plain ASCII runs and words jieba can never return whole are
        skipped: jieba already keeps the first two whole, and the last cannot be helped.
        A word already in the dictionary with a higher frequency keeps it.
        """
        with self._lock:
            new = []
            for word in words:
                if word in self._added:
                    continue
                self._added.add(word)
                if len(word) < 2 or _ASCII_RUN.fullmatch(word) or not can_be_token(word):
                    continue
                new.append(word)
            if new:
                self._engine.add_keywords(new)

    def fork(self) -> Tokenizer:
        """A copy with this dictionary as it is now, which later `add_words` on either side
        do not reach: a rule preview cuts text as its rule would, and leaves no trace here."""
        twin = Tokenizer(self.engine)
        with self._lock:
            twin._engine = self._engine.twin()
            twin._added = set(self._added)
        return twin

    @property
    def added(self) -> frozenset[str]:
        """Every word passed to `add_words` so far (including the skipped ones)."""
        with self._lock:
            return frozenset(self._added)

    def lcut(self, text: str) -> list[str]:
        """Same as `jieba.lcut(text)`: accurate mode, HMM on."""
        with self._lock:
            return self._engine.lcut(text)


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
    keyword (found by one regex character class), the slices of the keyword lengths starting
    with that character are looked up in a dict, so the cost grows with the message, not with
    the number of rules. Only when that pass finds something is the message tokenized: a
    word-mode keyword must be a jieba token, and every keyword is then read in its clause — a
    negation earlier in the clause stops it (「我不想报名了」), a sign-up word beside 退款/取消
    reads as the refund intent, and a rule with `intent=ask` needs the clause to ask (see
    tagging.intent).
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
        # The characters some keyword starts with, as one class: the pass looks only at the
        # places the regex engine finds them (most characters of most messages start none).
        self._firsts = re.compile("[" + "".join(re.escape(c) for c in sorted(lengths)) + "]" if lengths else "(?!)")
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
        for first in self._firsts.finditer(lowered):
            start = first.start()
            for length in lengths_by_first[first.group()]:
                piece = lowered[start : start + length]
                if piece in pieces:
                    seen.append((start, piece))
        return seen


def dictionary_words(rules: Iterable[KeywordRule], synonyms: Synonyms | None = None) -> list[str]:
    """The words a KeywordMatcher of `rules` adds to its tokenizer: its word-mode keywords (a
    synonym set's words for its name). Adding those of several matchers at once reads jieba's
    dictionary once for all of them; each matcher then finds its words already there."""
    return [normalize(k) for rule in rules if rule.mode == "word" for k in expand(rule, synonyms or Synonyms())]


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
