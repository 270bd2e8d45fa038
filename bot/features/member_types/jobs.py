"""The types' daily job: the day's split values (and the playbook's activity figures), computed
as the day begins."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.member_types.service import keep_splits, type_floor
from bot.features.points.api import Ledger
from bot.features.segments.api import Playbook, keep_activity, keep_assessment


def daily_splits(ctx: JobContext, at: datetime) -> str:
    """The day's split values of the types, then every member's activity figures of the days
    before it, then the community's types, stages and grades as of `at` (segments: the follow-up
    list recomputes only the members changed since), each in a transaction of its own."""
    window = ctx.deps.settings.window_days
    with ctx.deps.engine.begin() as conn:
        n = keep_splits(conn, at, window)
    with ctx.deps.engine.begin() as conn:
        members = keep_activity(conn, at.date(), ctx.deps.service(Playbook), window)
    with ctx.deps.engine.begin() as conn:
        assessed = keep_assessment(conn, at, ctx.deps.service(Playbook), ctx.deps.service(Ledger).levels, window,
                                   type_floor(ctx.deps.settings))
    return (f"split values of {at.date()} kept for {n} scopes, activity figures for {members} members, "
            f"the assessment of {assessed}")


def splits_trigger(settings: Settings) -> CronTrigger:
    return CronTrigger(hour=0, minute=1, timezone=settings.tz)


DAILY_SPLITS = Job("daily_splits", daily_splits, splits_trigger)
