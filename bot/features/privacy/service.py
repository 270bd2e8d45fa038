"""Members' privacy in the store: leaving the rankings, asking for their data to be deleted
(the erasure on confirmation: deletion.py), and the retention of message texts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.features.checkins.api import Checkin
from bot.features.privacy.eraser import ANON_PREFIX
from bot.features.privacy.models import DeletionRequest, RankOptOut
from bot.features.tags.api import MemberTag
from bot.store.db import upsert
from bot.store.models import EventLog, Membership, Outbox, table_of

CONFIRM_MINUTES = 10


def rank_hidden(conn: Connection) -> set[str]:
    """Members left out of every ranking: those who said 不参与排行, and anonymous ones."""
    return set(conn.execute(select(col(RankOptOut.member))).scalars())


def set_ranked(conn: Connection, member: str, ranked: bool, at: int) -> bool:
    """参与排行 / 不参与排行; True when it changed anything."""
    if ranked:
        return conn.execute(delete(table_of(RankOptOut)).where(col(RankOptOut.member) == member)).rowcount > 0
    was = conn.execute(select(col(RankOptOut.member)).where(col(RankOptOut.member) == member)).first()
    upsert(conn, table_of(RankOptOut), [{"member": member, "at": at}], ["member"])
    return was is None


def has_data(conn: Connection, member: str) -> bool:
    """Anything the member said or did is stored (a request being made right now is not yet),
    or they are in a room: a member known only from a roster has a name and memberships too."""
    if conn.execute(select(col(Membership.member)).where(col(Membership.member) == member).limit(1)).first():
        return True
    return conn.execute(select(col(EventLog.id)).where(col(EventLog.member) == member).limit(1)).first() is not None


def pending_request(conn: Connection, member: str, at: int) -> bool:
    return conn.execute(select(col(DeletionRequest.member)).where(
        col(DeletionRequest.member) == member,
        col(DeletionRequest.asked_at) >= at - CONFIRM_MINUTES * 60)).first() is not None


def ask_deletion(conn: Connection, member: str, at: int) -> None:
    upsert(conn, table_of(DeletionRequest), [{"member": member, "asked_at": at}], ["member"], replace=["asked_at"])


def is_anonymous(member: str) -> bool:
    return member.startswith(ANON_PREFIX)


@dataclass(frozen=True)
class Retention:
    messages: int
    notes: int
    excerpts: int
    replies: int

    @property
    def total(self) -> int:
        return self.messages + self.notes + self.excerpts + self.replies


def erase_old_texts(conn: Connection, before: int) -> Retention:
    """Erase message texts (and check-in notes, tag excerpts, bot replies already sent)
    from before `before` (epoch); every count stays."""
    messages = conn.execute(update(table_of(EventLog)).where(
        col(EventLog.type) == "message", col(EventLog.ts) < before, col(EventLog.text).is_not(None))
        .values(text=None)).rowcount
    notes = conn.execute(update(table_of(Checkin)).where(
        col(Checkin.ts) < before, col(Checkin.note).is_not(None)).values(note=None)).rowcount
    excerpts = conn.execute(update(table_of(MemberTag)).where(
        col(MemberTag.at) < before, col(MemberTag.excerpt).is_not(None)).values(excerpt=None)).rowcount
    replies = conn.execute(update(table_of(Outbox)).where(
        col(Outbox.created_at) < before, col(Outbox.status).in_(("sent", "dropped")), col(Outbox.text) != "")
        .values(text="")).rowcount
    return Retention(messages, notes, excerpts, replies)


RETENTION_TABLES = ("eventlog", "checkin", "membertag", "outbox")
