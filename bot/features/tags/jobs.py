"""The tags' daily job: expired tags dropped, count rules re-evaluated as windows slide."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.tags.service import Tagging


def daily_tags(ctx: JobContext, at: datetime) -> str:
    """Just after local midnight, when a day leaves every window."""
    with ctx.deps.engine.begin() as conn:
        ctx.deps.service(Tagging).daily(conn, int(at.timestamp()), ctx.deps.settings.tz)
    return "tag maintenance done"


def _trigger(settings: Settings) -> CronTrigger:
    return CronTrigger(hour=0, minute=5, timezone=settings.tz)


DAILY_TAGS = Job("daily_tags", daily_tags, _trigger)
