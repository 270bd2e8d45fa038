"""The rosters feature (room members, welcomes, the roster job), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.rosters.commands import COMMANDS
from bot.features.rosters.hook import RosterHook
from bot.features.rosters.jobs import ROSTER_REFRESH

FEATURE = Feature(
    name="rosters",
    web="bot.features.rosters.web",
    commands=tuple(COMMANDS),
    hooks=lambda deps: [RosterHook(deps)],
    jobs=(ROSTER_REFRESH,),
)
