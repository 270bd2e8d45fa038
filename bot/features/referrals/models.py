"""The referrals tables: who brought whom into a room."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class Referral(SQLModel, table=True):
    """Who brought whom into a room (a join event with an inviter)."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    inviter: str = Field(max_length=200, index=True)
    ts: int = Field(sa_type=BigInteger)
    rewarded_at: int | None = Field(default=None, sa_type=BigInteger)  # the inviter's points paid
