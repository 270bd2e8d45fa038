"""The roster job: every 6 hours, fresh rosters of every room, to catch the leaves WeChat never announces.
Each bot process asks its own account for the rooms it is in (`per_account`): the leader's
account does not see the other accounts' groups."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings

ROSTER_EVERY_HOURS = 6


def refresh_rosters(ctx: JobContext, at: datetime) -> str:
    ctx.refresh_rosters()
    return "rosters of every room requested"


def _trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(hours=ROSTER_EVERY_HOURS, timezone=settings.tz)


ROSTER_REFRESH = Job("roster_refresh", refresh_rosters, _trigger, per_account=True)
