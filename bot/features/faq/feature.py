"""The FAQ feature (问答, unanswered 1:1 questions), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.faq.commands import COMMANDS
from bot.features.faq.hook import FaqHook
from bot.features.faq.service import Answers
from bot.features.tags.api import Tagging

FEATURE = Feature(
    name="faq",
    web="bot.features.faq.web",
    commands=tuple(COMMANDS),
    hooks=lambda deps: [FaqHook(deps, Answers(deps.service(Tagging).tokenizer))],
)
