"""The private account through Wechaty: friendship events as `friend` events, the friend list
as a `contacts` event, and the account actions the outbox asks for (accept a request, add a
friend to a group, remove a member from one). Raw puppet-service calls, like the rest of the adapter."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from bot.adapters.base import Outgoing
from bot.core.events import MAX_TEXT, Contacts, Event, Friend, RosterMember, clean_name

log = logging.getLogger(__name__)

# wechaty-grpc's FriendshipType and ContactType values.
CONFIRM, RECEIVE = 1, 2
PERSONAL = 1
CONTACT_CONCURRENCY = 8  # contact payloads fetched at once for the friend list
ACTIONS = ("accept", "room_add", "room_del")


def _clip(name: str | None) -> str | None:
    """A name as the event contract takes it (bot.core.events.clean_name: never refused)."""
    return clean_name(name)


async def friendship_events(stub: Any, friendship_id: str, self_id: str | None,
                            name_of: Any) -> list[Event]:
    """A puppet `friendship` event: a request (with its greeting) or a confirmation."""
    payload = await stub.friendship_payload(id=friendship_id)
    member = payload.contact_id
    if not member or member == self_id:
        return []
    now = datetime.now(UTC)
    if payload.type == RECEIVE:
        # The request's own id: it is what accepting it takes, and a redelivery is one event.
        return [Friend(id=friendship_id, ts=now, member=member, status="requested",
                       member_name=_clip(await name_of(member)),
                       hello=(payload.hello or "")[:MAX_TEXT] or None, account=self_id)]
    if payload.type == CONFIRM:
        return [accepted(friendship_id, member, self_id, _clip(await name_of(member)))]
    return []  # a verification of the account's own request: nothing to record


def accepted(request_id: str, member: str, account: str | None, name: str | None = None) -> Friend:
    """The friendship exists (the account accepted `request_id`, or the gateway confirmed it)."""
    return Friend(id=f"friend-accepted:{request_id}", ts=datetime.now(UTC), member=member,
                  status="accepted", member_name=name, account=account)


async def contacts_event(stub: Any, self_id: str | None) -> Contacts | None:
    """The account's friends now: every contact's payload, a few at a time (only people who
    are friends, not official accounts or strangers met in groups)."""
    ids = [c for c in (await stub.contact_list()).ids if c and c != self_id]
    limit = asyncio.Semaphore(CONTACT_CONCURRENCY)
    found: dict[str, str | None] = {}

    async def fetch(contact: str) -> None:
        async with limit:
            p = await stub.contact_payload(id=contact)
        if p.friend and p.type in (PERSONAL, 0):
            found[contact] = _clip(p.name)

    await asyncio.gather(*(fetch(c) for c in ids))
    if not found:
        return None  # an empty list must never read as "every friend left"
    return Contacts(id=f"contacts:{time.time_ns()}", ts=datetime.now(UTC),
                    members=tuple(RosterMember(m, found[m]) for m in ids if m in found), account=self_id)


async def act(stub: Any, out: Outgoing, self_id: str | None) -> list[Event]:
    """Do one account action; returns the events it brings about (an accepted friendship)."""
    if out.action == "accept":
        await stub.friendship_accept(id=out.text)
        return [accepted(out.text, out.to, self_id)] if out.to else []
    if out.action == "room_add":
        if not out.room or not out.to:
            raise ValueError("room_add 需要 room 和 to / room_add needs room and to")
        await stub.room_add(id=out.room, contact_id=out.to)
        return []
    if out.action == "room_del":  # the guard's removal, where the account owns or administers the group
        if not out.room or not out.to:
            raise ValueError("room_del 需要 room 和 to / room_del needs room and to")
        await stub.room_del(id=out.room, contact_id=out.to)
        return []
    raise ValueError(f"不认识的操作 {out.action!r} / unknown action {out.action!r}")
