"""The group rules feature (群规), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.room_rules.commands import COMMANDS
from bot.features.room_rules.service import welcome_part

FEATURE = Feature(name="room_rules", commands=tuple(COMMANDS), welcome=welcome_part)
