"""The follow-up's daily job: each operator's list, DM'd once per local day."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.adapters.base import Outgoing
from bot.core.pipeline import enqueue
from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.followup.service import issue_daily
from bot.features.followup.texts import list_messages
from tiers.spec import parse_clock


def daily_followup(ctx: JobContext, at: datetime) -> str:
    """DM each operator today's follow-up list (once per local day, whatever happens)."""
    with ctx.deps.engine.begin() as conn:
        issued = issue_daily(conn, ctx.deps, at, ctx.bot_ids)
        out = [Outgoing(text=text, to=i.operator) for i in issued
               for text in list_messages(conn, i, ctx.deps.settings)]
        if out:
            enqueue(conn, out, at)
    return f"follow-up lists queued {len(out)} messages"


def followup_trigger(settings: Settings) -> CronTrigger:
    at = parse_clock(settings.followup_time)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.tz)


DAILY_FOLLOWUP = Job("daily_followup", daily_followup, followup_trigger)
