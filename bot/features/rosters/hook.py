"""The rosters hook: rosters applied as they come, joins queued for a welcome, welcomes sent on time."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.core.deps import Deps
from bot.core.events import Event, Join, Leave, Roster
from bot.core.pipeline import Batch, Hook
from bot.features.rosters.merging import NameMerge
from bot.features.rosters.service import apply_roster
from bot.features.rosters.welcome import due_welcomes, forget_join, queue_join, welcome_text

log = logging.getLogger(__name__)


class RosterHook(Hook):
    name = "rosters"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.names = NameMerge()

    def reset(self) -> None:
        self.names.reset()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        self.names.seen(batch, events)

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Roster):
            merged = self.names.roster(batch, event)
            if merged:
                log.info("roster %s of room %s: %d name-only members merged into their wxid", event.id,
                         event.room, merged)
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
            text = welcome_text(batch.conn, welcome, self.deps.welcome_parts)
            batch.send(welcome.outgoing(text))
