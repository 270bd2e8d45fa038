"""The one parser for chat-command arguments: words, quotes, key=value options and @mentions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

from bot.core.errors import UsageError

MAX_TEXT = 2000  # characters; a longer command is a paste accident, not a command
MAX_TOKENS = 50

MENTION_END = "\u2005"  # WeChat ends a mention with FOUR-PER-EM SPACE
EQUALS = frozenset("=＝")
# Opening quote → the characters that may close it. Phone keyboards mix straight and curly
# double quotes ("…” or “…"), so any double quote closes a double quote.
QUOTES: Mapping[str, str] = {
    '"': '"”“',
    "“": '”“"',
    "＂": "＂",
    "「": "」",
    "『": "』",
}
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
# "20天", "2次", "+20分" read naturally in Chinese; the unit adds nothing to check.
_UNITS = frozenset("条天次个分")
_CLIP = 20

TokenKind = Literal["positional", "option", "mention"]


@dataclass(frozen=True)
class Token:
    """One word of a command line, in the order typed.

    `text` is the word with its quotes removed: the whole `key=value` for an option and the
    name after "@" for a mention. `quoted` says a quote was used: around the word, around
    the option's value, or around the name in `@"…"`. `closed` marks a mention that WeChat
    ended with U+2005.
    """

    kind: TokenKind
    text: str
    key: str = ""
    value: str = ""
    quoted: bool = False
    closed: bool = False


@dataclass(frozen=True)
class MemberRef:
    """A member named in a command: an @mention WeChat resolved to a wxid, or a name to look up.

    `text` is the display name after "@", or the nickname (or id) typed as a word.
    `wxid` is set exactly when `kind == "mention"`.
    """

    kind: Literal["mention", "name"]
    text: str
    wxid: str | None = None

    def __post_init__(self) -> None:
        if (self.kind == "mention") != (self.wxid is not None):
            raise ValueError("a mention carries a wxid; a name does not")


class FrozenMap(Mapping[str, str]):
    """A read-only, hashable str → str mapping, so `Options` stays a value."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


@dataclass(frozen=True)
class Options:
    """A parsed command line.

    `positional`: the plain words in order, with member arguments taken out.
    `named`: options under their canonical keys. `flags`: canonical names of bare flag words.
    `members`: member arguments in the order typed (see `parse` for which words count).
    """

    positional: tuple[str, ...] = ()
    named: Mapping[str, str] = field(default_factory=FrozenMap)
    members: tuple[MemberRef, ...] = ()
    flags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.named, FrozenMap):
            object.__setattr__(self, "named", FrozenMap(self.named))

    def member(self, index: int = 0) -> MemberRef:
        """The member argument at `index`, or a UsageError asking for it."""
        if 0 <= index < len(self.members):
            return self.members[index]
        if index == 0:
            raise UsageError("请 @ 一位成员，或写出成员的昵称。")
        raise UsageError(f"请写出第 {index + 1} 位成员：@ 对方，或写出成员的昵称。")

    def rest_text(self, from_index: int = 0) -> str:
        """The positional words from `from_index` on, joined by one space ("" if none)."""
        return " ".join(self.positional[from_index:])

    @overload
    def int_option(self, key: str, what: str, low: int, high: int, default: int) -> int: ...

    @overload
    def int_option(self, key: str, what: str, low: int, high: int, default: None = None) -> int | None: ...

    def int_option(self, key: str, what: str, low: int, high: int, default: int | None = None) -> int | None:
        """The option `key` as an integer in [low, high]; `default` when it was not given."""
        value = self.named.get(key)
        if value is None:
            return default
        return int_between(value, what, low, high)


# --- numbers -----------------------------------------------------------------------------
# One wording for every number error: 「{what}应为…，你写的是「{value}」。」


def _number_error(what: str, expected: str, value: str) -> UsageError:
    return UsageError(f"{what}应为{expected}，你写的是「{shown(value)}」。")


def _to_int(value: str) -> int | None:
    digits = value.strip().translate(_FULLWIDTH_DIGITS)
    if digits[-1:] in _UNITS:
        digits = digits[:-1]
    # Not int() alone: it also takes "1_000", " 5 " and digits of other scripts.
    if not _INTEGER.fullmatch(digits):
        return None
    return int(digits)


def int_between(value: str, what: str, low: int, high: int) -> int:
    """`value` as an integer in [low, high], or a UsageError in the shared wording."""
    n = _to_int(value)
    if n is None or not low <= n <= high:
        raise _number_error(what, f" {low} 到 {high} 之间的整数", value)
    return n


def positive_int(value: str, what: str) -> int:
    """`value` as an integer ≥ 1: 「积分应为正整数，你写的是「-3」。」"""
    n = _to_int(value)
    if n is None or n <= 0:
        raise _number_error(what, "正整数", value)
    return n


def non_negative_int(value: str, what: str) -> int:
    """`value` as an integer ≥ 0: 「登录天数阈值应为不小于 0 的整数，你写的是「-1」。」"""
    n = _to_int(value)
    if n is None or n < 0:
        raise _number_error(what, "不小于 0 的整数", value)
    return n


def shown(text: str, limit: int = _CLIP) -> str:
    """User text fit to quote in a reply: clipped, with invisible and unencodable characters
    (controls, lone surrogates) replaced so the reply itself can always be sent."""
    clean = "".join("\ufffd" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text[: limit + 1])
    return clean if len(clean) <= limit else clean[:limit] + "…"


# --- tokens ------------------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    """Split a command's argument text into tokens.

    Grammar of the text after the command word (`parse` gets only that part):

    - Words are split on any whitespace, including the full-width space U+3000 and U+2005,
      which WeChat writes after a mention.
    - A quote at the start of a word, or right after `key=`, keeps spaces inside one word:
      "…", “…”, 「…」, 『…』 (and ＂…＂). The quotes are removed. A quoted word is always plain
      text: `"a=b"` is not an option and `"@Bob"` is not a member. Quote characters elsewhere in
      a word are ordinary characters (`Bob"s` is the word Bob"s). An unclosed quote is an error.
    - `key=value` (or the full-width `key＝value`) is an option; `key="v w"` and `key=「v w」`
      give values with spaces. `key=` with nothing after it is an error (usually a space typed
      after the equals sign); `key=""` deliberately gives the empty string.
    - `@name` names a member. WeChat writes a mention as "@" + display name + U+2005, and display
      names may contain spaces, so when a U+2005 follows (with no line break and no other "@" in
      between) everything from the "@" to it is one mention. Without U+2005 (typed by hand, or
      the caller stripped it) the mention ends at the next whitespace, like any word: `@Bob Lee`
      is the member "Bob" followed by the word "Lee"; write `@"Bob Lee"` or `"Bob Lee"` instead.
      An "@" with no name after it is the plain word "@".

    Every mention is a member argument wherever it stands; it never becomes positional text.
    """
    if len(text) > MAX_TEXT:
        raise UsageError(f"命令太长了：最多 {MAX_TEXT} 个字，这条有 {len(text)} 个字。", show_usage=False)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return tokens
        if len(tokens) == MAX_TOKENS:
            raise UsageError(f"参数太多了：一条命令最多 {MAX_TOKENS} 个词。")
        if text[i] == "@":
            token, i = _read_mention(text, i)
        else:
            token, i = _read_word(text, i)
        tokens.append(token)


def _mention_end(text: str, at: int) -> int:
    """Index of the U+2005 that ends a WeChat mention starting at `at`, or -1."""
    end = text.find(MENTION_END, at + 1)
    if end < 0:
        return -1
    name = text[at + 1 : end]
    # A second "@" means a hand-typed "@Bob" stands before the real mention; a line break
    # never occurs in a display name. Either way the "@" here ends at whitespace instead.
    if "@" in name or "\n" in name or "\r" in name:
        return -1
    return end


def _read_mention(text: str, at: int) -> tuple[Token, int]:
    end = _mention_end(text, at)
    if end >= 0:
        # Stripped: a stray space typed before the U+2005 is not part of anyone's name.
        name, quoted, closed, after = text[at + 1 : end].strip(), False, True, end + 1
    else:
        name, _, quoted, after = _read_segments(text, at + 1, split_equals=False)
        closed = False
    if not name:
        return Token("positional", "@"), after
    return Token("mention", name, quoted=quoted, closed=closed), after


def _read_word(text: str, at: int) -> tuple[Token, int]:
    word, eq, quoted, after = _read_segments(text, at, split_equals=True)
    if eq is None:
        return Token("positional", word, quoted=quoted), after
    return Token("option", word, key=word[:eq], value=word[eq + 1 :], quoted=quoted), after


def _read_segments(text: str, at: int, *, split_equals: bool) -> tuple[str, int | None, bool, int]:
    """Read one word from `at` to the next whitespace outside quotes.

    Returns (word without quotes, index of the option's "=" in the word or None, whether a
    quote was used, index after the word). A quote opens only at the start of the word or
    right after the first "="; a word that starts with a quote is never an option.
    """
    parts: list[str] = []
    length = 0
    eq: int | None = None
    quoted = False
    quote_may_open = True
    i, n = at, len(text)
    starts_quoted = i < n and text[i] in QUOTES
    while i < n and not text[i].isspace():
        ch = text[i]
        if quote_may_open and ch in QUOTES:
            close = _find_any(text, QUOTES[ch], i + 1)
            if close < 0:
                closer, snippet = QUOTES[ch][0], shown(text[i:], 10)
                raise UsageError(f"引号 {ch} 没有配对的 {closer}：「{snippet}」。请补上 {closer}，或去掉 {ch}。")
            segment = text[i + 1 : close]
            parts.append(segment)
            length += len(segment)
            quoted = True
            quote_may_open = False
            i = close + 1
            continue
        quote_may_open = False
        if split_equals and eq is None and ch in EQUALS and not starts_quoted:
            eq = length
            quote_may_open = True
        parts.append(ch)
        length += 1
        i += 1
    return "".join(parts), eq, quoted, i


def _find_any(text: str, chars: str, start: int) -> int:
    found = [pos for pos in (text.find(c, start) for c in chars) if pos >= 0]
    return min(found) if found else -1


# --- parse -------------------------------------------------------------------------------


def parse(
    text: str,
    *,
    mentions: Sequence[str] = (),
    keys: Mapping[str, str] | None = None,
    flags: Mapping[str, str] | None = None,
    member_args: int = 0,
) -> Options:
    """Parse the argument text of a command (everything after the command word).

    Pass `text` as received: `str.strip()` and `str.split()` remove U+2005, which marks where
    a mention's display name ends.

    `mentions`: the wxids WeChat reports for the mentions in `text`, in order; leave out any
    mention before the arguments (the bot's own, in "@群管 /tag @Bob 意向"). Each mention
    takes the next id: when `text` has any U+2005-ended mention, only those do (the others
    were typed by hand); otherwise every unquoted `@name` does. An `@name` left without an
    id, and every `@"…"`, is a name to look up.

    `keys`: accepted option keys, alias → canonical key, matched ignoring case, e.g.
    {"triggers": "triggers", "触发词": "triggers"}. None means the command takes no options,
    and words with "=" are plain text. An unknown key, a key given twice (under any alias)
    and an empty unquoted value are errors.

    `flags`: bare words that switch something on, alias → canonical name, e.g.
    {"median": "median", "中位数": "median"}; quote a flag word to use it as plain text.

    `member_args`: how many member arguments the command starts with. Mentions fill them
    wherever they stand; if there are fewer mentions, the first positional words fill the rest
    as names, so `"Alice Smith" +20 原因` names the member Alice Smith. Mentions beyond this
    count are members too; the handler decides whether it wants them.
    """
    tokens = tokenize(text)
    key_map = _casefolded(keys)
    flag_map = _casefolded(flags) or {}
    ids = iter(mentions)
    # Text from WeChat marks every real mention with U+2005, so there a hand-typed "@张三"
    # must not take a real mention's id; adapters that write no U+2005 (the console) get
    # ids for every "@name" in order.
    from_wechat = any(token.closed for token in tokens)
    items: list[str | MemberRef] = []
    named: dict[str, str] = {}
    typed_as: dict[str, str] = {}
    found_flags: set[str] = set()
    for token in tokens:
        if token.kind == "mention":
            takes_id = not token.quoted and (token.closed or not from_wechat)
            wxid = next(ids, None) if takes_id else None
            items.append(MemberRef("mention", token.text, wxid) if wxid is not None else MemberRef("name", token.text))
        elif token.kind == "option" and key_map is not None:
            canonical = _option_key(token, key_map, keys or {})
            if canonical in named:
                raise UsageError(_twice(token.key, typed_as[canonical]))
            named[canonical] = token.value
            typed_as[canonical] = token.key
        elif token.kind == "positional" and not token.quoted and token.text.casefold() in flag_map:
            found_flags.add(flag_map[token.text.casefold()])
        else:
            items.append(token.text)
    missing = member_args - sum(isinstance(item, MemberRef) for item in items)
    for index, item in enumerate(items):
        if missing <= 0:
            break
        if isinstance(item, str):
            items[index] = MemberRef("name", item)
            missing -= 1
    return Options(
        positional=tuple(item for item in items if isinstance(item, str)),
        named=FrozenMap(named),
        members=tuple(item for item in items if isinstance(item, MemberRef)),
        flags=frozenset(found_flags),
    )


def _casefolded(aliases: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if aliases is None else {alias.casefold(): name for alias, name in aliases.items()}


def _option_key(token: Token, key_map: Mapping[str, str], keys: Mapping[str, str]) -> str:
    if not token.key:
        raise UsageError(f"「{shown(token.text)}」缺少选项名：选项应写成 名称=值，等号前后不要空格。")
    canonical = key_map.get(token.key.casefold())
    if canonical is None:
        known = known_keys(keys)
        raise UsageError(f"不认识的选项「{shown(token.key)}」，可用的选项：{known or '无'}。")
    if not token.value and not token.quoted:
        raise UsageError(f"选项「{shown(token.key)}」后面缺少值：等号后面紧接着写值，不要空格。")
    return canonical


def _twice(key: str, first: str) -> str:
    if key.casefold() == first.casefold():
        return f"选项「{shown(key)}」写了两次，只能写一次。"
    return f"选项「{shown(key)}」和「{shown(first)}」是同一个选项，只能写一次。"


def known_keys(keys: Mapping[str, str]) -> str:
    """The accepted keys for an error reply: "triggers/触发词、window/时间"."""
    aliases: dict[str, list[str]] = {}
    for alias, name in keys.items():
        aliases.setdefault(name, [])
        if alias != name:
            aliases[name].append(alias)
    return "、".join("/".join([name, *others]) for name, others in aliases.items())
