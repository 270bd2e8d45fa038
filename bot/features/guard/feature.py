"""The guard feature (防广告, blocklist, 申诉), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.guard.commands import COMMANDS
from bot.features.guard.hook import GuardHook

FEATURE = Feature(
    name="guard",
    web="bot.features.guard.web",
    commands=tuple(COMMANDS),
    hooks=lambda deps: [GuardHook(deps)],
)
