"""The rosters tables: rooms' welcomes and the joins waiting for one."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class RoomWelcome(SQLModel, table=True):
    """A room's welcome for newcomers; no row means on, with the default text."""

    room: str = Field(primary_key=True, max_length=200)
    enabled: bool = True
    text: str | None = None  # None: the default text
    by: str | None = Field(default=None, max_length=200)
    at: int = Field(default=0, sa_type=BigInteger)
    last_sent_at: int | None = Field(default=None, sa_type=BigInteger)


class PendingWelcome(SQLModel, table=True):
    """A join not welcomed yet: joins of a burst wait here to share one welcome."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    joined_at: int = Field(sa_type=BigInteger)
