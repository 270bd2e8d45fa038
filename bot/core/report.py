"""`qunguan report`: one row per member, assembled from the daily counters and the services."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.activity import Counts, Window, counts_by_member, latest_event_ts
from bot.core.cache import SlowCache
from bot.core.directory import member_names, rooms_of
from bot.core.names import display
from bot.core.settings import Settings
from bot.store.models import Member
from tiers.types import Typing


@dataclass(frozen=True)
class ReportScope:
    at: datetime  # local time the report is "as of"
    window: Window
    room: str | None
    # The scope's members already typed and counted, when the caller holds them (the console
    # caches a big store's typing); None: computed from the store.
    typed: Mapping[str, Typing] | None = None
    counts: Mapping[str, Counts] | None = None
    cache: SlowCache | None = None  # the caller's cache of slow results (the console's), if any


# Later features add fields: each extra gets the scope and the member ids, returns id → fields.
ReportExtra = Callable[[Connection, ReportScope, list[str]], dict[str, dict[str, Any]]]


def resolve_scope(conn: Connection, settings: Settings, at: datetime | None, room: str | None,
                  window_days: int | None) -> ReportScope:
    if at is None:
        # The latest event's time, so a replayed community shows as it was, but never past
        # the wall clock: one far-future event (stored before events were range-checked)
        # must not empty every window.
        now = datetime.now(settings.tz)
        latest = latest_event_ts(conn, int(now.timestamp()))
        at = min(datetime.fromtimestamp(latest, settings.tz), now) if latest else now
    at = at.astimezone(settings.tz)
    days = window_days or settings.window_days
    return ReportScope(at, Window.ending(at.date(), days), room)


def member_rows(conn: Connection, scope: ReportScope, extras: Sequence[ReportExtra] = (),
                ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One row per member of the scope (ordered by id), or per member in `ids` (in that
    order): the core numbers, then each feature's fields. The console asks for a page of
    ids at a time, with the scope's typing and counters it already holds."""
    at_epoch = int(scope.at.timestamp())
    if ids is None:
        counts = scope.counts if scope.counts is not None else counts_by_member(conn, scope.window, scope.room)
        rooms = rooms_of(conn, None, at=at_epoch)
        members: list[tuple[str, str | None]] = [(r[0], r[1]) for r in conn.execute(
            select(col(Member.id), col(Member.name)).where(col(Member.first_at) <= at_epoch)
            .order_by(col(Member.id)))]
        if scope.room is not None:
            members = [(m, n) for m, n in members if scope.room in rooms.get(m, ()) or m in counts]
    else:
        counts = scope.counts if scope.counts is not None else counts_by_member(
            conn, scope.window, scope.room, members=ids)
        rooms = rooms_of(conn, ids, at=at_epoch)
        names = member_names(conn, ids, raw=True)
        members = [(m, names.get(m)) for m in ids]
    wanted = [m for m, _ in members]
    extra_fields: list[dict[str, dict[str, Any]]] = [extra(conn, scope, wanted) for extra in extras]
    out = []
    for mid, name in members:
        c = counts.get(mid)
        row = {
            "id": mid,
            "name": display(name, mid) if name else None,
            "rooms": rooms.get(mid, []),
            "messages": c.messages if c else 0,
            "login_days": c.login_days if c else 0,
        }
        for fields in extra_fields:
            row.update(fields.get(mid, {}))
        out.append(row)
    return out
