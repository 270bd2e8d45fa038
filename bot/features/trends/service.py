"""How the community moves, read from the store for a period (30 or 90 local days ending today)
and a scope (every room, or one room): daily activity, member types by week, the lifecycle
funnel, the private account's funnel by channel, and weekly cohort retention.

Each series is read from the stored counters and events, never from the message log:
- active members, messages, check-ins: the daily counters (`memberday` for every room,
  `dailyactivity` for one room); active means any presence that day (a message, check-in,
  command or visit);
- joins: join events (`eventlog`), each counted on its local day; leaves: memberships that
  ended on that day (a leave event, or a roster that no longer lists the member);
- new leads: tags from a `lead=yes` rule, on the local day they were first given.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.deps import Deps
from bot.features.friends.api import channel_stats
from bot.features.member_types.api import scope_for, type_floor, type_members
from bot.features.segments.api import assess_scope
from bot.features.tags.api import MemberTag
from bot.store.models import DailyActivity, EventLog, MemberDay, Membership
from tiers.lifecycle import STAGE_LABELS, Stage
from tiers.types import TYPE_LABELS, MemberType

PERIODS = (30, 90)
COHORT_WEEKS = 8  # W+1 … W+8
DAILY_SERIES = ("active", "messages", "checkins", "joins", "leaves", "leads")
DAILY_LABELS = {"active": "活跃成员", "messages": "消息", "checkins": "打卡", "joins": "入群",
                "leaves": "退群", "leads": "新线索"}
# The lifecycle as a funnel: how far members have come (衰退 and 流失 are where they fall out).
FUNNEL = (Stage.POTENTIAL, Stage.NEW, Stage.GROWING, Stage.MATURE, Stage.DECLINING, Stage.CHURNED)
TYPE_ORDER = (MemberType.CORE, MemberType.LURKER, MemberType.BURST, MemberType.DORMANT, MemberType.NEW)


@dataclass(frozen=True)
class Period:
    """The local days [first, last] and the scope (None: every room)."""

    first: date
    last: date
    room: str | None
    tz: ZoneInfo

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def start(self, day: date) -> int:
        """Epoch of a local day's midnight."""
        return int(datetime.combine(day, time(), self.tz).timestamp())

    @property
    def since(self) -> int:
        return self.start(self.first)

    @property
    def until(self) -> int:  # exclusive
        return self.start(self.last + timedelta(days=1))


def period(at: datetime, days: int, room: str | None, tz: ZoneInfo) -> Period:
    last = at.astimezone(tz).date()
    return Period(last - timedelta(days=days - 1), last, room, tz)


def _presence(table: type[MemberDay] | type[DailyActivity]) -> ColumnElement[bool]:
    """A member was there that day: any message, check-in, command or visit counted."""
    return or_(col(table.messages) > 0, col(table.checkins) > 0, col(table.commands) > 0, col(table.visits) > 0)


# ---- daily activity ---------------------------------------------------------------------------

def daily(conn: Connection, p: Period) -> dict[str, dict[date, int]]:
    """Per series (DAILY_SERIES), per local day of the period, its number (0 on quiet days)."""
    out: dict[str, dict[date, int]] = {name: dict.fromkeys(p.days, 0) for name in DAILY_SERIES}
    if p.room is None:
        q = select(col(MemberDay.day), func.count(), func.sum(col(MemberDay.messages)),
                   func.sum(col(MemberDay.checkins))).where(
            col(MemberDay.day) >= p.first, col(MemberDay.day) <= p.last, _presence(MemberDay)
        ).group_by(col(MemberDay.day))
    else:
        d = DailyActivity
        q = select(col(d.day), func.count(func.distinct(col(d.member))), func.sum(col(d.messages)),
                   func.sum(col(d.checkins))).where(
            col(d.day) >= p.first, col(d.day) <= p.last, col(d.room) == p.room, _presence(d)).group_by(col(d.day))
    for raw, active, messages, checkins in conn.execute(q):
        day = raw if isinstance(raw, date) else date.fromisoformat(raw)
        out["active"][day], out["messages"][day], out["checkins"][day] = active, int(messages or 0), int(checkins or 0)
    joins = select(col(EventLog.ts)).where(col(EventLog.type) == "join", col(EventLog.ts) >= p.since,
                                           col(EventLog.ts) < p.until)
    leaves = select(col(Membership.left_at)).where(col(Membership.left_at) >= p.since,
                                                   col(Membership.left_at) < p.until)
    if p.room is not None:
        joins = joins.where(col(EventLog.room) == p.room)
        leaves = leaves.where(col(Membership.room) == p.room)
    for name, times in (("joins", conn.execute(joins).scalars()), ("leaves", conn.execute(leaves).scalars())):
        for ts in times:
            if ts is not None:
                out[name][datetime.fromtimestamp(ts, p.tz).date()] += 1
    leads = select(col(MemberTag.since)).where(col(MemberTag.lead), col(MemberTag.since) >= p.since,
                                               col(MemberTag.since) < p.until)
    if p.room is not None:
        leads = leads.join(Membership, and_(col(Membership.member) == col(MemberTag.member),
                                            col(Membership.room) == p.room))
    for since in conn.execute(leads).scalars():
        out["leads"][datetime.fromtimestamp(since, p.tz).date()] += 1
    return out


# ---- member types by week ------------------------------------------------------------------------

def week_ends(p: Period) -> list[date]:
    """The days types are sampled on: every 7th day back from the last one, within the period."""
    ends = []
    day = p.last
    while day >= p.first:
        ends.append(day)
        day -= timedelta(days=7)
    return ends[::-1]


def types_by_week(conn: Connection, deps: Deps, p: Period) -> dict[date, Counter[MemberType]]:
    """The scope's members by type as of the end of each sampled day (as the report types them then)."""
    out: dict[date, Counter[MemberType]] = {}
    for day in week_ends(p):
        at = datetime.combine(day, time(23, 59, 59), p.tz)
        scope = scope_for(conn, at, p.room, deps.settings.window_days, floor=type_floor(deps.settings))
        out[day] = Counter(t.type for t in type_members(conn, at, scope).values())
    return out


# ---- the lifecycle funnel ----------------------------------------------------------------------

def lifecycle_funnel(conn: Connection, deps: Deps, at: datetime, room: str | None) -> dict[Stage, int]:
    """Members per lifecycle stage now, in funnel order."""
    found = Counter(s.stage for s in assess_scope(conn, deps, at, room).stages.values())
    return {stage: found.get(stage, 0) for stage in FUNNEL}


# ---- the private account's funnel ----------------------------------------------------------------

@dataclass(frozen=True)
class ChannelFunnel:
    channel: str
    friends: int
    joined: int
    checked_in: int
    ordered: int


def channel_funnel(conn: Connection, p: Period) -> list[ChannelFunnel]:
    """Friends added in the period per first channel, and how many then joined a group,
    checked in, ordered (the friends page's figures)."""
    return [ChannelFunnel(s.channel, s.added, s.joined, s.checked_in, s.ordered)
            for s in channel_stats(conn, p.since, p.until - 1)]


# ---- weekly cohort retention --------------------------------------------------------------------

@dataclass(frozen=True)
class Cohort:
    week: date  # the Monday of the week they joined
    size: int
    retained: tuple[int | None, ...]  # active in W+1 … W+8 (None: that week has not ended yet)

    def share(self, k: int) -> float | None:
        n = self.retained[k]
        return None if n is None or not self.size else n / self.size


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def cohorts(conn: Connection, p: Period) -> list[Cohort]:
    """Members who joined in each week of the period (a join event seen; for every room, their
    first join anywhere), and how many of them were active in each of the 8 weeks after."""
    q = select(col(Membership.member), func.min(col(Membership.joined_at))).where(
        col(Membership.joined_at).is_not(None)).group_by(col(Membership.member))
    if p.room is not None:
        q = q.where(col(Membership.room) == p.room)
    first_week = monday(p.first)
    joined: dict[date, list[str]] = defaultdict(list)
    for member, ts in conn.execute(q):
        if ts is None:
            continue
        week = monday(datetime.fromtimestamp(ts, p.tz).date())
        if first_week <= week <= p.last:
            joined[week].append(member)
    if not joined:
        return []
    members = sorted({m for ms in joined.values() for m in ms})
    active: dict[str, set[date]] = defaultdict(set)  # member → the Mondays of weeks they were active
    last_needed = min(p.last, max(joined) + timedelta(weeks=COHORT_WEEKS + 1))
    for i in range(0, len(members), 900):
        part = members[i:i + 900]
        if p.room is None:
            rows = conn.execute(select(col(MemberDay.member), col(MemberDay.day)).where(
                col(MemberDay.member).in_(part), col(MemberDay.day) >= first_week, col(MemberDay.day) <= last_needed,
                _presence(MemberDay)))
        else:
            d = DailyActivity
            rows = conn.execute(select(col(d.member), col(d.day)).where(
                col(d.member).in_(part), col(d.room) == p.room, col(d.day) >= first_week,
                col(d.day) <= last_needed, _presence(d)))
        for member, day in rows:
            day = day if isinstance(day, date) else date.fromisoformat(day)
            active[member].add(monday(day))
    out = []
    for week in sorted(joined):
        ms = joined[week]
        retained = []
        for k in range(1, COHORT_WEEKS + 1):
            w = week + timedelta(weeks=k)
            retained.append(None if w + timedelta(days=6) > p.last else sum(w in active[m] for m in ms))
        out.append(Cohort(week, len(ms), tuple(retained)))
    return out


LABELS = {"types": {t: TYPE_LABELS[t] for t in TYPE_ORDER}, "stages": {s: STAGE_LABELS[s] for s in FUNNEL}}


# ---- the weekly report --------------------------------------------------------------------------

WEEK_SERIES = ("active", "messages", "checkins", "joins", "leaves", "leads")


def active_members(conn: Connection, p: Period) -> int:
    """Distinct members active on any day of the period (in its room, or anywhere)."""
    if p.room is None:
        q = select(func.count(func.distinct(col(MemberDay.member)))).where(
            col(MemberDay.day) >= p.first, col(MemberDay.day) <= p.last, _presence(MemberDay))
    else:
        d = DailyActivity
        q = select(func.count(func.distinct(col(d.member)))).where(
            col(d.day) >= p.first, col(d.day) <= p.last, col(d.room) == p.room, _presence(d))
    return int(conn.execute(q).scalar() or 0)


def week_numbers(conn: Connection, p: Period) -> dict[str, int]:
    """A period's totals: distinct active members, and the sums of the other daily series."""
    found = daily(conn, p)
    out = {name: sum(found[name].values()) for name in WEEK_SERIES if name != "active"}
    return {"active": active_members(conn, p), **out}
