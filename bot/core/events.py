"""The canonical events (message, join, leave, visit, order, roster, friend, contacts, recall) and their JSON form."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

MAX_TEXT = 5000  # characters; longer texts are rejected at the contract boundary
MAX_ID = 200
MAX_NAME = 200  # characters of a display name; a longer one is cut, never refused


# Message kinds whose `text` is the member's own words, read by tag rules and check-ins: plain
# text, and a quote's new words (DESIGN.md's event contract).
WORD_KINDS = frozenset(("text", "quote"))


class EventError(ValueError):
    """A raw event that does not follow the contract; the message says what and how to fix."""


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    ts: datetime
    sender: str
    text: str
    sender_name: str | None = None
    room: str | None = None  # None: a 1:1 chat with the bot
    room_name: str | None = None
    mentions: tuple[str, ...] = ()
    kind: str = "text"  # non-text messages (image, voice, ...) count as activity, never tokenized
    account: str | None = None  # the bot account (its id) that received it; None: not a chat
    quote_of: str | None = None  # a quote (引用): the id of the message it quotes, when known
    quote_sender: str | None = None  # … and who said that message
    qr: tuple[str, ...] = ()  # what the QR codes in an image say (the adapter decodes them)

    @property
    def member(self) -> str:
        return self.sender


@dataclass(frozen=True, slots=True)
class Join:
    id: str
    ts: datetime
    room: str
    member: str
    member_name: str | None = None
    room_name: str | None = None
    inviter: str | None = None
    account: str | None = None  # the bot account (its id) that received it; None: not a chat


@dataclass(frozen=True, slots=True)
class Leave:
    id: str
    ts: datetime
    room: str
    member: str
    account: str | None = None  # the bot account (its id) that received it; None: not a chat


@dataclass(frozen=True, slots=True)
class Visit:
    id: str
    ts: datetime
    member: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """A purchase, renewal or sign-up pushed by a shop or a form; a refund is an order with a
    negative amount and `refund_of`, the id of the order it refunds."""

    id: str
    ts: datetime
    member: str
    amount: Decimal  # yuan, two decimals at most
    item: str | None = None
    room: str | None = None
    refund_of: str | None = None


@dataclass(frozen=True, slots=True)
class RosterMember:
    id: str
    name: str | None = None
    room_alias: str | None = None  # the member's group nickname (群昵称)


@dataclass(frozen=True, slots=True)
class Roster:
    """At `ts` these are the room's members (the whole list, not a change)."""

    id: str
    ts: datetime
    room: str
    members: tuple[RosterMember, ...]
    room_name: str | None = None
    account: str | None = None  # the bot account (its id) that received it; None: not a chat
    owner: str | None = None  # the group's owner (群主), when the source knows it
    admins: tuple[str, ...] = ()  # the group's admins (群管理员), when the source knows them


FRIEND_STATUSES = ("requested", "accepted", "removed")


@dataclass(frozen=True, slots=True)
class Friend:
    """The private account's friendship with a member: a request (with its greeting, 验证消息),
    the moment it exists, or a removal seen later."""

    id: str
    ts: datetime
    member: str
    status: str  # requested | accepted | removed
    member_name: str | None = None
    hello: str | None = None
    account: str | None = None  # the bot account (its id) the friendship is with


@dataclass(frozen=True, slots=True)
class Contacts:
    """At `ts` these are the account's friends (the whole list, not a change)."""

    id: str
    ts: datetime
    members: tuple[RosterMember, ...]
    account: str | None = None  # the bot account whose friends these are


@dataclass(frozen=True, slots=True)
class Recall:
    """`member` recalled (撤回) a message: `message` is its event id where the source says which
    (the puppet does; an export does not, and then the recall is only recorded). The recalled
    message stops counting: its messages counter, its check-in and points, tags it gave."""

    id: str
    ts: datetime
    member: str
    room: str | None = None
    message: str | None = None
    account: str | None = None  # the bot account (its id) that received it; None: not a chat


Event = Message | Join | Leave | Visit | Order | Roster | Friend | Contacts | Recall

_TYPES: dict[str, type] = {"message": Message, "join": Join, "leave": Leave, "visit": Visit,
                           "order": Order, "roster": Roster, "friend": Friend, "contacts": Contacts,
                           "recall": Recall}
_TYPE_NAMES = {cls: name for name, cls in _TYPES.items()}


@dataclass(frozen=True)
class _Field:
    name: str
    required: bool = True
    limit: int = MAX_NAME
    kind: str = "str"  # str | name | ts | list (of ids) | texts (of display text) | amount | members | status


_FIELDS: dict[str, tuple[_Field, ...]] = {
    "message": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("sender", limit=MAX_ID),
        _Field("text", limit=MAX_TEXT),
        _Field("sender_name", required=False, kind="name"),
        _Field("room", required=False, limit=MAX_ID),
        _Field("room_name", required=False, kind="name"),
        _Field("mentions", required=False, kind="list"),
        _Field("kind", required=False, limit=20),
        _Field("account", required=False, limit=MAX_ID),
        _Field("quote_of", required=False, limit=MAX_ID),
        _Field("quote_sender", required=False, limit=MAX_ID),
        _Field("qr", required=False, kind="texts"),
    ),
    "join": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("room", limit=MAX_ID),
        _Field("member", limit=MAX_ID),
        _Field("member_name", required=False, kind="name"),
        _Field("room_name", required=False, kind="name"),
        _Field("inviter", required=False, limit=MAX_ID),
        _Field("account", required=False, limit=MAX_ID),
    ),
    "leave": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("room", limit=MAX_ID),
        _Field("member", limit=MAX_ID),
        _Field("account", required=False, limit=MAX_ID),
    ),
    "visit": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("member", limit=MAX_ID),
        _Field("source", required=False, limit=50),
    ),
    "order": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("member", limit=MAX_ID),
        _Field("amount", kind="amount"),
        _Field("item", required=False),
        _Field("room", required=False, limit=MAX_ID),
        _Field("refund_of", required=False, limit=MAX_ID),
    ),
    "roster": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("room", limit=MAX_ID),
        _Field("members", kind="members"),
        _Field("room_name", required=False, kind="name"),
        _Field("account", required=False, limit=MAX_ID),
        _Field("owner", required=False, limit=MAX_ID),
        _Field("admins", required=False, kind="list"),
    ),
    "friend": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("member", limit=MAX_ID),
        _Field("status", kind="status"),
        _Field("member_name", required=False, kind="name"),
        # A greeting is kept whole up to the message limit: the channel tag quotes it.
        _Field("hello", required=False, limit=MAX_TEXT),
        _Field("account", required=False, limit=MAX_ID),
    ),
    "contacts": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("members", kind="members"),
        _Field("account", required=False, limit=MAX_ID),
    ),
    "recall": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("member", limit=MAX_ID),
        _Field("room", required=False, limit=MAX_ID),
        _Field("message", required=False, limit=MAX_ID),
        _Field("account", required=False, limit=MAX_ID),
    ),
}
MAX_AMOUNT = Decimal(10_000_000)  # yuan; more is a unit mix-up (fen sent as yuan), not an order


def _check_order(values: dict[str, Any]) -> None:
    amount, refund_of = values["amount"], values.get("refund_of")
    if amount < 0 and refund_of is None:
        raise EventError("order 的金额为负数时必须是退款：请写 refund_of（被退款订单的 id）")
    if refund_of is not None and amount >= 0:
        raise EventError("退款（有 refund_of 的 order）的金额应为负数，例如 -199")
    if refund_of is not None and refund_of == values["id"]:
        raise EventError("refund_of 不能是这笔退款自己的 id")


# Checks across fields, after each field passed on its own.
_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {"order": _check_order}

MAX_ROSTER = 10_000  # WeChat groups hold at most 500; a longer list is a mistake upstream

TS_MIN = datetime(2000, 1, 1, tzinfo=UTC)
TS_MAX = datetime(2100, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # how far past the wall clock an event's ts may be
MAX_DEPTH = 8  # JSON nesting: an event is an object of lists of objects at most
MAX_LINE = 1 << 20  # bytes of one JSONL line or one event; longer is rejected while reading

# Ids end up in keys, URLs and mentions: no control, format (zero-width, bidi), surrogate or
# line-separator characters.
_BAD_ID = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_ID_NAMES = frozenset(("id", "sender", "member", "room", "inviter", "refund_of", "account", "message", "quote_of",
                       "quote_sender"))


def latest_ts(now: datetime | None = None, slack_hours: float = 24) -> datetime:
    """The latest ts an event may carry when it arrives at `now` (default: the wall clock)."""
    return (now or datetime.now(UTC)) + timedelta(hours=slack_hours)


def parse_ts(value: Any, not_after: datetime | None = None) -> datetime:
    """ISO 8601 with an offset, or epoch seconds, to an aware UTC datetime between 2000-01-01
    and `not_after` (default 2100-01-01: a time a person typed, e.g. `report --at`; events get
    the wall clock's limit from parse_event)."""
    latest = not_after if not_after is not None else TS_MAX
    if isinstance(value, bool):
        raise EventError("ts 应为带时区的 ISO 8601 时间或秒级时间戳")
    if isinstance(value, int | float):
        # Compared before anything else: an integer of thousands of digits must not be
        # converted or printed.
        if not (isinstance(value, int) or math.isfinite(value)) or not (
                TS_MIN.timestamp() <= value <= latest.timestamp()):
            raise EventError(f"ts 时间戳超出范围（应为秒，不是毫秒；{_ts_hint(latest)}）")
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        if len(value) > 64:
            raise EventError(f"ts「{_shown(value)}」不是 ISO 8601 时间，例如 2026-11-01T08:00:00+08:00")
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise EventError(f"ts「{_shown(value)}」不是 ISO 8601 时间，例如 2026-11-01T08:00:00+08:00") from None
        if dt.tzinfo is None:
            raise EventError(f"ts「{_shown(value)}」缺少时区，例如 2026-11-01T08:00:00+08:00")
        try:
            utc = dt.astimezone(UTC)
        except (OverflowError, ValueError):
            raise EventError(f"ts「{_shown(value)}」超出范围（{_ts_hint(latest)}）") from None
        if not TS_MIN <= utc <= latest:
            raise EventError(f"ts「{_shown(value)}」超出范围（{_ts_hint(latest)}）")
        return utc
    raise EventError("ts 应为带时区的 ISO 8601 时间或秒级时间戳")


def _ts_hint(latest: datetime) -> str:
    # Built only for an error: formatting a date costs more than parsing the ts.
    return f"应在 2000-01-01 与 {latest:%Y-%m-%d} 之间"


def parse_amount(value: Any) -> Decimal:
    """Yuan as a JSON number or a decimal string, to an exact Decimal with two places."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError("amount 应为金额数字（元），例如 199 或 19.9")
    if isinstance(value, str) and len(value) > 40:
        raise EventError("amount 太长，不是金额数字（元）")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise EventError(f"amount「{_shown(str(value))}」不是金额数字（元）") from None
    if not amount.is_finite():
        raise EventError("amount 应为有限的金额数字（元）")
    if abs(amount) > MAX_AMOUNT:
        raise EventError(f"amount {_shown(str(value))} 太大（上限 {MAX_AMOUNT} 元；单位是元，不是分）")
    if amount != amount.quantize(Decimal("0.01")):
        raise EventError(f"amount {_shown(str(value))} 最多两位小数（单位是元）")
    return amount.quantize(Decimal("0.01"))


def _shown(value: str) -> str:
    """A value as it may be quoted in a reason: short, and printable whatever it holds."""
    return value[:40].encode("utf-8", "backslashreplace").decode("utf-8")


def _check_text(name: str, value: Any, limit: int, is_id: bool) -> str:
    if not isinstance(value, str):
        raise EventError(f"字段 {name} 应为字符串")
    if len(value) > limit:
        raise EventError(f"字段 {name} 太长（{len(value)} 字，上限 {limit}）")
    if value.isprintable():
        # Most values: a printable string holds no NUL, surrogate, control or format
        # character, so only an id's emptiness is left to check.
        if is_id and not value.strip():
            raise EventError(f"字段 {name} 不能为空")
        return value
    if "\x00" in value:
        raise EventError(f"字段 {name} 含有空字符（\\u0000）")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(f"字段 {name} 含有不成对的代理字符（如 \\ud800），不是合法的 Unicode") from None
    if is_id:
        if not value.strip():
            raise EventError(f"字段 {name} 不能为空")
        if any(unicodedata.category(c) in _BAD_ID for c in value):
            raise EventError(f"字段 {name} 含有控制字符或零宽字符")
    return value


def _is_id(f: _Field) -> bool:
    return f.name in _ID_NAMES or f.limit == MAX_ID


def clean_name(value: Any) -> str | None:
    """A display name (a nickname, group nickname, room topic) as the contract takes it: any
    text a WeChat name can hold (emoji sequences with ZWJ, variation selectors, zero-width and
    invisible characters, RTL marks) is kept; a NUL or a lone surrogate becomes U+FFFD, a name
    past MAX_NAME characters is cut, surrounding white space goes, and what is not a string or
    is left empty is no name (None). Never an error: a name never drops an event. Where a
    name is shown, bot.core.names.display makes it safe."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    value = value.strip()
    if len(value) > MAX_NAME:
        # Cut before a joiner or selector left dangling by the cut (half an emoji sequence).
        value = value[:MAX_NAME].rstrip("\u200d\ufe0e\ufe0f")
    return value or None


def check_id(value: Any, what: str) -> str:
    """An id (event, member, room, account) by the contract's strict rules; EventError else."""
    return _check_text(what, value, MAX_ID, True)


def _list_reader(f: _Field) -> Callable[[Any, datetime], tuple[str, ...]]:
    def read_list(value: Any, _: datetime) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise EventError(f"字段 {f.name} 应为字符串列表")
        if len(value) > 50:
            raise EventError(f"字段 {f.name} 太长（{len(value)} 项，上限 50）")
        items = []
        for v in value:
            if not isinstance(v, str) or not v:
                raise EventError(f"字段 {f.name} 应为字符串列表")
            items.append(_check_text(f.name, v, MAX_ID, True))
        return tuple(items)
    return read_list


def _texts_reader(f: _Field) -> Callable[[Any, datetime], tuple[str, ...]]:
    def read_texts(value: Any, _: datetime) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise EventError(f"字段 {f.name} 应为字符串列表")
        if len(value) > 10:
            raise EventError(f"字段 {f.name} 太长（{len(value)} 项，上限 10）")
        return tuple(_check_text(f.name, v, MAX_NAME * 5, False) for v in value)
    return read_texts


def _read_status(value: Any, _: datetime) -> str:
    if value not in FRIEND_STATUSES:
        raise EventError(f"friend 事件的 status 应为 {'、'.join(FRIEND_STATUSES)} 之一，"
                         f"不是「{_shown(str(value))}」")
    return str(value)


# Per field kind: what makes its reader (a plain text field, the default, is below).
_KIND_READERS: dict[str, Callable[[_Field], Callable[[Any, datetime], Any]]] = {
    "ts": lambda f: parse_ts,
    "amount": lambda f: lambda value, _: parse_amount(value),
    "list": _list_reader,
    "texts": _texts_reader,
    "name": lambda f: _read_name,
    "members": lambda f: lambda value, _: _roster_members(value),
    "status": lambda f: _read_status,
}


def _reader(f: _Field) -> Callable[[Any, datetime], Any]:
    """The function that checks and converts one field's raw value, chosen once per field."""
    make = _KIND_READERS.get(f.kind)
    if make is not None:
        return make(f)
    name, limit, is_id = f.name, f.limit, _is_id(f)

    def read_text(value: Any, _: datetime) -> str:
        # Most values, in one call: what _check_text returns as it is (a printable string
        # within the limit, an id not blank); anything else gets its checks and their reasons.
        if type(value) is str and len(value) <= limit and value.isprintable() and (not is_id or value.strip()):
            return value
        return _check_text(name, value, limit, is_id)
    return read_text


def _read_name(value: Any, _: datetime) -> str | None:
    # clean_name of a printable string (no NUL, no lone surrogate) within MAX_NAME once stripped,
    # in one call; anything else goes through clean_name itself.
    if type(value) is str and value.isprintable():
        stripped = value.strip()
        if len(stripped) <= MAX_NAME:
            return stripped or None
    return clean_name(value)


def _roster_members(value: Any) -> tuple[RosterMember, ...]:
    """A roster's member list: objects with an id and optional name and group alias. An id
    listed twice is one member (its last non-empty name and alias win); an empty list is
    refused, since a room always holds at least the bot and a missing list must never read
    as "everyone left"."""
    if not isinstance(value, list):
        raise EventError("字段 members 应为成员列表，例如 [{\"id\": \"wxid_a\", \"name\": \"Alice\"}]")
    if not value:
        raise EventError("roster 的 members 不能为空（群里至少有机器人自己；有人退群请发 leave 事件）")
    if len(value) > MAX_ROSTER:
        raise EventError(f"roster 成员太多（{len(value)} 人，上限 {MAX_ROSTER}）")
    found: dict[str, RosterMember] = {}
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise EventError(f"members 第 {i} 项应为对象，例如 {{\"id\": \"wxid_a\"}}")
        mid = item.get("id")
        if mid is None or (isinstance(mid, str) and not mid.strip()):
            raise EventError(f"members 第 {i} 项缺少 id")
        mid = _check_text(f"members 第 {i} 项的 id", mid, MAX_ID, True)
        texts = {key: clean_name(item.get(key)) for key in ("name", "room_alias")}
        before = found.get(mid)
        found[mid] = RosterMember(
            mid, texts["name"] or (before.name if before else None),
            texts["room_alias"] or (before.room_alias if before else None))
    return tuple(found.values())


# Per event type: (field, required, reader) for each field, in the contract's order.
_READERS: dict[str, tuple[tuple[str, bool, Callable[[Any, datetime], Any]], ...]] = {
    etype: tuple((f.name, f.required, _reader(f)) for f in fields) for etype, fields in _FIELDS.items()
}


def parse_event(raw: Any, *, not_after: datetime | None = None) -> Event:
    """Validate one raw JSON object against the contract in DESIGN.md.

    Total: whatever `raw` is, the only exception is EventError, with a reason a person can act
    on. `not_after` is the latest acceptable ts (default one day after the wall clock)."""
    try:
        return _parse(raw, not_after if not_after is not None else datetime.now(UTC) + FUTURE_SLACK)
    except EventError:
        raise
    except (RecursionError, MemoryError):
        raise EventError("事件嵌套太深或太大") from None
    except Exception as exc:  # a field kind that forgot a check: still only a rejection
        raise EventError(f"事件无法解析（{type(exc).__name__}）") from None


def _parse(raw: Any, not_after: datetime) -> Event:
    if not isinstance(raw, dict):
        raise EventError("事件应为 JSON 对象")
    etype = raw.get("type")
    if not isinstance(etype, str) or etype not in _FIELDS:
        shown = repr(_shown(etype)) if isinstance(etype, str) else type(etype).__name__
        raise EventError(f"未知的事件类型 {shown}，应为 {'、'.join(_FIELDS)}")
    values: dict[str, Any] = {}
    for name, required, read in _READERS[etype]:
        value = raw.get(name)
        if value is None:
            if required:
                raise EventError(f"{etype} 事件缺少字段 {name}")
            continue
        value = read(value, not_after)
        if value is not None:  # a name that is no name (empty, not text) is left out
            values[name] = value
    check = _CHECKS.get(etype)
    if check is not None:
        check(values)
    event: Event = _new_message(values) if etype == "message" else _TYPES[etype](**values)
    return event


def _message_slots() -> tuple[tuple[tuple[str, Callable[[Message, Any], None]], ...],
                               tuple[tuple[str, Callable[[Message, Any], None], Any], ...]]:
    """The setters of Message's slots: of the fields without a default, and of the others with it."""
    declared = fields(Message)
    if hasattr(Message, "__post_init__") or any(f.default_factory is not MISSING for f in declared):
        raise TypeError("Message has a __post_init__ or a default factory: _new_message must not bypass __init__")
    return (tuple((f.name, getattr(Message, f.name).__set__) for f in declared if f.default is MISSING),
            tuple((f.name, getattr(Message, f.name).__set__, f.default) for f in declared if f.default is not MISSING))


_MESSAGE_REQUIRED, _MESSAGE_OPTIONAL = _message_slots()


def _new_message(values: dict[str, Any]) -> Message:
    """`Message(**values)` built by setting its slots: a frozen dataclass's __init__ sets each of
    its 13 fields through object.__setattr__, over twice the time (every replayed line). The
    object is the same; a required field is always in `values` (_parse checked it)."""
    message = object.__new__(Message)
    for name, put in _MESSAGE_REQUIRED:
        put(message, values[name])
    for name, put, default in _MESSAGE_OPTIONAL:
        put(message, values.get(name, default))
    return message


def load_json(data: str | bytes, limit: int = MAX_LINE, max_depth: int = MAX_DEPTH) -> Any:
    """One JSON document (a JSONL line, a request body) with its size and nesting capped;
    raises only EventError."""
    if type(data) is bytes and len(data) <= limit and (
            len(data) - len(data.translate(None, _DIGITS)) < 40 or _LONG_NUMBER.search(data) is None):
        # A line of a replay: msgspec reads UTF-8 bytes three times as fast as decoding them and
        # json reading the text, into the same values. What it refuses (bad JSON or UTF-8, a BOM,
        # NaN, an escaped lone surrogate, a number out of range) goes the way below, whose
        # reasons are the contract's; a number of 40 digits or more always does, since json
        # reads it as an infinity (_int) and msgspec as an integer (the regex looks only in a line
        # of 40 digits in all: it costs more than the decoding).
        try:
            value = _FAST_DECODE(data)
        except (msgspec.DecodeError, ValueError, RecursionError):
            pass
        else:
            if data.count(b"[") + data.count(b"{") > max_depth and depth_of(value) > max_depth:
                raise EventError(f"JSON 嵌套太深（上限 {max_depth} 层）")
            return value
    text = _text(data, limit)
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise EventError(f"JSON 格式错误：{exc.msg}（第 {exc.colno} 列）") from None
    except RecursionError:
        raise EventError(f"JSON 嵌套太深（上限 {max_depth} 层）") from None
    except ValueError as exc:
        raise EventError(f"JSON 格式错误：{_shown(str(exc))}") from None
    if text.count("[") + text.count("{") > max_depth and depth_of(value) > max_depth:
        raise EventError(f"JSON 嵌套太深（上限 {max_depth} 层）")
    return value


def load_batch(data: str | bytes, limit: int) -> list[Any] | dict[str, Any]:
    """A request body of one event or an array of events. Each element's nesting is the
    caller's to check (depth_of), so one hostile element does not cost the others; an array
    too deep for the JSON parser is split into its elements first."""
    text = _text(data, limit)
    try:
        value = load_json(text, limit, max_depth=1 << 30)
    except EventError as exc:
        if "嵌套" not in str(exc) or not text.lstrip().startswith("["):
            raise
        value = [_element(part) for part in _split_array(text)]
    if not isinstance(value, list | dict):
        raise EventError("请求体应为一个事件对象，或事件对象的数组")
    return value


class Unreadable:
    """An element of a batch that could not be read: it is rejected with this reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _element(part: str) -> Any:
    try:
        return load_json(part, len(part) + 1)
    except EventError as exc:
        return Unreadable(str(exc))


def _text(data: str | bytes, limit: int) -> str:
    if len(data) > limit:
        raise EventError(f"太长（{len(data)} 字节，上限 {limit}）")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventError(f"不是合法的 UTF-8（第 {exc.start + 1} 字节）") from None
    return data.removeprefix("\ufeff")


def depth_of(value: Any) -> int:
    """How deeply lists and objects nest in a parsed value (a scalar: 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in v if isinstance(x, list | dict))
    return deepest


def _int(digits: str) -> int | float:
    # An integer of thousands of digits is no valid value of any field: it becomes an infinity
    # that the field rejects, instead of failing the whole document (and a batch's other events).
    if len(digits) <= 40:
        return int(digits)
    return -math.inf if digits.startswith("-") else math.inf


# One decoder for every document: json.loads with an option builds a new one per call.
_DECODER = json.JSONDecoder(parse_int=_int)
_FAST_DECODE = msgspec.json.Decoder().decode
_LONG_NUMBER = re.compile(rb"[0-9]{40}")
_DIGITS = b"0123456789"


def _split_array(text: str) -> list[str]:
    """The elements of a top-level JSON array as texts, found by scanning brackets outside
    strings (slow, and only used when the array nests too deeply for the parser)."""
    parts: list[str] = []
    level = 0
    in_str = escaped = False
    start = text.index("[") + 1
    for i in range(start, len(text)):
        c = text[i]
        if in_str:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            level += 1
        elif c in "]}":
            if level == 0:  # the array's own end
                if text[start:i].strip():
                    parts.append(text[start:i])
                return parts
            level -= 1
        elif c == "," and level == 0:
            parts.append(text[start:i])
            start = i + 1
    raise EventError("JSON 格式错误：数组没有结束")


def validate(event: Event, *, not_after: datetime | None = None) -> Event:
    """An event an adapter built, through the same checks as a raw one (EventError if bad)."""
    return parse_event(event_to_dict(event), not_after=not_after)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSONL form of an event (ts as ISO 8601 in UTC)."""
    out: dict[str, Any] = {"type": _TYPE_NAMES[type(event)]}
    for name in event.__dataclass_fields__:
        value = getattr(event, name)
        if value is None or (name == "kind" and value == "text") or (name in ("mentions", "qr", "admins")
                                                                      and not value):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)  # exact: a float could add digits
        elif isinstance(value, tuple):
            value = [{k: getattr(v, k) for k in v.__dataclass_fields__ if getattr(v, k) is not None}
                     if isinstance(v, RosterMember) else v for v in value]
        out[name] = value
    return out
