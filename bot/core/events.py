"""The four canonical events (message, join, leave, visit) and their JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_TEXT = 5000  # characters; longer texts are rejected at the contract boundary
MAX_ID = 200
MAX_NAME = 200


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


Event = Message | Join | Leave | Visit

_TYPES: dict[str, type] = {"message": Message, "join": Join, "leave": Leave, "visit": Visit}


@dataclass(frozen=True)
class _Field:
    name: str
    required: bool = True
    limit: int = MAX_NAME
    kind: str = "str"  # str | ts | list


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
}

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


def parse_event(raw: Any) -> Event:
    """Validate one raw JSON object against the contract in DESIGN.md."""
    if not isinstance(raw, dict):
        raise EventError("事件应为 JSON 对象")
    etype = raw.get("type")
    if etype not in _FIELDS:
        raise EventError(f"未知的事件类型 {etype!r}，应为 message、join、leave 或 visit")
    values: dict[str, Any] = {}
    for f in _FIELDS[etype]:
        value = raw.get(f.name)
        if value is None:
            if f.required:
                raise EventError(f"{etype} 事件缺少字段 {f.name}")
            continue
        if f.kind == "ts":
            values[f.name] = parse_ts(value)
        elif f.kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise EventError(f"字段 {f.name} 应为字符串列表")
            values[f.name] = tuple(value[:50])
        else:
            if not isinstance(value, str):
                raise EventError(f"字段 {f.name} 应为字符串")
            if len(value) > f.limit:
                raise EventError(f"字段 {f.name} 太长（{len(value)} 字，上限 {f.limit}）")
            if f.name in ("id", "sender", "member", "room") and not value.strip():
                raise EventError(f"字段 {f.name} 不能为空")
            values[f.name] = value
    return _TYPES[etype](**values)
