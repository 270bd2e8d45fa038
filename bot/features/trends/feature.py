"""The trends feature (the 趋势 page and the weekly report), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.trends.jobs import WEEKLY_REPORT
from bot.features.trends.settings import TrendSettings

FEATURE = Feature(name="trends", web="bot.features.trends.web", jobs=(WEEKLY_REPORT,), settings=TrendSettings)
