"""The speaking hook: which messages count (anti-farming), and speaking points under a daily cap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlmodel import col

from bot.core.events import WORD_KINDS, Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.points.announce import announce_level_ups
from bot.features.points.service import Award, Ledger
from bot.store.db import as_date, read_rows, values_of
from bot.store.models import DailyActivity, Member
from tiers.antifarm import counts_as_speaking, speaking_points


class _Owed:
    """What a hook keeps per (member, day), in the order the keys came, and each member's days
    in that same order: a check-in settles one member's keys (SpeakingHook._settle) among the
    thousands a long batch holds, without looking at the others."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, date], list[Any]] = {}
        self._days: dict[str, dict[date, None]] = {}
        self.get = self.entries.get  # the entry under a key, or None (every counted message asks)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def add(self, key: tuple[str, date], entry: list[Any]) -> list[Any]:
        """The entry under `key`: `entry`, stored there when the key had none."""
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = entry
            self._days.setdefault(key[0], {})[key[1]] = None
        return found

    def pop(self, key: tuple[str, date]) -> list[Any]:
        days = self._days[key[0]]
        del days[key[1]]
        if not days:
            del self._days[key[0]]
        return self.entries.pop(key)

    def keys(self) -> list[tuple[str, date]]:
        return list(self.entries)

    def keys_of(self, members: Sequence[str]) -> list[tuple[str, date]]:
        """The keys of these members, in the order the keys came."""
        if len(members) == 1:
            (m,) = members
            return [(m, day) for day in self._days.get(m, ())]
        wanted = set(members)
        return [key for key in self.entries if key[0] in wanted]

    def clear(self) -> None:
        self.entries.clear()
        self._days.clear()


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
        self._pay = _Owed()
        # today's count not yet known: [messages, [(ts, room, message id), ...]]
        self._unknown = _Owed()
        ledger.settle = self._settle

    def reset(self) -> None:
        self._last.clear()
        self._today.clear()
        self._dirty.clear()
        self._pay.clear()
        self._unknown.clear()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        unknown = list({e.sender for e in events if isinstance(e, Message)} - self._last.keys())
        self._last.update(values_of(batch.conn, col(Member.id), col(Member.last_counted_at), unknown))
        for m in unknown:
            self._last.setdefault(m, None)
        batch.flush_hooks.append(self._flush)

    def on_chat(self, batch: Batch, msg: Message) -> None:
        if msg.kind not in WORD_KINDS:
            return
        member = msg.sender
        last = self._last.get(member)
        at = epoch(msg.ts)
        if not counts_as_speaking(msg.text, at, last):
            return
        day, midnight = batch.day_began(at)
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
            seen = self._unknown.add((member, day), [0, []])
            seen[0] += 1
            if len(seen[1]) < _MOST_PAID:
                seen[1].append((at, msg.room, msg.id))
            self._today.pop(member, None)
            return
        points = speaking_points(earned)
        self._today[member] = (day, earned + points)
        if points:
            entry = self._pay.get((member, day))
            if entry is None:
                self._pay.add((member, day), [points, at, msg.room, msg.id, 1])
            else:
                entry[0] += points
                entry[1], entry[2], entry[3] = at, msg.room, msg.id
                entry[4] += 1

    def _settle(self, batch: Batch, members: Sequence[str]) -> None:
        """Before another award to these members (a check-in, a referral): pay what they
        earned by speaking earlier in the batch, as a batch ending there would have.

        Only these members' speaking, whether the process remembers their day or reads it
        back (after a restart, or another writer): their rows are then the same either way,
        and a check-in after chat costs no whole flush (most of a long import's writing)."""
        unknown = self._unknown.keys_of(members)
        if unknown:
            batch.flush_counters()  # how much they earned today depends on the stored counters
            self._resolve(batch, unknown)
        due = self._pay.keys_of(members)
        if due:
            batch.flush_names()
            announce_level_ups(batch, self.ledger.award(batch, self._awards(due)).values())

    def on_taking_part(self, batch: Batch, msg: Message) -> None:
        # A check-in's note: a counted message when it passes anti-farming like any other.
        self.on_chat(batch, msg)

    def _flush(self, batch: Batch) -> None:
        last = self._last
        counted_at = {m: last[m] for m in self._dirty}  # stored by the award, with the totals
        self._dirty.clear()
        if self._unknown:  # counters are flushed already: the stored totals include them
            self._resolve(batch, self._unknown.keys())
        announce_level_ups(batch, self.ledger.award(batch, self._awards(self._pay.keys()),
                                                    counted_at=counted_at).values())

    def _resolve(self, batch: Batch, keys: Sequence[tuple[str, date]]) -> None:
        """Work out what these (member, day)s' counted messages of this batch pay, now that
        their stored day (with this batch's counters flushed) can be read."""
        totals: dict[tuple[str, date], int] = {}
        for i in range(0, len(keys), 900):
            part = keys[i : i + 900]
            rows = read_rows(batch.conn, _COUNTED_ON, {"ms": list({m for m, _ in part}),
                                                       "days": list({day for _, day in part})})
            totals.update({(m, as_date(day)): n or 0 for m, day, n in rows})
        for key in keys:
            m, day = key
            n, messages = self._unknown.pop(key)
            total = totals.get(key, 0)
            (before, paid_before), (after, paid_after) = _earned(total - n), _earned(total)
            self._today[m] = (day, after)
            if after > before:
                # Paid are this batch's first messages, up to the cap: the award is the
                # last of them.
                at, room, ref = messages[paid_after - paid_before - 1]
                entry = self._pay.add(key, [0, at, room, ref, 0])
                entry[0] += after - before
                entry[1:4] = [at, room, ref]
                entry[4] += paid_after - paid_before

    def _awards(self, keys: Sequence[tuple[str, date]]) -> list[Award]:
        """The speaking awards owed for these (member, day)s, taken off what is owed."""
        awards = []
        for m, day in keys:
            points, at, room, ref, count = self._pay.pop((m, day))
            awards.append(Award(m, points, "speaking", at, day, room, reason=f"发言 {count} 条", ref=ref))
        return awards


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
_d = DailyActivity
# Some members' counted messages on some days (read_rows): built once.
_COUNTED_ON = select(col(_d.member), col(_d.day), func.sum(col(_d.counted))).where(
    col(_d.member).in_(bindparam("ms", expanding=True)), col(_d.day).in_(bindparam("days", expanding=True))
).group_by(col(_d.member), col(_d.day))
