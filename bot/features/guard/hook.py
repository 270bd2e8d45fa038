"""The guard hook: every message in a guarded room is judged before anything takes it (a check-in
with a link still counts; the guard decides on its own); rosters say who owns the group; a
blocklisted member's join is told to the admins."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.deps import Deps
from bot.core.events import Event, Join, Message, Roster
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.guard import service


class GuardHook(Hook):
    name = "guard"
    priority = -1  # judges every message before anything (a check-in, a command) takes it

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._watch = service.Watch()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        # Read per batch from the store: another process may have turned a room's guard on.
        if batch.silent or not any(isinstance(e, Message) and e.room for e in events):
            self._watch = service.Watch()
            return
        self._watch = service.watch(batch.conn, self.deps)

    def handle(self, batch: Batch, msg: Message) -> bool:
        if msg.room is not None and msg.room in self._watch.rooms:
            service.check(batch, self.deps, msg, self._watch)
        return False  # never takes the message: a check-in or a command goes on as usual

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Roster) and (event.owner or event.admins):
            service.note_roles(batch.conn, event.room, event.owner, event.admins, epoch(event.ts))
        elif isinstance(event, Join) and not batch.silent:
            service.on_rejoin(batch, self.deps, event.room, event.member, event.member_name, event.ts)
