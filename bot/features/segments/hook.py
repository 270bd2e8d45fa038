"""The orders hook: `order` events become purchases (refunds checked first)."""

from __future__ import annotations

from bot.core.events import Event, Order
from bot.core.pipeline import Batch, Hook
from bot.features.segments import orders


class OrdersHook(Hook):
    name = "segments"

    def refuse(self, batch: Batch, event: Event) -> str | None:
        if isinstance(event, Order):
            return orders.refusal(batch.conn, event)
        return None

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Order):
            orders.record(batch.conn, event, batch.day(event.ts))
