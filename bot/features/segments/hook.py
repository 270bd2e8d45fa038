"""The orders hook: `order` events become purchases (refunds checked first), joins with an
inviter become referrals."""

from __future__ import annotations

from bot.core.events import Event, Join, Order
from bot.core.pipeline import Batch, Hook
from bot.features.segments import orders


class OrdersHook(Hook):
    def refuse(self, batch: Batch, event: Event) -> str | None:
        if isinstance(event, Order):
            return orders.refusal(batch.conn, event)
        return None

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Order):
            orders.record(batch.conn, event, batch.day(event.ts))
        elif isinstance(event, Join) and event.inviter:
            orders.record_referral(batch.conn, event.room, event.member, event.inviter,
                                   int(event.ts.timestamp()))
