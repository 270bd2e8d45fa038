"""Name-only members (from exports without wxids, or joiners who never spoke) merged into their
wxid when a roster or live WeChat says whose that name is in the room (the rule: bot.core.merge)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col

from bot.core.events import Event, Join, Message, Roster
from bot.core.merge import merge_member, merge_names, names_in_room
from bot.core.names import NAME_PREFIX, derived_id
from bot.core.pipeline import Batch
from bot.store.db import stored
from bot.store.models import Member


class NameMerge:
    """Kept by the rosters hook: which (room, member, name) this process has already looked at,
    so live chat costs one set lookup a message."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str]] = set()

    def reset(self) -> None:
        self._seen.clear()

    def roster(self, batch: Batch, roster: Roster) -> int:
        """Before the roster is applied: a name-only member is not in it and would be marked left."""
        known: dict[str, set[str]] = {}
        for m in roster.members:
            for name in (m.name, m.room_alias):
                if name:
                    known.setdefault(name, set()).add(m.id)
        batch.flush()
        return merge_names(batch.conn, roster.room, known)

    def seen(self, batch: Batch, events: Sequence[Event]) -> None:
        """Members with a wxid heard under a name in a room: the name-only member of that name,
        if any and if no other member of the room carries the name, is them. One read for the
        whole batch finds which of its (room, name) pairs have a name-only member at all."""
        fresh: dict[str, list[tuple[str, str, str]]] = {}
        for event in events:
            if isinstance(event, Message):
                room, member, name = event.room, event.sender, event.sender_name
            elif isinstance(event, Join):
                room, member, name = event.room, event.member, event.member_name
            else:
                continue
            if not room or not name or member.startswith(NAME_PREFIX):
                continue
            key = (room, member, name)
            if key in self._seen:
                continue
            self._seen.add(key)
            fresh.setdefault(derived_id(room, name), []).append(key)
        if not fresh:
            return
        conn = batch.conn
        found = stored(conn, col(Member.id), fresh)
        for old in fresh:  # in the batch's order: the first member heard under the name
            for room, member, name in fresh[old] if old in found else ():
                if names_in_room(conn, room).get(name, set()) - {member}:
                    continue  # another member of the room carries the name: it is not said whose it is
                batch.flush()
                merge_member(conn, old, member)
                break  # merged: the name-only member is gone
