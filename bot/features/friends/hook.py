"""The friends hook: friend requests, acceptances, removals and friend lists as they come, and
1:1 「进群」 from friends."""

from __future__ import annotations

import logging

from bot.core.deps import Deps
from bot.core.events import Contacts, Event, Friend, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.friends.service import (
    account_of,
    on_accepted,
    on_contacts,
    on_removed,
    on_request,
    wants_group,
)
from tiers.friends import wants_group as asks_for_group

log = logging.getLogger(__name__)


class FriendsHook(Hook):
    name = "friends"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def handle(self, batch: Batch, msg: Message) -> bool:
        if msg.room is not None or msg.kind != "text" or not asks_for_group(msg.text):
            return False
        batch.flush()
        batch.reply(msg, wants_group(batch, self.deps, msg.sender, batch.local(msg.ts)))
        return True

    def on_event(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Friend):
            if event.member in batch.bot_ids:
                return
            at = epoch(event.ts)
            if event.status == "requested":
                result = on_request(batch, self.deps, event)
                log.info("friend request %s from %s: %s (channel %s)", event.id, event.member,
                         result.outcome, result.channel)
            elif event.status == "accepted":
                on_accepted(batch, self.deps, event.member, at, account=account_of(batch, event.account))
            elif not on_removed(batch, event.member, at):
                log.info("removal of %s, who was not known as a friend: recorded", event.member)
        elif isinstance(event, Contacts):
            new, removed = on_contacts(batch, self.deps, event)
            log.info("friend list %s: %d listed, %d new, %d removed", event.id, len(event.members),
                     new, removed)
