"""Reads for the console and the API: a scope's members typed and counted, the details shown
for a page of them, one member, the overview. Business rules stay where they live (typing in
tiers.types, levels in tiers.levels, tag reasons in bot.features.tags.service/tagging.reasons); this module
only fetches what they need, bounded by the scope's members so a room page stays fast in a
large store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.activity import Counts
from bot.core.cache import SlowCache
from bot.core.directory import room_names
from bot.core.names import display
from bot.core.report import ReportExtra, ReportScope, member_rows, resolve_scope
from bot.core.settings import Settings
from bot.features.member_types.service import Scope, scope_for, type_floor, typed_with_counts
from bot.features.tags.models import MemberTag
from bot.features.tags.service import held_now, provenance_of
from bot.store.models import DailyActivity, Member, Membership
from tagging.reasons import format_reason
from tagging.rules import Rule
from tiers.levels import Level, level_for
from tiers.types import MemberType, Typing

CHUNK = 900  # SQLite's default limit on bound parameters is 999


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def zone_of(at: datetime) -> ZoneInfo:
    """The community's zone of a console "now" (always built from Settings.tz)."""
    if not isinstance(at.tzinfo, ZoneInfo):
        raise ValueError(f"expected a time in the community's zone, got {at!r}")
    return at.tzinfo


def as_of(conn: Connection, settings: Settings) -> datetime:
    """The console's "now": the latest event's time, as `qunguan report` uses, so a replayed
    community shows as it was; the wall clock only when the store is empty."""
    return resolve_scope(conn, settings, None, None, None).at


# ---- a scope's members ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MemberLine:
    """One member of a scope with the numbers lists filter and sort on."""

    id: str
    name: str | None
    typing: Typing
    messages: int
    points: int
    level: Level

    @property
    def label(self) -> str:
        return display(self.name, self.id) if self.name else self.id


@dataclass(frozen=True)
class ScopeView:
    at: datetime
    scope: Scope
    lines: list[MemberLine]
    typed: Mapping[str, Typing]  # the same typing, by member, for the report rows
    counts: Mapping[str, Counts]  # and the counters it was typed from

    def thresholds(self) -> tuple[float, float, str] | None:
        t = next((x.typing for x in self.lines if x.typing.type is not MemberType.NEW), None)
        if t is None:
            t = next((x.typing for x in self.lines), None)
        return (t.login_threshold, t.speaking_threshold, t.source) if t else None


def scope_view(conn: Connection, settings: Settings, levels: Sequence[Level], at: datetime,
               room: str | None, cache: SlowCache | None = None) -> ScopeView:
    if cache is not None:
        return cache.get_or_compute(("scope", room, at.date(), at.hour),
                                    lambda: scope_view(conn, settings, levels, at, room))
    scope = scope_for(conn, at, room, settings.window_days, floor=type_floor(settings))
    typed, counts = typed_with_counts(conn, at, scope)
    names: dict[str, tuple[str | None, int]] = {}
    if room is None:
        for m, n, p in conn.execute(select(col(Member.id), col(Member.name), col(Member.points))):
            names[m] = (n, p)
    else:
        for part in chunks(list(typed)):
            for m, n, p in conn.execute(select(col(Member.id), col(Member.name), col(Member.points))
                                        .where(col(Member.id).in_(part))):
                names[m] = (n, p)
    lines = []
    for m, t in typed.items():
        name, points = names.get(m, (None, 0))
        c = counts.get(m)
        lines.append(MemberLine(m, name, t, c.messages if c else 0, points or 0,
                                level_for(points or 0, levels)))
    return ScopeView(at, scope, lines, typed, counts)


# ---- details for the members shown --------------------------------------------------------

@dataclass(frozen=True)
class TagView:
    name: str
    reason: str
    source: str
    lead: bool
    since: int


def holders_of(conn: Connection, tag: str, at: datetime) -> set[str]:
    q = select(col(MemberTag.member)).where(col(MemberTag.tag) == tag, held_now(int(at.timestamp())))
    return set(conn.execute(q).scalars())


def tag_names(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(col(MemberTag.tag)).distinct()).scalars())


def member_dicts(conn: Connection, view: ScopeView, lines: Sequence[MemberLine],
                 report: Sequence[ReportExtra], cache: SlowCache | None = None) -> list[dict[str, Any]]:
    """The rows of `qunguan report --json` (`bot.core.report.member_rows` with the features'
    fields) for the lines shown, from the view's typing, plus speaking."""
    scope = ReportScope(view.at, view.scope.window, view.scope.room, typed=view.typed, counts=view.counts,
                        cache=cache)
    by_id = {x.id: x for x in lines}
    rows = member_rows(conn, scope, report, list(by_id))
    for row in rows:
        row["speaking"] = by_id[row["id"]].typing.speaking
    return rows


# ---- one member -------------------------------------------------------------------------

def member_row(conn: Connection, member: str) -> Member | None:
    row = conn.execute(select(Member).where(col(Member.id) == member)).first()
    return Member.model_validate(row._mapping) if row else None


# ---- overview -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RoomCount:
    id: str
    name: str
    members: int


def room_counts(conn: Connection) -> list[RoomCount]:
    names = room_names(conn)
    q = select(col(Membership.room), func.count()).where(col(Membership.active)).group_by(col(Membership.room))
    counts = dict(conn.execute(q).all())
    rooms = [RoomCount(r, names.get(r, r), counts.get(r, 0)) for r in names]
    return sorted(rooms, key=lambda r: (-r.members, r.name))


def checkins_on(conn: Connection, day: date) -> tuple[int, int]:
    """Check-ins on a local day from the daily counters: (check-ins, members)."""
    d = DailyActivity
    q = select(func.coalesce(func.sum(col(d.checkins)), 0),
               func.count(func.distinct(case((col(d.checkins) > 0, col(d.member)))))).where(col(d.day) == day)
    total, members = conn.execute(q).one()
    return int(total or 0), int(members or 0)


def week_start(at: datetime) -> datetime:
    monday = at.date() - timedelta(days=at.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=at.tzinfo)


def new_tags_since(conn: Connection, since: datetime, at: datetime) -> list[tuple[str, int]]:
    """Tags first given since `since` and still held: (tag, members), most first."""
    q = select(col(MemberTag.tag), func.count()).where(
        col(MemberTag.since) >= int(since.timestamp()), held_now(int(at.timestamp()))).group_by(
        col(MemberTag.tag))
    return sorted(conn.execute(q).all(), key=lambda r: (-r[1], r[0]))


def leads_since(conn: Connection, since: datetime, at: datetime, rules: dict[int, Rule],
                limit: int = 20) -> tuple[int, list[tuple[str, str | None, TagView]]]:
    """Leads (tags from lead rules) first given since `since`: total and the latest few."""
    where = (col(MemberTag.lead), col(MemberTag.since) >= int(since.timestamp()),
             held_now(int(at.timestamp())))
    total = conn.execute(select(func.count()).select_from(MemberTag).where(*where)).scalar() or 0
    q = select(MemberTag, col(Member.name)).join(Member, col(Member.id) == col(MemberTag.member)).where(
        *where).order_by(col(MemberTag.since).desc()).limit(limit)
    out = []
    for r in conn.execute(q):
        row = MemberTag.model_validate(r._mapping)
        reason = format_reason(provenance_of(row, zone_of(at), rules))
        out.append((row.member, display(r._mapping["name"], row.member) if r._mapping["name"] else None,
                    TagView(row.tag, reason, row.source, row.lead, row.since)))
    return int(total), out
