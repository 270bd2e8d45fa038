"""The one protocol every adapter implements: deliver canonical events, send text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.core.events import Event


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A text the bot sends: into a room (optionally @mentioning people) or 1:1 to `to`."""

    text: str
    room: str | None = None
    to: str | None = None
    mentions: tuple[str, ...] = ()
    reply_to: str | None = None
    account: str | None = None  # the bot account to send it through (bot.core.accounts.route)
    # An account action instead of a text: "accept" (the friend request whose id is `text`,
    # from `to`), "room_add" (add `to` to `room`; `text` names the group for people) or "room_del"
    # (remove `to` from `room`, through an account that owns or administers it).
    action: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "room": self.room,
            "to": self.to,
            "text": self.text,
            "mentions": list(self.mentions),
            "reply_to": self.reply_to,
        }
        if self.action:
            out["action"] = self.action
        return out


EventSink = Callable[[Event], Awaitable[None]]


class Adapter(Protocol):
    """Source of events and sink of replies.

    `run(sink)` delivers every incoming event to `sink`, in order, awaiting each, and returns
    when the source is exhausted or stopped. `send` delivers one outgoing text; it raises on
    failure so the outbox can retry.
    """

    paced: bool  # True when sends reach a real account and must respect its risk controls
    self_id: str | None  # the account the bot speaks as, once logged in (None: no account)

    async def run(self, sink: EventSink) -> None: ...

    async def send(self, out: Outgoing) -> None: ...


# What some adapters can do beyond the protocol above, found with isinstance (never getattr).

@runtime_checkable
class RefusesEvents(Protocol):
    """Tells whoever typed an event that it was refused, and why (the console's chat)."""

    def refused(self, reason: str) -> None: ...


@runtime_checkable
class RequestsRosters(Protocol):
    """Asks the account for the member lists of its rooms (one room, or every room), which
    come back as roster events (WeChat)."""

    def request_rosters(self, room: str | None = None) -> None: ...


@runtime_checkable
class ReportsConnection(Protocol):
    """Knows whether its connection to the account is up right now (WeChat)."""

    @property
    def connected(self) -> bool: ...


class MaybeDelivered(Exception):
    """A send that failed after the text may already have gone out: the outbox marks it unknown
    for a person to decide instead of sending it again (a double message is worse)."""
