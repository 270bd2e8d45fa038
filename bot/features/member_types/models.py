"""The member_types tables: a room's own thresholds of the activity types."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RoomSettings(SQLModel, table=True):
    room: str = Field(primary_key=True, max_length=200)
    login_threshold: int | None = None  # None: split at the median
    speaking_threshold: int | None = None
    window_days: int | None = None
