"""The audit feature's settings (QUNGUAN_AUDIT_RETENTION_DAYS)."""

from __future__ import annotations

from pydantic import Field

from bot.core.settings import FeatureSettings


class AuditSettings(FeatureSettings):
    audit_retention_days: int = Field(default=365, ge=0)
    """Audit log entries older than this are deleted by a daily job; 0 keeps them."""
