"""The privacy feature's settings (QUNGUAN_RETENTION_DAYS)."""

from __future__ import annotations

from pydantic import Field

from bot.core.settings import FeatureSettings


class PrivacySettings(FeatureSettings):
    retention_days: int = Field(default=180, ge=0)
    """Message texts older than this are erased by a daily job (counts are kept); 0 keeps them."""
