"""The tags feature, as the wiring sees it."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.config import Config
from bot.core.deps import Provide
from bot.core.feature import Feature
from bot.features.tags.commands import COMMANDS
from bot.features.tags.hook import TaggingHook
from bot.features.tags.jobs import DAILY_TAGS
from bot.features.tags.report import tag_fields
from bot.features.tags.service import Tagging, seed_rules
from bot.features.tags.settings import TAG_GROUPS, TAG_RULES
from tagging.matcher import get_tokenizer


def _seed(session: Session, config: Config) -> None:
    seed_rules(session.connection(), config[TAG_RULES], config[TAG_GROUPS])


FEATURE = Feature(
    name="tags",
    web="bot.features.tags.web",
    services=(Provide(Tagging, lambda config, need: Tagging(get_tokenizer())),),
    commands=tuple(COMMANDS),
    hooks=lambda deps: [TaggingHook(deps.service(Tagging))],
    report=tag_fields,
    seed=_seed,
    jobs=(DAILY_TAGS,), config=(TAG_RULES, TAG_GROUPS))
