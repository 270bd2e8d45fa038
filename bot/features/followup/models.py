"""The followup tables: operators, follow-up lists, items, records, cases, snapshots, stage changes, caps and notes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class RoomOperator(SQLModel, table=True):
    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)


class FollowUpList(SQLModel, table=True):
    """A follow-up list as it was sent to an operator: `/done` numbers refer to it."""

    id: int | None = Field(default=None, primary_key=True)
    operator: str = Field(max_length=200, index=True)
    at: int = Field(sa_type=BigInteger)
    day: date
    scheduled: bool = False
    queued: int = 0  # routine visits due that waited for room (tiers.followup._hold_back)

    __table_args__ = (Index("ix_followuplist_daily", "operator", "day", "scheduled"),)


class FollowUpItem(SQLModel, table=True):
    list_id: int = Field(primary_key=True)
    n: int = Field(primary_key=True)
    kind: str = Field(max_length=20)
    member: str = Field(max_length=200)
    room: str = Field(max_length=200)
    reason: str
    action: str
    age: int = 1  # the day on the lists this item was (「第 3 天未跟进」)
    escalated_from: str | None = Field(default=None, max_length=200)  # on an admin's list: whose it was


class FollowUpRecord(SQLModel, table=True):
    """One follow-up done: who did it, when, for which item, with an optional note."""

    id: int | None = Field(default=None, primary_key=True)
    operator: str = Field(max_length=200)
    member: str = Field(max_length=200, index=True)
    kind: str = Field(max_length=20)
    room: str = Field(max_length=200)
    list_id: int
    n: int
    at: int = Field(sa_type=BigInteger)
    note: str | None = None

    __table_args__ = (UniqueConstraint("list_id", "n"),)


class ScheduledList(SQLModel, table=True):
    """At most one scheduled list per operator per day, whatever the scheduler does."""

    operator: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    list_id: int


class MemberSnapshot(SQLModel, table=True):
    """Type, level, lifecycle stage and grade at the last scheduled list, to see what changed
    since; and since when the member is in that grade (their routine visit is due one cadence
    after it)."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    type: str | None = None
    level: int = 1
    at: int = Field(sa_type=BigInteger)
    stage: str | None = Field(default=None, max_length=20)
    grade: str | None = Field(default=None, max_length=1)
    grade_since: int | None = Field(default=None, sa_type=BigInteger)


class StageChange(SQLModel, table=True):
    """A lifecycle transition seen when a daily list was made."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger, index=True)
    before: str | None = Field(default=None, max_length=20)
    after: str = Field(max_length=20)


class FollowUpCase(SQLModel, table=True):
    """An open follow-up (a member, for one reason) from the first list that named it until it
    is done: its age, whom it was handed to, until when it sleeps, when it went to the admins."""

    member: str = Field(primary_key=True, max_length=200)
    kind: str = Field(primary_key=True, max_length=20)
    room: str = Field(max_length=200)
    reason: str
    action: str
    opened: date  # the local day of the first list that named it
    last_listed: date
    days: int = 1  # local days it has been on a list
    owner: str | None = Field(default=None, max_length=200)  # reassigned to this operator
    snoozed_until: date | None = None  # left off the lists before this day
    escalated_on: date | None = None  # put on the admins' list (once)


class OperatorCap(SQLModel, table=True):
    """An operator's own daily cap on list items (the default is a setting)."""

    member: str = Field(primary_key=True, max_length=200)
    daily_cap: int


class MemberNote(SQLModel, table=True):
    """A note an operator wrote on a member (备注 @成员 文字)."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200, index=True)
    by: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger)
    text: str
