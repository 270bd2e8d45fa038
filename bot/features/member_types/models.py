"""The member_types tables: a room's own thresholds of the activity types, and the scopes'
split values of each day."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel


class RoomSettings(SQLModel, table=True):
    room: str = Field(primary_key=True, max_length=200)
    login_threshold: int | None = None  # None: split at the median
    speaking_threshold: int | None = None
    window_days: int | None = None


class TypeSplit(SQLModel, table=True):
    """A scope's split values of one local day (the medians of login days and of speaking
    that the types of that day are cut at), from the complete days before it: computed once
    (by the daily job, or by the first reader of the day) and reused, as long as no event of
    an earlier day arrives (member_types.service)."""

    scope: str = Field(primary_key=True, max_length=200)  # a room, or ALL_ROOMS
    window_days: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    login_days: float
    speaking: float
