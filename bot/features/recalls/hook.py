"""The recalls hook: a recall that names its message un-counts that message."""

from __future__ import annotations

import logging

from bot.core.deps import Deps
from bot.core.events import Event, Recall
from bot.core.pipeline import Batch, Hook
from bot.features.points.api import Ledger
from bot.features.recalls.service import uncount

log = logging.getLogger(__name__)


class RecallHook(Hook):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Recall) and event.message:
            undone = uncount(batch, self.deps.service(Ledger), event)
            if undone:
                log.info("撤回 / recall %s: message %s no longer counts (%s)", event.id, event.message, undone)
