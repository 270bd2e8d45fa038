"""The outreach feature (群发 with reach limits, quiet hours and caps; 退订), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.outreach.commands import COMMANDS
from bot.features.outreach.settings import OutreachSettings

FEATURE = Feature(name="outreach", web="bot.features.outreach.web", commands=tuple(COMMANDS), settings=OutreachSettings)
