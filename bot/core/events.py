"""The canonical events (message, join, leave, visit, roster) and their JSON form."""

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


Event = Message | Join | Leave | Visit | Roster

_TYPES: dict[str, type] = {"message": Message, "join": Join, "leave": Leave, "visit": Visit,
                           "roster": Roster}


@dataclass(frozen=True)
class _Field:
    name: str
    required: bool = True
    limit: int = MAX_NAME
    kind: str = "str"  # str | ts | list | members


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
    "roster": (
        _Field("id", limit=MAX_ID),
        _Field("ts", kind="ts"),
        _Field("room", limit=MAX_ID),
        _Field("members", kind="members"),
        _Field("room_name", required=False),
    ),
}

MAX_ROSTER = 10_000  # WeChat groups hold at most 500; a longer list is a mistake upstream

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
        elif f.kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise EventError(f"字段 {f.name} 应为字符串列表")
            values[f.name] = tuple(value[:50])
        elif f.kind == "members":
            values[f.name] = _roster_members(value)
        else:
            if not isinstance(value, str):
                raise EventError(f"字段 {f.name} 应为字符串")
            if len(value) > f.limit:
                raise EventError(f"字段 {f.name} 太长（{len(value)} 字，上限 {f.limit}）")
            if f.name in ("id", "sender", "member", "room") and not value.strip():
                raise EventError(f"字段 {f.name} 不能为空")
            values[f.name] = value
    return _TYPES[etype](**values)


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
        if not isinstance(mid, str) or not mid.strip():
            raise EventError(f"members 第 {i} 项缺少 id")
        if len(mid) > MAX_ID:
            raise EventError(f"members 第 {i} 项的 id 太长（{len(mid)} 字，上限 {MAX_ID}）")
        texts: dict[str, str | None] = {}
        for key in ("name", "room_alias"):
            v = item.get(key)
            if v is not None and not isinstance(v, str):
                raise EventError(f"members 第 {i} 项的 {key} 应为字符串")
            texts[key] = v[:MAX_NAME] if v else None
        before = found.get(mid)
        found[mid] = RosterMember(
            mid, texts["name"] or (before.name if before else None),
            texts["room_alias"] or (before.room_alias if before else None))
    return tuple(found.values())

