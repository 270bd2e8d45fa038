"""The playbook feature (orders, RFM segments, lifecycle stages, ABCD grades), as the wiring sees it."""

from __future__ import annotations

from bot.core.deps import Provide
from bot.core.feature import Feature
from bot.features.segments import web
from bot.features.segments.commands import COMMANDS
from bot.features.segments.hook import OrdersHook
from bot.features.segments.report import playbook_fields
from bot.features.segments.service import Playbook
from bot.features.segments.settings import GRADES, LIFECYCLE, RFM

FEATURE = Feature(
    name="segments",
    services=(Provide(Playbook, lambda config, need: Playbook(config[RFM], config[LIFECYCLE], config[GRADES])),),
    commands=tuple(COMMANDS),
    hooks=lambda deps: [OrdersHook()],
    report=playbook_fields,
    routes=web.add_routes,
    templates=web.TEMPLATES, nav=web.NAV, member=web.MEMBER, csv=web.CSV, config=(RFM, LIFECYCLE, GRADES))
