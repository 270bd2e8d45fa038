"""The help feature, as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.help.commands import COMMANDS
from bot.features.help.hook import PointerHook

FEATURE = Feature(name="help", commands=tuple(COMMANDS), hooks=lambda deps: [PointerHook()])
