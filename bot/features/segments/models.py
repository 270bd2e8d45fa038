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
