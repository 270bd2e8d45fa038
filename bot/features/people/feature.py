"""The people feature (console login links, per-room admins, roles), as the wiring sees it."""

from __future__ import annotations

from bot.core.deps import Provide, Roles
from bot.core.feature import Feature
from bot.features.people.commands import COMMANDS
from bot.features.people.service import StoreRoles

FEATURE = Feature(name="people", web="bot.features.people.web", commands=tuple(COMMANDS),
                  services=(Provide(Roles, lambda config, need: StoreRoles()),))
