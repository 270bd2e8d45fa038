"""The nightly backup's settings (QUNGUAN_BACKUP_*)."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.settings import FeatureSettings, clock_time


class BackupSettings(FeatureSettings):
    backup_dir: str = ""
    """Folder of the nightly backups (made by the run that leads the daily jobs); empty: none."""

    backup_keep: int = Field(default=7, ge=1)
    """Nightly backups kept in `backup_dir`: older ones are deleted after each new one."""

    backup_time: str = "03:30"
    """Local time of the nightly backup."""

    _time = field_validator("backup_time")(clock_time)
