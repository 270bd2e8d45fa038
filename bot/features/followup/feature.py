"""The follow-up feature, as the wiring sees it."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.config import Config
from bot.core.feature import Feature
from bot.features.followup.commands import COMMANDS
from bot.features.followup.jobs import DAILY_FOLLOWUP
from bot.features.followup.service import seed_operators
from bot.features.followup.settings import OPERATORS, FollowupSettings


def _seed(session: Session, config: Config) -> None:
    seed_operators(session.connection(), config[OPERATORS])


FEATURE = Feature(name="followup", web="bot.features.followup.web", commands=tuple(COMMANDS), seed=_seed,
                  jobs=(DAILY_FOLLOWUP,), settings=FollowupSettings, config=(OPERATORS,))
