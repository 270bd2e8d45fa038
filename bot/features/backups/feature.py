"""The backups feature (the nightly backup job), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.backups.jobs import NIGHTLY_BACKUP
from bot.features.backups.settings import BackupSettings

FEATURE = Feature(name="backups", jobs=(NIGHTLY_BACKUP,), settings=BackupSettings)
