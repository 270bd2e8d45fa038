"""A room's 群规: read, set (checked), cleared; and the paragraph it adds under the welcome."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.features.room_rules.models import RoomRules
from bot.store.db import upsert
from bot.store.models import table_of

MAX_TEXT = 1000  # characters: a rules text is a few short lines, not an essay


def rules_of(conn: Connection, room: str) -> str | None:
    return conn.execute(select(col(RoomRules.text)).where(col(RoomRules.room) == room)).scalar()


def set_rules(conn: Connection, room: str, text: str, *, by: str, at: int) -> str:
    """Save the room's rules; ValueError (Chinese) for an empty or too long text."""
    text = text.strip()
    if not text:
        raise ValueError("群规不能为空。")
    if len(text) > MAX_TEXT:
        raise ValueError(f"群规太长了（{len(text)} 字，最多 {MAX_TEXT} 字），请精简一下。")
    upsert(conn, table_of(RoomRules), [{"room": room, "text": text, "by": by, "at": at}], ["room"],
           replace=["text", "by", "at"])
    return text


def clear_rules(conn: Connection, room: str) -> bool:
    """Whether the room had rules to clear."""
    return bool(conn.execute(delete(RoomRules).where(col(RoomRules.room) == room)).rowcount)


def welcome_part(conn: Connection, room: str) -> str | None:
    """What goes under a room's welcome: its rules, when it has any."""
    text = rules_of(conn, room)
    return f"📋 本群群规：\n{text}" if text else None
