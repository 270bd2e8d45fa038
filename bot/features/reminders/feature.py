"""The reminders feature (back-off reminders to members whose check-in streak broke), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.reminders.commands import COMMANDS
from bot.features.reminders.jobs import DAILY_REMINDERS
from bot.features.reminders.settings import ReminderSettings

FEATURE = Feature(name="reminders", commands=tuple(COMMANDS), jobs=(DAILY_REMINDERS,), settings=ReminderSettings)
