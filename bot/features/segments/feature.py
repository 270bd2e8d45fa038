"""The playbook feature (orders, RFM segments, lifecycle stages, ABCD grades), as the wiring sees it."""

from __future__ import annotations

from bot.core.deps import Provide
from bot.core.feature import Feature
from bot.features.segments.commands import COMMANDS
from bot.features.segments.hook import OrdersHook
from bot.features.segments.report import playbook_fields
from bot.features.segments.service import Playbook
from bot.features.segments.settings import GRADES, LIFECYCLE, RFM

FEATURE = Feature(
    name="segments",
    web="bot.features.segments.web",
    services=(Provide(Playbook, lambda config, need: Playbook(config[RFM], config[LIFECYCLE], config[GRADES])),),
    commands=tuple(COMMANDS),
    hooks=lambda deps: [OrdersHook()],
    report=playbook_fields, config=(RFM, LIFECYCLE, GRADES))
