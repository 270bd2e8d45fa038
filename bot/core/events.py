"""The canonical events (message, join, leave, visit, order) and their JSON form."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TEXT = 5000  # characters; longer texts are rejected at the contract boundary
MAX_ID = 200
MAX_NAME = 200
MAX_AMOUNT = Decimal(10_000_000)  # yuan; more is a unit mix-up (fen sent as yuan), not an order


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


@dataclass(frozen=True, slots=True)
class Leave:
    id: str
    ts: datetime
    room: str
    member: str


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


Event = Message | Join | Leave | Visit | Order

_TYPES: dict[str, type] = {"message": Message, "join": Join, "leave": Leave, "visit": Visit,
                           "order": Order}


@dataclass(frozen=True)
class _Field:
    name: str
    required: bool = True
    limit: int = MAX_NAME
    kind: str = "str"  # str | ts | list | amount


_FIELDS: dict[str, tuple[_Field, ...]] = {
    "message": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("sender", limit=MAX_ID),
        _Field("text", limit=MAX_TEXT),
        _Field("sender_name", required=False),
        _Field("room", required=False, limit=MAX_ID),
        _Field("room_name", required=False),
        _Field("mentions", required=False, kind="list"),
        _Field("kind", required=False, limit=20),
    ),
    "join": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("room", limit=MAX_ID),
        _Field("member", limit=MAX_ID),
        _Field("member_name", required=False),
        _Field("room_name", required=False),
        _Field("inviter", required=False, limit=MAX_ID),
    ),
    "leave": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("room", limit=MAX_ID),
        _Field("member", limit=MAX_ID),
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
}


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

# Epoch seconds outside 2000..2100 are almost surely milliseconds or garbage.
_EPOCH_MIN, _EPOCH_MAX = 946_684_800, 4_102_444_800


def parse_ts(value: Any) -> datetime:
    """ISO 8601 with an offset, or epoch seconds, to an aware UTC datetime."""
    if isinstance(value, bool):
        raise EventError("ts 应为带时区的 ISO 8601 时间或秒级时间戳")
    if isinstance(value, int | float):
        if not math.isfinite(value) or not _EPOCH_MIN <= value <= _EPOCH_MAX:
            raise EventError(f"ts 时间戳 {value} 超出范围（应为秒，不是毫秒）")
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise EventError(f"ts「{value[:40]}」不是 ISO 8601 时间，例如 2026-11-01T08:00:00+08:00") from None
        if dt.tzinfo is None:
            raise EventError(f"ts「{value[:40]}」缺少时区，例如 2026-11-01T08:00:00+08:00")
        return dt.astimezone(UTC)
    raise EventError("ts 应为带时区的 ISO 8601 时间或秒级时间戳")


def parse_amount(value: Any) -> Decimal:
    """Yuan as a JSON number or a decimal string, to an exact Decimal with two places."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError("amount 应为金额数字（元），例如 199 或 19.9")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise EventError(f"amount「{str(value)[:20]}」不是金额数字（元）") from None
    if not amount.is_finite():
        raise EventError("amount 应为有限的金额数字（元）")
    if amount != amount.quantize(Decimal("0.01")):
        raise EventError(f"amount {value} 最多两位小数（单位是元）")
    if abs(amount) > MAX_AMOUNT:
        raise EventError(f"amount {value} 太大（上限 {MAX_AMOUNT} 元；单位是元，不是分）")
    return amount.quantize(Decimal("0.01"))


def parse_event(raw: Any) -> Event:
    """Validate one raw JSON object against the contract in DESIGN.md."""
    if not isinstance(raw, dict):
        raise EventError("事件应为 JSON 对象")
    etype = raw.get("type")
    if etype not in _FIELDS:
        raise EventError(f"未知的事件类型 {etype!r}，应为 {'、'.join(_FIELDS)} 之一")
    values: dict[str, Any] = {}
    for f in _FIELDS[etype]:
        value = raw.get(f.name)
        if value is None:
            if f.required:
                raise EventError(f"{etype} 事件缺少字段 {f.name}")
            continue
        if f.kind == "ts":
            values[f.name] = parse_ts(value)
        elif f.kind == "amount":
            values[f.name] = parse_amount(value)
        elif f.kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise EventError(f"字段 {f.name} 应为字符串列表")
            values[f.name] = tuple(value[:50])
        else:
            if not isinstance(value, str):
                raise EventError(f"字段 {f.name} 应为字符串")
            if len(value) > f.limit:
                raise EventError(f"字段 {f.name} 太长（{len(value)} 字，上限 {f.limit}）")
            if f.name in ("id", "sender", "member", "room", "refund_of") and not value.strip():
                raise EventError(f"字段 {f.name} 不能为空")
            values[f.name] = value
    check = _CHECKS.get(etype)
    if check is not None:
        check(values)
    return _TYPES[etype](**values)
