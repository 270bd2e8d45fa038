"""The rosters hook: rosters applied as they come, joins queued for a welcome, welcomes sent on time."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.events import Event, Join, Leave, Roster
from bot.core.pipeline import Batch, Hook
from bot.deps import Deps
from bot.features.rosters.service import apply_roster
from bot.features.rosters.welcome import due_welcomes, forget_join, queue_join, welcome_text

log = logging.getLogger(__name__)


class RosterHook(Hook):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Roster):
            result = apply_roster(batch, event)
            if result.ignored:
                log.info("roster %s of room %s ignored: %s", event.id, event.room, result.ignored)
            else:
                log.info("roster %s of room %s: %d listed, %d new, %d back, %d left", event.id,
                         event.room, len(event.members), len(result.added), len(result.returned),
                         len(result.left))
        elif isinstance(event, Join) and not batch.silent and event.member not in batch.bot_ids:
            queue_join(batch.conn, event)
        elif isinstance(event, Leave):
            forget_join(batch.conn, event.room, event.member)

    def wants_tick(self, batch: Batch, now: datetime) -> bool:
        return not batch.silent  # a silent batch sends no welcome (and queues none)

    def on_tick(self, batch: Batch, now: datetime) -> None:
        for welcome in due_welcomes(batch.conn, now):
            text = welcome_text(batch.conn, welcome)
            batch.send(welcome.outgoing(text))
