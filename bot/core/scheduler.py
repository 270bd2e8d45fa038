"""Daily jobs on APScheduler's AsyncIOScheduler, in the community's time zone, with their
schedule kept in the same database so it survives restarts.

Each feature declares its jobs (`Job`): plain functions of the services and an explicit
"now", run in a worker thread. Jobs of the store run once per community, in the process that
leads the scheduler (bot.core.leader); a job `per_account` (asking this account's WeChat for
its rooms' rosters) runs in every process, for its own account, on a schedule in memory.
Jobs in a persistent store are referenced by name, not by closure, so the store only holds
`run_job` and the job's id; `run_job` finds the job and the running services in `RUNNING`.
Tests call a job's function directly with a "now" instead of waiting for the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.core.deps import Deps
from bot.core.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

MISFIRE_GRACE_S = 6 * 3600  # a run missed while the bot was down still runs, once, within 6 h


@dataclass(frozen=True)
class JobContext:
    """What a running job may use."""

    deps: Deps
    bot_ids: frozenset[str]  # the bot's own accounts, never listed
    # Asks the chat adapter for fresh rosters of every room (a no-op for adapters without them).
    refresh_rosters: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Job:
    id: str
    work: Callable[[JobContext, datetime], str]  # runs in a thread; returns a line for the log
    trigger: Callable[[Settings], BaseTrigger]
    per_account: bool = False  # runs in every bot process for its own account, not once per store


@dataclass
class Running:
    deps: Deps
    jobs: dict[str, Job]
    bot_ids: Callable[[], frozenset[str]]
    wake: Callable[[], None]  # wakes the outbox sender after a job queued messages
    refresh_rosters: Callable[[], None] = lambda: None


RUNNING: dict[str, Running] = {}


async def run_job(job_id: str, now: datetime | None = None) -> None:
    """The one function the job store references: runs the feature's job by id."""
    running = RUNNING["app"]
    job = running.jobs[job_id]
    at = (now or datetime.now(running.deps.settings.tz)).astimezone(running.deps.settings.tz)
    ctx = JobContext(running.deps, running.bot_ids(), running.refresh_rosters)
    note = await asyncio.to_thread(job.work, ctx, at)
    running.wake()
    log.info("job %s at %s: %s", job_id, at.isoformat(), note)


class ScheduleError(ValueError):
    """A job cannot be scheduled with these settings: the message names the job and why."""


def check_triggers(settings: Settings, jobs: Sequence[Job]) -> None:
    """Build every job's trigger once, before anything runs: a setting that cannot be
    scheduled stops `run` at start with one line, instead of leaving the daily jobs unscheduled
    inside a background task."""
    for job in jobs:
        try:
            job.trigger(settings)
        except Exception as exc:
            raise ScheduleError(f"定时任务 {job.id} 无法安排：{exc}") from exc


def watch(task: asyncio.Task[T], logger: str) -> asyncio.Task[T]:
    """Log a background task that dies, with its traceback, as an ERROR of `logger` (the
    module whose work it does: the admins are told in its words, at most once an hour per
    kind: bot.core.alerts). Returns the task."""

    def done(t: asyncio.Task[T]) -> None:
        exc = None if t.cancelled() else t.exception()
        if exc is not None:
            logging.getLogger(logger).error("background task %s died", t.get_name(),
                                            exc_info=(type(exc), exc, exc.__traceback__))

    task.add_done_callback(done)
    return task


def start_scheduler(deps: Deps, jobs: Sequence[Job], *, bot_ids: Callable[[], frozenset[str]],
                    wake: Callable[[], None],
                    refresh_rosters: Callable[[], None] = lambda: None,
                    per_account: bool = False) -> AsyncIOScheduler:
    """Start the scheduler with the features' jobs of the store (or, with `per_account`, this
    process's own jobs, kept in memory); must run inside the event loop.

    It starts paused so the stored schedule is loaded first: a job that already exists
    keeps its stored next run time, so a run missed while the bot was down fires once on
    resume (within the grace period) instead of being pushed to tomorrow by a re-add.
    """
    tz = deps.settings.tz
    store: BaseJobStore = (MemoryJobStore() if per_account
                           else SQLAlchemyJobStore(engine=deps.engine, tablename="scheduled_jobs"))
    scheduler = AsyncIOScheduler(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
        timezone=tz,
    )
    RUNNING["app"] = Running(deps, {j.id: j for j in jobs}, bot_ids, wake, refresh_rosters)
    scheduler.start(paused=True)
    for job in jobs:
        if job.per_account != per_account:
            if not per_account and scheduler.get_job(job.id):
                scheduler.remove_job(job.id)  # stored by a release that ran it once per store
            continue
        trigger = job.trigger(deps.settings)
        stored = scheduler.get_job(job.id)
        if stored is None:
            scheduler.add_job(run_job, trigger, args=[job.id], id=job.id)
        elif str(stored.trigger) != str(trigger):  # the configured time changed
            scheduler.reschedule_job(job.id, trigger=trigger)
    scheduler.resume()
    return scheduler
