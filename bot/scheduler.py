"""Daily jobs on APScheduler's AsyncIOScheduler, in the community's time zone, with their
schedule kept in the same database so it survives restarts.

Jobs in a persistent store are referenced by name, not by closure, so each job is a
module-level function that finds the running app's services in `RUNNING`. Tests call the
job functions directly with an explicit "now" instead of waiting for the clock.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

RUNNING: dict[str, Any] = {}  # "app": the App whose services the jobs use

MISFIRE_GRACE_S = 6 * 3600  # a run missed while the bot was down still runs, once, within 6 h


async def daily_tags(now: datetime | None = None) -> None:
    """Drop expired tags and re-evaluate count rules as their windows slide (just after
    local midnight, when a day leaves every window)."""
    app = RUNNING["app"]
    at = now or datetime.now(app.settings.tz)

    def work() -> None:
        with app.deps.engine.begin() as conn:
            app.deps.tagging.daily(conn, int(at.timestamp()), app.settings.tz)

    await asyncio.to_thread(work)
    log.info("daily tag maintenance done for %s", at.isoformat())


async def daily_followup(now: datetime | None = None) -> None:
    """DM each operator today's follow-up list (once per local day, whatever happens)."""
    from bot.followup import send_daily
    from bot.pipeline import enqueue

    app = RUNNING["app"]
    at = (now or datetime.now(app.settings.tz)).astimezone(app.settings.tz)

    def work() -> int:
        with app.deps.engine.begin() as conn:
            out = send_daily(conn, app.deps, at)
            if out:
                enqueue(conn, out, at)
            return len(out)

    sent = await asyncio.to_thread(work)
    wake = getattr(getattr(app, "sender", None), "wake", None)
    if wake is not None:
        wake.set()
    log.info("daily follow-up lists queued %s messages for %s", sent, at.isoformat())


def followup_trigger(settings: Any) -> CronTrigger:
    hour, _, minute = settings.followup_time.partition(":")
    return CronTrigger(hour=int(hour), minute=int(minute or 0), timezone=settings.tz)


def start_scheduler(app: Any) -> AsyncIOScheduler:
    """Start the scheduler with the daily jobs; must run inside the event loop.

    It starts paused so the stored schedule is loaded first: a job that already exists
    keeps its stored next run time, so a run missed while the bot was down fires once on
    resume (within the grace period) instead of being pushed to tomorrow by a re-add.
    """
    tz = app.settings.tz
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=app.deps.engine, tablename="scheduled_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
        timezone=tz,
    )
    RUNNING["app"] = app
    scheduler.start(paused=True)
    jobs = {
        "daily_tags": (daily_tags, CronTrigger(hour=0, minute=5, timezone=tz)),
        "daily_followup": (daily_followup, followup_trigger(app.settings)),
    }
    for job_id, (func, trigger) in jobs.items():
        job = scheduler.get_job(job_id)
        if job is None:
            scheduler.add_job(func, trigger, id=job_id)
        elif str(job.trigger) != str(trigger):  # the configured time changed
            scheduler.reschedule_job(job_id, trigger=trigger)
    scheduler.resume()
    return scheduler
