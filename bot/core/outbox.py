"""Delivering the outbox: claimed before sending, paced, capped per room, retried with backoff.

Delivery is at most once and nothing is dropped silently. A process claims a row (status
`sending`, its id, a lease) and commits that before the send; only then does it send. A row
left `sending` by a process that died, or whose send may or may not have gone out (a lost
connection, a cancelled wait for the ack), becomes `unknown` and is never re-sent by itself.
A row that keeps failing becomes `failed`. Both wait for a person: resend or drop
(`qunguan outbox`, the console's outbox page).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.adapters.base import Adapter, MaybeDelivered, Outgoing
from bot.store.db import read_rows
from bot.store.models import Outbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = 120  # seconds a claim lasts: far longer than any one send
NEEDS_ATTENTION = ("unknown", "failed")
DIED = "发送中断（进程退出或等待确认时被取消），可能已经发出"


def worker_id() -> str:
    """This process, as it signs its claims: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:30]}/{os.getpid()}/{secrets.token_hex(4)}"


def _alive(claimer: str | None, host: str) -> bool:
    """False only when `claimer` was a process of this host that no longer runs."""
    if not claimer:
        return False
    parts = claimer.split("/")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return True  # another host's process: only its lease can tell
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def expire_claims(engine: Engine, now: int, me: str = "") -> int:
    """Rows left `sending` by a process that died or whose lease ran out become unknown;
    returns how many."""
    host = socket.gethostname()[:30]
    with engine.begin() as conn:
        rows = conn.execute(select(col(Outbox.id), col(Outbox.claimed_by), col(Outbox.lease_until))
                            .where(col(Outbox.status) == "sending")).all()
        stale = [i for i, by, until in rows
                 if by != me and ((until or 0) < now or not _alive(by, host))]
        if stale:
            conn.execute(update(Outbox).where(col(Outbox.id).in_(stale),
                                              col(Outbox.status) == "sending")
                         .values(status="unknown", error=DIED))
    if stale:
        log.warning("outbox rows %s were being sent by a process that stopped: marked unknown",
                    stale)
    return len(stale)


# Reply priority: answers to a member's message (a command, a check-in, a 1:1 question) go
# before bulk and scheduled messages (follow-up lists, level-up notes, summaries, welcomes),
# so a 1:1 `/me` never waits behind a room's queue. Rows are sent by (priority, id).
REPLY, BULK = 0, 1
ROOM_HOURLY_CAP = 40  # messages a paced account sends into one room per hour, at most


@dataclass(frozen=True)
class ActionCap:
    """How often a paced account may do one kind of action (accept a friend, add someone to
    a group): at most `per_hour` an hour and `per_day` a day, spread evenly over the hour
    (WeChat punishes bursts), never in a burst."""

    per_hour: int
    per_day: int

    @property
    def spacing(self) -> float:
        return 3600 / self.per_hour


DEFAULT_ACTION_CAP = ActionCap(20, 100)


def action_wait(cap: ActionCap, sent_at: list[int], now: float) -> int | None:
    """When the next action of a kind may go, given when earlier ones went (epoch seconds):
    None for now, else the epoch second to wait for."""
    day = sorted(t for t in sent_at if t > now - 86400)
    if len(day) >= cap.per_day:
        return day[-cap.per_day] + 86400
    hour = [t for t in day if t > now - 3600]
    if len(hour) >= cap.per_hour:
        return hour[-cap.per_hour] + 3600
    if day and now < day[-1] + cap.spacing:
        return int(day[-1] + cap.spacing + 0.999)
    return None


def priority_of(out: Outgoing) -> int:
    return REPLY if out.reply_to is not None else BULK


# Built once: asked at every accepted check-in of a long history, and building a statement
# costs ten times running it.
_ROOM_SINCE = select(func.count()).where(
    col(Outbox.room) == bindparam("room"), col(Outbox.created_at) > bindparam("since"),
    col(Outbox.status).in_(("pending", "sending", "sent")))


def room_messages_since(conn: Connection, room: str, since: int) -> int:
    """The room's messages queued or sent since `since` (epoch), against its hourly cap."""
    return int(read_rows(conn, _ROOM_SINCE, {"room": room, "since": since})[0][0] or 0)


class OutboxSender:
    """Sends pending outbox rows in order through an adapter.

    Paced adapters (a real WeChat account) get at least `min_gap` seconds (plus jitter)
    between sends and at most `room_hourly_cap` messages per room per hour, to stay under
    WeChat's risk controls. Every row is claimed (committed) before its send, so several
    processes can drain one store and none sends a row another has.
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
        worker: str | None = None,
        action_caps: Mapping[str, ActionCap] | None = None,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.min_gap = min_gap
        self.jitter = jitter
        self.room_hourly_cap = room_hourly_cap
        self.now = now
        self.sleep = sleep
        self.worker = worker or worker_id()
        self.action_caps = dict(action_caps or {})
        # Only rows this process queued (its pipeline's origin), when set: `qunguan chat` answers
        # what is typed in its session and never replays an older backlog.
        self.only_origin: str | None = None
        self._last_send = 0.0
        self.wake = asyncio.Event()
        self._draining = asyncio.Lock()

    def _due(self) -> list[Outbox]:
        """Pending rows this process may send: those of its account (the adapter's logged-in
        id) and those routed to no account (bot.core.accounts.route)."""
        account = self.adapter.self_id
        mine = (or_(col(Outbox.account).is_(None), col(Outbox.account) == account) if account
                else col(Outbox.account).is_(None))
        if self.only_origin is not None:
            mine = and_(mine, col(Outbox.origin) == self.only_origin)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Outbox).where(col(Outbox.status) == "pending", col(Outbox.next_at) <= self.now(),
                                     mine)
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

    def _actions_sent(self, action: str) -> list[int]:
        """When this kind of action was done in the last day (every process's, from the store)."""
        with self.engine.connect() as conn:
            return [t for t in conn.execute(select(col(Outbox.sent_at)).where(
                col(Outbox.action) == action, col(Outbox.status) == "sent",
                col(Outbox.sent_at) > int(self.now()) - 86400)).scalars() if t is not None]

    def _defer_action(self, action: str, next_at: int) -> None:
        """Every pending row of one action waits until `next_at` (one update, not one per row)."""
        with self.engine.begin() as conn:
            conn.execute(update(Outbox).where(col(Outbox.action) == action, col(Outbox.status) == "pending",
                                              col(Outbox.next_at) < next_at).values(next_at=next_at))

    def _defer(self, row_id: int | None, next_at: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(Outbox).where(col(Outbox.id) == row_id, col(Outbox.status) == "pending")
                         .values(next_at=next_at))

    def _claim(self, row_id: int | None) -> bool:
        """Take the row for this process; False when another process has it (or had it).
        On PostgreSQL the row is locked with SKIP LOCKED first, so a process never waits on a
        row another one is claiming; the conditional update alone decides on SQLite."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql" and conn.execute(
                    select(col(Outbox.id)).where(col(Outbox.id) == row_id, col(Outbox.status) == "pending")
                    .with_for_update(skip_locked=True)).first() is None:
                return False
            done = conn.execute(
                update(Outbox).where(col(Outbox.id) == row_id, col(Outbox.status) == "pending")
                .values(status="sending", claimed_by=self.worker,
                        lease_until=int(self.now()) + LEASE))
        return done.rowcount == 1

    def _finish(self, row_id: int | None, **values: object) -> None:
        """Record the outcome of this process's send (even if its lease ran out meanwhile and
        another process marked the row unknown: the outcome is better knowledge)."""
        with self.engine.begin() as conn:
            conn.execute(update(Outbox).where(col(Outbox.id) == row_id,
                                              col(Outbox.claimed_by) == self.worker)
                         .values(lease_until=None, **values))

    async def drain(self) -> int:
        """Send everything due now; returns how many were sent."""
        async with self._draining:
            await asyncio.to_thread(expire_claims, self.engine, int(self.now()), self.worker)
            return await self._drain()

    async def _drain(self) -> int:
        sent = 0
        paced = self.adapter.paced
        while True:
            rows = await asyncio.to_thread(self._due)
            if not rows:
                return sent
            progressed = False
            waiting: set[str] = set()  # actions that must wait: their other rows too
            for row in rows:
                if paced:
                    if await self._held_back(row, waiting):
                        continue
                    await self._keep_gap()
                if self.wake.is_set() and row.priority != REPLY:
                    # Something was queued while waiting our turn: if it is a reply, it goes
                    # now and this row at the next turn.
                    self.wake.clear()
                    progressed = True
                    break
                if not await asyncio.to_thread(self._claim, row.id):
                    continue  # another process took it
                progressed = True
                if await self._send(row):
                    sent += 1
                if self.wake.is_set():
                    # Something was queued meanwhile: fetch again, so a reply goes next.
                    self.wake.clear()
                    break
            if not progressed:
                return sent

    async def _held_back(self, row: Outbox, waiting: set[str]) -> bool:
        """A paced row that must wait (deferred in the store): its action is over its pace or
        caps (`waiting` then holds the action), or its room over the hourly cap."""
        if row.action:
            if row.action in waiting:
                return True
            cap = self.action_caps.get(row.action, DEFAULT_ACTION_CAP)
            sent_at = await asyncio.to_thread(self._actions_sent, row.action)
            until = action_wait(cap, sent_at, self.now())
            if until is not None:
                # Over the action's pace or caps: its rows wait in the store (none is
                # lost across a restart) until the next may go, in their order.
                await asyncio.to_thread(self._defer_action, row.action, until)
                waiting.add(row.action)
                return True
        elif row.room:
            n, oldest = await asyncio.to_thread(self._room_sent_last_hour, row.room)
            if n >= self.room_hourly_cap:
                # Over the room's hourly cap: wait until the oldest send ages out.
                await asyncio.to_thread(self._defer, row.id, oldest + 3600)
                return True
        return False

    async def _keep_gap(self) -> None:
        """Wait out the paced gap (with jitter) since the last send."""
        gap = self.min_gap + random.uniform(0, self.jitter)
        wait = self._last_send + gap - self.now()
        if wait > 0:
            await self.sleep(wait)

    async def _send(self, row: Outbox) -> bool:
        out = Outgoing(text=row.text, room=row.room, to=row.to,
                       mentions=tuple(m for m in row.mentions.split(",") if m),
                       reply_to=row.reply_to, action=row.action)
        attempts = row.attempts + 1
        try:
            await self.adapter.send(out)
        except asyncio.CancelledError:
            # Cancelled while waiting for the ack: it may have gone out. Recorded here, at
            # once (a cancelled task cannot await), so it is never sent again by itself.
            self._finish(row.id, status="unknown", attempts=attempts, error=DIED)
            raise
        except Exception as exc:
            if isinstance(exc, MaybeDelivered):
                # The connection died while the send was in flight: it may have gone out.
                # Sending it again risks a double message, which is worse.
                log.warning("outbox #%s may have been delivered; not retried: %s", row.id, exc)
                await asyncio.to_thread(self._finish, row.id, status="unknown",
                                        attempts=attempts, error=str(exc)[:500])
                return False
            backoff = min(300, 2 ** attempts)
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            log.warning("send of outbox #%s failed (attempt %s): %s", row.id, attempts, exc)
            await asyncio.to_thread(self._finish, row.id, attempts=attempts, status=status,
                                    next_at=int(self.now()) + backoff, error=str(exc)[:500])
            return False
        self._last_send = self.now()
        await asyncio.to_thread(self._finish, row.id, status="sent", sent_at=int(self.now()),
                                attempts=attempts, error=None)
        return True

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


# ---- rows that wait for a person -------------------------------------------------------------

@dataclass(frozen=True)
class OutboxRow:
    id: int
    status: str
    created_at: int
    room: str | None
    to: str | None
    text: str
    attempts: int
    error: str | None
    action: str | None = None  # an account action (accept, room_add) rather than a text


def attention(conn: Connection, status: str | None = None, limit: int = 500) -> list[OutboxRow]:
    """Rows that may not have reached anyone (unknown) or did not (failed), oldest first."""
    statuses = (status,) if status else NEEDS_ATTENTION
    rows = conn.execute(select(col(Outbox.id), col(Outbox.status), col(Outbox.created_at),
                               col(Outbox.room), col(Outbox.to), col(Outbox.text),
                               col(Outbox.attempts), col(Outbox.error), col(Outbox.action))
                        .where(col(Outbox.status).in_(statuses)).order_by(col(Outbox.id))
                        .limit(limit)).all()
    return [OutboxRow(i or 0, st, c, room, to, text, a, err, act)
            for i, st, c, room, to, text, a, err, act in rows]


@dataclass(frozen=True)
class Waiting:
    account: str | None  # None: any process may send them
    rows: int
    oldest: int  # created_at of the oldest


def waiting(conn: Connection) -> list[Waiting]:
    """Rows not sent yet, per account they go through, oldest first: rows for an account
    whose `run` is not running wait here until it comes back."""
    q = (select(col(Outbox.account), func.count(), func.min(col(Outbox.created_at)))
         .where(col(Outbox.status).in_(("pending", "sending"))).group_by(col(Outbox.account)))
    return sorted((Waiting(a, n, oldest) for a, n, oldest in conn.execute(q)), key=lambda w: w.oldest)


def counts(conn: Connection) -> dict[str, int]:
    """How many rows are in each status."""
    rows = conn.execute(select(col(Outbox.status), func.count()).group_by(col(Outbox.status))).all()
    return {status: n for status, n in rows}


class NotHandled(ValueError):
    """The row does not exist or is not one that waits for a person."""


def resend(conn: Connection, row_id: int) -> None:
    """Queue an unknown or failed row again (the person decided it did not arrive)."""
    _handle(conn, row_id, status="pending", attempts=0, next_at=0, error=None, claimed_by=None,
            lease_until=None)


def drop(conn: Connection, row_id: int) -> None:
    """Give up on an unknown or failed row (it arrived, or is no longer worth sending)."""
    _handle(conn, row_id, status="dropped", lease_until=None)


def _handle(conn: Connection, row_id: int, **values: object) -> None:
    done = conn.execute(update(Outbox).where(
        col(Outbox.id) == row_id, col(Outbox.status).in_(NEEDS_ATTENTION)).values(**values))
    if done.rowcount != 1:
        raise NotHandled(row_id)


def cancel_pending(conn: Connection, row_ids: list[int], reason: str) -> int:
    """Drop rows not sent yet (their member unsubscribed, or asked for their data to be
    deleted); returns how many. Rows already claimed go their way."""
    if not row_ids:
        return 0
    done = conn.execute(update(Outbox).where(col(Outbox.id).in_(row_ids), col(Outbox.status) == "pending")
                        .values(status="dropped", error=reason))
    return done.rowcount


__all__ = ["DEFAULT_ACTION_CAP", "LEASE", "NEEDS_ATTENTION", "ActionCap", "NotHandled", "OutboxRow",
           "OutboxSender", "action_wait", "attention", "cancel_pending", "counts", "drop", "expire_claims",
           "resend", "worker_id"]
