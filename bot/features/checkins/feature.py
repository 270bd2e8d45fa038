"""The check-in feature, as the wiring sees it."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.config import Config
from bot.core.deps import Provide
from bot.core.feature import Feature
from bot.features.checkins.commands import COMMANDS
from bot.features.checkins.hook import CheckinHook
from bot.features.checkins.report import streak_field
from bot.features.checkins.service import Checkins, seed_tasks
from bot.features.checkins.settings import CHECKIN_TASKS
from bot.features.points.api import Ledger


def _seed(session: Session, config: Config) -> None:
    seed_tasks(session, config[CHECKIN_TASKS])


FEATURE = Feature(
    name="checkins",
    web="bot.features.checkins.web",
    services=(Provide(Checkins, lambda config, need: Checkins(need(Ledger))),),
    commands=tuple(COMMANDS),
    hooks=lambda deps: [CheckinHook(deps)],
    report=streak_field,
    seed=_seed, config=(CHECKIN_TASKS,))
