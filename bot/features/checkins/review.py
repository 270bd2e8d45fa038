"""点评 and 优秀: an operator's word on a member's check-in, found from the message they quote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.events import Message
from bot.core.pipeline import Batch, epoch
from bot.features.checkins.models import Checkin, CheckinReview
from bot.features.points.api import Award, Ledger, PointsChange, PointsEntry
from bot.store.db import as_date
from bot.store.models import EventLog, table_of
from tiers.checkin import CheckinTask

QUOTE_DAYS = 7  # a quote without the quoted message's id reaches back this far for a check-in


@dataclass(frozen=True)
class Quoted:
    """The check-in an operator quoted."""

    member: str
    task: CheckinTask
    day: date
    room: str
    note: str | None


def quoted_checkin(conn: Connection, msg: Message, tasks: list[CheckinTask]) -> Quoted | None:
    """The check-in `msg` quotes: the one the quoted message made (by its id), else — when
    the quote names only who said it, or a message the bot never saw — that member's latest
    check-in in this chat."""
    by_id = {t.id: t for t in tasks}
    q = select(col(Checkin.member), col(Checkin.task_id), col(Checkin.day), col(Checkin.room), col(Checkin.note))
    row = None
    # The message a check-in was accepted for is the ref of its points (a chat line sent the
    # same second is not).
    quoted = conn.execute(select(col(PointsEntry.member), col(PointsEntry.ts), col(PointsEntry.room)).where(
        col(PointsEntry.ref) == msg.quote_of, col(PointsEntry.kind) == "checkin")).first() if msg.quote_of else None
    known = msg.quote_of is not None and conn.execute(select(col(EventLog.id)).where(
        col(EventLog.id) == msg.quote_of)).first() is not None
    if quoted is not None:
        row = conn.execute(q.where(col(Checkin.member) == quoted[0], col(Checkin.ts) == quoted[1],
                                   col(Checkin.room) == quoted[2])).first()
    elif msg.quote_sender and not known:
        at = epoch(msg.ts)
        row = conn.execute(q.where(col(Checkin.member) == msg.quote_sender, col(Checkin.room) == (msg.room or ""),
                                   col(Checkin.ts) <= at, col(Checkin.ts) >= at - QUOTE_DAYS * 86400)
                           .order_by(col(Checkin.ts).desc()).limit(1)).first()
    if row is None or row[1] not in by_id:
        return None
    return Quoted(row[0], by_id[row[1]], as_date(row[2]), row[3], row[4])


@dataclass(frozen=True)
class Review:
    quoted: Quoted
    excellent: bool
    text: str | None
    points: PointsChange | None  # 优秀's points; None for a 点评 or an 优秀 given before
    again: bool  # 优秀 of a check-in already rated excellent: no more points


def review(batch: Batch, ledger: Ledger, msg: Message, quoted: Quoted, *, excellent: bool,
           text: str | None) -> Review:
    """Record a 点评 or an 优秀; 优秀 pays the task's points once per check-in."""
    conn = batch.conn
    again = excellent and conn.execute(select(col(CheckinReview.id)).where(
        col(CheckinReview.member) == quoted.member, col(CheckinReview.task_id) == quoted.task.id,
        col(CheckinReview.day) == quoted.day, col(CheckinReview.excellent)).limit(1)).first() is not None
    at = epoch(msg.ts)
    conn.execute(table_of(CheckinReview).insert().values(
        member=quoted.member, task_id=quoted.task.id, day=quoted.day, room=quoted.room, by=msg.sender, at=at,
        excellent=excellent, text=text))
    change = None
    if excellent and not again and quoted.task.excellent_points:
        batch.flush_names()
        change = ledger.award(batch, [Award(
            quoted.member, quoted.task.excellent_points, "excellent", at, batch.day(msg.ts), quoted.room or None,
            reason=f"{quoted.task.name} {quoted.day.month}月{quoted.day.day}日 优秀打卡", ref=msg.id, by=msg.sender)])[
            quoted.member]
    return Review(quoted, excellent, text, change, again)


@dataclass(frozen=True)
class Reviewed:
    member: str
    day: date
    room: str
    note: str | None
    excellent: bool
    text: str | None
    by: str
    at: int


def reviews_of(conn: Connection, task_id: int, since: date, until: date | None = None,
               excellent_only: bool = False) -> list[Reviewed]:
    """A task's reviewed check-ins since `since`, newest first, with the check-in's note."""
    q = select(col(CheckinReview.member), col(CheckinReview.day), col(CheckinReview.room), col(Checkin.note),
               col(CheckinReview.excellent), col(CheckinReview.text), col(CheckinReview.by),
               col(CheckinReview.at)).join(
        Checkin, (col(Checkin.member) == col(CheckinReview.member))
        & (col(Checkin.task_id) == col(CheckinReview.task_id)) & (col(Checkin.day) == col(CheckinReview.day)),
        isouter=True).where(
        col(CheckinReview.task_id) == task_id, col(CheckinReview.day) >= since)
    if until is not None:
        q = q.where(col(CheckinReview.day) <= until)
    if excellent_only:
        q = q.where(col(CheckinReview.excellent))
    rows = conn.execute(q.order_by(col(CheckinReview.at).desc(), col(CheckinReview.id).desc()))
    return [Reviewed(m, as_date(d), r, n, bool(e), t, b, a) for m, d, r, n, e, t, b, a in rows]
