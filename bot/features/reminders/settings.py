"""The reminders feature's settings (QUNGUAN_REMINDER_TIME)."""

from __future__ import annotations

from pydantic import field_validator

from bot.core.settings import FeatureSettings, clock_time


class ReminderSettings(FeatureSettings):
    reminder_time: str = "10:00"
    """Local time of the daily check-in reminders (tasks with reminders on)."""

    _time = field_validator("reminder_time")(clock_time)
