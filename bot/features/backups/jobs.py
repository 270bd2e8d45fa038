"""The nightly backup: a consistent copy of the store in QUNGUAN_BACKUP_DIR (off while it is
empty), the newest QUNGUAN_BACKUP_KEEP kept. It runs where every store-wide job runs, in the
process that leads the scheduler, so several runs on one store make one backup a night."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.backups.settings import BackupSettings
from bot.store.backup import backup, human_size, sqlite_path
from tiers.spec import parse_clock

PREFIX = "qunguan-"


def nightly_backup(ctx: JobContext, at: datetime) -> str:
    settings = ctx.deps.settings
    own = settings.of(BackupSettings)
    if not own.backup_dir:
        return "nightly backup off (QUNGUAN_BACKUP_DIR is empty)"
    folder = Path(own.backup_dir)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".db" if sqlite_path(settings.database_url) else ".dump"
    path = folder / f"{PREFIX}{at:%Y%m%d-%H%M%S}{suffix}"
    done = backup(settings.database_url, path, force=True)
    removed = prune(folder, own.backup_keep)
    return (f"backup {path}: {human_size(done.size or 0)}, {sum(done.rows.values())} rows; "
            f"{len(removed)} older removed")


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` nightly backups in `folder` (only the job's own files:
    their names sort by time)."""
    ours = sorted(p for p in folder.iterdir()
                  if p.is_file() and p.name.startswith(PREFIX) and p.suffix in (".db", ".dump"))
    old = ours[:-keep] if keep else ours
    for p in old:
        p.unlink()
    return old


def backup_trigger(settings: Settings) -> CronTrigger:
    when = parse_clock(settings.of(BackupSettings).backup_time)
    return CronTrigger(hour=when.hour, minute=when.minute, timezone=settings.tz)


NIGHTLY_BACKUP = Job("nightly_backup", nightly_backup, backup_trigger)
