"""The follow-up feature, as the wiring sees it."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.config import Config
from bot.core.feature import Feature
from bot.features.followup import web
from bot.features.followup.commands import COMMANDS
from bot.features.followup.jobs import DAILY_FOLLOWUP
from bot.features.followup.service import seed_operators
from bot.features.followup.settings import OPERATORS, FollowupSettings


def _seed(session: Session, config: Config) -> None:
    seed_operators(session.connection(), config[OPERATORS])


FEATURE = Feature(name="followup", commands=tuple(COMMANDS), seed=_seed, jobs=(DAILY_FOLLOWUP,),
                  routes=web.add_routes, templates=web.TEMPLATES, nav=web.NAV, member=web.MEMBER,
                  settings=FollowupSettings, config=(OPERATORS,))
