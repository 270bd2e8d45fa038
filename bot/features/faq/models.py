"""The FAQ's tables: the answers, when each last went out where, and 1:1 questions waiting for an answer."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class FaqEntry(SQLModel, table=True):
    """An answer and the keywords of the questions it answers."""

    id: int | None = Field(default=None, primary_key=True)
    keywords: str  # comma-separated, as the manager typed them
    answer: str
    by: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger)


class FaqSent(SQLModel, table=True):
    """When an answer last went out in a room (or a 1:1 chat: the member's id): its cooldown."""

    entry: int = Field(primary_key=True)
    place: str = Field(primary_key=True, max_length=200)
    at: int = Field(sa_type=BigInteger)


class DmQuestion(SQLModel, table=True):
    """A member's 1:1 question no FAQ answered: on the operators' list until one marks it done."""

    message_id: str = Field(primary_key=True, max_length=200)
    member: str = Field(max_length=200, index=True)
    at: int = Field(sa_type=BigInteger)
    text: str
    alerted: bool = False  # the admins were told it waits
