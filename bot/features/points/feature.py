"""The points feature (ledger, levels, speaking points), as the wiring sees it."""

from __future__ import annotations

from bot.core.config import Config
from bot.core.deps import Need, Provide
from bot.core.feature import Feature
from bot.features.points.commands import COMMANDS
from bot.features.points.report import points_fields
from bot.features.points.service import Ledger
from bot.features.points.settings import BENEFITS, LEVELS
from bot.features.points.speaking import SpeakingHook


def _ledger(config: Config, need: Need) -> Ledger:
    return Ledger(config[LEVELS], config[BENEFITS])  # both checked when the file was read


FEATURE = Feature(
    name="points",
    web="bot.features.points.web",
    services=(Provide(Ledger, _ledger),),
    commands=tuple(COMMANDS),
    hooks=lambda deps: [SpeakingHook(deps.service(Ledger))],
    report=points_fields, config=(LEVELS, BENEFITS))
