"""The points shop, as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.shop import web
from bot.features.shop.commands import COMMANDS

FEATURE = Feature(name="shop", commands=tuple(COMMANDS), routes=web.add_routes, templates=web.TEMPLATES, nav=web.NAV,
                  member=web.MEMBER)
