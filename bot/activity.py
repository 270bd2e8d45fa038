"""Reading the daily counters: login days, messages and speaking per member over a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.store.models import NO_ROOM, DailyActivity, EventLog


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


def counts_by_member(conn: Connection, window: Window, room: str | None = None) -> dict[str, Counts]:
    """Per member counters in the window. For one room, presence without a room (visits,
    1:1 chats with the bot) still counts as a login day: it is the member showing up."""
    d = DailyActivity
    q = select(
        d.member,
        func.count(func.distinct(d.day)),
        func.sum(d.messages),
        func.sum(d.counted),
        func.sum(d.checkins),
        func.sum(d.visits),
    ).where(d.day >= window.start, d.day <= window.end)
    if room is not None:
        q = q.where(d.room.in_([room, NO_ROOM]))
    q = q.group_by(d.member)
    out: dict[str, Counts] = {}
    if room is None:
        for m, days, msgs, spk, chk, vis in conn.execute(q):
            out[m] = Counts(days, msgs or 0, spk or 0, chk or 0, vis or 0)
        return out
    # Messages and speaking are the room's own; login days include room-less presence.
    room_q = select(d.member, func.sum(d.messages), func.sum(d.counted), func.sum(d.checkins)).where(
        d.day >= window.start, d.day <= window.end, d.room == room).group_by(d.member)
    in_room = {m: (a or 0, b or 0, c or 0) for m, a, b, c in conn.execute(room_q)}
    for m, days, _msgs, _spk, _chk, vis in conn.execute(q):
        msgs, spk, chk = in_room.get(m, (0, 0, 0))
        out[m] = Counts(days, msgs, spk, chk, vis or 0)
    return out


def latest_event_ts(conn: Connection) -> int | None:
    return conn.execute(select(func.max(EventLog.ts))).scalar()
