"""Un-counting a recalled message: the counters it moved, the check-in it made (and its
points), the speaking it counted as (and the speaking points that paid), the keyword hits and
tags it gave. The message stays in the log, marked recalled, so a rule preview or a history
scan skips it and a second recall changes nothing.

Speaking points are paid per member and day under a cap, not per message, so a recall does
not take back "the point of that message": it brings the day's speaking points to what the
day's remaining counted messages are worth (`speaking_points_of_day`). A recall on a day whose
cap other messages still reach takes nothing; a recall twice takes once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.events import WORD_KINDS, Recall
from bot.core.pipeline import Batch, invalidate_caches
from bot.features.checkins.api import Checkin
from bot.features.points.api import Award, Ledger, PointsEntry, Speaking
from bot.features.tags.api import DAY, KeywordHit, MemberTag, active_rules
from bot.store.models import DailyActivity, EventLog, MemberDay
from tagging.decide import hits_reached
from tagging.rules import KeywordRule
from tiers.antifarm import counts_as_speaking, speaking_points_of_day

RECALLED = "recalled"  # EventLog.kind of a recalled message
SPEAKING = "speaking"  # PointsEntry.kind of speaking points (a recall's correction is one too)
_CHAIN_S = 3600  # how far back the speaking replay looks for a gap that restarts the chain


@dataclass
class Taken:
    """Speaking points recalls took back in this batch, per (member, day): a later flush of the
    same batch may give some back (messages after the recall that the speaking hook, still
    holding the day's count from before the recall, paid nothing for)."""

    ledger: Ledger
    owed: dict[tuple[str, date], tuple[int, str | None, str, int]] = field(default_factory=dict)

    def flush(self, batch: Batch) -> None:
        for (member, day), (taken, room, ref, at) in list(self.owed.items()):
            fix = settle_speaking(batch, self.ledger, member, day, room, ref, at, most_back=taken)
            self.owed[(member, day)] = (taken - fix, room, ref, at)


def uncount(batch: Batch, ledger: Ledger, recall: Recall, taken: Taken | None = None) -> str:
    """What was undone (for the log); '' when the message is unknown or already recalled."""
    conn = batch.conn
    row = conn.execute(select(col(EventLog.member), col(EventLog.room), col(EventLog.ts), col(EventLog.kind),
                              col(EventLog.text))
                       .where(col(EventLog.id) == recall.message, col(EventLog.type) == "message")).first()
    if row is None or row.kind == RECALLED:
        return ""
    member, room, ts, kind, text = row
    day = batch.day(datetime.fromtimestamp(ts, UTC))
    done: list[str] = []
    counter = "messages"
    words: str | None = text if (kind or "text") in WORD_KINDS else None
    if kind == "command":
        notes = conn.execute(select(col(Checkin.note)).where(
            col(Checkin.member) == member, col(Checkin.ts) == ts, col(Checkin.day) == day)).scalars().all()
        checkins = conn.execute(delete(Checkin).where(
            col(Checkin.member) == member, col(Checkin.ts) == ts, col(Checkin.day) == day)).rowcount
        if checkins:
            counter = "checkins"
            words = next((n for n in notes if n), None)  # a check-in's note (心得) counts as speaking
            done.append("打卡")
        else:
            counter = ""  # a command other than a check-in counted nothing
    spoke = words is not None and (recall.message in batch.slot(Speaking)
                                   or _counted(conn, member, ts, str(recall.message), words))
    changes = [c for c in (counter, "counted" if spoke else "") if c]
    if changes:
        keys: tuple[tuple[Any, tuple[Any, ...]], ...] = (
            (DailyActivity, (col(DailyActivity.member) == member, col(DailyActivity.room) == room,
                             col(DailyActivity.day) == day)),
            (MemberDay, (col(MemberDay.member) == member, col(MemberDay.day) == day)))
        for table, where in keys:
            for name in changes:
                column = getattr(table, name)
                conn.execute(update(table).where(*where, column > 0).values({name: column - 1}))
        done.append("发言计数" if counter == "messages" else "计数")
    paid = conn.execute(select(col(PointsEntry.delta), col(PointsEntry.kind)).where(
        col(PointsEntry.ref) == recall.message, col(PointsEntry.member) == member)).all()
    # Speaking rows name the last message they paid for, but pay for the day: settled below.
    back = sum(p.delta for p in paid if p.kind not in ("recall", SPEAKING))
    at = int(recall.ts.timestamp())
    if back:
        ledger.award(batch, [Award(member, -back, "recall", at, batch.day(recall.ts), room=None if not room else room,
                                   reason="撤回了打卡的消息", ref=recall.id)])
        done.append(f"{back} 积分")
    if spoke:
        fix = settle_speaking(batch, ledger, member, day, room or None, recall.id, at)
        if fix < 0:
            done.append(f"{-fix} 发言积分")
            if taken is not None:
                old = taken.owed.get((member, day), (0, None, "", 0))[0]
                taken.owed[(member, day)] = (old - fix, room or None, recall.id, at)
    hit_rules = conn.execute(select(col(KeywordHit.rule_id)).where(
        col(KeywordHit.message_id) == recall.message)).scalars().all()
    hits = conn.execute(delete(KeywordHit).where(col(KeywordHit.message_id) == recall.message)).rowcount
    tags = conn.execute(delete(MemberTag).where(col(MemberTag.message_id) == recall.message,
                                                col(MemberTag.source) == "keyword")).rowcount
    tags += _untag_short_of_hits(conn, member, hit_rules)
    if hits or tags:
        done.append(f"{tags} 个标签")
    conn.execute(update(EventLog).where(col(EventLog.id) == recall.message).values(kind=RECALLED))
    invalidate_caches(conn)  # hooks keep tags, check-ins and counts in memory
    return "、".join(done)


def settle_speaking(batch: Batch, ledger: Ledger, member: str, day: date, room: str | None, ref: str,
                    at: int, *, most_back: int = 0) -> int:
    """Bring the member's speaking points of `day` to what the day's counted messages are worth:
    take back what is over; give back what is under only up to `most_back` (points a recall of
    this batch took). Returns the change written (negative: taken)."""
    conn = batch.conn
    counted = conn.execute(select(func.coalesce(func.sum(col(MemberDay.counted)), 0)).where(
        col(MemberDay.member) == member, col(MemberDay.day) == day)).scalar_one()
    paid = conn.execute(select(func.coalesce(func.sum(col(PointsEntry.delta)), 0)).where(
        col(PointsEntry.member) == member, col(PointsEntry.day) == day,
        col(PointsEntry.kind) == SPEAKING)).scalar_one()
    fix = speaking_points_of_day(int(counted)) - int(paid)
    fix = min(fix, most_back)
    if fix:
        reason = "撤回了一条发言，当天发言积分随之调整" if fix < 0 else "撤回后当天又发言，补回发言积分"
        ledger.award(batch, [Award(member, fix, SPEAKING, at, day, room, reason=reason, ref=ref)])
    return fix


def _untag_short_of_hits(conn: Connection, member: str, rule_ids: Sequence[int]) -> int:
    """A tag a rule of several hits (hits=N days=D) gave stands only while its window still holds
    N hits once the recalled message's hit is gone; the tags it no longer holds are removed."""
    rules = active_rules(conn) if rule_ids else {}
    removed = 0
    for rule_id in rule_ids:
        rule = rules.get(rule_id)
        if not isinstance(rule, KeywordRule) or rule.hits <= 1:
            continue
        where = (col(MemberTag.member) == member, col(MemberTag.rule_id) == rule_id, col(MemberTag.source) == "keyword")
        at = conn.execute(select(col(MemberTag.at)).where(*where)).scalar()
        if at is None:
            continue
        times = conn.execute(select(col(KeywordHit.ts)).where(
            col(KeywordHit.member) == member, col(KeywordHit.rule_id) == rule_id,
            col(KeywordHit.ts) > at - rule.days * DAY, col(KeywordHit.ts) <= at)).scalars()
        if not hits_reached([datetime.fromtimestamp(t) for t in times], datetime.fromtimestamp(at), rule):
            removed += conn.execute(delete(MemberTag).where(*where)).rowcount
    return removed


def _counted(conn: Connection, member: str, ts: int, message: str, words: str) -> bool:
    """Whether the message counted as speaking when it came, replayed from the log the way the
    speaking hook judged it: anti-farming over the member's messages in time order, from the
    last gap of a minute or more (before which the last counted time cannot matter)."""
    rows = conn.execute(select(col(EventLog.id), col(EventLog.ts), col(EventLog.kind), col(EventLog.text)).where(
        col(EventLog.member) == member, col(EventLog.type) == "message",
        col(EventLog.ts) >= ts - _CHAIN_S, col(EventLog.ts) <= ts).order_by(col(EventLog.ts), col(EventLog.id))).all()
    start = 0
    for i in range(len(rows) - 1, 0, -1):
        if rows[i].ts - rows[i - 1].ts >= 60:
            start = i
            break
    last: int | None = None
    for r in rows[start:]:
        if r.id == message:
            return counts_as_speaking(words, r.ts, last)
        # A message recalled before keeps its place in the chain: it counted when it came.
        text = r.text if (r.kind or "text") in WORD_KINDS or r.kind == RECALLED else None
        if text is not None and counts_as_speaking(text, r.ts, last):
            last = r.ts
    return False
