"""The points feature (ledger, levels, speaking points), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.points import web
from bot.features.points.commands import COMMANDS
from bot.features.points.report import points_fields
from bot.features.points.settings import BENEFITS, LEVELS
from bot.features.points.speaking import SpeakingHook

FEATURE = Feature(
    name="points",
    commands=tuple(COMMANDS),
    hooks=lambda deps: [SpeakingHook(deps.ledger)],
    report=points_fields,
    templates=web.TEMPLATES,
    member=web.MEMBER,
    csv=web.CSV,
    routes=web.add_routes, config=(LEVELS, BENEFITS))
