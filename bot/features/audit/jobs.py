"""The audit feature's daily job: entries older than the retention (QUNGUAN_AUDIT_RETENTION_DAYS) go."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.core import audit
from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.audit.settings import AuditSettings


def prune_audit(ctx: JobContext, at: datetime) -> str:
    days = ctx.deps.settings.of(AuditSettings).audit_retention_days
    if not days:
        return "audit retention off"
    with ctx.deps.engine.begin() as conn:
        n = audit.prune(conn, int((at - timedelta(days=days)).timestamp()))
    return f"audit entries older than {days} days deleted: {n}"


def prune_trigger(settings: Settings) -> CronTrigger:
    return CronTrigger(hour=4, minute=40, timezone=settings.tz)


PRUNE = Job("audit_prune", prune_audit, prune_trigger)
