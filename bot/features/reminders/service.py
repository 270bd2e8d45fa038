"""Reminders to members whose check-in streak broke: which tasks have them, the daily run (one
reminder, one more 3 days later, then nothing), and whether members came back."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.deps import Deps
from bot.core.directory import member_names, rooms_of
from bot.features.checkins.api import Checkin, cards_of, load_tasks
from bot.features.outreach.api import message_for, queue
from bot.features.reminders.models import CheckinReminder, ReminderTask
from bot.store.db import as_date, upsert
from bot.store.models import Membership, table_of
from tiers.checkin import CheckinTask
from tiers.outreach import SECOND_AFTER, ReminderStep, next_reminder, reminder_outcome

LOOKBACK_DAYS = SECOND_AFTER + 3  # members who checked in this recently may be due a reminder


def enabled_tasks(conn: Connection) -> set[int]:
    return set(conn.execute(select(col(ReminderTask.task_id)).where(col(ReminderTask.enabled))).scalars())


def set_reminders(conn: Connection, task_name: str, on: bool) -> CheckinTask:
    """Turn a task's reminders on or off; LookupError (Chinese) for an unknown task."""
    task = next((t for t in load_tasks(conn) if t.name == task_name and t.active), None)
    if task is None:
        raise LookupError(f"没有开启中的打卡任务「{task_name}」。发 /task list 查看。")
    upsert(conn, table_of(ReminderTask), [{"task_id": task.id, "enabled": on}], ["task_id"], replace=["enabled"])
    return task


def reminder_text(name: str, task: CheckinTask, step: ReminderStep, cards: int) -> str:
    if step.n == 1:
        text = f"{name}，你的「{task.name}」已经连续 {step.streak} 天了，昨天断了一下～今天回来打个卡吧 💪"
        if cards:
            text += f"\n你还有 {cards} 张补签卡，发「补签」就能补上昨天，连续天数不断。"
    else:
        text = f"{name}，好几天没见你「{task.name}」啦，今天打个卡，重新开始吧～"
    return message_for(text)


@dataclass(frozen=True)
class ReminderRun:
    queued: int
    left_out: int  # reached lately or unsubscribed
    outcomes: int  # earlier reminders whose outcome became known


def _days(conn: Connection, task_id: int, members: list[str]) -> dict[str, set[date]]:
    days: dict[str, set[date]] = defaultdict(set)
    for i in range(0, len(members), 900):
        for m, d in conn.execute(select(col(Checkin.member), col(Checkin.day)).where(
                col(Checkin.task_id) == task_id, col(Checkin.member).in_(members[i : i + 900]))):
            days[m].add(as_date(d))
    return days


def _left_every_group(conn: Connection, members: list[str]) -> set[str]:
    """Those of `members` who were in groups and left them all: no reminder follows them out."""
    active = rooms_of(conn, members)
    ever: set[str] = set()
    for i in range(0, len(members), 900):
        ever.update(conn.execute(select(col(Membership.member)).where(
            col(Membership.member).in_(members[i : i + 900]))).scalars())
    return ever - set(active)


def run_reminders(conn: Connection, deps: Deps, now: datetime, origin: str | None = None) -> ReminderRun:
    """Today's reminders for every task that has them, queued as outreach (quiet hours, reach
    limit, daily cap, 退订), and the outcomes of earlier ones."""
    now = now.astimezone(deps.settings.tz)
    today = now.date()
    enabled = enabled_tasks(conn)
    queued = left_out = outcomes = 0
    for task in load_tasks(conn):
        if task.id not in enabled or not task.active:
            continue
        recent = set(conn.execute(select(col(Checkin.member)).where(
            col(Checkin.task_id) == task.id, col(Checkin.day) >= today - timedelta(days=LOOKBACK_DAYS))).scalars())
        earlier = [CheckinReminder.model_validate(r._mapping) for r in conn.execute(
            select(CheckinReminder).where(col(CheckinReminder.task_id) == task.id,
                                          col(CheckinReminder.day) >= today - timedelta(days=LOOKBACK_DAYS * 2)))]
        members = sorted(recent | {r.member for r in earlier})
        days = _days(conn, task.id, members)
        sent: dict[str, dict[tuple[date, int], date]] = defaultdict(dict)
        for r in earlier:
            sent[r.member][(as_date(r.broke_on), r.n)] = as_date(r.day)
            if r.outcome is None:
                outcome = reminder_outcome(days[r.member], as_date(r.broke_on), as_date(r.day), today)
                if outcome is not None:
                    conn.execute(table_of(CheckinReminder).update()
                                 .where(table_of(CheckinReminder).c.id == r.id).values(outcome=outcome))
                    outcomes += 1
        gone = _left_every_group(conn, members)
        due = {m: s for m in members if m not in gone and (s := next_reminder(days[m], today, sent[m])) is not None}
        if not due:
            continue
        names = member_names(conn, list(due))
        texts = {m: reminder_text(names.get(m, m), task, s, cards_of(conn, m, task.id)) for m, s in due.items()}
        p = queue(conn, deps.settings, texts, now, kind="reminder", origin=origin)
        rows = [{"member": m, "task_id": task.id, "broke_on": due[m].broke_on, "n": due[m].n, "day": today,
                 "outcome": None} for m in p.times]
        if rows:
            conn.execute(table_of(CheckinReminder).insert(), rows)
        queued += len(rows)
        left_out += len(due) - len(rows)
    return ReminderRun(queued, left_out, outcomes)


@dataclass(frozen=True)
class ReminderStat:
    task: str
    n: int  # first or second reminder
    sent: int
    back: int
    gone: int

    @property
    def rate(self) -> float | None:
        decided = self.back + self.gone
        return self.back / decided if decided else None


def reminder_stats(conn: Connection) -> list[ReminderStat]:
    """Per task and reminder, how many went out and how many members came back within 2 days."""
    names = {t.id: t.name for t in load_tasks(conn)}
    rows = conn.execute(select(col(CheckinReminder.task_id), col(CheckinReminder.n), col(CheckinReminder.outcome),
                               func.count()).group_by(col(CheckinReminder.task_id), col(CheckinReminder.n),
                                                      col(CheckinReminder.outcome))).all()
    tally: dict[tuple[int, int], dict[str | None, int]] = defaultdict(dict)
    for task_id, n, outcome, count in rows:
        tally[(task_id, n)][outcome] = count
    return [ReminderStat(names.get(task_id, str(task_id)), n, sum(t.values()), t.get("back", 0), t.get("gone", 0))
            for (task_id, n), t in sorted(tally.items())]
