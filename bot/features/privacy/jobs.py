"""The privacy feature's daily job: message texts older than the retention are erased."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.privacy.eraser import scrub_file
from bot.features.privacy.service import RETENTION_TABLES, erase_old_texts
from bot.features.privacy.settings import PrivacySettings


def retention(ctx: JobContext, at: datetime) -> str:
    days = ctx.deps.settings.of(PrivacySettings).retention_days
    if not days:
        return "retention off"
    with ctx.deps.engine.begin() as conn:
        done = erase_old_texts(conn, int((at - timedelta(days=days)).timestamp()))
    if done.total:
        scrub_file(ctx.deps.engine, RETENTION_TABLES, full=False)
    return (f"texts older than {days} days erased: {done.messages} messages, {done.notes} notes, "
            f"{done.excerpts} excerpts, {done.replies} replies")


def retention_trigger(settings: Settings) -> CronTrigger:
    return CronTrigger(hour=4, minute=30, timezone=settings.tz)


RETENTION = Job("retention", retention, retention_trigger)
