"""The friends tables: friendships of the private account."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class Friendship(SQLModel, table=True):
    """A member's friendship with the private account: the request, its acceptance, removal,
    the first channel (来源) it came through, the welcome DM and the group invitations."""

    member: str = Field(primary_key=True, max_length=200)
    n: int = Field(index=True)  # the request's number for operators (通过 编号), never reused
    status: str = Field(max_length=10)  # requested | accepted | removed
    account: str = Field(default="", max_length=200)  # the account it was sent to, if known
    request_id: str | None = Field(default=None, max_length=200)  # the request event's id
    hello: str | None = None  # the request's greeting (验证消息)
    requested_at: int | None = Field(default=None, sa_type=BigInteger)
    # waiting (for an operator) | queued (an accept is in the outbox) | none (not a request)
    decision: str = Field(default="none", max_length=10)
    accepted_by: str | None = Field(default=None, max_length=200)  # "rule" or the operator
    accepted_at: int | None = Field(default=None, sa_type=BigInteger)
    removed_at: int | None = Field(default=None, sa_type=BigInteger)
    channel: str | None = None  # the first channel tag; later tags never change it
    pre_existing: bool = False  # a friend before the bot (first seen in a contacts list)
    welcomed_at: int | None = Field(default=None, sa_type=BigInteger)
    invite_room: str | None = Field(default=None, max_length=200)  # the target group
    invited_at: int | None = Field(default=None, sa_type=BigInteger)  # the latest invitation
