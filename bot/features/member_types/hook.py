"""The split values' hook: events that change the days before a kept value remove it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.core.events import Contacts, Event, Join, Leave, Order, Recall, Roster
from bot.core.pipeline import Batch, Hook
from bot.features.member_types.service import batch_changes_splits
from bot.store.models import EventLog

_EVERYONE = (Roster, Contacts)  # they change who was there before the bot, and friends


def changed_from(batch: Batch, events: Sequence[Event]) -> date | None:
    """The earliest local day whose counters these events change: each event's own day (orders
    count in no day's counters, a recall that un-counts nothing in none), and for a recall, the
    recalled message's day. The earliest moment's day is the earliest day: one conversion."""
    first: datetime | None = None
    recalled: list[str] = []
    for e in events:
        if isinstance(e, Order):
            continue
        if isinstance(e, Recall):
            if e.message is None:
                continue  # only recorded: it un-counts nothing
            recalled.append(e.message)
        if first is None or e.ts < first:
            first = e.ts
    stamps = [] if first is None else [int(first.timestamp())]
    for i in range(0, len(recalled), 900):
        q = select(col(EventLog.ts)).where(col(EventLog.id).in_(recalled[i : i + 900]))
        stamps += batch.conn.execute(q).scalars()
    return batch.day_of(min(stamps)) if stamps else None


class SplitsHook(Hook):
    name = "member_types"

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        """The values of a day come from the days before it: an event of day X changes those
        of X + 1 on; a join or leave changes every value of its room (a room's scope is its
        current members), a roster or contacts list every value; a recall, those after the
        recalled message's day. Orders count in no type."""
        if any(isinstance(e, _EVERYONE) for e in events):
            batch_changes_splits(batch.conn, None)
            return
        first = changed_from(batch, events)
        if first is not None:
            rooms = {e.room for e in events if isinstance(e, Join | Leave)}
            batch_changes_splits(batch.conn, first + timedelta(days=1), rooms)
