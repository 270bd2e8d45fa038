"""Who has and who hasn't checked in: 未打卡, 打卡统计, the missing-check-in reminder and the
console's grid of members × days."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.accounts import bot_accounts
from bot.core.directory import member_names
from bot.features.privacy.service import is_anonymous
from bot.store.db import as_date
from bot.store.models import Checkin, Membership, RoomOperator
from tiers import checkin as rules
from tiers.checkin import CheckinTask

MAX_LISTED = 100  # names a 未打卡 answer lists; the rest are counted


def staff(conn: Connection, admins: Collection[str], bot_ids: Collection[str] = ()) -> set[str]:
    """Who is never on a roll: the admins, the operators and the bot's own accounts."""
    return (set(admins) | set(bot_ids) | bot_accounts(conn)
            | set(conn.execute(select(col(RoomOperator.member))).scalars()))


def operator_rooms(conn: Connection, member: str) -> list[str]:
    """The groups an operator looks after."""
    return sorted(conn.execute(select(col(RoomOperator.room)).where(col(RoomOperator.member) == member)).scalars())


def room_members(conn: Connection, room: str, leave_out: Collection[str]) -> list[str]:
    """The room's members now (not those who left), without `leave_out` and anonymous ids."""
    rows = conn.execute(select(col(Membership.member)).where(col(Membership.room) == room, col(Membership.active)))
    return sorted(m for m in rows.scalars() if m not in leave_out and not is_anonymous(m))


def checked_in(conn: Connection, task_id: int, members: Sequence[str], start: date, end: date,
               room: str | None = None) -> dict[str, dict[date, bool]]:
    """member → day → made up, of the task's check-ins from `start` to `end` (of everyone when
    `members` is empty, in `room` only when given)."""
    q = select(col(Checkin.member), col(Checkin.day), col(Checkin.made_up)).where(
        col(Checkin.task_id) == task_id, col(Checkin.day) >= start, col(Checkin.day) <= end)
    if room is not None:
        q = q.where(col(Checkin.room) == room)
    out: dict[str, dict[date, bool]] = {}
    parts = [list(members[i : i + 900]) for i in range(0, len(members), 900)] if members else [None]
    for part in parts:
        for m, d, made_up in conn.execute(q if part is None else q.where(col(Checkin.member).in_(part))):
            out.setdefault(m, {})[as_date(d)] = bool(made_up)
    return out


@dataclass(frozen=True)
class Missing:
    task: CheckinTask
    room: str
    day: date
    members: int  # the room's members on the roll
    missing: tuple[tuple[str, str], ...]  # (id, name) of those with no check-in that day, by name


def missing(conn: Connection, task: CheckinTask, room: str, day: date, leave_out: Collection[str]) -> Missing:
    """The room's members (not staff, not those who left) with no check-in of the task on `day`."""
    members = room_members(conn, room, leave_out)
    done = checked_in(conn, task.id, members, day, day)
    names = member_names(conn, [m for m in members if m not in done])
    absent = sorted(((m, names.get(m, m)) for m in members if m not in done), key=lambda x: (x[1], x[0]))
    return Missing(task, room, day, len(members), tuple(absent))


def stats(conn: Connection, task: CheckinTask, room: str | None, start: date, end: date, today: date,
          leave_out: Collection[str]) -> rules.PeriodStats:
    """打卡统计 of a room (its members now), or of everyone who ever checked in to the task."""
    history_from = min(start, today) - timedelta(days=400)  # long enough for any streak shown
    if room is not None:
        members = room_members(conn, room, leave_out)
        found = checked_in(conn, task.id, members, history_from, end)
    else:
        found = {m: d for m, d in checked_in(conn, task.id, [], history_from, end).items() if m not in leave_out}
        members = sorted(found)
    return rules.period_stats({m: set(d) for m, d in found.items()}, members, start, end, today)


@dataclass(frozen=True)
class Grid:
    task: CheckinTask
    room: str
    days: tuple[date, ...]
    rows: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, name, one mark a day: ✓ 补 –)


def grid(conn: Connection, task: CheckinTask, room: str, start: date, end: date,
         leave_out: Collection[str]) -> Grid:
    """The room's members × the days from `start` to `end`: ✓ checked in, 补 made up, – not."""
    members = room_members(conn, room, leave_out)
    done = checked_in(conn, task.id, members, start, end)
    days = tuple(start + timedelta(days=i) for i in range((end - start).days + 1))
    names = member_names(conn, members)
    rows = sorted(((m, names.get(m, m), tuple(
        ("补" if done[m][d] else "✓") if d in done.get(m, {}) else "–" for d in days)) for m in members),
        key=lambda r: (r[1], r[0]))
    return Grid(task, room, days, tuple(rows))
