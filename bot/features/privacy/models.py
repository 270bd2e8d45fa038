"""The privacy tables: rank opt-outs and deletion requests."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class RankOptOut(SQLModel, table=True):
    """A member who said 不参与排行: left out of every ranking."""

    member: str = Field(primary_key=True, max_length=200)
    at: int = Field(sa_type=BigInteger)


class DeletionRequest(SQLModel, table=True):
    """删除我的数据, waiting for the member's confirmation (deleted once done or expired)."""

    member: str = Field(primary_key=True, max_length=200)
    asked_at: int = Field(sa_type=BigInteger)
