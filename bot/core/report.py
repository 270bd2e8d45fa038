"""`qunguan report`: one row per member, assembled from the daily counters and the services."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.activity import Window, counts_by_member, latest_event_ts
from bot.core.settings import Settings
from bot.store.models import Member, Membership


@dataclass(frozen=True)
class ReportScope:
    at: datetime  # local time the report is "as of"
    window: Window
    room: str | None


# Later features add fields: each extra gets the scope and the member ids, returns id → fields.
ReportExtra = Callable[[Connection, ReportScope, list[str]], dict[str, dict]]


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


def member_rows(conn: Connection, scope: ReportScope, extras: Sequence[ReportExtra] = ()) -> list[dict]:
    counts = counts_by_member(conn, scope.window, scope.room)
    at_epoch = int(scope.at.timestamp())
    rooms: dict[str, list[str]] = {}
    q = select(col(Membership.member), col(Membership.room)).where(col(Membership.active),
                                                         col(Membership.first_at) <= at_epoch)
    for m, r in conn.execute(q.order_by(col(Membership.room))):
        rooms.setdefault(m, []).append(r)
    members: list[tuple[str, str | None]] = [(r[0], r[1]) for r in conn.execute(
        select(col(Member.id), col(Member.name)).where(col(Member.first_at) <= at_epoch).order_by(col(Member.id))
    )]
    if scope.room is not None:
        members = [(m, n) for m, n in members if scope.room in rooms.get(m, ()) or m in counts]
    ids = [m for m, _ in members]
    extra_fields: list[dict[str, dict]] = [extra(conn, scope, ids) for extra in extras]
    out = []
    for mid, name in members:
        c = counts.get(mid)
        row = {
            "id": mid,
            "name": name,
            "rooms": rooms.get(mid, []),
            "messages": c.messages if c else 0,
            "login_days": c.login_days if c else 0,
        }
        for fields in extra_fields:
            row.update(fields.get(mid, {}))
        out.append(row)
    return out
