"""Paced acceptance on an explicit clock: 200 friend requests in a minute are accepted at the
configured rate through the real outbox sender, the rest wait in the store, none is lost or
accepted twice across a restart."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from sqlalchemy import func, select
from sqlmodel import col

from bot.adapters.memory import MemoryAdapter
from bot.core.outbox import ActionCap, OutboxSender, action_wait
from bot.core.settings import Settings
from bot.features.friends.service import action_caps
from bot.store.models import Outbox
from bot.wiring import build
from tests.harness import Bot
from tiers.friends import FriendSettings

CONFIG = '[friends]\nauto_accept = "all"\naccept_per_hour = 30\naccept_per_day = 150\n'
T0 = 1_793_498_400  # 2026-11-01 08:00 +08:00, when the burst starts


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


class PacedMemory(MemoryAdapter):
    paced = True  # as a real WeChat account: the outbox paces and caps what it does


def sender_for(engine, adapter, clock: Clock, settings) -> OutboxSender:
    return OutboxSender(engine, adapter, now=clock, sleep=clock.sleep, jitter=0,
                        action_caps=action_caps(settings))


async def run_until(sender: OutboxSender, clock: Clock, end: float) -> None:
    """Drain whenever something is due, jumping the clock to the next due row, until `end`."""
    while clock.t < end:
        await sender.drain()
        with sender.engine.connect() as conn:
            due = conn.execute(select(func.min(col(Outbox.next_at))).where(
                col(Outbox.status) == "pending")).scalar()
        if due is None:
            return
        clock.t = min(end, max(clock.t + 1, due))


async def test_200_requests_in_a_minute_are_accepted_at_the_configured_rate_none_lost_across_a_restart(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG, encoding="utf-8")
    bot = Bot(tmp_path, config=path)
    for i in range(200):  # 200 requests within one minute
        bot.feed({"type": "friend", "id": f"fr_{i:03d}", "ts": T0 + i * 60 // 200, "member": f"wxid_{i:03d}",
                  "status": "requested", "hello": "你好"})
    assert bot.scalar("SELECT count(*) FROM outbox WHERE action='accept' AND status='pending'") == 200

    clock = Clock(T0 + 60)
    first = PacedMemory()
    await run_until(sender_for(bot.engine, first, clock, bot.deps.service(FriendSettings)), clock, T0 + 60 + 3599)
    assert len(first.sent) == 30  # one hour: the hourly cap, spread over the hour
    times = [t for (t,) in bot.rows("SELECT sent_at FROM outbox WHERE status='sent' ORDER BY sent_at")]
    assert all(b - a >= 120 for a, b in pairwise(times))  # 3600 / 30: no burst

    # The process stops and a new one starts on the same store: what waited is still queued.
    bot.engine.dispose()
    _, deps = build(Settings(database_url=f"sqlite:///{bot.path}", config=path))
    second = PacedMemory()
    sender = sender_for(deps.engine, second, clock, deps.service(FriendSettings))
    await run_until(sender, clock, T0 + 60 + 86400 - 1)
    assert len(first.sent) + len(second.sent) == 150  # the daily cap
    await run_until(sender, clock, T0 + 3 * 86400)
    accepted = Counter(o.text for o in first.sent + second.sent)
    assert len(accepted) == 200 and set(accepted.values()) == {1}  # each once, none lost
    assert bot.rows("SELECT status, count(*) FROM outbox GROUP BY status") == [("sent", 200)]


def test_action_wait_spreads_actions_and_respects_both_caps():
    cap = ActionCap(per_hour=4, per_day=6)
    assert action_wait(cap, [], 10_000) is None
    assert action_wait(cap, [10_000], 10_100) == 10_900  # 900 s apart
    assert action_wait(cap, [10_000], 10_900) is None
    hour = [10_000, 10_900, 11_800, 12_700]
    assert action_wait(cap, hour, 13_600) is None  # the first has left the hour
    burst = [10_000, 10_100, 10_200, 10_300]  # another process's, say: the hour is full
    assert action_wait(cap, burst, 10_400) == 13_600
    day = [0, 900, 1800, 2700, 20_000, 20_900]
    assert action_wait(cap, day, 30_000) == 86_400  # the day's first must age out
