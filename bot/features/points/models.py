"""The points tables: the points ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from bot.store.models import NO_ROOM


class PointsEntry(SQLModel, table=True):
    """The points ledger: every change of points is one row."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    ts: int = Field(sa_type=BigInteger)
    day: date
    delta: int
    kind: str = Field(max_length=20)  # checkin | streak_bonus | speaking | manual | makeup
    reason: str | None = None
    room: str = Field(default=NO_ROOM, max_length=200)
    ref: str | None = None  # event id
    by: str | None = None

    __table_args__ = (Index("ix_points_member_day", "member", "day"), Index("ix_points_day", "day"))
