"""The reminders tables: which tasks get reminders, and the reminders sent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class ReminderTask(SQLModel, table=True):
    """A check-in task whose broken streaks get reminders (off unless a manager turns it on)."""

    task_id: int = Field(primary_key=True)
    enabled: bool = True


class CheckinReminder(SQLModel, table=True):
    """A reminder sent to a member whose streak broke, and whether they came back within 2
    days (None until known)."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    task_id: int
    broke_on: date  # the first day missed
    n: int  # 1: the day after the break; 2: three days later
    day: date  # the local day it was queued
    outcome: str | None = Field(default=None, max_length=10)  # back | gone

    __table_args__ = (UniqueConstraint("member", "task_id", "broke_on", "n"),)
