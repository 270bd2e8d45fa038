"""Applying rosters to the store: first sight, leaves by absence, names and group aliases."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.events import Roster
from bot.core.pipeline import Batch, epoch
from bot.store.db import upsert
from bot.store.models import Membership, Room, table_of

log = logging.getLogger(__name__)

_MEMBERSHIP = table_of(Membership)
_LEAVE = (update(_MEMBERSHIP).where(_MEMBERSHIP.c.room == bindparam("r"), _MEMBERSHIP.c.member == bindparam("m"))
          .values(active=False, left_at=bindparam("at")))
_UPDATE = (update(_MEMBERSHIP).where(_MEMBERSHIP.c.room == bindparam("r"), _MEMBERSHIP.c.member == bindparam("m"))
           .values(active=True, left_at=bindparam("left"), room_alias=bindparam("alias"),
                   pre_existing=bindparam("pre")))


@dataclass(frozen=True)
class RosterResult:
    room: str
    added: tuple[str, ...] = ()  # members first seen in this room (there before the bot)
    returned: tuple[str, ...] = ()  # members the store had as gone, listed again
    left: tuple[str, ...] = ()  # active members missing from the roster: marked left
    ignored: str | None = None  # why the roster changed nothing, when it did not apply


def apply_roster(batch: Batch, roster: Roster) -> RosterResult:
    """Make the room's memberships match the roster as of its `ts`.

    Members new to the room become members from `ts` with no join time (they were there
    before the bot saw them join: never 新成员); active members missing from the list are
    marked left at `ts`, unless they joined or spoke after it; names and group aliases
    update. A roster older than the room's latest applied roster changes nothing. The bot's
    own accounts are not members."""
    conn, room, at = batch.conn, roster.room, epoch(roster.ts)
    latest = conn.execute(select(col(Room.roster_at)).where(col(Room.id) == room)).scalar()
    if latest is not None and at < latest:
        return RosterResult(room, ignored=f"older than the roster already applied (ts {latest})")
    listed = {m.id: m for m in roster.members if m.id not in batch.bot_ids}
    for m in listed.values():
        batch.see_member(m.id, m.name, at)
    batch.flush()
    stored = {r.member: r for r in conn.execute(
        select(col(Membership.member), col(Membership.active), col(Membership.first_at),
               col(Membership.joined_at), col(Membership.left_at), col(Membership.room_alias),
               col(Membership.pre_existing)).where(col(Membership.room) == room))}
    added: list[dict[str, Any]] = []
    returned: list[str] = []
    changed: list[dict[str, Any]] = []
    for mid, m in listed.items():
        row = stored.get(mid)
        if row is None:
            added.append({"room": room, "member": mid, "first_at": at, "joined_at": None, "left_at": None,
                          "active": True, "room_alias": m.room_alias, "pre_existing": True})
            continue
        back = not row.active and (row.left_at or 0) <= at
        active = row.active or back
        alias = m.room_alias or row.room_alias
        pre = row.pre_existing or row.joined_at is None
        if back:
            returned.append(mid)
        if back or alias != row.room_alias or pre != row.pre_existing:
            changed.append({"r": room, "m": mid, "left": None if active else row.left_at, "alias": alias,
                            "pre": pre})
    gone = [mid for mid, r in stored.items()
            if r.active and mid not in listed and r.first_at <= at and (r.joined_at or 0) <= at
            and mid not in batch.bot_ids]
    upsert(conn, _MEMBERSHIP, added, ["room", "member"], keep_min=["first_at"])
    if changed:
        conn.execute(_UPDATE, changed)
    if gone:
        conn.execute(_LEAVE, [{"r": room, "m": m, "at": at} for m in gone])
    conn.execute(update(table_of(Room)).where(table_of(Room).c.id == room).values(roster_at=at))
    batch.known.presence.clear()  # memberships changed behind the presence cache
    return RosterResult(room, tuple(str(a["member"]) for a in added), tuple(returned), tuple(gone))


_BEFORE_BOT = select(col(Membership.member)).where(col(Membership.pre_existing), col(Membership.joined_at).is_(None))
_BEFORE_BOT_OF = _BEFORE_BOT.where(col(Membership.member).in_(bindparam("ids", expanding=True)))  # built once


def there_before_the_bot(conn: Connection, members: Sequence[str] | None = None) -> set[str]:
    """Members some roster listed with no join seen (of `members` only, when given): they were
    there before the bot, so their first appearance is no arrival (never 新成员)."""
    if members is not None:
        return {m for i in range(0, len(members), 900)
                for m in conn.execute(_BEFORE_BOT_OF, {"ids": members[i : i + 900]}).scalars()}
    return set(conn.execute(_BEFORE_BOT.distinct()).scalars())
