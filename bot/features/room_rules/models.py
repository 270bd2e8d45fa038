"""The room_rules table: a room's rules text (群规)."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class RoomRules(SQLModel, table=True):
    """A room's 群规; no row: the room has none."""

    room: str = Field(primary_key=True, max_length=200)
    text: str
    by: str = Field(max_length=200)  # the manager who set it
    at: int = Field(sa_type=BigInteger)
