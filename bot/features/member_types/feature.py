"""The member-types feature, as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.member_types.commands import COMMANDS
from bot.features.member_types.hook import SplitsHook
from bot.features.member_types.jobs import DAILY_SPLITS
from bot.features.member_types.report import type_fields
from bot.features.member_types.settings import TypeSettings

FEATURE = Feature(name="member_types", web="bot.features.member_types.web", commands=tuple(COMMANDS),
                  hooks=lambda deps: [SplitsHook()], jobs=(DAILY_SPLITS,), report=type_fields, settings=TypeSettings)
