"""The recalls feature (撤回), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.recalls.hook import RecallHook

FEATURE = Feature(name="recalls", hooks=lambda deps: [RecallHook(deps)])
