"""The trends feature's settings (QUNGUAN_WEEKLY_REPORT)."""

from __future__ import annotations

from pydantic import field_validator

from bot.core.settings import FeatureSettings
from tiers.spec import parse_clock

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly_schedule(value: str) -> tuple[int, int, int] | None:
    """`mon 09:00` as (weekday 0–6, hour, minute); None for `off`. A wrong value raises a
    ValueError saying what is expected."""
    text = value.strip().lower()
    if text in ("off", "none", ""):
        return None
    day, _, clock = text.partition(" ")
    if day not in WEEKDAYS:
        raise ValueError(f"「{value}」应写成星期（mon…sun）加时间，例如 mon 09:00，或 off")
    at = parse_clock(clock)
    return WEEKDAYS.index(day), at.hour, at.minute


class TrendSettings(FeatureSettings):
    weekly_report: str = "mon 09:00"
    """When the admins get the weekly report by DM: a weekday (mon…sun) and a local HH:MM, or off."""

    @field_validator("weekly_report")
    @classmethod
    def _weekly(cls, value: str) -> str:
        weekly_schedule(value)
        return value
