"""The segments hook: `order` events become purchases (refunds checked first), and events of
earlier days remove the activity figures kept of the days after them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.events import Event, Order
from bot.core.pipeline import Batch, Hook
from bot.features.member_types.api import changed_from
from bot.features.segments import orders
from bot.features.segments.service import figures_changed


class OrdersHook(Hook):
    name = "segments"

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        """The figures kept of a day are of the days before it: an event of day X (a late
        delivery, an import) changes those of X + 1 on."""
        first = changed_from(batch, events)
        if first is not None:
            figures_changed(batch.conn, first)

    def refuse(self, batch: Batch, event: Event) -> str | None:
        if isinstance(event, Order):
            return orders.refusal(batch.conn, event)
        return None

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Order):
            orders.record(batch.conn, event, batch.day(event.ts))
