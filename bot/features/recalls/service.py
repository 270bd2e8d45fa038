"""Un-counting a recalled message: the counters it moved, the check-in it made (and its
points), the keyword hits and tags it gave. The message stays in the log, marked recalled, so a
rule preview or a history scan skips it and a second recall changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import col

from bot.core.events import Recall
from bot.core.pipeline import Batch, invalidate_caches
from bot.features.checkins.api import Checkin
from bot.features.points.api import Award, Ledger, PointsEntry
from bot.features.tags.api import KeywordHit, MemberTag
from bot.store.models import DailyActivity, EventLog, MemberDay

RECALLED = "recalled"  # EventLog.kind of a recalled message


def uncount(batch: Batch, ledger: Ledger, recall: Recall) -> str:
    """What was undone (for the log); '' when the message is unknown or already recalled."""
    conn = batch.conn
    row = conn.execute(select(col(EventLog.member), col(EventLog.room), col(EventLog.ts), col(EventLog.kind))
                       .where(col(EventLog.id) == recall.message, col(EventLog.type) == "message")).first()
    if row is None or row.kind == RECALLED:
        return ""
    member, room, ts, kind = row
    day = batch.day(datetime.fromtimestamp(ts, UTC))
    done: list[str] = []
    counter = "messages"
    if kind == "command":
        checkins = conn.execute(delete(Checkin).where(
            col(Checkin.member) == member, col(Checkin.ts) == ts, col(Checkin.day) == day)).rowcount
        if checkins:
            counter = "checkins"
            done.append("打卡")
        else:
            counter = ""  # a command other than a check-in counted nothing
    if counter:
        tables: tuple[tuple[Any, tuple[Any, ...]], ...] = (
            (DailyActivity, (col(DailyActivity.member) == member, col(DailyActivity.room) == room,
                             col(DailyActivity.day) == day)),
            (MemberDay, (col(MemberDay.member) == member, col(MemberDay.day) == day)))
        for table, where in tables:
            column, counted = getattr(table, counter), table.counted
            conn.execute(update(table).where(*where, column > 0).values({counter: column - 1}))
            if counter == "messages":  # counted (speaking) never exceeds messages
                conn.execute(update(table).where(*where, counted > table.messages).values(counted=table.messages))
        done.append("发言计数")
    paid = conn.execute(select(col(PointsEntry.delta), col(PointsEntry.kind), col(PointsEntry.reason)).where(
        col(PointsEntry.ref) == recall.message, col(PointsEntry.member) == member)).all()
    back = sum(p.delta for p in paid if p.kind != "recall")
    if back:
        at = int(recall.ts.timestamp())
        ledger.award(batch, [Award(member, -back, "recall", at, batch.day(recall.ts), room=None if not room else room,
                                   reason="撤回了打卡的消息", ref=recall.id)])
        done.append(f"{back} 积分")
    hits = conn.execute(delete(KeywordHit).where(col(KeywordHit.message_id) == recall.message)).rowcount
    tags = conn.execute(delete(MemberTag).where(col(MemberTag.message_id) == recall.message,
                                                col(MemberTag.source) == "keyword")).rowcount
    if hits or tags:
        done.append(f"{tags} 个标签")
    conn.execute(update(EventLog).where(col(EventLog.id) == recall.message).values(kind=RECALLED))
    invalidate_caches(conn)  # hooks keep tags, check-ins and counts in memory
    return "、".join(done)
