"""The audit log: who did what, when and where, for every manager and operator action.

Chat commands of managers and operators are recorded by the command hook
(`bot.core.commands`) and console actions by the console's middleware (`bot.web.app`),
without each feature doing anything. A feature whose action happens elsewhere (outreach
sent, a deletion request) calls `record` itself, in the transaction that does the action:

    audit.record(conn, at=now, actor=member_id, where=audit.PRIVATE, action="delete_request",
                 result="删除了 TA 的数据")

`actor` is a member id, or `CONSOLE_ACTOR` for the web console; `where` is one of `GROUP`
(then pass `room`), `PRIVATE` or `CONSOLE`; `action` a short stable word (a command's
/english name, a console path); `detail` what was asked and `result` what changed, in the
words a manager reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.store.models import NO_ROOM, AuditEntry, table_of

GROUP = "group"
PRIVATE = "private"
CONSOLE = "console"
WHERE_LABELS = {GROUP: "群", PRIVATE: "私聊", CONSOLE: "控制台"}
CONSOLE_ACTOR = "console"
MAX_TEXT = 1000  # detail and result are cut here: an answer can be a whole list


def where_of(room: str | None) -> str:
    """GROUP for a message in a room, PRIVATE for a 1:1 chat."""
    return GROUP if room else PRIVATE


def record(conn: Connection, *, at: datetime | int, actor: str, where: str, action: str,
           detail: str = "", result: str = "", room: str | None = None) -> int:
    """Record one action, in the caller's transaction (it is kept only if the action is);
    returns the entry's id."""
    if where not in WHERE_LABELS:
        raise ValueError(f"where must be one of {sorted(WHERE_LABELS)}, not {where!r}")
    done = conn.execute(table_of(AuditEntry).insert().values(
        at=at if isinstance(at, int) else int(at.timestamp()), actor=actor, place=where,
        room=room or NO_ROOM, action=action[:50], detail=detail[:MAX_TEXT], result=result[:MAX_TEXT]))
    key = done.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_result(conn: Connection, entry: int, result: str) -> None:
    """Rewrite what an entry says changed (an aggregated entry's count)."""
    conn.execute(update(AuditEntry).where(col(AuditEntry.id) == entry).values(result=result[:MAX_TEXT]))


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit page and `/audit`: each None matches everything."""

    actor: str | None = None
    where: str | None = None
    action: str | None = None
    since: int | None = None  # epoch seconds, inclusive
    until: int | None = None  # epoch seconds, exclusive


def entries(conn: Connection, query: AuditQuery = AuditQuery(), *, limit: int | None = 50,
            offset: int = 0) -> Sequence[AuditEntry]:
    """Matching entries, newest first."""
    q = select(AuditEntry)
    if query.actor:
        q = q.where(col(AuditEntry.actor) == query.actor)
    if query.where:
        q = q.where(col(AuditEntry.place) == query.where)
    if query.action:
        q = q.where(col(AuditEntry.action) == query.action)
    if query.since is not None:
        q = q.where(col(AuditEntry.at) >= query.since)
    if query.until is not None:
        q = q.where(col(AuditEntry.at) < query.until)
    q = q.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    return [AuditEntry.model_validate(r._mapping) for r in conn.execute(q)]


def actions(conn: Connection) -> list[str]:
    """Every action recorded so far, for the page's filter."""
    return sorted(conn.execute(select(col(AuditEntry.action)).distinct()).scalars())


def actors(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(col(AuditEntry.actor)).distinct()).scalars())


def prune(conn: Connection, before: int) -> int:
    """Delete the entries older than epoch `before` (the retention); returns how many."""
    return conn.execute(delete(AuditEntry).where(col(AuditEntry.at) < before)).rowcount or 0
