"""Members known only by a display name becoming one with their wxid.

An export without wxids (MemoTrace 2025, TXT) or a join notice naming someone who never spoke
gives a member the id `name:` + a hash of (room, name) (bot.importer.source.derived_id): the
same in every export of that group. When a roster, an export with wxids or live WeChat shows
that exactly one member of the room carries that name (as nickname or group nickname), the
name-only member is merged into that wxid: every row of every table moves over, counters
that meet on the same key are added (so nothing is counted twice: the same message imported
from two exports has one id and was stored once), first times take the earliest, and the
name-only member is gone. A name two members of the room share merges into neither: it stays
its own member until one of them is renamed.

Like the privacy eraser, it knows no table by name: it walks the SQLModel metadata and rewrites
the columns that hold a member's id (MEMBER_COLUMNS), so tables features add later are covered.
The event log keeps what each event said; its `member` column moves like any other."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Column, String, Table, TypeDecorator, and_, case, delete, select, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, col

from bot.core.names import NAME_PREFIX, derived_id
from bot.core.pipeline import invalidate_caches
from bot.store.db import stored
from bot.store.models import Member, Membership

log = logging.getLogger(__name__)

# Columns that hold a member's id (and `id` of the member table itself): only these are
# rewritten, each an indexed or small column, never a scan of every text of every table.
MEMBER_COLUMNS = frozenset({"member", "sender", "to", "operator", "inviter", "by", "accepted_by", "actor",
                            "created_by", "done_by", "escalated_from", "owner"})
# What happens to a column when the name-only member's row and the wxid's meet on one key.
ADDED = frozenset({"messages", "counted", "checkins", "commands", "visits", "points"})
EARLIEST = frozenset({"first_at", "joined_at", "since"})
LATEST = frozenset({"last_counted_at"})


def is_text(column: Column[Any]) -> bool:
    """The column holds text (sqlmodel's AutoString included)."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, String)


def _combined(name: str, mine: Any, theirs: Any) -> Any:
    """The surviving row's value of column `name`: `mine` the wxid's, `theirs` the name-only's."""
    if mine is None:
        return theirs
    if theirs is None:
        return mine
    if name in ADDED and isinstance(mine, int) and isinstance(theirs, int) and not isinstance(mine, bool):
        return mine + theirs
    if name in EARLIEST:
        return min(mine, theirs)
    if name in LATEST:
        return max(mine, theirs)
    return mine


def _unique_sets(table: Table) -> list[list[Column[Any]]]:
    sets = [list(table.primary_key.columns)]
    for c in table.constraints:
        cols = list(getattr(c, "columns", []))
        if cols and c is not table.primary_key and type(c).__name__ == "UniqueConstraint":
            sets.append(cols)
    return sets


def merge_member(conn: Connection, old: str, new: str) -> bool:
    """Move everything of member `old` (a name-only id) to `new` (a wxid), inside the caller's
    transaction; False when `old` is not stored."""
    return merge_members(conn, {old: new}) == 1


def merge_members(conn: Connection, pairs: Mapping[str, str]) -> int:
    """Each name-only member (key) into their wxid (value), inside the caller's transaction; one
    pass over each table for all of them. Returns how many were stored and merged."""
    wanted = [old for old, new in pairs.items() if old != new]
    present = stored(conn, col(Member.id), wanted)
    if not present:
        return 0
    moves = {old: pairs[old] for old in sorted(present)}
    for table in SQLModel.metadata.sorted_tables:
        for column in (c for c in table.columns if is_text(c)):
            if column.name not in MEMBER_COLUMNS and not (column.name == "id" and table.name == "member"):
                continue
            keyed = [s for s in _unique_sets(table) if column in s]
            if keyed:
                for old, new in moves.items():
                    _move_keyed(conn, table, column, keyed, old, new)
                continue
            olds = list(moves)
            for i in range(0, len(olds), 400):  # one statement (one scan) per 400 members
                part = olds[i:i + 400]
                conn.execute(update(table).where(column.in_(part))
                             .values({column.name: case({o: moves[o] for o in part}, value=column)}))
    invalidate_caches(conn)
    log.info("合并成员 / merged %d name-only members into their wxid: %s", len(moves),
             ", ".join(f"{o}→{n}" for o, n in list(moves.items())[:20]))
    return len(moves)


def _move_keyed(conn: Connection, table: Table, column: Column[Any], keyed: list[list[Column[Any]]],
                old: str, new: str) -> None:
    """Rows of `table` whose `column` (part of a key) is `old`: moved to `new`, or combined
    with the row `new` already has on that key."""
    for row in conn.execute(select(table).where(column == old)).mappings().all():
        clash = None
        for key in keyed:
            cond = and_(*((c == new) if c is column else (c == row[c.name]) for c in key))
            clash = conn.execute(select(table).where(cond)).mappings().first()
            if clash is not None:
                break
        pk = and_(*(c == row[c.name] for c in table.primary_key.columns))
        if clash is None:
            conn.execute(update(table).where(pk).values({column.name: new}))
            continue
        values = {c.name: _combined(c.name, clash[c.name], row[c.name]) for c in table.columns
                  if c.name != column.name and not c.primary_key}
        theirs = and_(*(c == clash[c.name] for c in table.primary_key.columns))
        conn.execute(delete(table).where(pk))
        if values:
            conn.execute(update(table).where(theirs).values(values))


def names_in_room(conn: Connection, room: str) -> dict[str, set[str]]:
    """Every name (nickname, group nickname) the store holds for the room's members (those with
    a wxid) → their ids."""
    q = select(col(Member.id), col(Member.name), col(Membership.room_alias)).join(
        Membership, col(Membership.member) == col(Member.id)).where(col(Membership.room) == room)
    found: dict[str, set[str]] = {}
    for member, name, alias in conn.execute(q):
        if member.startswith(NAME_PREFIX):
            continue
        for n in {name, alias}:
            if n and n.strip():
                found.setdefault(n.strip(), set()).add(member)
    return found


def merge_names(conn: Connection, room: str, known: Mapping[str, Iterable[str]]) -> int:
    """Merge the room's name-only members into their wxids, by `known` (name → the wxids that
    carry it, from a roster or an export) together with what the store knows of the room. A
    name that more than one wxid carries is left alone. Returns how many were merged."""
    carriers = names_in_room(conn, room)
    for name, ids in known.items():
        carriers.setdefault(name.strip(), set()).update(ids)
    pairs = {derived_id(room, name): next(iter(ids)) for name, ids in carriers.items() if len(ids) == 1}
    return merge_members(conn, pairs) if pairs else 0
