"""The trends feature (the 趋势 page and the weekly report), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.trends import web
from bot.features.trends.jobs import WEEKLY_REPORT
from bot.features.trends.settings import TrendSettings

FEATURE = Feature(name="trends", jobs=(WEEKLY_REPORT,), routes=web.add_routes, templates=web.TEMPLATES,
                  nav=web.NAV, overview=web.OVERVIEW, settings=TrendSettings)
