"""Typing members of a room (or of all rooms) from the daily counters and room settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.activity import Window, counts_by_member
from bot.store.models import Member, Membership, RoomSettings
from tiers.types import SOURCE_ABSOLUTE, Activity, Thresholds, Typing, classify_all


@dataclass(frozen=True)
class Scope:
    room: str | None
    window: Window
    thresholds: Thresholds | None  # None: split at the median


def room_settings(conn: Connection, room: str | None) -> RoomSettings | None:
    if room is None:
        return None
    row = conn.execute(select(RoomSettings).where(RoomSettings.room == room)).first()
    return RoomSettings.model_validate(row._mapping) if row else None


def scope_for(conn: Connection, at: datetime, room: str | None, default_window: int,
              window_days: int | None = None) -> Scope:
    rs = room_settings(conn, room)
    days = window_days or (rs.window_days if rs and rs.window_days else default_window)
    absolute = None
    if rs and rs.login_threshold is not None and rs.speaking_threshold is not None:
        absolute = Thresholds(rs.login_threshold, rs.speaking_threshold, SOURCE_ABSOLUTE)
    return Scope(room, Window.ending(at.date(), days), absolute)


def type_members(conn: Connection, at: datetime, scope: Scope) -> dict[str, Typing]:
    """Every member of the scope as of `at` (local), typed. Members of a room are its
    current members; for all rooms, every member seen by then."""
    tz = at.tzinfo
    at_epoch = int(at.timestamp())
    counts = counts_by_member(conn, scope.window, scope.room)
    if scope.room is None:
        rows = conn.execute(select(Member.id, Member.first_at).where(Member.first_at <= at_epoch))
        joined = {m: first for m, first in rows}
    else:
        q = select(Membership.member, Membership.joined_at, Membership.first_at).where(
            Membership.room == scope.room, Membership.active, Membership.first_at <= at_epoch)
        joined = {m: j or f for m, j, f in conn.execute(q)}
    activities = []
    for m, first in joined.items():
        c = counts.get(m)
        activities.append(Activity(m, c.login_days if c else 0, c.speaking if c else 0,
                                   datetime.fromtimestamp(first, tz).date()))
    return classify_all(activities, today=at.date(), window_days=scope.window.days,
                        absolute=scope.thresholds)
