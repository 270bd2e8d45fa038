"""The referrals hook: a join's inviter is stored; once a local day, referrals who stayed a
week and spoke pay their inviter."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.events import Event, Join
from bot.core.pipeline import Batch, Hook, epoch
from bot.deps import Deps
from bot.features.points.announce import announce_level_ups
from bot.features.points.service import Award
from bot.features.referrals.service import due_rewards, mark_rewarded, record_referral


class ReferralHook(Hook):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._day: date | None = None  # the local day rewards were last paid for

    def reset(self) -> None:
        self._day = None

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Join) and event.inviter:
            record_referral(batch.conn, event.room, event.member, event.inviter, epoch(event.ts))

    def wants_tick(self, batch: Batch, now: datetime) -> bool:
        return batch.day(now) != self._day

    def on_tick(self, batch: Batch, now: datetime) -> None:
        today = batch.day(now)
        if today == self._day:
            return
        self._day = today
        points = self.deps.settings.referral_points
        if points <= 0:
            return
        batch.flush()  # who spoke is in the day counters
        at = epoch(now)
        awards = []
        for due in due_rewards(batch.conn, at):
            if mark_rewarded(batch.conn, due, at):
                batch.see_member(due.inviter, None, at)  # an inviter who never spoke has no row yet
                awards.append(Award(due.inviter, points, "referral", at, today, due.room,
                                    reason="邀请的新成员留下并发言", ref=f"referral:{due.room}:{due.member}"))
        if awards:
            batch.flush_names()
            announce_level_ups(batch, self.deps.ledger.award(batch, awards).values())
