"""Who has and who hasn't checked in: 未打卡, 打卡统计, the missing-check-in reminder and the
console's grid of members × days."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.adapters.base import Outgoing
from bot.core.accounts import bot_accounts
from bot.core.directory import member_names
from bot.features.checkins.models import Checkin, CheckinNotice
from bot.features.checkins.review import reviews_of
from bot.features.checkins.service import streaks
from bot.features.followup.api import RoomOperator
from bot.features.privacy.api import is_anonymous
from bot.store.db import as_date
from bot.store.models import Membership, table_of
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


# ---- the missing-check-in reminder and the weekly 优秀打卡 roundup ------------------------------

MAX_MENTIONS = 20  # members one reminder @-mentions at most
ROUNDUP_AT = time(21, 0)  # Sunday evening: the week's 优秀打卡
ACTIVE_DAYS = 7  # a task for every room reminds in the rooms where it was used this long ago


def reminder_span(task: CheckinTask, day: date) -> tuple[datetime, datetime] | None:
    """When the reminder of `day`'s check-ins is due and when it no longer helps (naive local):
    the first remind_missing time in the day's window, until the window ends (midnight)."""
    if task.remind_missing is None:
        return None
    at = datetime.combine(day, task.remind_missing)
    if task.window is not None and at.time() < task.window[0] and task.window[0] > task.window[1]:
        at += timedelta(days=1)  # an overnight window: the reminder falls after midnight
    end = rules.window_end(task, day) or datetime.combine(day + timedelta(days=1), time(0))
    return at, end


def due_notices(tasks: Sequence[CheckinTask], now: datetime, sent: set[tuple[str, int, date]]
                ) -> list[tuple[str, CheckinTask, date]]:
    """The reminders ("missing") and roundups ("roundup", keyed by the week's Monday) due at
    `now` (naive local) that this process has not handled yet."""
    out = []
    for task in tasks:
        if not task.active:
            continue
        day = rules.checkin_day(task, now)
        span = reminder_span(task, day)
        if span and span[0] <= now < span[1] and ("missing", task.id, day) not in sent:
            out.append(("missing", task, day))
        monday = now.date() - timedelta(days=now.weekday())
        sunday_evening = now.weekday() == 6 and now.time() >= ROUNDUP_AT
        if task.roundup and sunday_evening and ("roundup", task.id, monday) not in sent:
            out.append(("roundup", task, monday))
    return out


def _task_rooms(conn: Connection, task: CheckinTask, day: date) -> list[str]:
    if task.room:
        return [task.room]
    return sorted(r for r in conn.execute(select(col(Checkin.room)).where(
        col(Checkin.task_id) == task.id, col(Checkin.day) >= day - timedelta(days=ACTIVE_DAYS)).distinct()).scalars()
        if r)


def _claim(conn: Connection, task_id: int, room: str, day: date, kind: str, at: int) -> bool:
    """Mark a notice sent; False when it already was (by this process or another)."""
    if conn.execute(select(col(CheckinNotice.sent_at)).where(
            col(CheckinNotice.task_id) == task_id, col(CheckinNotice.room) == room,
            col(CheckinNotice.day) == day, col(CheckinNotice.kind) == kind)).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(table_of(CheckinNotice).insert().values(task_id=task_id, room=room, day=day, kind=kind,
                                                                 sent_at=at))
    except IntegrityError:
        return False
    return True


def reminder(conn: Connection, task: CheckinTask, room: str, day: date, leave_out: Collection[str]) -> Outgoing | None:
    """The reminder in one room: @ up to MAX_MENTIONS of those not checked in (longest streaks
    first: they have most to lose), never staff or members who opted out."""
    found = missing(conn, task, room, day, leave_out)
    if not found.missing:
        return None
    ids = [m for m, _ in found.missing]
    streak = streaks(conn, task.id, ids, day)
    order = sorted(found.missing, key=lambda x: (-streak.get(x[0], 0), x[1], x[0]))
    mentioned = tuple(m for m, _ in order[:MAX_MENTIONS])
    end = rules.window_end(task, day)
    until = f"{end:%H:%M} 截止" if end else "今天还没结束"
    text = f"⏰「{task.name}」{until}，还没打卡的朋友记得来打卡哦～"
    if len(order) > MAX_MENTIONS:
        text += f"（共 {len(order)} 人未打卡）"
    return Outgoing(text=text, room=room, mentions=mentioned)


def roundup(conn: Connection, task: CheckinTask, room: str, monday: date) -> Outgoing | None:
    """The week's 优秀打卡 of a task in one room."""
    found = [r for r in reviews_of(conn, task.id, monday, monday + timedelta(days=6), excellent_only=True)
             if r.room == room]
    if not found:
        return None
    names = member_names(conn, [r.member for r in found])
    seen: dict[tuple[str, date], None] = {}
    for r in sorted(found, key=lambda r: (r.day, r.at)):
        seen[(r.member, r.day)] = None
    listed = "、".join(f"{names.get(m, m)}（{d.month}/{d.day}）" for m, d in seen)
    return Outgoing(text=f"🌟 本周「{task.name}」优秀打卡：{listed}。恭喜，继续加油！", room=room)


def send_notices(conn: Connection, tasks: Sequence[CheckinTask], now: datetime, sent: set[tuple[str, int, date]],
                 leave_out: Collection[str]) -> list[Outgoing]:
    """The reminders and roundups due at `now` (naive local), each sent once per room."""
    out = []
    at = int(now.timestamp())
    for kind, task, day in due_notices(tasks, now.replace(tzinfo=None), sent):
        sent.add((kind, task.id, day))
        for room in _task_rooms(conn, task, day):
            if not _claim(conn, task.id, room, day, kind, at):
                continue
            message = (reminder(conn, task, room, day, leave_out) if kind == "missing"
                       else roundup(conn, task, room, day))
            if message is not None:
                out.append(message)
    return out
