"""The points shop, as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.shop.commands import COMMANDS

FEATURE = Feature(name="shop", web="bot.features.shop.web", commands=tuple(COMMANDS))
