"""The speaking hook: which messages count (anti-farming), and speaking points under a daily cap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import col

from bot.core.events import WORD_KINDS, Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.points.announce import announce_level_ups
from bot.features.points.service import Award, Ledger
from bot.store.db import as_date, bulk
from bot.store.models import DailyActivity, Member, table_of
from tiers.antifarm import counts_as_speaking, speaking_points

_SET_LAST = (update(table_of(Member)).where(table_of(Member).c.id == bindparam("mid"))
             .values(last_counted_at=bindparam("at")))


_LAST_COUNTED = select(col(Member.id), col(Member.last_counted_at)).where(
    col(Member.id).in_(bindparam("ids", expanding=True)))  # every batch: built once


class Speaking(set[str]):
    """The batch's messages that passed anti-farming (the speaking dimension), filled by the
    points hook as it counts them (`batch.slot(Speaking)`): count rules count exactly these, so
    a burst of stickers tags nobody 活跃. A hook that reads it runs after "points"."""


class SpeakingHook(Hook):
    """Counts a message as speaking when it passes anti-farming, and pays speaking points.

    Chat is the hot path of a bulk import, so what it needs is kept in memory across
    batches: each member's last counted time, and how many counted messages they have today.
    The store is the truth: after a restart, or when another writer (another account's
    process) committed since this one's last batch (the pipeline's writer epoch), all of it
    is forgotten (`reset`) and read back, the day's counts in one query per batch.
    """

    name = "points"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._last: dict[str, int | None] = {}
        self._today: dict[str, tuple[date, int]] = {}  # member → (local day, points earned)
        self._dirty: set[str] = set()
        # (member, day) → [points, ts, room, message id, messages paid]
        self._pay: dict[tuple[str, date], list[Any]] = {}
        # today's count not yet known: [messages, [(ts, room, message id), ...]]
        self._unknown: dict[tuple[str, date], list[Any]] = {}
        ledger.settle = self._settle

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
            rows = batch.conn.execute(_LAST_COUNTED, {"ids": part}).all()
            self._last.update(dict(rows))
        for m in unknown:
            self._last.setdefault(m, None)
        batch.flush_hooks.append(self._flush)

    def on_chat(self, batch: Batch, msg: Message) -> None:
        if msg.kind not in WORD_KINDS:
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
        batch.slot(Speaking).add(msg.id)
        known = self._today.get(member)
        if known is not None and known[0] == day:
            earned = known[1]
        elif last is None or last < midnight:
            earned = 0  # nothing counted earlier today
        else:
            # This batch's counted messages of a day whose earlier count is in the store: which
            # of them pay is known at flush. Each is kept (up to the most a day can pay), so
            # the award carries the last paid message, as it does when the count is known.
            seen = self._unknown.setdefault((member, day), [0, []])
            seen[0] += 1
            if len(seen[1]) < _MOST_PAID:
                seen[1].append((at, msg.room, msg.id))
            self._today.pop(member, None)
            return
        points = speaking_points(earned)
        self._today[member] = (day, earned + points)
        if points:
            entry = self._pay.setdefault((member, day), [0, at, msg.room, msg.id, 0])
            entry[0] += points
            entry[1:4] = [at, msg.room, msg.id]
            entry[4] += 1

    def _settle(self, batch: Batch, members: Sequence[str]) -> None:
        """Before another award to these members (a check-in, a referral): pay what they
        earned by speaking earlier in the batch, as a batch ending there would have."""
        # A whole flush, whatever this process remembers of the members' day: paying only
        # these members would split the speaking rows by what the process knows (a restart or
        # another writer between batches gives other rows: soak_crash, soak_writers).
        owed = {m for m, _ in self._pay} | {m for m, _ in self._unknown}
        if owed and not owed.isdisjoint(members):
            batch.flush()

    def on_taking_part(self, batch: Batch, msg: Message) -> None:
        # A check-in's note: a counted message when it passes anti-farming like any other.
        self.on_chat(batch, msg)

    def _flush(self, batch: Batch) -> None:
        conn = batch.conn
        if self._dirty:
            bulk(conn, _SET_LAST, [{"mid": m, "at": self._last[m]} for m in self._dirty])
            self._dirty.clear()
        if self._unknown:
            # Counters are flushed already: the stored total includes these messages.
            d = DailyActivity
            totals: dict[tuple[str, date], int] = {}
            keys = list(self._unknown)
            for i in range(0, len(keys), 900):
                part = keys[i : i + 900]
                rows = conn.execute(select(col(d.member), col(d.day), func.sum(col(d.counted))).where(
                    col(d.member).in_({m for m, _ in part}), col(d.day).in_({day for _, day in part}))
                    .group_by(col(d.member), col(d.day))).all()
                totals.update({(m, as_date(day)): n or 0 for m, day, n in rows})
            for (m, day), (n, messages) in self._unknown.items():
                total = totals.get((m, day), 0)
                (before, paid_before), (after, paid_after) = _earned(total - n), _earned(total)
                self._today[m] = (day, after)
                if after > before:
                    # Paid are this batch's first messages, up to the cap: the award is the
                    # last of them.
                    at, room, ref = messages[paid_after - paid_before - 1]
                    entry = self._pay.setdefault((m, day), [0, at, room, ref, 0])
                    entry[0] += after - before
                    entry[1:4] = [at, room, ref]
                    entry[4] += paid_after - paid_before
            self._unknown.clear()
        if not self._pay:
            return
        awards = [Award(m, points, "speaking", at, day, room, reason=f"发言 {count} 条", ref=ref)
                  for (m, day), (points, at, room, ref, count) in self._pay.items()]
        self._pay.clear()
        announce_level_ups(batch, self.ledger.award(batch, awards).values())


def _earned(counted: int) -> tuple[int, int]:
    """Speaking points paid for a day's first `counted` counted messages, and how many of
    them were paid."""
    earned = paid = 0
    for _ in range(counted):
        points = speaking_points(earned)
        if not points:
            break  # the daily cap is reached: no later message pays
        earned += points
        paid += 1
    return earned, paid


_MOST_PAID = _earned(1 << 16)[1]  # the most counted messages one day can pay
