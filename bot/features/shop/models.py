"""The shop tables: the points shop: items and redemptions."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from bot.store.models import NO_ROOM


class ShopItem(SQLModel, table=True):
    """Something members can redeem points for; stock None means unlimited."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=30, unique=True)
    price: int
    stock: int | None = None
    active: bool = True
    created_by: str | None = Field(default=None, max_length=200)
    created_at: int = Field(default=0, sa_type=BigInteger)


class Redemption(SQLModel, table=True):
    """Points spent on a shop item: pending until an operator hands it over; refunded
    redemptions gave the points (and the stock) back."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200, index=True)
    item_id: int
    item: str = Field(max_length=30)
    price: int
    ts: int = Field(sa_type=BigInteger)
    room: str = Field(default=NO_ROOM, max_length=200)
    ref: str | None = Field(default=None, max_length=200)  # the message that redeemed
    status: str = Field(default="pending", max_length=10, index=True)  # pending|fulfilled|refunded
    done_at: int | None = Field(default=None, sa_type=BigInteger)
    done_by: str | None = Field(default=None, max_length=200)
