"""The checkins tables: check-in tasks, check-ins, make-up cards, per-room reply choices and summaries,
reviews (点评 / 优秀) and the reminders and roundups sent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from bot.store.models import NO_ROOM


class CheckinTask(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=30, unique=True)
    triggers: str  # comma-separated
    points: int = 10
    window_start: str | None = None  # "HH:MM"
    window_end: str | None = None
    challenge_days: int | None = None
    room: str | None = None
    active: bool = True
    min_note: int | None = None  # 作业打卡: the note (心得) must have at least this many characters
    reply: str = Field(default="auto", max_length=10)  # each | summary | auto (rooms may override)
    media: str | None = Field(default=None, max_length=10)  # image | voice | any: a photo checks in
    public_missing: bool = False  # 未打卡 is answered in the group
    remind_missing: str | None = Field(default=None, max_length=5)  # "HH:MM": @ who hasn't checked in
    excellent_points: int = 20  # points an operator's 优秀 adds
    roundup: bool = False  # a weekly 优秀打卡 roundup in each group


class CheckinReview(SQLModel, table=True):
    """An operator's 点评 or 优秀 of one check-in."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)  # whose check-in
    task_id: int
    day: date
    room: str = Field(default=NO_ROOM, max_length=200)
    by: str = Field(max_length=200)  # the operator
    at: int = Field(sa_type=BigInteger)
    excellent: bool = False
    text: str | None = None  # what the operator wrote

    __table_args__ = (Index("ix_checkinreview_task", "task_id", "day"),)


class CheckinNotice(SQLModel, table=True):
    """A task's reminder of a day (kind "missing") or weekly roundup (kind "roundup", day: the
    week's Monday) sent in a room, so it goes out once."""

    task_id: int = Field(primary_key=True)
    room: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=10)
    sent_at: int = Field(sa_type=BigInteger)


class CheckinReply(SQLModel, table=True):
    """A room's own choice of how a task's check-ins are answered (each | summary | auto)."""

    task_id: int = Field(primary_key=True)
    room: str = Field(primary_key=True, max_length=200)
    reply: str = Field(max_length=10)


class CheckinSummary(SQLModel, table=True):
    """A day's check-in summary sent in a room, so it goes out once."""

    task_id: int = Field(primary_key=True)
    room: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    sent_at: int = Field(sa_type=BigInteger)


class Checkin(SQLModel, table=True):
    member: str = Field(primary_key=True, max_length=200)
    task_id: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    room: str = Field(default=NO_ROOM, max_length=200)
    ts: int = Field(sa_type=BigInteger)
    made_up: bool = False
    note: str | None = None  # what the member wrote after the trigger word (心得)
    quiet: bool = False  # answered in the day's summary instead of a reply of its own

    # The day's check-ins of a task in a room: counted for `reply=auto` and the summary.
    __table_args__ = (Index("ix_checkin_task_day", "task_id", "day", "room"),)


class CheckinCards(SQLModel, table=True):
    member: str = Field(primary_key=True, max_length=200)
    task_id: int = Field(primary_key=True)
    cards: int = 0
