"""The help feature, as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.help.commands import COMMANDS

FEATURE = Feature(name="help", commands=tuple(COMMANDS))
