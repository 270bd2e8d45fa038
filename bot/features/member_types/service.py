"""Typing members of a room (or of all rooms) from the daily counters and room settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.activity import Counts, Window, counts_by_member
from bot.core.settings import Settings
from bot.features.member_types.models import RoomSettings
from bot.features.member_types.settings import TypeSettings
from bot.features.rosters.api import there_before_the_bot
from tiers.types import SOURCE_ABSOLUTE, Activity, Floor, Thresholds, Typing, classify_all

NEW_DAYS = 7  # members who joined less than this many days ago are 新成员


DEFAULT_FLOOR = Floor(3, 5)  # the defaults of TypeSettings.type_floor_login / type_floor_speaking


def type_floor(settings: Settings) -> Floor:
    own = settings.of(TypeSettings)
    return Floor(own.type_floor_login, own.type_floor_speaking)


@dataclass(frozen=True)
class Scope:
    room: str | None
    window: Window
    thresholds: Thresholds | None  # None: split at the median
    floor: Floor = DEFAULT_FLOOR  # the least the median split calls "high"


def room_settings(conn: Connection, room: str | None) -> RoomSettings | None:
    if room is None:
        return None
    row = conn.execute(select(RoomSettings).where(col(RoomSettings.room) == room)).first()
    return RoomSettings.model_validate(row._mapping) if row else None


def scope_for(conn: Connection, at: datetime, room: str | None, default_window: int,
              window_days: int | None = None, *, floor: Floor = DEFAULT_FLOOR) -> Scope:
    rs = room_settings(conn, room)
    days = window_days or (rs.window_days if rs and rs.window_days else default_window)
    absolute = None
    if rs and rs.login_threshold is not None and rs.speaking_threshold is not None:
        absolute = Thresholds(rs.login_threshold, rs.speaking_threshold, SOURCE_ABSOLUTE)
    return Scope(room, Window.ending(at.date(), days), absolute, floor)


def type_members(conn: Connection, at: datetime, scope: Scope) -> dict[str, Typing]:
    """Every member of the scope as of `at` (local), typed. Members of a room are its
    current members; for all rooms, every member seen by then."""
    return typed_with_counts(conn, at, scope)[0]


def typed_with_counts(conn: Connection, at: datetime, scope: Scope
                      ) -> tuple[dict[str, Typing], dict[str, Counts]]:
    """`type_members` plus the counters it typed from, for lists that show both."""
    tz = at.tzinfo
    at_epoch = int(at.timestamp())
    counts = counts_by_member(conn, scope.window, scope.room)
    # Plain SQL text: 100k rows come back several times faster than through ORM columns.
    # When each member arrived: their join, else their first appearance; none for members
    # a roster listed before any join was seen (they were there before the bot).
    rows: Iterable[tuple[str, int | None]]
    if scope.room is None:
        before_bot = there_before_the_bot(conn)
        found = conn.execute(text("SELECT id, first_at FROM member WHERE first_at <= :at"), {"at": at_epoch})
        rows = ((m, None if m in before_bot else first) for m, first in found)
    else:
        rows = conn.execute(text(
            "SELECT member, CASE WHEN joined_at IS NOT NULL THEN joined_at WHEN pre_existing THEN NULL "
            "ELSE first_at END FROM membership "
            "WHERE room = :room AND active AND first_at <= :at"), {"room": scope.room, "at": at_epoch})
    # Only a recent join can make a member new: older ones need no date at all.
    recent = at_epoch - (NEW_DAYS + 1) * 86400
    activities = []
    for m, first in rows:
        c = counts.get(m)
        joined = datetime.fromtimestamp(first, tz).date() if first is not None and first >= recent else None
        activities.append(Activity(m, c.login_days if c else 0, c.speaking if c else 0, joined))
    typed = classify_all(activities, today=at.date(), window_days=scope.window.days,
                         absolute=scope.thresholds, new_days=NEW_DAYS, floor=scope.floor)
    return typed, counts
