"""The FAQ feature (问答, unanswered 1:1 questions), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.faq import web
from bot.features.faq.commands import COMMANDS
from bot.features.faq.hook import FaqHook
from bot.features.faq.service import Answers

FEATURE = Feature(
    name="faq",
    commands=tuple(COMMANDS),
    hooks=lambda deps: [FaqHook(deps, Answers(deps.tagging.tokenizer))],
    routes=web.add_routes,
    templates=web.TEMPLATES,
    nav=web.NAV,
)
