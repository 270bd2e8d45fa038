"""The referrals hook: a join's inviter is stored; at each local day's start, referrals who
stayed a week and spoke pay their inviter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.core.deps import Deps
from bot.core.events import Event, Join
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.points.api import Award, Ledger, announce_level_ups
from bot.features.referrals.service import due_rewards, mark_rewarded, record_referral
from bot.features.referrals.settings import ReferralSettings


class ReferralHook(Hook):
    name = "referrals"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._day: date | None = None  # the local day rewards were last paid for

    def reset(self) -> None:
        self._day = None

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Join) and event.inviter:
            record_referral(batch.conn, event.room, event.member, event.inviter, epoch(event.ts))

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        # A day's payouts come before its first event, whichever batch that event is in.
        if events:
            self._pay(batch, events[0].ts)

    def wants_tick(self, batch: Batch, now: datetime) -> bool:
        return batch.day(now) != self._day

    def on_tick(self, batch: Batch, now: datetime) -> None:
        self._pay(batch, now)

    def _pay(self, batch: Batch, now: datetime) -> None:
        """Pay what is due on `now`'s local day, as of the day's start: asking again later that
        day (after a restart: `_day` is only a shortcut) finds nothing more."""
        today = batch.day(now)
        if today == self._day:
            return
        self._day = today
        points = self.deps.settings.of(ReferralSettings).referral_points
        if points <= 0:
            return
        batch.flush()  # who spoke is in the day counters
        local = batch.local(now)
        midnight = epoch(local.replace(hour=0, minute=0, second=0, microsecond=0))
        awards = []
        for due in due_rewards(batch.conn, today, midnight):
            if mark_rewarded(batch.conn, due, midnight):
                batch.see_member(due.inviter, None, midnight)  # an inviter who never spoke has no row yet
                awards.append(Award(due.inviter, points, "referral", midnight, today, due.room,
                                    reason="邀请的新成员留下并发言", ref=f"referral:{due.room}:{due.member}"))
        if awards:
            batch.flush_names()
            announce_level_ups(batch, self.deps.service(Ledger).award(batch, awards).values())
