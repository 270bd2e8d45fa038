"""The outreach feature's settings (QUNGUAN_OUTREACH_*): quiet hours, reach limit, pacing."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.settings import FeatureSettings
from tiers.outreach import parse_quiet_hours


class OutreachSettings(FeatureSettings):
    outreach_quiet_hours: str = "22:00-08:00"
    """Local hours in which no outreach (群发, reminders) is sent: it waits until they end;
    "off" for none."""

    outreach_reach_days: int = Field(default=7, ge=0)
    """A member gets at most one outreach message (群发 or reminder) in this many days."""

    outreach_daily_cap: int = Field(default=200, ge=1)
    """Outreach messages one account sends per local day at most; the rest wait for the next day."""

    outreach_gap_seconds: int = Field(default=30, ge=0)
    """Seconds between two outreach messages of one account."""

    @field_validator("outreach_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value
