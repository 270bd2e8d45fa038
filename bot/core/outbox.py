"""Delivering the outbox: paced, capped per room, retried with backoff, never sent twice."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.adapters.base import Adapter, Outgoing
from bot.store.models import Outbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

# Reply priority: answers to a member's message (a command, a check-in, a 1:1 question) go
# before bulk and scheduled messages (follow-up lists, level-up notes, summaries, welcomes),
# so a 1:1 `/me` never waits behind a room's queue. Rows are sent by (priority, id).
REPLY, BULK = 0, 1


ROOM_HOURLY_CAP = 40  # messages a paced account sends into one room per hour, at most


def priority_of(out: Outgoing) -> int:
    return REPLY if out.reply_to is not None else BULK


def room_messages_since(conn: Connection, room: str, since: int) -> int:
    """The room's messages queued or sent since `since` (epoch), against its hourly cap."""
    return conn.execute(select(func.count()).where(
        col(Outbox.room) == room, col(Outbox.created_at) > since,
        col(Outbox.status).in_(("pending", "sent")))).scalar() or 0


class OutboxSender:
    """Sends pending outbox rows in order through an adapter.

    Paced adapters (a real WeChat account) get at least `min_gap` seconds (plus jitter)
    between sends and at most `room_hourly_cap` messages per room per hour, to stay under
    WeChat's risk controls. A row is marked sent only after the adapter accepted it.
    """

    def __init__(
        self,
        engine: Engine,
        adapter: Adapter,
        *,
        min_gap: float = 1.0,
        jitter: float = 0.5,
        room_hourly_cap: int = ROOM_HOURLY_CAP,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.min_gap = min_gap
        self.jitter = jitter
        self.room_hourly_cap = room_hourly_cap
        self.now = now
        self.sleep = sleep
        self._last_send = 0.0
        self.wake = asyncio.Event()
        self._draining = asyncio.Lock()  # two drains at once could send one row twice

    def _due(self) -> list[Outbox]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Outbox).where(col(Outbox.status) == "pending", col(Outbox.next_at) <= self.now())
                .order_by(col(Outbox.priority), col(Outbox.id)).limit(200)
            ).all()
        return [Outbox.model_validate(r._mapping) for r in rows]

    def _room_sent_last_hour(self, room: str) -> tuple[int, int]:
        since = int(self.now()) - 3600
        with self.engine.connect() as conn:
            n, oldest = conn.execute(
                select(func.count(), func.min(col(Outbox.sent_at))).where(
                    col(Outbox.room) == room, col(Outbox.status) == "sent", col(Outbox.sent_at) > since)
            ).one()
        return n, oldest or 0

    def _mark(self, row_id: int | None, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(Outbox).where(col(Outbox.id) == row_id).values(**values))

    async def drain(self) -> int:
        """Send everything due now; returns how many were sent."""
        async with self._draining:
            return await self._drain()

    async def _drain(self) -> int:
        sent = 0
        paced = getattr(self.adapter, "paced", False)
        while True:
            rows = await asyncio.to_thread(self._due)
            if not rows:
                return sent
            progressed = False
            for row in rows:
                if paced and row.room:
                    n, oldest = await asyncio.to_thread(self._room_sent_last_hour, row.room)
                    if n >= self.room_hourly_cap:
                        # Over the room's hourly cap: wait until the oldest send ages out.
                        await asyncio.to_thread(self._mark, row.id, next_at=oldest + 3600)
                        continue
                if paced:
                    gap = self.min_gap + random.uniform(0, self.jitter)
                    wait = self._last_send + gap - self.now()
                    if wait > 0:
                        await self.sleep(wait)
                if self.wake.is_set() and row.priority != REPLY:
                    # Something was queued while waiting our turn: if it is a reply, it goes
                    # now and this row at the next turn.
                    self.wake.clear()
                    progressed = True
                    break
                out = Outgoing(text=row.text, room=row.room, to=row.to,
                               mentions=tuple(m for m in row.mentions.split(",") if m),
                               reply_to=row.reply_to)
                try:
                    await self.adapter.send(out)
                except Exception as exc:
                    if getattr(exc, "maybe_delivered", False):
                        # The connection died while the send was in flight: it may have gone
                        # out. Sending it again risks a double message, which is worse.
                        log.warning("outbox #%s may have been delivered; not retried: %s", row.id, exc)
                        await asyncio.to_thread(self._mark, row.id, status="unknown",
                                                attempts=row.attempts + 1, error=str(exc)[:500])
                        continue
                    attempts = row.attempts + 1
                    backoff = min(300, 2 ** attempts)
                    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
                    log.warning("send of outbox #%s failed (attempt %s): %s", row.id, attempts, exc)
                    await asyncio.to_thread(self._mark, row.id, attempts=attempts, status=status,
                                            next_at=int(self.now()) + backoff, error=str(exc)[:500])
                    continue
                self._last_send = self.now()
                await asyncio.to_thread(self._mark, row.id, status="sent",
                                        sent_at=int(self.now()), attempts=row.attempts + 1)
                sent += 1
                progressed = True
                if self.wake.is_set():
                    # Something was queued meanwhile: fetch again, so a reply goes next.
                    self.wake.clear()
                    break
            if not progressed:
                return sent

    async def run(self) -> None:
        """Drain whenever woken, and every few seconds for retries that became due."""
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox drain failed")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=2.0)
            except TimeoutError:
                pass
