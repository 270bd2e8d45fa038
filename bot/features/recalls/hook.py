"""The recalls hook: a recall that names its message un-counts that message."""

from __future__ import annotations

import logging

from bot.core.deps import Deps
from bot.core.events import Event, Recall
from bot.core.pipeline import Batch, Hook
from bot.features.points.api import Ledger
from bot.features.recalls.service import Taken, uncount

log = logging.getLogger(__name__)


class RecallHook(Hook):
    name = "recalls"
    after = ("points",)  # reads the points hook's Speaking of this batch

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._taken: tuple[Batch, Taken] | None = None

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Recall) and event.message:
            undone = uncount(batch, self.deps.service(Ledger), event, self._taken_in(batch))
            if undone:
                log.info("撤回 / recall %s: message %s no longer counts (%s)", event.id, event.message, undone)

    def _taken_in(self, batch: Batch) -> Taken:
        """This batch's speaking points taken back, settled again at each later flush (after the
        speaking hook's, which was registered at the batch's start)."""
        if self._taken is None or self._taken[0] is not batch:
            taken = Taken(self.deps.service(Ledger))
            batch.flush_hooks.append(taken.flush)
            self._taken = (batch, taken)
        return self._taken[1]

    def reset(self) -> None:
        self._taken = None
