"""The types' daily job: the day's split values, computed as the day begins."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.member_types.service import keep_splits


def daily_splits(ctx: JobContext, at: datetime) -> str:
    with ctx.deps.engine.begin() as conn:
        n = keep_splits(conn, at, ctx.deps.settings.window_days)
    return f"split values of {at.date()} kept for {n} scopes"


def splits_trigger(settings: Settings) -> CronTrigger:
    return CronTrigger(hour=0, minute=1, timezone=settings.tz)


DAILY_SPLITS = Job("daily_splits", daily_splits, splits_trigger)
