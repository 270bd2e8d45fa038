"""The outbox feature, as the wiring sees it: its console page (delivery itself is bot.core.outbox)."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.outbox import web

FEATURE = Feature(name="outbox", routes=web.add_routes, templates=web.TEMPLATES, nav=web.NAV)
