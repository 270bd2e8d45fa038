"""Speaking: which messages count (anti-farming), and speaking points under a daily cap."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, func, select, update

from bot.events import Event, Message
from bot.pipeline import Batch, epoch
from bot.points import Award, Ledger
from bot.store.models import DailyActivity, Member
from tiers.antifarm import SPEAKING_DAILY_CAP, SPEAKING_POINTS, counts_as_speaking


class SpeakingFeature:
    """Counts a message as speaking when it passes anti-farming, and pays speaking points.

    The member's last counted time is cached across batches (this process is the only
    writer of its store's members); it is preloaded per batch and written back at flush.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._last: dict[str, int | None] = {}
        self._dirty: set[str] = set()
        self._new: dict[tuple[str, date], list] = {}

    def reset(self) -> None:
        self._last.clear()
        self._dirty.clear()
        self._new.clear()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        unknown = list({e.sender for e in events if isinstance(e, Message)} - self._last.keys())
        for i in range(0, len(unknown), 900):
            part = unknown[i : i + 900]
            rows = batch.conn.execute(
                select(Member.id, Member.last_counted_at).where(Member.id.in_(part))).all()
            self._last.update(dict(rows))
        for m in unknown:
            self._last.setdefault(m, None)
        self._new.clear()
        batch.flush_hooks.append(self._flush)

    def handle(self, batch: Batch, msg: Message) -> bool:
        return False

    def on_event(self, batch: Batch, event: Event) -> None:
        pass

    def on_chat(self, batch: Batch, msg: Message) -> None:
        if msg.kind != "text":
            return
        last = self._last.get(msg.sender)
        last_dt = datetime.fromtimestamp(last, UTC) if last is not None else None
        if not counts_as_speaking(msg.text, msg.ts, last_dt):
            return
        at = epoch(msg.ts)
        self._last[msg.sender] = at
        self._dirty.add(msg.sender)
        day = batch.day(msg.ts)
        batch.count(msg.sender, msg.room, day, "counted")
        entry = self._new.setdefault((msg.sender, day), [0, at, msg.room, msg.id])
        entry[0] += 1
        entry[1:] = [at, msg.room, msg.id]

    def _flush(self, batch: Batch) -> None:
        conn = batch.conn
        if self._dirty:
            conn.execute(
                update(Member.__table__).where(Member.__table__.c.id == bindparam("mid"))
                .values(last_counted_at=bindparam("at")),
                [{"mid": m, "at": self._last[m]} for m in self._dirty],
            )
            self._dirty.clear()
        if not self._new:
            return
        # Counters are already flushed, so the stored total includes this batch's messages.
        d = DailyActivity
        totals: dict[tuple[str, date], int] = defaultdict(int)
        members = sorted({m for m, _ in self._new})
        days = sorted({day for _, day in self._new})
        for i in range(0, len(members), 900):
            q = select(d.member, d.day, func.sum(d.counted)).where(
                d.member.in_(members[i : i + 900]), d.day.in_(days)).group_by(d.member, d.day)
            for m, day, n in conn.execute(q):
                totals[(m, day)] = n or 0
        awards = []
        for (m, day), (n, at, room, ref) in self._new.items():
            after = totals[(m, day)]
            cap = SPEAKING_DAILY_CAP // SPEAKING_POINTS
            paid = min(cap, after) - min(cap, after - n)
            if paid > 0:
                awards.append(Award(m, paid * SPEAKING_POINTS, "speaking", at, day, room,
                                    reason=f"发言 {paid} 条", ref=ref))
        self._new.clear()
        self.ledger.award(batch, awards)
