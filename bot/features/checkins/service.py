"""Check-ins in the store: tasks, check-ins, make-up cards and streaks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from bot.core.config import TaskSpec
from bot.core.events import Message
from bot.core.pipeline import Batch, epoch
from bot.features.points.service import Award, Ledger, PointsChange
from bot.store.models import Checkin, CheckinCards, table_of
from bot.store.models import CheckinTask as TaskRow
from tiers import checkin as rules
from tiers.checkin import MAX_CARDS, CheckinTask

DEFAULT_TASK = TaskSpec(name="打卡", triggers=("打卡", "签到"), points=10)


def parse_window(spec: str | None) -> tuple[time, time] | None:
    """「05:00-09:00」 (or with –/～/~) to a window; ValueError with a Chinese message."""
    if not spec:
        return None
    for sep in ("-", "–", "—", "~", "～", "至"):
        if sep in spec:
            a, b = spec.split(sep, 1)
            break
    else:
        raise ValueError(f"时间段「{spec}」应写成 05:00-09:00")
    try:
        return time.fromisoformat(a.strip().zfill(5)), time.fromisoformat(b.strip().zfill(5))
    except ValueError:
        raise ValueError(f"时间段「{spec}」应写成 05:00-09:00（24 小时制）") from None


def to_task(row: TaskRow) -> CheckinTask:
    window = None
    if row.window_start and row.window_end:
        window = (time.fromisoformat(row.window_start), time.fromisoformat(row.window_end))
    assert row.id is not None, "a stored task has an id"
    return CheckinTask(id=row.id, name=row.name, triggers=tuple(row.triggers.split(",")),
                       points=row.points, window=window, challenge_days=row.challenge_days,
                       room=row.room, active=row.active)


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


def add_task(conn: Connection, checkins: Checkins, *, name: str, triggers: Sequence[str] | None,
             window: str | None, points: int, challenge_days: int | None,
             room: str | None) -> CheckinTask:
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
    if not 0 < points <= 1000:
        raise ValueError("每次打卡的积分应在 1–1000 之间。")
    if challenge_days is not None and not 0 < challenge_days <= 365:
        raise ValueError("挑战天数应在 1–365 之间。")
    result = conn.execute(table_of(TaskRow).insert().values(
        name=name, triggers=",".join(words), points=points, active=True,
        window_start=span[0].strftime("%H:%M") if span else None,
        window_end=span[1].strftime("%H:%M") if span else None,
        challenge_days=challenge_days, room=room))
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


def load_tasks(conn: Connection) -> list[CheckinTask]:
    rows = conn.execute(select(TaskRow).order_by(col(TaskRow.id))).all()
    return [to_task(TaskRow.model_validate(r._mapping)) for r in rows]


def checkin_days(conn: Connection, member: str, task_id: int) -> frozenset[date]:
    q = select(col(Checkin.day)).where(col(Checkin.member) == member, col(Checkin.task_id) == task_id)
    return frozenset(conn.execute(q).scalars())


def cards_of(conn: Connection, member: str, task_id: int) -> int:
    q = select(col(CheckinCards.cards)).where(col(CheckinCards.member) == member,
                                         col(CheckinCards.task_id) == task_id)
    return conn.execute(q).scalar() or 0


def set_cards(session: Session, member: str, task_id: int, cards: int) -> None:
    row = session.get(CheckinCards, (member, task_id))
    if row is None:
        session.add(CheckinCards(member=member, task_id=task_id, cards=cards))
    else:
        row.cards = cards


def default_task_id(conn: Connection) -> int | None:
    """The id of the default 打卡 task, whose streak the report and the console show."""
    return conn.execute(select(col(TaskRow.id)).where(col(TaskRow.name) == DEFAULT_TASK.name)).scalar()


def streaks(conn: Connection, task_id: int, members: Sequence[str] | None, today: date) -> dict[str, int]:
    """Each member's current streak of a task as of `today` (everyone's when `members` is
    None); members with no streak are left out."""
    days: dict[str, set[date]] = defaultdict(set)
    q = select(col(Checkin.member), col(Checkin.day)).where(col(Checkin.task_id) == task_id, col(Checkin.day) <= today)
    if members is None:
        parts: list[list[str] | None] = [None]
    else:
        ids = list(members)
        parts = [ids[i : i + 900] for i in range(0, len(ids), 900)]
    for part in parts:
        for m, d in conn.execute(q if part is None else q.where(col(Checkin.member).in_(part))):
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


@dataclass(frozen=True)
class MakeUpResult:
    task: CheckinTask
    outcome: rules.MakeUpOutcome
    cards: int  # make-up cards left


class Checkins:
    """Check-in and make-up for one member and task, inside a batch."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.tasks: list[CheckinTask] = []
        self.words: frozenset[str] = frozenset()

    def reload(self, conn: Connection) -> None:
        """Re-read the tasks: at every batch, and right after a command changed them."""
        self.tasks = load_tasks(conn)
        # Most messages are chat: a set lookup rules them out before any matching.
        self.words = frozenset(w.strip().casefold() for t in self.tasks if t.active
                               for w in t.triggers)

    def default_task(self, room: str | None) -> CheckinTask | None:
        return rules.match_task(DEFAULT_TASK.triggers[0], self.tasks, room) or next(
            (t for t in self.tasks if t.active), None)

    def check_in(self, batch: Batch, msg: Message, task: CheckinTask) -> CheckinResult:
        """Check in; counts a check-in only when it was accepted, and pays its points."""
        conn, session = batch.conn, batch.session
        local = batch.local(msg.ts)
        today = local.date()
        days = checkin_days(conn, msg.sender, task.id)
        cards = cards_of(conn, msg.sender, task.id)
        out = rules.check_in(task, days, today, local.time(), cards)
        batch.count(msg.sender, msg.room, today, "checkins" if out.accepted else "commands")
        if not out.accepted:
            return CheckinResult(task, out, local, cards, None)
        session.add(Checkin(member=msg.sender, task_id=task.id, day=today,
                            room=msg.room or "", ts=epoch(msg.ts)))
        if out.card_earned:
            cards = min(MAX_CARDS, cards + 1)
            set_cards(session, msg.sender, task.id, cards)
        session.flush()
        at = epoch(msg.ts)
        awards = [Award(msg.sender, out.points, "checkin", at, today, msg.room,
                        reason=f"{task.name} 第 {out.streak} 天", ref=msg.id)]
        if out.bonus:
            awards.append(Award(msg.sender, out.bonus, "streak_bonus", at, today, msg.room,
                                reason=f"连续 {out.streak} 天奖励", ref=msg.id))
        change = self.ledger.award(batch, awards)[msg.sender]
        return CheckinResult(task, out, local, cards, change)

    def make_up(self, batch: Batch, msg: Message, task: CheckinTask) -> MakeUpResult:
        conn, session = batch.conn, batch.session
        today = batch.day(msg.ts)
        days = checkin_days(conn, msg.sender, task.id)
        cards = cards_of(conn, msg.sender, task.id)
        out = rules.make_up(days, today, cards)
        if out.filled is None:
            return MakeUpResult(task, out, cards)
        session.add(Checkin(member=msg.sender, task_id=task.id, day=out.filled,
                            room=msg.room or "", ts=epoch(msg.ts), made_up=True))
        set_cards(session, msg.sender, task.id, cards - 1)
        session.flush()
        return MakeUpResult(task, out, cards - 1)
