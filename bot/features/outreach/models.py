"""The outreach tables: 群发 campaigns, outreach messages and 退订."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel


class OutreachCampaign(SQLModel, table=True):
    """A 群发: the members a manager selected and the message, previewed as a draft, then
    confirmed (its messages queued in the outbox) or cancelled."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: int = Field(sa_type=BigInteger)
    by: str = Field(max_length=200)
    via: str = Field(max_length=10)  # chat | console
    selection: str  # the filters in words, for the record
    text: str
    status: str = Field(default="draft", max_length=10)  # draft | queued | cancelled
    selected: int = 0
    queued: int = 0
    skipped: int = 0  # reached in the last days, or unsubscribed meanwhile
    confirmed_at: int | None = Field(default=None, sa_type=BigInteger)


class OutreachMessage(SQLModel, table=True):
    """One outreach message to a member (a 群发's or a check-in reminder), as queued in the
    outbox: its time counts against the member's reach limit and the account's daily cap."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # broadcast | reminder
    campaign_id: int | None = None
    member: str = Field(max_length=200)
    account: str = Field(default="", max_length=200)  # the account that sends it
    outbox_id: int
    send_at: int = Field(sa_type=BigInteger)  # not before (quiet hours, pacing, the daily cap)
    day: date  # the local day of send_at

    __table_args__ = (Index("ix_outreach_member_at", "member", "send_at"),
                      Index("ix_outreach_account_day", "account", "day"))


class OutreachOptOut(SQLModel, table=True):
    """A member who replied 退订: no outreach (群发, reminders) until they subscribe again."""

    member: str = Field(primary_key=True, max_length=200)
    at: int = Field(sa_type=BigInteger)
