"""The segments tables: orders (purchases, refunds) and pinned grades."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from bot.store.models import NO_ROOM


class Purchase(SQLModel, table=True):
    """An `order` event: a purchase, renewal or sign-up; a refund is a negative amount with
    `refund_of`. Amounts in fen (1/100 yuan), so sums are exact."""

    id: str = Field(primary_key=True, max_length=200)  # the event id
    member: str = Field(max_length=200)
    ts: int = Field(sa_type=BigInteger)
    day: date
    amount_fen: int = Field(sa_type=BigInteger)
    item: str | None = Field(default=None, max_length=200)
    room: str = Field(default=NO_ROOM, max_length=200)
    refund_of: str | None = Field(default=None, max_length=200)

    __table_args__ = (Index("ix_purchase_member_day", "member", "day"), Index("ix_purchase_day", "day"),
                      Index("ix_purchase_refund_of", "refund_of"))


class GradePin(SQLModel, table=True):
    """A grade a manager set by hand; it wins over the criteria until unpinned."""

    member: str = Field(primary_key=True, max_length=200)
    grade: str = Field(max_length=1)
    reason: str | None = None
    by: str | None = Field(default=None, max_length=200)
    at: int = Field(sa_type=BigInteger)


class ActivityFigures(SQLModel, table=True):
    """A member's figures from the daily counters as of a local day (`read_activity`'s: last
    active days, active days per window, the type's two numbers, the churn signs), over the
    complete days before it: kept by the daily job for the day's readers, who add only that
    day's own counters. An event of an earlier day removes the figures of the days after it
    (segments.hook); a reader finding none reads every day's counters (segments.service)."""

    day: date = Field(primary_key=True)
    shape: int = Field(primary_key=True, sa_type=BigInteger)  # the windows' lengths and settings (a checksum)
    member: str = Field(primary_key=True, max_length=200)
    last_counting: date | None = None
    last_any: date
    window_days: int
    recent: int
    previous: int
    before: int
    login_days: int
    speaking: int
    churn_recent: int
    churn_before: int
    last_spoke: date | None = None


class KeptAssessment(SQLModel, table=True):
    """A member's type, stage and grade as of the daily job's time `at` (`keep_assessment`), with the
    inputs the follow-up list compares live (points, first seen, groups, there before the bot) and
    whether they had counters of the day at the job: the list recomputes only members whose inputs
    changed since. `shape` is a checksum of the settings the results depend on and of the day's split
    values. An event of an earlier day removes the rows of the days after it, like the figures'."""

    day: date = Field(primary_key=True)
    shape: int = Field(primary_key=True, sa_type=BigInteger)
    member: str = Field(primary_key=True, max_length=200)
    at: int = Field(sa_type=BigInteger)  # the job's time (epoch seconds)
    points: int | None = Field(default=None, sa_type=BigInteger)
    first_at: int | None = Field(default=None, sa_type=BigInteger)
    groups: int | None = None  # the local day first in any group (ordinal) × 2 + still in one; None: in none
    before_bot: bool
    active: bool  # had counters of the day at the job
    result: int  # its type, stage and grade: a `KeptResult` of the day (members share few)


class KeptResult(SQLModel, table=True):
    """One of the distinct (type, stage, grade) of a day's `KeptAssessment`, encoded."""

    day: date = Field(primary_key=True)
    shape: int = Field(primary_key=True, sa_type=BigInteger)
    id: int = Field(primary_key=True)
    type: str | None = None  # the member type's value; None: not typed
    stage: str
    grade: str


class AssessmentChange(SQLModel, table=True):
    """Members whose orders, tags, referrals (as inviter) or grade pin were written since the daily
    job's kept assessment: filled by database triggers (segments' migration), emptied by the job."""

    member: str = Field(primary_key=True, max_length=200)
