"""The guard's tables: rooms it watches (and the bot's role there), exempt members, ad words,
strikes and the blocklist."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel


class GuardRoom(SQLModel, table=True):
    """A room's guard: on or off (off until an admin turns it on), and who owns and administers
    the group as its latest roster said (the bot can remove people only as one of them)."""

    room: str = Field(primary_key=True, max_length=200)
    enabled: bool = False
    changed_by: str | None = Field(default=None, max_length=200)
    changed_at: int | None = Field(default=None, sa_type=BigInteger)
    owner: str | None = Field(default=None, max_length=200)
    admins: str = ""  # comma-separated ids
    roles_at: int | None = Field(default=None, sa_type=BigInteger)  # ts of the roster that said so


class GuardExempt(SQLModel, table=True):
    """A member the guard leaves alone in one room (the room's whitelist)."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    by: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger)


class GuardPattern(SQLModel, table=True):
    """A manager's own ad word, checked in every guarded room."""

    id: int | None = Field(default=None, primary_key=True)
    pattern: str = Field(max_length=100, unique=True)
    by: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger)


class GuardStrike(SQLModel, table=True):
    """One broken rule: the warning, or the removal it led to."""

    id: int | None = Field(default=None, primary_key=True)
    room: str = Field(max_length=200)
    member: str = Field(max_length=200)
    rule: str = Field(max_length=20)
    at: int = Field(sa_type=BigInteger)
    message_id: str = Field(max_length=200, unique=True)  # a redelivered message strikes once
    text: str | None = None  # what was posted (an excerpt)
    action: str = Field(max_length=20)  # warned | removed | not_removed (the bot is no group admin)

    __table_args__ = (Index("ix_guardstrike_member_at", "member", "at"),)


class GuardBlock(SQLModel, table=True):
    """The blocklist: friend requests wait for a person, a re-join is told to the admins."""

    member: str = Field(primary_key=True, max_length=200)
    at: int = Field(sa_type=BigInteger)
    by: str = Field(max_length=200)  # an admin, or "guard" for a removal
    reason: str = ""
    room: str = Field(default="", max_length=200)
