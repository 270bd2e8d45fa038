"""What an import checks against the store, and tells it: live history it must not overlap, events
an import of release 0.2 already stored, the names the store knows, how many events it holds.
Imported by bot.importer.run only when there is a store (a dry run has none)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import ColumnElement, Engine, func, select
from sqlmodel import col

from bot.core.events import Event, Join, Leave, Message, Recall
from bot.importer.notices import Names
from bot.importer.source import ID_PREFIX, LEGACY_ID_LENGTH, Summary
from bot.store.models import NO_ROOM, EventLog, Member, Membership


class LiveGuard:
    """Live and imported copies of one message cannot be matched by id, so an import stops
    at the first live (not imported) event of each chat: what is newer is left out."""

    def __init__(self, engine: Engine | None, allow: bool, summary: Summary) -> None:
        self.engine, self.allow, self.summary = engine, allow, summary
        self._first: dict[tuple[str, str | None], int | None] = {}

    def keep(self, events: Iterable[Event]) -> Iterator[Event]:
        """The events older than their chat's first live event (a million: one look-up each)."""
        if self.allow or self.engine is None:
            yield from events
            return
        firsts = self._first
        for event in events:
            room = getattr(event, "room", None)
            key = (room, None) if room else (NO_ROOM, getattr(event, "sender", None))
            try:
                first = firsts[key]
            except KeyError:
                first = firsts[key] = self._first_live(key)
            if first is not None and event.ts.timestamp() >= first:
                self.summary.newer_than_live += 1
                continue
            yield event

    def _first_live(self, key: tuple[str | None, str | None]) -> int | None:
        assert self.engine is not None
        q = select(func.min(col(EventLog.ts))).where(
            col(EventLog.room) == key[0], ~col(EventLog.id).startswith(ID_PREFIX))
        if key[1] is not None:
            q = q.where(col(EventLog.member) == key[1])
        with self.engine.connect() as conn:
            first: int | None = conn.execute(q).scalar()
        return first


class LegacyGuard:
    """Release 0.2 built an imported event's id with its sender, 0.3 without (an export without
    wxids must give the same ids), so a file imported by 0.2 and again now would count twice.
    Where the store holds such ids, each event is looked for among them by what it is (room,
    time, member, type and text; a text erased by retention matches any)."""

    CHUNK = 2000

    def __init__(self, engine: Engine | None, summary: Summary) -> None:
        self.engine, self.summary = engine, summary
        self.active = False
        if engine is not None:
            with engine.connect() as conn:
                self.active = conn.execute(select(col(EventLog.id)).where(*self._legacy()).limit(1)).first() is not None

    @staticmethod
    def _legacy() -> tuple[ColumnElement[bool], ...]:
        return (col(EventLog.id).startswith(ID_PREFIX), func.length(col(EventLog.id)) == LEGACY_ID_LENGTH)

    def keep(self, events: Iterable[Event]) -> Iterator[Event]:
        if not self.active or self.engine is None:
            return iter(events)  # no generator of its own around a million events
        return self._keep(events)

    def _keep(self, events: Iterable[Event]) -> Iterator[Event]:
        chunk: list[Event] = []
        for event in events:
            chunk.append(event)
            if len(chunk) >= self.CHUNK:
                yield from self._new(chunk)
                chunk = []
        yield from self._new(chunk)

    def _new(self, chunk: list[Event]) -> Iterator[Event]:
        if not chunk or self.engine is None:
            return
        lo, hi = int(chunk[0].ts.timestamp()), int(chunk[-1].ts.timestamp())
        stored: dict[_What, list[str | None]] = defaultdict(list)
        with self.engine.connect() as conn:
            for room, ts, member, kind, text in conn.execute(
                    select(col(EventLog.room), col(EventLog.ts), col(EventLog.member), col(EventLog.type),
                           col(EventLog.text)).where(*self._legacy(), col(EventLog.ts) >= min(lo, hi),
                                                     col(EventLog.ts) <= max(lo, hi))):
                stored[(room, ts, member, kind)].append(text)
        for event in chunk:
            texts = stored.get(_what(event))
            text = getattr(event, "text", None)
            match = next((i for i, t in enumerate(texts or ()) if t is None or t == text or not text), None)
            if texts is not None and match is not None:
                texts.pop(match)
                self.summary.imported_before += 1
                continue
            yield event


_What = tuple[str, int, str | None, str]  # room, ts, member, kind: how a legacy import stored it


def _what(event: Event) -> _What:
    room = getattr(event, "room", None) or NO_ROOM
    kind = {Message: "message", Join: "join", Leave: "leave", Recall: "recall"}.get(type(event), "")
    return room, int(event.ts.timestamp()), getattr(event, "member", None), kind


def store_names(engine: Engine | None) -> Callable[[str], Names]:
    """Names of a room's members as the store knows them, to resolve notices by."""
    def names(room: str) -> Names:
        found = Names()
        if engine is None:
            return found
        q = select(col(Member.id), col(Member.name), col(Membership.room_alias)).join(
            Membership, col(Membership.member) == col(Member.id)).where(col(Membership.room) == room)
        with engine.connect() as conn:
            for member, name, alias in conn.execute(q):
                found.add(name, member)
                found.add(alias, member)
        return found
    return names


def stored_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(EventLog)).scalar() or 0
