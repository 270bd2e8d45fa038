"""The follow-up's daily job: each operator's list, DM'd once per local day."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.adapters.base import Outgoing
from bot.core.pipeline import enqueue
from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.followup.service import issue_daily
from bot.features.followup.settings import FollowupSettings
from bot.features.followup.texts import list_messages
from tiers.spec import parse_clock


def daily_followup(ctx: JobContext, at: datetime) -> str:
    """DM each operator today's follow-up list (once per local day, whatever happens). An admin
    gets one only when it holds something: their list is what no operator covers and what
    waited too long, and 「今天没有需要跟进的成员」 every morning is noise."""
    admins = ctx.deps.settings.admin_ids
    with ctx.deps.engine.begin() as conn:
        issued = [i for i in issue_daily(conn, ctx.deps, at, ctx.bot_ids) if i.items or i.operator not in admins]
        out = [Outgoing(text=text, to=i.operator) for i in issued
               for text in list_messages(conn, i, ctx.deps.settings)]
        if out:
            enqueue(conn, out, at)
    return f"follow-up lists queued {len(out)} messages"


def followup_trigger(settings: Settings) -> CronTrigger:
    at = parse_clock(settings.of(FollowupSettings).followup_time)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.tz)


DAILY_FOLLOWUP = Job("daily_followup", daily_followup, followup_trigger)
