"""The tags tables: tag groups, tag rules, keyword hits and the tags members hold."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class TagGroup(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=50)
    exclusive: bool = False


class TagRule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # keyword | count
    tag: str = Field(max_length=50)
    args: str  # the rule in `/rule add` argument form, parsed by tagging.rules
    active: bool = True
    created_by: str | None = None
    created_at: int = Field(default=0, sa_type=BigInteger)


class KeywordHit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    rule_id: int
    ts: int = Field(sa_type=BigInteger)
    message_id: str = Field(max_length=200)

    __table_args__ = (
        Index("ix_hit_member_rule", "member", "rule_id", "ts"),
        UniqueConstraint("rule_id", "message_id"),
    )


class MemberTag(SQLModel, table=True):
    """A tag a member holds, with where it came from (the `why`)."""

    member: str = Field(primary_key=True, max_length=200)
    tag: str = Field(primary_key=True, max_length=50)
    source: str = Field(max_length=10)  # keyword | count | manual
    rule_id: int | None = None
    grp: str | None = None
    keyword: str | None = None
    message_id: str | None = None
    excerpt: str | None = None
    by: str | None = None  # the manager, for manual tags
    count: int | None = None
    days: int | None = None
    at: int = Field(sa_type=BigInteger)  # when the reason happened (message time / set time)
    since: int = Field(sa_type=BigInteger)  # when the member first got the tag
    expires_at: int | None = Field(default=None, sa_type=BigInteger)
    lead: bool = False

    __table_args__ = (Index("ix_membertag_tag", "tag"),)


class SynonymWord(SQLModel, table=True):
    """A word a manager added to a synonym set (`/synonym add 价格 学费`): rules naming the set
    (价格) hear it too. A word belongs to one set."""

    id: int | None = Field(default=None, primary_key=True)
    concept: str = Field(max_length=50)
    word: str = Field(max_length=50, unique=True)
    created_by: str | None = None
    created_at: int = Field(default=0, sa_type=BigInteger)
