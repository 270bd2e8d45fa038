"""Tag rules (keyword, count) and their scopes, tag-name checks, the `/rule add` grammar."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

MODES = ("word", "substring")
SCOPE_KINDS = ("all", "rooms", "private")
# What a keyword rule reads: chat messages, or the greetings of friend requests (验证消息),
# which say where someone came from (「我是从抖音直播来的」): channel tags (来源).
ON_KINDS = ("chat", "hello")
# What a keyword's clause must do for the rule to count it: nothing (any mention), or ask
# (a question, a request or a wish: 多少钱？ 想报名 发我链接; not 「价格还算合理」).
INTENTS = ("any", "ask")

MAX_NAME_LEN = 12
MAX_KEYWORD_LEN = 20
MAX_KEYWORDS = 30
MAX_ROOM_LEN = 64
# Upper bounds the issue leaves open: they stop a typo (days=3650000) from overflowing date
# arithmetic or asking the store for years of counters.
MAX_HITS = 999
MAX_DAYS = 365
MAX_EXPIRE_DAYS = 365
MAX_THRESHOLD = 99_999

KEYWORD_USAGE = (
    "/rule add keyword 标签 词1,词2,… [mode=word|substring] [hits=次数] [days=天数] "
    "[expire=天数] [lead=yes] [intent=ask] [group=组名] [rooms=群1,群2|private] [on=hello]"
)
KEYWORD_EXAMPLE = "/rule add keyword 意向 价格,报名 intent=ask lead=yes"
COUNT_USAGE = "/rule add count 标签 条数 天数 [group=组名]"
COUNT_EXAMPLE = "/rule add count 活跃 20 7"
BOTH_USAGE = f"{KEYWORD_USAGE}\n或：{COUNT_USAGE}"

# Keyword separators a Chinese keyboard produces as readily as the ASCII comma.
_SEPARATORS = re.compile(r"[,，、]")
_HTML_CHARS = frozenset("<>&\"'/")
# Same character class as jieba's `re_han_default`: only runs of these characters can come
# out of jieba as one token, so a word-mode keyword containing anything else never matches.
# tests/unit/test_tagging_rules.py checks this stays equal to jieba's pattern.
WORD_TOKEN_CHARS = r"[\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]"
_WORD_TOKEN = re.compile(WORD_TOKEN_CHARS + "+")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_UNITS = frozenset("条天次个")
_FULLWIDTH = str.maketrans("０１２３４５６７８９－", "0123456789-")

_KIND_ALIASES = {
    "keyword": "keyword",
    "kw": "keyword",
    "关键词": "keyword",
    "count": "count",
    "计数": "count",
}
RULE_KEYS: Mapping[str, str] = {  # option key aliases → canonical key, for the option parser
    "mode": "mode",
    "模式": "mode",
    "hits": "hits",
    "次数": "hits",
    "days": "days",
    "天数": "days",
    "expire": "expire",
    "失效": "expire",
    "lead": "lead",
    "线索": "lead",
    "group": "group",
    "组": "group",
    "分组": "group",
    "rooms": "rooms",
    "群": "rooms",
    "范围": "rooms",
    "on": "on",
    "场景": "on",
    "intent": "intent",
    "意图": "intent",
}
_KEYWORD_OPTIONS = ("mode", "hits", "days", "expire", "lead", "group", "rooms", "on", "intent")
_INTENT_ALIASES = {"ask": "ask", "问": "ask", "提问": "ask", "询问": "ask", "any": "any", "全部": "any",
                   "不限": "any"}
_ON_ALIASES = {"chat": "chat", "聊天": "chat", "消息": "chat",
               "hello": "hello", "greeting": "hello", "好友申请": "hello", "验证": "hello",
               "验证消息": "hello"}
_COUNT_OPTIONS = ("group",)
_MODE_ALIASES = {
    "word": "word",
    "整词": "word",
    "substring": "substring",
    "包含": "substring",
    "子串": "substring",
}
RULE_FLAGS: Mapping[str, str] = {"lead": "lead", "线索": "lead"}  # a bare 线索 reads as lead=yes
_YES = frozenset({"yes", "y", "true", "1", "on", "是", "要"})
_NO = frozenset({"no", "n", "false", "0", "off", "否", "不"})
_PRIVATE = frozenset({"private", "私聊"})
_ALL = frozenset({"all", "全部", "所有"})

_MODE_NAMES = {"word": "整词", "substring": "包含"}


def can_be_token(word: str) -> bool:
    """True when jieba can return `word` as one token: only its word characters, nothing else."""
    return _WORD_TOKEN.fullmatch(word) is not None


class RuleSyntaxError(ValueError):
    """Bad `/rule add` arguments; the message says what was wrong and shows the right form."""

    def __init__(self, problem: str, usage: str, example: str | None = None) -> None:
        self.problem = problem
        self.usage = usage
        self.example = example
        text = f"{problem}\n用法：{usage}"
        if example:
            text += f"\n例如：{example}"
        super().__init__(text)


# Builds a RuleSyntaxError that carries one rule kind's usage line.
_ErrorFactory: TypeAlias = Callable[[str], RuleSyntaxError]


@dataclass(frozen=True)
class Scope:
    """Where a keyword rule listens: every room and 1:1 chat, chosen rooms, or 1:1 chats only."""

    kind: str  # "all" | "rooms" | "private"
    rooms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Rules read back from JSON carry lists; a list would make the frozen value unhashable.
        object.__setattr__(self, "rooms", tuple(self.rooms))
        if self.kind not in SCOPE_KINDS:
            raise ValueError(f"unknown scope kind {self.kind!r}")
        if (self.kind == "rooms") != bool(self.rooms):
            raise ValueError("rooms are given exactly when kind is 'rooms'")

    def applies(self, room: str | None) -> bool:
        """`room` is None for a 1:1 chat with the bot."""
        if self.kind == "all":
            return True
        if self.kind == "private":
            return room is None
        return room is not None and room in self.rooms

    def describe(self) -> str:
        if self.kind == "all":
            return "所有群和私聊"
        if self.kind == "private":
            return "仅私聊"
        return "仅限群：" + "、".join(self.rooms)


@dataclass(frozen=True)
class KeywordRule:
    """Tag a member who says one of `keywords` at least `hits` times within `days` days."""

    id: int
    tag: str
    keywords: tuple[str, ...]
    mode: str = "word"  # "word": whole jieba tokens; "substring": plain containment
    hits: int = 1
    days: int = 1
    scope: Scope = Scope("all")
    expire_days: int | None = None  # the tag drops after this many days without a new hit
    lead: bool = False  # a sales lead: operators see it on their daily follow-up list
    group: str | None = None
    on: str = "chat"  # "chat": messages; "hello": friend-request greetings only
    intent: str = "any"  # "ask": the keyword's clause must ask (see tagging.intent.asks)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keywords", tuple(self.keywords))
        if self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}")
        if self.on not in ON_KINDS:
            raise ValueError(f"unknown rule target {self.on!r}")
        if self.on == "hello" and (self.hits != 1 or self.days != 1 or self.scope.kind != "all"):
            raise ValueError("a greeting rule reads one greeting: no hits, days or rooms")
        if not self.keywords:
            raise ValueError("a keyword rule needs at least one keyword")
        if self.mode not in MODES:
            raise ValueError(f"unknown match mode {self.mode!r}")
        if not all(self.keywords):
            raise ValueError("keywords must not be empty strings")
        if self.mode == "word":
            for word in self.keywords:
                if not can_be_token(word):
                    raise ValueError(
                        f"word-mode keyword {word!r} can never be one jieba token; "
                        "use mode='substring'"
                    )
        if self.hits < 1 or self.days < 1:
            raise ValueError("hits and days must be positive")
        if self.expire_days is not None and self.expire_days < 1:
            raise ValueError("expire_days must be positive or None")

    def describe(self) -> str:
        """One line for `/rules`, e.g. 「#3 意向 ← 关键词 多少钱/价格（整词，1次/1天，线索）」."""
        details = [_MODE_NAMES[self.mode], f"{self.hits}次/{self.days}天"]
        if self.expire_days is not None:
            details.append(f"{self.expire_days}天无新命中即失效")
        if self.intent == "ask":
            details.append("须是提问、请求或意愿")
        if self.lead:
            details.append("线索")
        if self.group is not None:
            details.append(f"组：{self.group}")
        if self.scope.kind != "all":
            details.append(self.scope.describe())
        if self.on == "hello":
            details.append("仅看好友申请的验证消息")
        words = "/".join(self.keywords)
        return f"{_rule_prefix(self.id)}{self.tag} ← 关键词 {words}（{'，'.join(details)}）"


@dataclass(frozen=True)
class CountRule:
    """Tag a member while their messages in the last `days` days reach `threshold`."""

    id: int
    tag: str
    threshold: int
    days: int
    group: str | None = None

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.days < 1:
            raise ValueError("threshold and days must be positive")

    def describe(self) -> str:
        """One line for `/rules`, e.g. 「#5 活跃 ← 近7天发言≥20条」."""
        text = f"{_rule_prefix(self.id)}{self.tag} ← 近{self.days}天发言≥{self.threshold}条"
        if self.group is not None:
            text += f"（组：{self.group}）"
        return text


Rule: TypeAlias = KeywordRule | CountRule


def _rule_prefix(rule_id: int) -> str:
    # id 0 is a rule not saved yet (`/rule preview`): "#0" would look like a real rule.
    return f"#{rule_id} " if rule_id > 0 else ""


# --- names -------------------------------------------------------------------------------


def display_len(text: str) -> int:
    """Length as a reader counts it: an emoji sequence or a letter with accents is one.

    Close enough to Unicode grapheme clusters for length limits: combining marks, variation
    selectors, skin tones and emoji tag characters join the character before them, a ZWJ
    joins its neighbours, and regional indicators count in pairs (one flag).
    """
    count = 0
    join_next = False
    open_flag = False
    for ch in text:
        cp = ord(ch)
        if join_next:
            join_next = False
            continue
        if cp == 0x200D:
            join_next = True
            continue
        if (
            unicodedata.combining(ch)
            or unicodedata.category(ch) in ("Mn", "Me")
            or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0020 <= cp <= 0xE007F
        ):
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:
            if open_flag:
                open_flag = False
                continue
            open_flag = True
        else:
            open_flag = False
        count += 1
    return count


def _is_invisible(ch: str) -> bool:
    # Control and format characters (zero-width space, bidi overrides) make names that
    # look identical but are not; ZWJ is kept because emoji sequences need it.
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch != "\u200d"


def _validate_name(name: str, what: str, example: str) -> str:
    text = name.strip()
    if not text:
        raise ValueError(f"{what}不能为空，例如：{example}")
    if any(ch.isspace() for ch in text):
        raise ValueError(f"{what}不能含空格，例如：{example}")
    if any(_is_invisible(ch) for ch in text):
        raise ValueError(f"{what}含有看不见的控制字符，请重新输入，例如：{example}")
    bad = sorted({ch for ch in text if ch in _HTML_CHARS})
    if bad:
        shown = " ".join(bad)
        raise ValueError(f"{what}不能含 {shown} 这些符号，例如：{example}")
    # In `/rule add` a token with "=" is an option (hits=2); a name must never look like one.
    if "=" in text or "＝" in text:
        raise ValueError(f"{what}不能含等号“=”，例如：{example}")
    length = display_len(text)
    if length > MAX_NAME_LEN:
        raise ValueError(
            f"{what}最多{MAX_NAME_LEN}个字，「{_clip(text)}」有{length}个字；"
            f"请起个短一点的名字，例如：{example}"
        )
    return text


def validate_tag(name: str) -> str:
    """Return the tag name stripped, or raise ValueError with a Chinese message.

    Rejected: empty, whitespace inside, control or invisible characters, < > & " ' /, "=",
    and more than MAX_NAME_LEN characters as a reader counts them (see `display_len`).
    """
    return _validate_name(name, "标签名", "意向客户")


def validate_group(name: str) -> str:
    """Group names follow the tag-name rules: they are shown and typed the same way."""
    return _validate_name(name, "组名", "客户阶段")


def _clip(text: str, limit: int = 8) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --- the /rule add grammar ---------------------------------------------------------------


def parse_rule(
    words: Sequence[str],
    options: Mapping[str, str],
    flags: Collection[str] = (),
    *,
    rule_id: int = 0,
) -> KeywordRule | CountRule:
    """A rule from the words and options after `/rule add` (or `/rule preview`), as the
    chat-option parser split them: `words` are the plain words in order (`["keyword", "意向",
    "多少钱,价格"]` or `["count", "活跃", "20", "7"]`), `options` the `key=value` options
    under their canonical keys (see RULE_KEYS), `flags` the bare flags (see RULE_FLAGS).
    Raises RuleSyntaxError saying what was wrong."""
    tokens = [word.strip() for word in words if word.strip()]
    if not tokens:
        raise RuleSyntaxError("缺少规则类型：keyword（关键词）或 count（计数）。", BOTH_USAGE)
    kind = _KIND_ALIASES.get(tokens[0].lower())
    if kind is None:
        raise RuleSyntaxError(
            f"不认识的规则类型「{_clip(tokens[0])}」：只能是 keyword（关键词）或 count（计数）。",
            BOTH_USAGE,
        )
    given = dict(options)
    if "lead" in flags:
        if "lead" in given:
            raise _keyword_error("选项 lead 写了两次，只保留一个。")
        given["lead"] = "yes"
    if kind == "keyword":
        _check_options(given, _KEYWORD_OPTIONS, _keyword_error)
        return _parse_keyword_rule(tokens[1:], given, rule_id)
    _check_options(given, _COUNT_OPTIONS, _count_error)
    return _parse_count_rule(tokens[1:], given, rule_id)


def _keyword_error(problem: str) -> RuleSyntaxError:
    return RuleSyntaxError(problem, KEYWORD_USAGE, KEYWORD_EXAMPLE)


def _count_error(problem: str) -> RuleSyntaxError:
    return RuleSyntaxError(problem, COUNT_USAGE, COUNT_EXAMPLE)


def _parse_keyword_rule(rest: list[str], options: dict[str, str], rule_id: int) -> KeywordRule:
    if not rest:
        raise _keyword_error("缺少标签名和关键词：先写标签，再写关键词。")
    try:
        tag = validate_tag(rest[0])
    except ValueError as exc:
        raise _keyword_error(str(exc)) from None
    if len(rest) < 2:
        raise _keyword_error("缺少关键词：在标签后面写关键词，多个用逗号隔开，例如 多少钱,价格。")
    if len(rest) > 2:
        raise _keyword_error(
            f"看不懂「{_clip(rest[2])}」：多个关键词要用逗号连起来（如 多少钱,价格），"
            "选项要写成 名称=值（如 hits=2）。"
        )
    keywords = _parse_keywords(rest[1])

    mode = "word"
    if "mode" in options:
        found = _MODE_ALIASES.get(options["mode"].lower())
        if found is None:
            raise _keyword_error(
                f"不认识的匹配模式「{_clip(options['mode'])}」：mode 只能是 word（整词）"
                "或 substring（包含）。"
            )
        mode = found
    if mode == "word":
        for word in keywords:
            if not can_be_token(word):
                raise _keyword_error(
                    f"关键词「{word}」含有标点、空格或表情，整词模式认不出来；"
                    "请去掉这些符号，或加上 mode=substring。"
                )
    hits = _positive_int(options, "hits", "次数", 1, MAX_HITS, _keyword_error)
    days = _positive_int(options, "days", "天数", 1, MAX_DAYS, _keyword_error)
    expire_days = (
        _positive_int(options, "expire", "失效天数", 1, MAX_EXPIRE_DAYS, _keyword_error)
        if "expire" in options
        else None
    )
    lead = False
    if "lead" in options:
        value = options["lead"].lower()
        if value in _YES:
            lead = True
        elif value not in _NO:
            raise _keyword_error(f"lead 只能是 yes 或 no，你写的是「{_clip(options['lead'])}」。")
    group = _parse_group(options, _keyword_error)
    scope = _parse_scope(options["rooms"]) if "rooms" in options else Scope("all")
    on = _choice(options, "on", _ON_ALIASES, "chat", "on=hello 表示只看好友申请的验证消息，不写就是看聊天消息。")
    if on == "hello":
        extra = [k for k in ("hits", "days", "rooms") if k in options]
        if extra:
            raise _keyword_error(
                f"on=hello 的规则只看一次好友申请的验证消息，不能再写 {'、'.join(extra)}；"
                "例如 /rule add keyword 来源-抖音 抖音,直播间 on=hello。")
    intent = _choice(options, "intent", _INTENT_ALIASES, "any",
                     "intent=ask 表示只算提问、请求或意愿（多少钱？想报名、发我链接），不写就是提到就算。")
    return KeywordRule(
        id=rule_id,
        tag=tag,
        keywords=keywords,
        intent=intent,
        mode=mode,
        hits=hits,
        days=days,
        scope=scope,
        expire_days=expire_days,
        lead=lead,
        group=group,
        on=on,
    )


def _choice(options: Mapping[str, str], key: str, aliases: Mapping[str, str], default: str, meaning: str) -> str:
    """An option that names one of a few values (on=hello, intent=ask), by any of its aliases."""
    if key not in options:
        return default
    found = aliases.get(options[key].lower())
    if found is None:
        raise _keyword_error(f"不认识的 {key}=「{_clip(options[key])}」：{meaning}")
    return found


def _parse_count_rule(rest: list[str], options: dict[str, str], rule_id: int) -> CountRule:
    if not rest:
        raise _count_error("缺少标签名、条数和天数。")
    try:
        tag = validate_tag(rest[0])
    except ValueError as exc:
        raise _count_error(str(exc)) from None
    positional = rest[1:]
    if not positional:
        raise _count_error("缺少条数和天数：例如 20 7 表示近7天发言满20条。")
    if len(positional) < 2:
        raise _count_error("缺少天数：条数后面再写天数，例如 20 7 表示近7天发言满20条。")
    if len(positional) > 2:
        raise _count_error(f"多了「{_clip(positional[2])}」：计数规则只要 标签 条数 天数 三项。")
    threshold = _int_value(positional[0], "条数", 1, MAX_THRESHOLD, _count_error)
    days = _int_value(positional[1], "天数", 1, MAX_DAYS, _count_error)
    return CountRule(
        id=rule_id,
        tag=tag,
        threshold=threshold,
        days=days,
        group=_parse_group(options, _count_error),
    )


def _parse_keywords(token: str) -> tuple[str, ...]:
    parts = [part.strip() for part in _SEPARATORS.split(token)]
    if not any(parts):
        raise _keyword_error("关键词列表是空的：至少写一个关键词，例如 多少钱。")
    if not all(parts):
        raise _keyword_error("关键词列表里有空词：是不是多打了一个逗号？例如 多少钱,价格。")
    if len(parts) > MAX_KEYWORDS:
        raise _keyword_error(f"关键词最多{MAX_KEYWORDS}个，你写了{len(parts)}个；请拆成几条规则。")
    keywords: list[str] = []
    seen: set[str] = set()
    for part in parts:
        _check_keyword(part)
        # The matcher ignores case, so VIP and vip are the same keyword.
        if part.lower() not in seen:
            seen.add(part.lower())
            keywords.append(part)
    return tuple(keywords)


def _check_keyword(word: str) -> None:
    if any(ch.isspace() or _is_invisible(ch) for ch in word):
        raise _keyword_error(f"关键词「{_clip(word)}」含有空格或控制字符。")
    if "=" in word or "＝" in word:
        raise _keyword_error(f"关键词「{_clip(word)}」不能含等号“=”（等号留给选项用）。")
    length = display_len(word)
    if length > MAX_KEYWORD_LEN:
        raise _keyword_error(
            f"关键词「{_clip(word)}」太长了（{length}个字），每个关键词最多{MAX_KEYWORD_LEN}个字。"
        )


def _check_options(options: Mapping[str, str], allowed: Sequence[str], error: _ErrorFactory) -> None:
    """Options the parser accepted for rules in general, checked against this kind of rule."""
    names = "、".join(allowed)
    for key, value in options.items():
        if key not in allowed:
            raise error(f"不认识的选项「{_clip(key)}」，可用的选项：{names}。")
        if not value.strip():
            raise error(f"选项 {key} 后面缺少值，例如 {key}={_OPTION_EXAMPLES[key]}。")


_OPTION_EXAMPLES = {
    "mode": "substring",
    "hits": "2",
    "days": "7",
    "expire": "30",
    "lead": "yes",
    "group": "客户阶段",
    "rooms": "private",
    "on": "hello",
    "intent": "ask",
}


def _positive_int(
    options: dict[str, str],
    key: str,
    what: str,
    default: int,
    maximum: int,
    error: _ErrorFactory,
) -> int:
    if key not in options:
        return default
    return _int_value(options[key], f"{key}（{what}）", 1, maximum, error)


def _int_value(text: str, what: str, minimum: int, maximum: int, error: _ErrorFactory) -> int:
    digits = text.strip().translate(_FULLWIDTH)
    # "20条", "7天" and "2次" read naturally in Chinese; the unit adds nothing to check.
    if digits[-1:] in _UNITS:
        digits = digits[:-1]
    negative = digits.startswith("-")
    if negative:
        digits = digits[1:]
    # Not int(): it also takes "1_000", "+5" and digits of other scripts.
    if not _ASCII_DIGITS.fullmatch(digits):
        raise error(f"{what}要写正整数，「{_clip(text)}」不是整数。")
    value = -int(digits) if negative else int(digits)
    if value < minimum:
        raise error(f"{what}要写正整数（至少{minimum}），不能是 {value}。")
    if value > maximum:
        raise error(f"{what}最多 {maximum}，你写的是 {value}。")
    return value


def _parse_group(options: Mapping[str, str], error: _ErrorFactory) -> str | None:
    if "group" not in options:
        return None
    try:
        return validate_group(options["group"])
    except ValueError as exc:
        raise error(str(exc)) from None


def _parse_scope(value: str) -> Scope:
    lowered = value.lower()
    if lowered in _PRIVATE:
        return Scope("private")
    if lowered in _ALL:
        return Scope("all")
    parts = [part.strip() for part in _SEPARATORS.split(value)]
    if not all(parts):
        raise _keyword_error("rooms 里有空的群名：是不是多打了一个逗号？例如 rooms=读书群,打卡群。")
    rooms: list[str] = []
    for part in parts:
        if part.lower() in _PRIVATE or part.lower() in _ALL:
            raise _keyword_error(
                f"rooms 里的「{part}」不能和群名混写：只听私聊写 rooms=private，"
                "只听某些群写 rooms=群1,群2。"
            )
        if any(_is_invisible(ch) or ch in "=＝" for ch in part):
            raise _keyword_error(f"群名「{_clip(part)}」含有等号或控制字符。")
        if len(part) > MAX_ROOM_LEN:
            raise _keyword_error(f"群名「{_clip(part)}」太长了，最多{MAX_ROOM_LEN}个字符。")
        if part not in rooms:
            rooms.append(part)
    return Scope("rooms", tuple(rooms))


def format_rule_args(rule: KeywordRule | CountRule) -> list[str]:
    """The `/rule add` words that rebuild `rule` when joined with spaces and parsed again
    (a value with spaces or quotes comes back in 「」).

    Options at their defaults are left out, so the result reads like what a manager types.
    """
    if isinstance(rule, CountRule):
        tokens = ["count", as_word(rule.tag), str(rule.threshold), str(rule.days)]
        if rule.group is not None:
            tokens.append(f"group={as_word(rule.group)}")
        return tokens
    tokens = ["keyword", as_word(rule.tag), as_word(",".join(rule.keywords))]
    if rule.mode != "word":
        tokens.append(f"mode={rule.mode}")
    if rule.hits != 1:
        tokens.append(f"hits={rule.hits}")
    if rule.days != 1:
        tokens.append(f"days={rule.days}")
    if rule.expire_days is not None:
        tokens.append(f"expire={rule.expire_days}")
    if rule.lead:
        tokens.append("lead=yes")
    if rule.group is not None:
        tokens.append(f"group={as_word(rule.group)}")
    if rule.scope.kind == "private":
        tokens.append("rooms=private")
    elif rule.scope.kind == "rooms":
        tokens.append("rooms=" + as_word(",".join(rule.scope.rooms)))
    if rule.on != "chat":
        tokens.append(f"on={rule.on}")
    if rule.intent != "any":
        tokens.append(f"intent={rule.intent}")
    return tokens


def as_word(value: str) -> str:
    """`value` as one plain word for the option parser: quoted when it holds a space, a quote
    or an equals sign, starts with @, or is a flag word (线索); in the first kind of quotes
    whose closing mark it does not contain."""
    special = (any(ch.isspace() or ch in "\"“”＂「」『』=＝" for ch in value)
               or value.startswith("@") or value.casefold() in RULE_FLAGS)
    if not special:
        return value
    for opening, closers in (("「", "」"), ("『", "』"), ("＂", "＂"), ('"', '"“”')):
        if not any(c in value for c in closers):
            return f"{opening}{value}{closers[0]}"
    raise ValueError(f"「{_clip(value)}」里各种引号都有，写不成一个词")
