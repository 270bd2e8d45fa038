"""The audit log's views, as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.audit.commands import COMMANDS
from bot.features.audit.jobs import PRUNE
from bot.features.audit.settings import AuditSettings

FEATURE = Feature(name="audit", web="bot.features.audit.web", commands=tuple(COMMANDS), jobs=(PRUNE,),
                  settings=AuditSettings)
