"""Reading the daily counters: login days, messages and speaking per member over a window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, case, func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.store.models import NO_ROOM, DailyActivity, EventLog, MemberDay, Membership, table_of


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive
    days: int

    @classmethod
    def ending(cls, end: date, days: int) -> Window:
        return cls(end - timedelta(days=days - 1), end, days)


@dataclass(frozen=True)
class Counts:
    login_days: int
    messages: int
    speaking: int  # counted messages (anti-farming applied)
    checkins: int
    visits: int


def counts_by_member(conn: Connection, window: Window, room: str | None = None,
                     members: Sequence[str] | None = None) -> dict[str, Counts]:
    """Per member counters in the window (of `members` only, when given).

    For one room: the room's current members, with messages and speaking of that room;
    their presence without a room (visits, 1:1 chats with the bot) still counts as a login
    day, since it is the member showing up. Each member's rows are read through the
    primary key (member, room, day), so a room costs what its members did, not what the
    whole community did."""
    if members is not None:
        out: dict[str, Counts] = {}
        ids = list(members)
        for i in range(0, len(ids), 900):
            out.update(_counts(conn, window, room, ids[i : i + 900]))
        return out
    return _counts(conn, window, room, None)


def _counts(conn: Connection, window: Window, room: str | None, ids: list[str] | None) -> dict[str, Counts]:
    params: dict[str, object] = {"start": window.start, "end": window.end, "room": room, "no_room": NO_ROOM}
    if ids is not None:
        params["ids"] = ids
    return {m: Counts(days, msgs or 0, spk or 0, chk or 0, vis or 0)
            for m, days, msgs, spk, chk, vis in conn.execute(_counts_query(room is not None, ids is not None), params)}


@cache  # built once per shape: building a statement costs more than running it for one member
def _counts_query(of_room: bool, of_members: bool) -> Select[Any]:
    start: BindParameter[Any] = bindparam("start")
    end: BindParameter[Any] = bindparam("end")
    if not of_room:  # one row per member and day already: no DISTINCT, no sort
        a = table_of(MemberDay).c
        q = select(a.member, func.count(), func.sum(a.messages), func.sum(a.counted), func.sum(a.checkins),
                   func.sum(a.visits)).where(a.day >= start, a.day <= end).group_by(a.member)
        return q.where(a.member.in_(bindparam("ids", expanding=True))) if of_members else q
    d = table_of(DailyActivity).c
    room: BindParameter[Any] = bindparam("room")
    in_room = select(col(Membership.member)).where(col(Membership.room) == room, col(Membership.active))
    if of_members:  # through the memberships' key, not a list of the whole room
        in_room = in_room.where(col(Membership.member).in_(bindparam("ids", expanding=True)))
    here = d.room == room
    q = select(
        d.member,
        func.count(func.distinct(d.day)),
        func.sum(case((here, d.messages), else_=0)),
        func.sum(case((here, d.counted), else_=0)),
        func.sum(case((here, d.checkins), else_=0)),
        func.sum(d.visits),
    ).where(d.member.in_(in_room), d.room.in_([room, bindparam("no_room")]), d.day >= start, d.day <= end
            ).group_by(d.member)
    return q.where(d.member.in_(bindparam("ids", expanding=True))) if of_members else q


def latest_event_ts(conn: Connection, not_after: int | None = None) -> int | None:
    """The newest event's time, ignoring any later than `not_after` (epoch seconds)."""
    q = select(func.max(col(EventLog.ts)))
    if not_after is not None:
        q = q.where(col(EventLog.ts) <= not_after)
    return conn.execute(q).scalar()
