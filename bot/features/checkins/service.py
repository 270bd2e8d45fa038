"""Check-ins in the store: tasks, check-ins, make-up cards and streaks."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.core.directory import member_names
from bot.core.events import Message
from bot.core.outbox import ROOM_HOURLY_CAP, room_messages_since
from bot.core.pipeline import Batch, epoch
from bot.features.checkins.models import Checkin, CheckinCards, CheckinReply, CheckinSummary
from bot.features.checkins.models import CheckinTask as TaskRow
from bot.features.checkins.settings import TaskSpec
from bot.features.points.api import Award, Ledger, PointsChange, PointsEntry
from bot.store.db import IN_CHUNK, as_date, bulk, read_rows, upsert
from bot.store.models import EventLog, Member, Membership, table_of
from tiers import checkin as rules
from tiers import jielong
from tiers.checkin import MAX_CARDS, CheckinTask
from tiers.levels import level_for
from tiers.spec import parse_window as spec_window

DEFAULT_TASK = TaskSpec(name="打卡", triggers=("打卡", "签到"), points=10)


def parse_window(spec: str | None) -> tuple[time, time] | None:
    """「05:00-09:00」 (or with –/～/~) to a window, None for none; ValueError with a Chinese message."""
    return spec_window(spec, "时间段") if spec else None


def to_task(row: TaskRow) -> CheckinTask:
    window = None
    if row.window_start and row.window_end:
        window = (time.fromisoformat(row.window_start), time.fromisoformat(row.window_end))
    assert row.id is not None, "a stored task has an id"
    return CheckinTask(id=row.id, name=row.name, triggers=tuple(row.triggers.split(",")),
                       points=row.points, window=window, challenge_days=row.challenge_days,
                       room=row.room, active=row.active, min_note=row.min_note, reply=row.reply,
                       media=row.media, public_missing=row.public_missing,
                       remind_missing=time.fromisoformat(row.remind_missing) if row.remind_missing else None,
                       excellent_points=row.excellent_points, roundup=row.roundup)


def seed_tasks(session: Session, specs: Sequence[TaskSpec]) -> None:
    """The default 打卡 task, plus the config's tasks, each created once by name."""
    existing = set(session.connection().execute(select(col(TaskRow.name))).scalars())
    for spec in [DEFAULT_TASK, *specs]:
        if spec.name in existing:
            continue
        window = parse_window(spec.window)
        session.add(TaskRow(name=spec.name, triggers=",".join(spec.triggers), points=spec.points,
                            window_start=window[0].strftime("%H:%M") if window else None,
                            window_end=window[1].strftime("%H:%M") if window else None,
                            challenge_days=spec.challenge_days))
        existing.add(spec.name)


REPLY_MODES = ("each", "summary", "auto")
ROOM_HEADROOM = 10  # of a room's hourly cap, kept for answers to commands
AUTO_EACH = 20  # reply=auto: check-ins of a day answered one by one before the summary takes over
SUMMARY_AT = time(22, 0)  # a day's summary of a task without a window


MEDIA = {"image": "image", "图片": "image", "照片": "image", "voice": "voice", "语音": "voice",
         "any": "any", "都行": "any", "任意": "any", "off": None, "关": None, "无": None}
_ON_OFF = {"on": True, "开": True, "是": True, "yes": True, "off": False, "关": False, "否": False, "no": False}
# The task options beside the basics, as /task add|set and the console take them: key → column.
OPTION_KEYS = ("media", "public_missing", "remind_missing", "excellent", "roundup")


def task_options(named: Mapping[str, str]) -> dict[str, Any]:
    """Column values of the options named (media=image, public_missing=on, remind_missing=08:30,
    excellent=20, roundup=on); ValueError (Chinese) for a value out of place."""
    out: dict[str, Any] = {}
    for key in OPTION_KEYS:
        value = (named.get(key) or "").strip()
        if not value:
            continue
        low = value.lower()
        if key == "media":
            if low not in MEDIA:
                raise ValueError(f"media「{value[:20]}」应为 image（图片）、voice（语音）、any（都行）或 off。")
            out["media"] = MEDIA[low]
        elif key in ("public_missing", "roundup"):
            if low not in _ON_OFF:
                raise ValueError(f"{key}「{value[:20]}」应为 on 或 off。")
            out[key] = _ON_OFF[low]
        elif key == "remind_missing":
            if low in ("off", "关"):
                out["remind_missing"] = None
                continue
            try:
                out["remind_missing"] = time.fromisoformat(value.zfill(5)).strftime("%H:%M")
            except ValueError:
                raise ValueError(f"remind_missing「{value[:20]}」应写成 HH:MM（如 08:30）或 off。") from None
        else:
            if not value.isdigit() or int(value) > 1000:
                raise ValueError(f"优秀积分「{value[:20]}」应为 0–1000 的整数。")
            out["excellent_points"] = int(value)
    return out


def _check_reminder(window: tuple[time, time] | None, remind: str | None) -> None:
    """A reminder after the window has closed would never go out: refuse it."""
    if remind and window and window[0] != window[1]:
        at = time.fromisoformat(remind)
        inside = window[0] <= at < window[1] if window[0] < window[1] else (at >= window[0] or at < window[1])
        if not inside:
            raise ValueError(f"提醒时间 {remind} 应在打卡时间段 {window[0]:%H:%M}-{window[1]:%H:%M} 之内。")


def set_task_options(conn: Connection, checkins: Checkins, name: str, values: Mapping[str, Any]) -> CheckinTask:
    """Change a task's options (task_options' values); LookupError when no such task."""
    task = next((t for t in checkins.tasks if t.name == name and t.active), None)
    if task is None:
        raise LookupError(f"没有开启中的任务「{name}」。发 /task list 查看。")
    _check_reminder(task.window, values.get("remind_missing"))
    if values:
        conn.execute(update(table_of(TaskRow)).where(table_of(TaskRow).c.id == task.id).values(**values))
        checkins.reload(conn)
    return next(t for t in checkins.tasks if t.id == task.id)


def add_task(conn: Connection, checkins: Checkins, *, name: str, triggers: Sequence[str] | None,
             window: str | None, points: int, challenge_days: int | None,
             room: str | None, min_note: int | None = None, reply: str = "auto",
             options: Mapping[str, Any] | None = None) -> CheckinTask:
    """A new check-in task; ValueError (Chinese) when the name or a trigger is taken or a
    value is out of range."""
    name = name.strip()
    if not name or len(name) > 20 or "=" in name or "," in name:
        raise ValueError("任务名称应为 1–20 个字，且不含「=」和逗号。")
    if conn.execute(select(col(TaskRow.id)).where(col(TaskRow.name) == name)).first():
        raise ValueError(f"已经有叫「{name}」的任务了，换个名字吧。")
    words = [t.strip() for t in (triggers or [name]) if t.strip()]
    if not words or any(len(t) > 20 for t in words):
        raise ValueError("触发词应为 1–20 个字。")
    taken = {w for t in load_tasks(conn) if t.active for w in t.triggers}
    clash = [t for t in words if t in taken]
    if clash:
        raise ValueError(f"触发词「{'、'.join(clash)}」已被其他任务使用了。")
    span = parse_window(window)
    _check_reminder(span, (options or {}).get("remind_missing"))
    if not 0 < points <= 1000:
        raise ValueError("每次打卡的积分应在 1–1000 之间。")
    if challenge_days is not None and not 0 < challenge_days <= 365:
        raise ValueError("挑战天数应在 1–365 之间。")
    if reply not in REPLY_MODES:
        raise ValueError(f"回复方式「{reply}」应为 each（每条都回）、summary（只发每日汇总）或 auto。")
    result = conn.execute(table_of(TaskRow).insert().values(
        name=name, triggers=",".join(words), points=points, active=True,
        window_start=span[0].strftime("%H:%M") if span else None,
        window_end=span[1].strftime("%H:%M") if span else None,
        challenge_days=challenge_days, room=room, min_note=min_note, reply=reply, **(options or {})))
    checkins.reload(conn)
    task_id = result.inserted_primary_key[0]  # type: ignore[index]  # always set after an insert
    return next(t for t in checkins.tasks if t.id == task_id)


def disable_task(conn: Connection, checkins: Checkins, name: str) -> None:
    found = conn.execute(select(col(TaskRow.id)).where(col(TaskRow.name) == name, col(TaskRow.active))).first()
    if found is None:
        raise LookupError(f"没有开启中的任务「{name}」。发 /task list 查看。")
    conn.execute(update(table_of(TaskRow)).where(table_of(TaskRow).c.id == found[0])
                 .values(active=False))
    checkins.reload(conn)


def set_reply_mode(conn: Connection, checkins: Checkins, name: str, mode: str,
                   room: str | None) -> CheckinTask:
    """How a task's check-ins are answered: in one room (its own choice), or everywhere."""
    if mode not in REPLY_MODES:
        raise ValueError(f"回复方式「{mode}」应为 each（每条都回）、summary（只发每日汇总）或 auto。")
    task = next((t for t in checkins.tasks if t.name == name and t.active), None)
    if task is None:
        raise LookupError(f"没有开启中的任务「{name}」。发 /task list 查看。")
    if room is None:
        conn.execute(update(table_of(TaskRow)).where(table_of(TaskRow).c.id == task.id).values(reply=mode))
    else:
        upsert(conn, table_of(CheckinReply), [{"task_id": task.id, "room": room, "reply": mode}],
               ["task_id", "room"], replace=["reply"])
    checkins.reload(conn)
    return task


def reply_mode(conn: Connection, task: CheckinTask, room: str) -> str:
    own = conn.execute(select(col(CheckinReply.reply)).where(
        col(CheckinReply.task_id) == task.id, col(CheckinReply.room) == room)).scalar()
    return own or task.reply


# Read at every batch (tasks) and by 我的等级 (streak, cards): built once, as building a
# statement costs more than running it.
_TASKS = select(TaskRow).order_by(col(TaskRow.id))
_CARDS = select(col(CheckinCards.cards)).where(col(CheckinCards.member) == bindparam("member"),
                                               col(CheckinCards.task_id) == bindparam("task"))
_DAYS = select(col(Checkin.member), col(Checkin.day)).where(col(Checkin.task_id) == bindparam("task"),
                                                            col(Checkin.day) <= bindparam("today"))
_DAYS_OF = _DAYS.where(col(Checkin.member).in_(bindparam("ids", expanding=True)))


def load_tasks(conn: Connection) -> list[CheckinTask]:
    return _tasks_of(conn.execute(_TASKS).all())


def _tasks_of(rows: Sequence[Any]) -> list[CheckinTask]:
    return [to_task(TaskRow.model_validate(r._mapping)) for r in rows]


def checkin_days(conn: Connection, member: str, task_id: int) -> frozenset[date]:
    q = select(col(Checkin.day)).where(col(Checkin.member) == member, col(Checkin.task_id) == task_id)
    return frozenset(conn.execute(q).scalars())


def cards_of(conn: Connection, member: str, task_id: int) -> int:
    return conn.execute(_CARDS, {"member": member, "task": task_id}).scalar() or 0


def default_task_id(conn: Connection) -> int | None:
    """The id of the default 打卡 task, whose streak the report and the console show."""
    return conn.execute(select(col(TaskRow.id)).where(col(TaskRow.name) == DEFAULT_TASK.name)).scalar()


def streaks(conn: Connection, task_id: int, members: Sequence[str] | None, today: date) -> dict[str, int]:
    """Each member's current streak of a task as of `today` (everyone's when `members` is
    None); members with no streak are left out."""
    days: dict[str, set[date]] = defaultdict(set)
    params: dict[str, Any] = {"task": task_id, "today": today}
    if members is None:
        parts = [params]
    else:
        ids = list(members)
        parts = [params | {"ids": ids[i : i + 900]} for i in range(0, len(ids), 900)]
    for part in parts:
        for m, d in conn.execute(_DAYS if members is None else _DAYS_OF, part):
            days[m].add(d)
    out = {m: rules.streak_at(ds, today) for m, ds in days.items()}
    return {m: n for m, n in out.items() if n}


def streak_of(conn: Connection, member: str, task_id: int, today: date) -> int:
    return streaks(conn, task_id, [member], today).get(member, 0)


@dataclass(frozen=True)
class CheckinResult:
    """What a check-in did: the pure outcome, the member's total and any level reached."""

    task: CheckinTask
    outcome: rules.CheckinOutcome
    local: datetime  # when, in the community's time zone
    cards: int  # make-up cards held after it
    points: PointsChange | None  # None when the check-in was not accepted
    note: str | None = None
    quiet: bool = False  # accepted, and answered in the day's summary instead of a reply


@dataclass(frozen=True)
class DaySummary:
    """A day's check-ins of a task in a room, for the one summary that replaces a reply storm."""

    task: CheckinTask
    room: str
    day: date
    members: int  # who checked in
    long_streaks: int  # of them, on a streak of LONG_STREAK days or more
    level_ups: tuple[tuple[str, int, str], ...]  # (name, level, level name) reached that day
    sent_on: date  # the local day it goes out (the next one after an overnight window)


LONG_STREAK = 7


@dataclass(frozen=True)
class MakeUpResult:
    task: CheckinTask
    outcome: rules.MakeUpOutcome
    cards: int  # make-up cards left


@dataclass
class _BatchState:
    """What a batch's check-ins read from the store, read once and kept as they happen, and
    the rows they write, written at the batch's flushes. A history of check-ins then costs a
    few statements per batch instead of a dozen per check-in."""

    days: dict[tuple[str, int], set[date]] = field(default_factory=dict)  # (member, task)
    cards: dict[tuple[str, int], int] = field(default_factory=dict)
    done: dict[tuple[int, str, date], int] = field(default_factory=dict)  # check-ins that day
    summarised: dict[tuple[int, str, date], bool] = field(default_factory=dict)
    modes: dict[tuple[int, str], str] = field(default_factory=dict)  # reply mode of a task in a room
    rows: list[dict[str, Any]] = field(default_factory=list)  # Checkin rows to insert
    cards_changed: dict[tuple[str, int], int] = field(default_factory=dict)
    names: dict[tuple[str, str | None], tuple[str, ...]] = field(default_factory=dict)  # stored names
    # The members whose message holds a trigger word: their stored names are read together,
    # at the first that needs them (and again after a flush or an event forgot them).
    wordy: set[str] = field(default_factory=set)
    nicks: dict[str, str] | None = None  # member → stored nickname; None: not read since forgotten
    names_at: int = 0  # how many of the batch's `named` the names kept here are as of
    aliases: dict[tuple[str, str], str] = field(default_factory=dict)  # (member, room) → 群昵称


_INSERT_CHECKIN = table_of(Checkin).insert()
# A batch's reads (read_rows), built once.
_TASK_DAYS_OF = select(col(Checkin.member), col(Checkin.task_id), col(Checkin.day)).where(
    col(Checkin.member).in_(bindparam("members", expanding=True)))
_CARDS_OF = select(col(CheckinCards.member), col(CheckinCards.task_id), col(CheckinCards.cards)).where(
    col(CheckinCards.member).in_(bindparam("members", expanding=True)))
_SUMMARY_SENT = select(col(CheckinSummary.sent_at)).where(
    col(CheckinSummary.task_id) == bindparam("t"), col(CheckinSummary.room) == bindparam("r"),
    col(CheckinSummary.day) == bindparam("d"))
_DONE_THAT_DAY = select(func.count()).where(col(Checkin.task_id) == bindparam("t"), col(Checkin.day) == bindparam("d"),
                                            col(Checkin.room) == bindparam("r"))


def _no_word(text: str) -> None:
    """No task is active: no text holds a trigger word."""


class Checkins:
    """Check-in and make-up for one member and task, inside a batch."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.tasks: list[CheckinTask] = []
        self.said_word: Callable[[str], object] = _no_word  # finds any trigger word (casefolded) in casefolded text
        self.triggers: tuple[str, ...] = ()
        self._task_rows: tuple[tuple[Any, ...], ...] | None = None  # what `tasks` was made from
        # (task, room, day) with check-ins waiting for the day's summary; None: not read yet.
        self._summaries: set[tuple[int, str, date]] | None = None
        self._state = _BatchState()

    def begin(self, batch: Batch, members: Sequence[str]) -> None:
        """A new batch: read the check-ins and cards of the members who may check in (their
        message holds a trigger word), and write this batch's rows at each of its flushes."""
        self._state = state = _BatchState()
        batch.flush_hooks.append(self.write)
        ids = sorted(set(members))
        state.wordy = set(ids)
        for i in range(0, len(ids), 900):
            part = ids[i : i + 900]
            for key in ((m, t.id) for m in part for t in self.tasks):
                state.days[key] = set()
                state.cards[key] = 0
            for m, t, d in read_rows(batch.conn, _TASK_DAYS_OF, {"members": part}):
                state.days.setdefault((m, t), set()).add(as_date(d))
            for m, t, n in read_rows(batch.conn, _CARDS_OF, {"members": part}):
                state.cards[(m, t)] = n

    def write(self, batch: Batch) -> None:
        """Store the check-ins and card counts of the batch so far."""
        state = self._state
        self.forget_names()  # a flush may follow a write of names (a command)
        if state.rows:
            bulk(batch.conn, _INSERT_CHECKIN, state.rows)
            state.rows = []
        if state.cards_changed:
            upsert(batch.conn, table_of(CheckinCards),
                   [{"member": m, "task_id": t, "cards": n} for (m, t), n in state.cards_changed.items()],
                   ["member", "task_id"], replace=["cards"])
            state.cards_changed.clear()

    def _days(self, conn: Connection, member: str, task_id: int) -> set[date]:
        key = (member, task_id)
        days = self._state.days.get(key)
        if days is None:
            days = self._state.days[key] = set(checkin_days(conn, member, task_id))
        return days

    def has_checked_in(self, conn: Connection, member: str, task_id: int, day: date) -> bool:
        return day in self._days(conn, member, task_id)

    def _cards(self, conn: Connection, member: str, task_id: int) -> int:
        key = (member, task_id)
        if key not in self._state.cards:
            self._state.cards[key] = cards_of(conn, member, task_id)
        return self._state.cards[key]

    def _add(self, member: str, task: CheckinTask, day: date, room: str | None, at: int, *,
             note: str | None = None, quiet: bool = False, made_up: bool = False) -> None:
        self._state.days[(member, task.id)].add(day)
        self._state.rows.append({"member": member, "task_id": task.id, "day": day, "room": room or "",
                                 "ts": at, "made_up": made_up, "note": note, "quiet": quiet})

    def _set_cards(self, member: str, task_id: int, cards: int) -> None:
        self._state.cards[(member, task_id)] = cards
        self._state.cards_changed[(member, task_id)] = cards

    @property
    def summaries_due(self) -> set[tuple[int, str, date]]:
        assert self._summaries is not None, "read with waiting_summaries() first"
        return self._summaries

    def waiting_summaries(self, conn: Connection, today: date) -> set[tuple[int, str, date]]:
        """The summaries still to send, read from the store once per process (and after a
        rolled-back batch), then kept as check-ins are folded into them."""
        if self._summaries is None:
            sent = select(col(CheckinSummary.task_id)).where(
                col(CheckinSummary.task_id) == col(Checkin.task_id), col(CheckinSummary.room) == col(Checkin.room),
                col(CheckinSummary.day) == col(Checkin.day)).exists()
            rows = conn.execute(select(col(Checkin.task_id), col(Checkin.room), col(Checkin.day)).where(
                col(Checkin.quiet), col(Checkin.day) >= today - timedelta(days=3), ~sent).distinct())
            self._summaries = {(t, r, d) for t, r, d in rows}
        return self._summaries

    def summary_due(self, conn: Connection, now: datetime) -> bool:
        """Whether a day's summary waits to go out at `now` (local), from memory."""
        waiting = self.waiting_summaries(conn, now.date())
        tasks = {t.id: t for t in self.tasks}
        return any(t not in tasks or now >= summary_due_at(tasks[t], d, now.tzinfo or UTC)
                   for t, _, d in waiting)

    def forget(self) -> None:
        self._summaries = None
        self._state = _BatchState()

    def reload(self, conn: Connection) -> None:
        """Re-read the tasks: at every batch, and right after a command changed them (the rows
        are read each time; the tasks are made again only when the rows changed)."""
        rows = conn.execute(_TASKS).all()
        key = tuple(tuple(r) for r in rows)
        if key == self._task_rows:
            return
        self._task_rows = key
        self.tasks = _tasks_of(rows)
        # Most messages are chat: one search for every spelling of every trigger word rules
        # them out before any parsing.
        words = {s.casefold() for t in self.tasks if t.active for w in t.triggers for s in rules.spellings(w.strip())}
        words.discard("")
        self.said_word = re.compile("|".join(map(re.escape, sorted(words)))).search if words else _no_word
        self.triggers = tuple(sorted({w.strip() for t in self.tasks if t.active for w in t.triggers}))

    def own_names(self, batch: Batch, msg: Message) -> tuple[str, ...]:
        """The names the sender may put before a check-in: the name on the message, the stored
        nickname and the group nickname (群昵称) in this room. A chat message that holds a
        trigger word but does not start with it asks for them, so the stored ones of every
        member whose message holds one are read together, at the first that needs them, and
        again after a flush or an event (a roster names members anew); a member whose name the
        batch wrote since is read again alone."""
        state = self._state
        if state.names_at != len(batch.named):
            self._names_written(batch)
        key = (msg.sender, msg.room)
        stored = state.names.get(key)
        if stored is None:
            if msg.sender not in state.wordy:  # a photo's sender: read alone
                nicks, aliases = stored_names_of(batch.conn, [msg.sender])
            else:
                if state.nicks is None:
                    # Two reads for every such member of the batch, not two for each of them.
                    state.nicks, state.aliases = stored_names_of(batch.conn, sorted(state.wordy))
                nicks, aliases = state.nicks, state.aliases
            found = (nicks.get(msg.sender), aliases.get((msg.sender, msg.room)) if msg.room else None)
            stored = state.names[key] = tuple(n for n in found if n is not None)
        return _names(msg.sender_name, stored)

    def _names_written(self, batch: Batch) -> None:
        """The batch wrote members' names since they were read here: what was read of those
        members is read again (only theirs: a check-in's award writes a few, and a batch of
        check-ins would read every member's names again at each)."""
        state = self._state
        written = set(batch.named[state.names_at :])
        state.names_at = len(batch.named)
        for key in [k for k in state.names if k[0] in written]:
            del state.names[key]
        again = sorted(written & state.wordy)
        if again and state.nicks is not None:
            nicks, aliases = stored_names_of(batch.conn, again)
            state.nicks.update(nicks)
            state.aliases = {k: a for k, a in state.aliases.items() if k[0] not in written} | aliases

    def forget_names(self) -> None:
        self._state.names.clear()
        self._state.nicks = None

    def default_task(self, room: str | None) -> CheckinTask | None:
        return rules.match_task(DEFAULT_TASK.triggers[0], self.tasks, room) or next(
            (t for t in self.tasks if t.active), None)

    def check_in(self, batch: Batch, msg: Message, task: CheckinTask,
                 note: str | None = None, *, day: date | None = None, any_time: bool = False) -> CheckinResult:
        """Check in (with the member's note); counts a check-in only when it was accepted,
        pays its points, and says whether it is answered by itself or in the day's summary.
        `day`: the day a 接龙 an operator started is bound to, whatever the time now."""
        conn = batch.conn
        local = batch.local(msg.ts)
        natural = rules.checkin_day(task, local)
        today = day or natural
        days = self._days(conn, msg.sender, task.id)
        cards = self._cards(conn, msg.sender, task.id)
        out = rules.check_in(task, frozenset(days), today, local.time(), cards, note=note,
                             any_time=any_time or today < natural)
        batch.count(msg.sender, msg.room, local.date(), "checkins" if out.accepted else "commands")
        if not out.accepted:
            return CheckinResult(task, out, local, cards, None, note)
        at = epoch(msg.ts)
        quiet = bool(msg.room) and self._quiet(conn, task, msg.room or "", today, at)
        self._add(msg.sender, task, today, msg.room, at, note=note, quiet=quiet)
        if msg.room:
            done = self._state.done
            done[(task.id, msg.room, today)] = done.get((task.id, msg.room, today), 0) + 1
        if out.card_earned:
            cards = min(MAX_CARDS, cards + 1)
            self._set_cards(msg.sender, task.id, cards)
        batch.flush_names()  # the ledger moves the member's stored total
        awards = [Award(msg.sender, out.points, "checkin", at, local.date(), msg.room,
                        reason=f"{task.name} 第 {out.streak} 天", ref=msg.id)]
        if out.bonus:
            awards.append(Award(msg.sender, out.bonus, "streak_bonus", at, local.date(), msg.room,
                                reason=f"连续 {out.streak} 天奖励", ref=msg.id))
        change = self.ledger.award(batch, awards)[msg.sender]
        if quiet:
            self.waiting_summaries(conn, today).add((task.id, msg.room or "", today))
        return CheckinResult(task, out, local, cards, change, note, quiet)

    def _quiet(self, conn: Connection, task: CheckinTask, room: str, day: date, at: int) -> bool:
        """Whether this accepted check-in waits for the day's summary instead of a reply:
        always with reply=summary; with auto after the day's first AUTO_EACH; and in every
        mode when the room has nearly used up its hourly cap of messages, since a
        confirmation an hour late helps nobody. Once the day's summary is out, replies resume."""
        state = self._state
        key = (task.id, room, day)
        if key not in state.summarised:
            state.summarised[key] = bool(read_rows(conn, _SUMMARY_SENT, {"t": task.id, "r": room, "d": day}))
        if state.summarised[key]:
            return False
        mode = state.modes.get((task.id, room))
        if mode is None:
            mode = state.modes[(task.id, room)] = reply_mode(conn, task, room)
        if mode == "summary":
            return True
        if mode == "auto":
            if key not in state.done:
                state.done[key] = read_rows(conn, _DONE_THAT_DAY, {"t": task.id, "r": room, "d": day})[0][0] or 0
            if state.done[key] >= AUTO_EACH:
                return True
        return room_messages_since(conn, room, at - 3600) >= ROOM_HOURLY_CAP - ROOM_HEADROOM

    def make_up(self, batch: Batch, msg: Message, task: CheckinTask) -> MakeUpResult:
        conn = batch.conn
        today = rules.checkin_day(task, batch.local(msg.ts))
        days = self._days(conn, msg.sender, task.id)
        cards = self._cards(conn, msg.sender, task.id)
        out = rules.make_up(frozenset(days), today, cards)
        if out.filled is None:
            return MakeUpResult(task, out, cards)
        self._add(msg.sender, task, out.filled, msg.room, epoch(msg.ts), made_up=True)
        self._set_cards(msg.sender, task.id, cards - 1)
        self.write(batch)  # what a command changed is in the store for what follows it
        return MakeUpResult(task, out, cards - 1)


def summary_due_at(task: CheckinTask, day: date, tz: tzinfo) -> datetime:
    """When a day's summary goes out: at the end of the task's window, else at 22:00."""
    end = rules.window_end(task, day) or datetime.combine(day, SUMMARY_AT)
    return end.replace(tzinfo=tz)


def due_summaries(conn: Connection, checkins: Checkins, ledger: Ledger, now: datetime) -> list[DaySummary]:
    """The summaries due at `now` (local), each marked sent so it goes out once."""
    waiting = checkins.waiting_summaries(conn, now.date())
    if not waiting:
        return []
    tasks = {t.id: t for t in load_tasks(conn)}
    out = []
    for key in sorted(waiting):
        task_id, room, day = key
        task = tasks.get(task_id)
        if task is not None and now < summary_due_at(task, day, now.tzinfo or UTC):
            continue
        waiting.discard(key)
        if task is None:
            continue
        inserted = upsert_summary(conn, task_id, room, day, epoch(now))
        if not inserted:
            continue
        out.append(day_summary(conn, task, room, day, ledger, now.date()))
    return out


def upsert_summary(conn: Connection, task_id: int, room: str, day: date, at: int) -> bool:
    """Mark a day's summary sent; False when it already was (by this or another process)."""
    if conn.execute(select(col(CheckinSummary.sent_at)).where(
            col(CheckinSummary.task_id) == task_id, col(CheckinSummary.room) == room,
            col(CheckinSummary.day) == day)).first():
        return False
    try:
        with conn.begin_nested():
            conn.execute(table_of(CheckinSummary).insert().values(task_id=task_id, room=room, day=day,
                                                                  sent_at=at))
    except IntegrityError:
        return False
    return True


def day_summary(conn: Connection, task: CheckinTask, room: str, day: date, ledger: Ledger,
                sent_on: date) -> DaySummary:
    members = list(conn.execute(select(col(Checkin.member)).where(
        col(Checkin.task_id) == task.id, col(Checkin.day) == day, col(Checkin.room) == room)).scalars())
    long_streaks = sum(1 for n in streaks(conn, task.id, members, day).values() if n >= LONG_STREAK)
    # Levels at the start and the end of the day, from today's total and the ledger rows
    # since: right whenever the summary goes out (a replay may send it days later).
    points = ledger.points_of(conn, members)
    that_day: dict[str, int] = {}
    after: dict[str, int] = {}
    for i in range(0, len(members), 900):
        part = members[i : i + 900]
        q = select(col(PointsEntry.member), col(PointsEntry.day) == day, func.sum(col(PointsEntry.delta))).where(
            col(PointsEntry.member).in_(part), col(PointsEntry.day) >= day).group_by(
            col(PointsEntry.member), col(PointsEntry.day) == day)
        for m, is_day, n in conn.execute(q):
            (that_day if is_day else after)[m] = int(n or 0)
    names = member_names(conn, members)
    ups = []
    for m in members:
        end = points.get(m, 0) - after.get(m, 0)
        reached = level_for(end, ledger.levels)
        if reached.n > level_for(end - that_day.get(m, 0), ledger.levels).n:
            ups.append((names.get(m, m), reached.n, reached.name))
    return DaySummary(task, room, day, len(members), long_streaks, tuple(sorted(ups)), sent_on)


# ---- who the sender is, and 接龙 versions -----------------------------------------------

def stored_names_of(conn: Connection, members: Sequence[str]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """The stored nicknames of these members (each stored member: its name, "" for none), and
    their group nicknames by (member, room)."""
    nicks: dict[str, str] = {}
    aliases: dict[tuple[str, str], str] = {}
    for i in range(0, len(members), IN_CHUNK):
        part = members[i : i + IN_CHUNK]
        nicks.update((m, n or "") for m, n in read_rows(conn, _STORED_NAMES, {"members": part}))
        aliases.update(((m, r), a or "") for m, r, a in read_rows(conn, _ROOM_ALIASES, {"members": part}))
    return nicks, aliases


def _names(said_name: str | None, stored: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in (said_name or "", *stored) if n and n.strip()))


# Built once: asked at every batch whose messages hold a trigger word but do not start with one,
# and building a statement costs more than running it.
_STORED_NAMES = select(col(Member.id), col(Member.name)).where(
    col(Member.id).in_(bindparam("members", expanding=True)))
_ROOM_ALIASES = select(col(Membership.member), col(Membership.room), col(Membership.room_alias)).where(
    col(Membership.member).in_(bindparam("members", expanding=True)), col(Membership.room_alias).is_not(None))


JIELONG_LOOKBACK = 2 * 86400  # versions of one 接龙 further apart than this are different lists


@dataclass(frozen=True)
class JielongVersion:
    member: str
    ts: int
    jielong: jielong.Jielong


def jielong_versions(conn: Connection, room: str, before: int, key: str) -> list[JielongVersion]:
    """The earlier versions of this 接龙 in the room (same header), oldest first: the first is
    the starter's, the last is what this version is compared with."""
    # A version that was a check-in is logged as a command (talk to the bot), the others as
    # 接龙; a list always has more than one line.
    rows = conn.execute(select(col(EventLog.member), col(EventLog.ts), col(EventLog.text)).where(
        col(EventLog.type) == "message", col(EventLog.room) == room, col(EventLog.kind).in_(("jielong", "command")),
        col(EventLog.text).contains("\n"), col(EventLog.ts) >= before - JIELONG_LOOKBACK, col(EventLog.ts) <= before,
    ).order_by(col(EventLog.ts), col(EventLog.id)))
    out = []
    for member, ts, text in rows:
        parsed = jielong.parse(text or "")
        if parsed is not None and parsed.key == key:
            out.append(JielongVersion(member, ts, parsed))
    # Times are in seconds and a busy list gets several versions a second: within one second
    # the list that grew further came later (entries are only ever added).
    return sorted(out, key=lambda v: (v.ts, len(v.jielong.entries)))


MEDIA_WAIT = 600  # seconds a bare trigger of a photo task waits for the photo
MEDIA_KINDS = {"image": ("image",), "voice": ("voice",), "any": ("image", "voice", "video")}


def waiting_for_media(conn: Connection, msg: Message, task: CheckinTask, names: Sequence[str]) -> bool:
    """Whether the sender sent a bare trigger of this task in this chat within MEDIA_WAIT before
    `msg`: the photo that follows it is the check-in."""
    at = epoch(msg.ts)
    rows = conn.execute(select(col(EventLog.text)).where(
        col(EventLog.member) == msg.sender, col(EventLog.room) == (msg.room or ""), col(EventLog.type) == "message",
        col(EventLog.kind) == "command", col(EventLog.ts) >= at - MEDIA_WAIT, col(EventLog.ts) <= at))
    for text in rows.scalars():
        found = rules.recognise(text or "", task.triggers, names)
        if found is not None and found.note is None and not found.makeup:
            return True
    return False
