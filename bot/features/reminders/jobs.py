"""The reminders' daily job: reminders due today queued as outreach, outcomes of earlier ones."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.reminders.service import run_reminders
from bot.features.reminders.settings import ReminderSettings
from tiers.spec import parse_clock


def daily_reminders(ctx: JobContext, at: datetime) -> str:
    with ctx.deps.engine.begin() as conn:
        run = run_reminders(conn, ctx.deps, at)
    return f"check-in reminders queued {run.queued}, left out {run.left_out}, outcomes {run.outcomes}"


def reminder_trigger(settings: Settings) -> CronTrigger:
    at = parse_clock(settings.of(ReminderSettings).reminder_time)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.tz)


DAILY_REMINDERS = Job("checkin_reminders", daily_reminders, reminder_trigger)
