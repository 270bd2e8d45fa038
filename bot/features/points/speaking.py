"""The speaking hook: which messages count (anti-farming), and speaking points under a daily cap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, func, select, update
from sqlmodel import col

from bot.core.events import Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.points.announce import announce_level_ups
from bot.features.points.service import Award, Ledger
from bot.store.db import bulk
from bot.store.models import DailyActivity, Member, table_of
from tiers.antifarm import SPEAKING_DAILY_CAP, SPEAKING_POINTS, counts_as_speaking

_CAP = SPEAKING_DAILY_CAP // SPEAKING_POINTS  # counted messages a day that still pay
_SET_LAST = (update(table_of(Member)).where(table_of(Member).c.id == bindparam("mid"))
             .values(last_counted_at=bindparam("at")))


class SpeakingHook(Hook):
    """Counts a message as speaking when it passes anti-farming, and pays speaking points.

    Chat is the hot path of a bulk import, so what it needs is kept in memory across
    batches (this process is the only writer of its store's speaking state): each member's
    last counted time, and how many counted messages they have today. Only after a
    restart in the middle of a day does the day's count have to be read back.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._last: dict[str, int | None] = {}
        self._today: dict[str, tuple[date, int]] = {}
        self._dirty: set[str] = set()
        self._pay: dict[tuple[str, date], list] = {}  # → [points, ts, room, message id]
        self._unknown: dict[tuple[str, date], list] = {}  # today's count not yet known

    def reset(self) -> None:
        self._last.clear()
        self._today.clear()
        self._dirty.clear()
        self._pay.clear()
        self._unknown.clear()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        unknown = list({e.sender for e in events if isinstance(e, Message)} - self._last.keys())
        for i in range(0, len(unknown), 900):
            part = unknown[i : i + 900]
            rows = batch.conn.execute(
                select(col(Member.id), col(Member.last_counted_at)).where(col(Member.id).in_(part))).all()
            self._last.update(dict(rows))
        for m in unknown:
            self._last.setdefault(m, None)
        batch.flush_hooks.append(self._flush)

    def on_chat(self, batch: Batch, msg: Message) -> None:
        if msg.kind != "text":
            return
        member = msg.sender
        last = self._last.get(member)
        last_dt = datetime.fromtimestamp(last, UTC) if last is not None else None
        if not counts_as_speaking(msg.text, msg.ts, last_dt):
            return
        at = epoch(msg.ts)
        local = batch.local(msg.ts)
        day = local.date()
        midnight = at - (local.hour * 3600 + local.minute * 60 + local.second)
        self._last[member] = at
        self._dirty.add(member)
        batch.count(member, msg.room, day, "counted")
        known = self._today.get(member)
        if known is not None and known[0] == day:
            n = known[1] + 1
        elif last is None or last < midnight:
            n = 1  # nothing counted earlier today
        else:
            entry = self._unknown.setdefault((member, day), [0, at, msg.room, msg.id])
            entry[0] += 1
            entry[1:] = [at, msg.room, msg.id]
            self._today.pop(member, None)
            return
        self._today[member] = (day, n)
        if n <= _CAP:
            entry = self._pay.setdefault((member, day), [0, at, msg.room, msg.id])
            entry[0] += SPEAKING_POINTS
            entry[1:] = [at, msg.room, msg.id]

    def _flush(self, batch: Batch) -> None:
        conn = batch.conn
        if self._dirty:
            bulk(conn, _SET_LAST, [{"mid": m, "at": self._last[m]} for m in self._dirty])
            self._dirty.clear()
        if self._unknown:
            # Counters are flushed already: the stored total includes these messages.
            d = DailyActivity
            for (m, day), (n, at, room, ref) in self._unknown.items():
                total = conn.execute(select(func.sum(d.counted)).where(
                    d.member == m, d.day == day)).scalar() or 0
                self._today[m] = (day, total)
                paid = min(_CAP, total) - min(_CAP, total - n)
                if paid > 0:
                    entry = self._pay.setdefault((m, day), [0, at, room, ref])
                    entry[0] += paid * SPEAKING_POINTS
            self._unknown.clear()
        if not self._pay:
            return
        awards = [Award(m, points, "speaking", at, day, room,
                        reason=f"发言 {points // SPEAKING_POINTS} 条", ref=ref)
                  for (m, day), (points, at, room, ref) in self._pay.items()]
        self._pay.clear()
        announce_level_ups(batch, self.ledger.award(batch, awards).values())
