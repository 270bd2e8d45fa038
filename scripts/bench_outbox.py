#!/usr/bin/env python3
"""How long a 1:1 reply waits behind a room's queue in the outbox.

Queues 200 bulk room messages (10 rooms × 20, under each room's hourly cap) in a real SQLite
store, then drains them through the real OutboxSender with WeChat pacing (1 s + up to 0.5 s
jitter between sends) while 1:1 replies (a member's `/me`) arrive at random moments. Time is
a virtual clock driven by the sender's own pacing sleeps, so the figures are the queueing
policy's and the run takes a second, not four minutes. Prints the p50, p95 and max wait of
a 1:1 reply from its enqueue to its send, with replies first (this release) and, for
comparison, in plain arrival order (before).

    .venv/bin/python scripts/bench_outbox.py [--bulk 200] [--replies 50] [--runs 5]

Each run has its own random arrivals (seeds 1..runs); the figures are over all replies.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.base import Outgoing
from bot.core.outbox import BULK, OutboxSender
from bot.core.pipeline import enqueue
from bot.store.db import open_engine
from bot.store.models import Outbox, table_of

SEND_LATENCY = 0.02  # seconds the gateway takes to accept a text (measured 10-20 ms on loopback)


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


class RecordingAdapter:
    paced = True
    self_id = "wxid_bot"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sent_at: dict[str, float] = {}

    async def send(self, out: Outgoing) -> None:
        self.clock.t += SEND_LATENCY
        self.sent_at[out.text] = self.clock.t


async def run(bulk: int, replies: int, seed: int, replies_first: bool) -> list[float]:
    rng = random.Random(seed)
    random.seed(seed)  # the sender's pacing jitter: the same figures on every run
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'q.db'}")
        clock = Clock()
        adapter = RecordingAdapter(clock)
        start = clock.t
        with engine.begin() as conn:
            enqueue(conn, [Outgoing(text=f"bulk {i}", room=f"r{i % 10}@chatroom") for i in range(bulk)],
                    datetime.fromtimestamp(start, UTC))
        # Replies arrive while the queue drains (which takes about 1.25 s × bulk).
        arrivals = sorted(start + rng.uniform(0, 1.25 * bulk * 0.8) for _ in range(replies))
        arrived: dict[str, float] = {}
        sender: OutboxSender

        def deliver_arrivals() -> None:
            while arrivals and arrivals[0] <= clock.t:
                at = arrivals.pop(0)
                text = f"reply {len(arrived)}"
                arrived[text] = at
                out = Outgoing(text=text, to=f"wxid_m{len(arrived)}", reply_to=f"m{len(arrived)}")
                with engine.begin() as conn:
                    enqueue(conn, [out], datetime.fromtimestamp(at, UTC))
                    if not replies_first:  # before: one queue in arrival order
                        conn.execute(table_of(Outbox).update().where(table_of(Outbox).c.text == text)
                                     .values(priority=BULK))
                if replies_first:
                    sender.wake.set()  # as App.handle does after queueing a reply

        async def sleep(seconds: float) -> None:
            target = clock.t + seconds
            while arrivals and arrivals[0] <= target:
                clock.t = arrivals[0]
                deliver_arrivals()
            clock.t = target

        sender = OutboxSender(engine, adapter, now=clock, sleep=sleep)  # type: ignore[arg-type]
        sender.wake.clear()
        while arrivals or await asyncio.to_thread(_pending, engine):
            sent = await sender.drain()
            if not sent:
                await sleep(0.5)
            deliver_arrivals()
        engine.dispose()
        return [adapter.sent_at[t] - a for t, a in arrived.items()]


def _pending(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(table_of(Outbox).select().where(table_of(Outbox).c.status == "pending")).first() is not None


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulk", type=int, default=200)
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for replies_first, label in ((True, "replies first (this release)"), (False, "arrival order (before)")):
        waits = [w for seed in range(1, args.runs + 1)
                 for w in asyncio.run(run(args.bulk, args.replies, seed, replies_first))]
        print(f"{label}: {len(waits)} 1:1 replies behind {args.bulk} queued room messages: "
              f"wait p50 {statistics.median(waits):.2f} s, p95 {p95(waits):.2f} s, max {max(waits):.2f} s")


if __name__ == "__main__":
    main()
