"""The outbox feature, as the wiring sees it: its console page (delivery itself is bot.core.outbox)."""

from __future__ import annotations

from bot.core.feature import Feature

FEATURE = Feature(name="outbox", web="bot.features.outbox.web")
