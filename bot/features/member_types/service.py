"""Typing members of a room (or of all rooms) from the daily counters and room settings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, or_, select, text
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.activity import Counts, Window, counts_by_member
from bot.core.settings import Settings
from bot.features.member_types.models import RoomSettings, TypeSplit
from bot.features.member_types.settings import TypeSettings
from bot.features.rosters.api import there_before_the_bot
from bot.store.db import one_pass_cache, upsert
from bot.store.models import Member, table_of
from tiers.types import SOURCE_ABSOLUTE, SOURCE_MEDIAN, Activity, Floor, Thresholds, Typing, classify_all, median_split

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


# Statements a member's own type reads (我的等级), built once: building one costs more than running it.
_ROOM_SETTINGS = select(RoomSettings).where(col(RoomSettings.room) == bindparam("room"))
_SPLIT = select(table_of(TypeSplit).c.login_days, table_of(TypeSplit).c.speaking).where(
    table_of(TypeSplit).c.scope == bindparam("scope"), table_of(TypeSplit).c.window_days == bindparam("window"),
    table_of(TypeSplit).c.day == bindparam("day"))
_SEEN = text("SELECT id, first_at FROM member WHERE first_at <= :at")
_SEEN_OF = select(table_of(Member).c.id, table_of(Member).c.first_at).where(
    table_of(Member).c.first_at <= bindparam("at"), table_of(Member).c.id.in_(bindparam("ids", expanding=True)))
# When each member arrived: their join, else their first appearance; none for members a roster
# listed before any join was seen (they were there before the bot).
_ARRIVED = ("SELECT member, CASE WHEN joined_at IS NOT NULL THEN joined_at WHEN pre_existing THEN NULL "
            "ELSE first_at END FROM membership WHERE room = :room AND active AND first_at <= :at")
_IN_ROOM = text(_ARRIVED)
_IN_ROOM_OF = text(_ARRIVED + " AND member IN :ids").bindparams(bindparam("ids", expanding=True))


def room_settings(conn: Connection, room: str | None) -> RoomSettings | None:
    if room is None:
        return None
    row = conn.execute(_ROOM_SETTINGS, {"room": room}).first()
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


def type_some(conn: Connection, at: datetime, scope: Scope, members: Sequence[str]) -> dict[str, Typing]:
    """`type_members` of these members only (those the scope has: a room's current members,
    every member seen by then for all rooms): the same types, read through their own rows
    and the scope's split values of the day."""
    if not members:
        return {}
    activities, _ = _activities(conn, at, scope.window, scope.room, list(members))
    return _classify(conn, at, scope, activities)


def typed_with_counts(conn: Connection, at: datetime, scope: Scope
                      ) -> tuple[dict[str, Typing], dict[str, Counts]]:
    """`type_members` plus the counters it typed from, for lists that show both."""
    with one_pass_cache(conn) if scope.room is None else nullcontext():  # every member's counters, once
        activities, counts = _activities(conn, at, scope.window, scope.room, None)
        return _classify(conn, at, scope, activities), counts


def _classify(conn: Connection, at: datetime, scope: Scope, activities: list[Activity]) -> dict[str, Typing]:
    medians = None if scope.thresholds is not None else split_values(conn, at, scope.room, scope.window.days)
    return classify_all(activities, today=at.date(), window_days=scope.window.days, absolute=scope.thresholds,
                        medians=medians, new_days=NEW_DAYS, floor=scope.floor)


def _activities(conn: Connection, at: datetime, window: Window, room: str | None,
                members: list[str] | None) -> tuple[list[Activity], dict[str, Counts]]:
    """The scope's members as of `at` (of `members` only, when given) with their two numbers
    over the window and, for a recent arrival, the day they arrived."""
    tz = at.tzinfo
    at_epoch = int(at.timestamp())
    counts = counts_by_member(conn, window, room, members)
    # Plain SQL text: 100k rows come back several times faster than through ORM columns.
    rows: Iterable[tuple[str, int | None]]
    if room is None:
        before_bot = there_before_the_bot(conn, members)
        if members is None:
            found = conn.execute(_SEEN, {"at": at_epoch})
        else:
            found = conn.execute(_SEEN_OF, {"at": at_epoch, "ids": members})
        rows = ((m, None if m in before_bot else first) for m, first in found)
    elif members is None:
        rows = conn.execute(_IN_ROOM, {"room": room, "at": at_epoch})
    else:
        rows = conn.execute(_IN_ROOM_OF, {"room": room, "at": at_epoch, "ids": members})
    # Only a recent join can make a member new: older ones need no date at all.
    recent = at_epoch - (NEW_DAYS + 1) * 86400
    activities = []
    for m, first in rows:
        c = counts.get(m)
        joined = datetime.fromtimestamp(first, tz).date() if first is not None and first >= recent else None
        activities.append(Activity(m, c.login_days if c else 0, c.speaking if c else 0, joined))
    return activities, counts


# ---- the split values of a day ------------------------------------------------------------------
#
# The median split of a scope is the same for everyone who asks on one local day: it is taken
# over the complete days before that day (the window of the same length ending the day before,
# the scope's members and newcomers as of then), so it is computed once per scope and day and
# kept in TypeSplit. Only what changes those days changes it: an event of an earlier day (an
# import, a late delivery) removes the values of the days after it, a change of who is in a room
# (join, leave, roster, contacts) all of them (`SplitsHook`); whoever asks next computes them
# again. A value is the same whether it was kept or computed, so restarts and batch sizes cannot
# change a type.

ALL_ROOMS = "*"  # the scope key of all rooms (room ids never are "*")
# A batch's connection → what that batch may not keep: values of the date and after (None: of
# every day) and of the rooms; values an event later in the batch can change are computed, not kept.
_KEEP_BEFORE: WeakKeyDictionary[Connection, tuple[date | None, frozenset[str]]] = WeakKeyDictionary()


def split_values(conn: Connection, at: datetime, room: str | None, window_days: int) -> Thresholds:
    """The scope's medians of `at`'s local day (before the floor), kept or computed."""
    day = at.date()
    key = ALL_ROOMS if room is None else room
    row = conn.execute(_SPLIT, {"scope": key, "window": window_days, "day": day}).first()
    if row is not None:
        return Thresholds(row[0], row[1], SOURCE_MEDIAN)
    split = _compute_split(conn, at, room, window_days)
    if _may_keep(conn, key, day):
        upsert(conn, table_of(TypeSplit), [{"scope": key, "window_days": window_days, "day": day,
                                            "login_days": split.login_days, "speaking": split.speaking}],
               ("scope", "window_days", "day"))
    return split


def _may_keep(conn: Connection, key: str, day: date) -> bool:
    changed = _KEEP_BEFORE.get(conn)
    if changed is None:
        return True
    before, rooms = changed
    return before is not None and day < before and key not in rooms


def _compute_split(conn: Connection, at: datetime, room: str | None, window_days: int) -> Thresholds:
    """The medians over the scope as it was at the end of the day before `at`'s day."""
    yesterday = at.date() - timedelta(days=1)
    end = datetime.combine(at.date(), time(), tzinfo=at.tzinfo) - timedelta(seconds=1)
    activities, _ = _activities(conn, end, Window.ending(yesterday, window_days), room, None)
    return median_split(activities, today=yesterday, new_days=NEW_DAYS)


def keep_splits(conn: Connection, at: datetime, window_days: int) -> int:
    """The daily job's part: today's split values of all rooms and of each room (its own window),
    computed now so that no reader waits for them; how many scopes."""
    rooms = [None, *conn.execute(text("SELECT DISTINCT room FROM membership WHERE active")).scalars()]
    with one_pass_cache(conn):  # each scope's counters read once
        for room in rooms:
            rs = room_settings(conn, room)
            if rs and rs.login_threshold is not None and rs.speaking_threshold is not None:
                continue  # a room with its own thresholds has no median split
            split_values(conn, at, room, rs.window_days if rs and rs.window_days else window_days)
    return len(rooms)


_AFTER = table_of(TypeSplit).delete().where(table_of(TypeSplit).c.day >= bindparam("day"))  # built once


def batch_changes_splits(conn: Connection, from_day: date | None, rooms: Iterable[str] = ()) -> None:
    """A batch on `conn` holds events that change the split values of `from_day` and after (None:
    of every day) and every value of `rooms`: the kept ones are removed, and the batch keeps none
    of those it computes."""
    t = table_of(TypeSplit)
    changed = frozenset(rooms)
    if from_day is None:
        conn.execute(t.delete())
    elif changed:
        conn.execute(t.delete().where(or_(t.c.day >= from_day, t.c.scope.in_(sorted(changed)))))
    else:  # every batch of live messages: the values of the days after it
        conn.execute(_AFTER, {"day": from_day})
    _KEEP_BEFORE[conn] = (from_day, changed)
