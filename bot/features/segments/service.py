"""RFM segments, lifecycle stages and ABCD grades of the members of a scope, from the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, null, select, text
from sqlalchemy.engine import Connection

from bot.features.member_types.service import NEW_DAYS, scope_for, type_members
from bot.features.segments.orders import OrderStats, has_orders, order_stats, referral_counts
from bot.store.db import read_in_background
from bot.store.models import DailyActivity, GradePin, Membership, MemberTag, PointsEntry, TagRule, table_of
from tiers import grades as grading
from tiers import lifecycle, rfm
from tiers.grades import GradeFacts, GradeSettings, Grading
from tiers.levels import Level, level_for
from tiers.lifecycle import StageFacts, StageResult, StageRules
from tiers.rfm import RfmInput, RfmScore, RfmSettings
from tiers.types import Activity as TypeActivity
from tiers.types import Typing, classify_all

RECENCY_LOOKBACK = 365  # days searched back for the last activity; older counts as none


@dataclass(frozen=True)
class Playbook:
    """The operators' models as configured: RFM, lifecycle thresholds, grade criteria."""

    rfm: RfmSettings = field(default_factory=RfmSettings)
    lifecycle: StageRules = field(default_factory=StageRules)
    grades: GradeSettings = field(default_factory=GradeSettings)


@dataclass(frozen=True)
class Assessment:
    """Every member of a scope: segment, stage and grade, and the order figures behind them."""

    rfm: dict[str, RfmScore]
    stages: dict[str, StageResult]
    grades: dict[str, Grading]
    orders: dict[str, OrderStats]
    monetary_is_points: bool


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def population(conn: Connection, at: datetime, room: str | None) -> list[str]:
    """The members of the scope as of `at`: a room's current members, or everyone seen."""
    now = int(at.timestamp())
    if room is None:
        return list(conn.execute(text("SELECT id FROM member WHERE first_at <= :at"), {"at": now}).scalars())
    m = table_of(Membership).c
    return list(conn.execute(select(m.member).where(m.room == room, m.active, m.first_at <= now)).scalars())


@dataclass(frozen=True)
class _Activity:
    last_counting: date | None  # the last day of activity that counts for R
    last_any: date | None
    window_days: int
    recent: int
    previous: int
    before: int
    login_days: int  # the member type's two numbers, over the type window
    speaking: int


def _activity(conn: Connection, today: date, settings: RfmSettings, rules: StageRules, type_window: int,
              background: bool, room: str | None = None) -> Callable[[], dict[str, _Activity]]:
    """Per member activity figures, read in the background (see `read_in_background`) when
    allowed; returns a function that waits for them.

    The counts need the days of the longest window only; the last active days are looked
    for further back (RECENCY_LOOKBACK) by a second, cheaper read without counts."""
    d = table_of(DailyActivity).c
    window_from = today - timedelta(days=settings.window_days - 1)
    recent_from = today - timedelta(days=rules.recent_days - 1)
    previous_from = recent_from - timedelta(days=rules.recent_days)
    before_from = recent_from - timedelta(days=rules.decline_base_days)
    type_from = today - timedelta(days=type_window - 1)
    span_from = min(window_from, previous_from, before_from, type_from)
    counts = []
    if "message" in settings.recency_from:
        counts.append(d.counted > 0)
    if "checkin" in settings.recency_from:
        counts.append(d.checkins > 0)
    if "visit" in settings.recency_from:
        counts.append(d.visits > 0)
    counting = func.max(case((_any(counts), d.day))) if counts else null()
    q = select(
        d.member,
        counting,
        func.max(d.day),
        func.count(func.distinct(case((d.day >= window_from, d.day)))),
        func.count(func.distinct(case((d.day >= recent_from, d.day)))),
        func.count(func.distinct(case(((d.day >= previous_from) & (d.day < recent_from), d.day)))),
        func.count(func.distinct(case(((d.day >= before_from) & (d.day < recent_from), d.day)))),
        func.count(func.distinct(case((d.day >= type_from, d.day)))),
        func.sum(case((d.day >= type_from, d.counted), else_=0)),
    ).where(d.day >= span_from, d.day <= today).group_by(d.member)
    older = select(d.member, counting, func.max(d.day)).where(
        d.day >= today - timedelta(days=RECENCY_LOOKBACK), d.day < span_from).group_by(d.member)
    if room is not None:  # a room's members only, each read through the primary key
        m = table_of(Membership).c
        in_room = d.member.in_(select(m.member).where(m.room == room, m.active))
        q, older = q.where(in_room), older.where(in_room)
    read = _reader(conn, background)
    rows, older_rows = read(q), read(older)

    def collect() -> dict[str, _Activity]:
        dates: dict[object, date | None] = {None: None}
        out = {}
        for m, last_c, last, w, r, p, b, login, speaking in rows():
            if last_c not in dates:
                dates[last_c] = _as_date(last_c)
            if last not in dates:
                dates[last] = _as_date(last)
            out[m] = _Activity(dates[last_c], dates[last], w, r, p, b, login, speaking or 0)
        for m, last_c, last in older_rows():
            a = out.get(m)
            if a is None:
                out[m] = _Activity(_as_date(last_c), _as_date(last), 0, 0, 0, 0, 0, 0)
            elif a.last_counting is None and last_c is not None:
                out[m] = replace(a, last_counting=_as_date(last_c))
        return out

    return collect


def _reader(conn: Connection, background: bool) -> Callable[[Any], Callable[[], Sequence[Any]]]:
    def read(query: Any) -> Callable[[], Sequence[Any]]:
        if background:
            return read_in_background(conn, query)
        fetched = conn.execute(query).all()
        return lambda: fetched
    return read


def _any(conditions: list):
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out


def _memberships(conn: Connection) -> dict[str, tuple[int, bool]]:
    """member → (first time in any group, still in some group)."""
    m = table_of(Membership).c
    q = select(m.member, func.min(m.first_at), func.max(case((m.active, 1), else_=0))).group_by(m.member)
    return {mid: (first, bool(active)) for mid, first, active in conn.execute(q)}


def _points_earned(conn: Connection, start: date, end: date) -> dict[str, int]:
    p = table_of(PointsEntry).c
    q = select(p.member, func.sum(p.delta)).where(p.day >= start, p.day <= end, p.delta > 0).group_by(p.member)
    return {m: int(s or 0) for m, s in conn.execute(q)}


def pins(conn: Connection) -> dict[str, tuple[str, str]]:
    g = table_of(GradePin).c
    return {m: (grade, reason or "") for m, grade, reason in conn.execute(select(g.member, g.grade, g.reason))}


def _tags(conn: Connection, tags: Sequence[str], now: int) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    if not tags:
        return out
    t = table_of(MemberTag).c
    q = select(t.member, t.tag).where(t.tag.in_(list(tags)), t.since <= now,
                                      (t.expires_at.is_(None)) | (t.expires_at > now))
    for m, tag in conn.execute(q):
        out[m].add(tag)
    return out


def assess(conn: Connection, at: datetime, room: str | None, playbook: Playbook,
           levels: Sequence[Level], *, window_days: int | None = None,
           type_window: int = 30, members: Sequence[str] | None = None,
           unranked: frozenset[str] = frozenset(), background: bool = True) -> Assessment:
    """Segment, stage and grade every member of the scope as of `at` (local).

    The numbers are the member's own, community-wide (orders and points belong to the
    member, not to a room); a room's RFM scores and median cuts rank its members against
    each other. Members in `unranked` (the managers, whose commands count as presence) are
    scored against the others without moving anyone's quintiles or medians. `background`
    reads the daily counters on a connection of its own, alongside the other reads: only
    for callers that need nothing uncommitted (not a chat command inside its batch)."""
    settings = playbook.rfm
    if window_days:
        settings = RfmSettings(window_days, settings.recency_from, settings.frequency, settings.cut)
    rules = playbook.lifecycle
    today = at.date()
    tz = at.tzinfo
    ids = list(members) if members is not None else population(conn, at, room)
    window_from = today - timedelta(days=settings.window_days - 1)
    pending = _activity(conn, today, settings, rules, type_window, background, room)
    orders = order_stats(conn, window_from, today)
    use_points = not has_orders(conn)
    earned = _points_earned(conn, window_from, today) if use_points else {}
    memberships = _memberships(conn)
    member_rows = conn.exec_driver_sql("SELECT id, points, first_at FROM member").all()
    points: dict[str, int] = {m: p for m, p, _ in member_rows}
    needs_type = any(c.kind == "type" for c in playbook.grades.criteria)
    grade_facts = _grade_facts(conn, at, playbook.grades)
    activity = pending()
    typed: dict[str, Typing] = {}
    if needs_type and room is None:
        typed = _types(member_rows, activity, at, type_window)
    elif needs_type:  # types are community-wide: a room's read of the counters does not give them
        typed = type_members(conn, at, scope_for(conn, at, None, type_window))
    grades = _grades(ids, playbook.grades, levels, orders, points, typed, grade_facts, today)

    none = _Activity(None, None, 0, 0, 0, 0, 0, 0)
    no_orders = OrderStats()
    by_orders = "order" in settings.recency_from
    by_days = settings.frequency == "days"
    inputs: list[RfmInput] = []
    stages: dict[str, StageResult] = {}
    # Members with the same numbers share one stage: most members share one of a few.
    shared: dict[tuple, StageResult] = {}
    first_dates: dict[int, date] = {}
    for m in ids:
        a = activity.get(m, none)
        o = orders.get(m, no_orders)
        last_counting = a.last_counting
        if by_orders and o.last_order is not None and (last_counting is None or o.last_order > last_counting):
            last_counting = o.last_order
        monetary = float(earned.get(m, 0)) if use_points else o.window_amount
        inputs.append(RfmInput(m, (today - last_counting).days if last_counting else None,
                               a.window_days if by_days else o.window_orders, monetary))
        ms = memberships.get(m)
        first_seen = None
        if ms is not None:
            first_seen = first_dates.get(ms[0])
            if first_seen is None:
                first_seen = first_dates[ms[0]] = datetime.fromtimestamp(ms[0], tz).date()
        last_any = a.last_any
        if o.last_order is not None and (last_any is None or o.last_order > last_any):
            last_any = o.last_order
        key = (ms is not None, ms is not None and not ms[1], first_seen, last_any, a.recent, a.previous,
               a.before, o.orders, o.first_order)
        stage = shared.get(key)
        if stage is None:
            stage = shared[key] = lifecycle.stage_of(StageFacts(m, *key), today, rules)
        stages[m] = stage

    scores = rfm.score_all(inputs, cut=settings.cut, monetary_is_points=use_points, unranked=unranked)
    return Assessment(scores, stages, grades, orders, use_points)


def _types(member_rows: Sequence[Any], activity: dict[str, _Activity], at: datetime,
           type_window: int) -> dict[str, Typing]:
    """Community-wide member types (what `type_members` gives for all rooms), from the same
    read of the daily counters."""
    now = int(at.timestamp())
    recent = now - (NEW_DAYS + 1) * 86400  # only a recent first appearance can make a member new
    none = _Activity(None, None, 0, 0, 0, 0, 0, 0)
    activities = []
    for m, _, first in member_rows:
        if first > now:
            continue
        a = activity.get(m, none)
        joined = datetime.fromtimestamp(first, at.tzinfo).date() if first >= recent else None
        activities.append(TypeActivity(m, a.login_days, a.speaking, joined))
    return classify_all(activities, today=at.date(), window_days=type_window, new_days=NEW_DAYS)


@dataclass(frozen=True)
class _GradeReads:
    tags: dict[str, set[str]]
    referrals: dict[str, int]
    pinned: dict[str, tuple[str, str]]


def _grade_facts(conn: Connection, at: datetime, settings: GradeSettings) -> _GradeReads:
    kinds = {c.kind for c in settings.criteria}
    return _GradeReads(_tags(conn, settings.tags(), int(at.timestamp())),
                       referral_counts(conn) if "referral" in kinds else {}, pins(conn))


def _grades(ids: Sequence[str], settings: GradeSettings, levels: Sequence[Level],
            orders: dict[str, OrderStats], points: dict[str, int], typed: dict[str, Typing],
            reads: _GradeReads, today: date) -> dict[str, Grading]:
    tags, referrals, pinned = reads.tags, reads.referrals, reads.pinned
    level_of: dict[int, int] = {}
    shared: dict[tuple, Grading] = {}
    out: dict[str, Grading] = {}
    no_tags: frozenset[str] = frozenset()
    for m in ids:
        p = points.get(m) or 0
        lv = level_of.get(p)
        if lv is None:
            lv = level_of[p] = level_for(p, levels).n
        t = typed.get(m)
        o = orders.get(m)
        facts = GradeFacts(m, frozenset(tags[m]) if m in tags else no_tags, t.type.value if t else None,
                           lv, o.last_order if o else None, referrals.get(m, 0), pinned.get(m))
        # Members with the same facts share a grading: most share one of a few.
        key = (facts.tags, facts.type, lv, facts.last_order, facts.referrals, facts.pinned)
        g = shared.get(key)
        if g is None:
            g = shared[key] = grading.grade_of(facts, settings.criteria, today)
        out[m] = g
    return out


def pin_grade(conn: Connection, member: str, grade: str, reason: str | None, by: str, at: int) -> None:
    t = table_of(GradePin)
    conn.execute(t.delete().where(t.c.member == member))
    conn.execute(t.insert().values(member=member, grade=grade, reason=reason, by=by, at=at))


def unpin_grade(conn: Connection, member: str) -> bool:
    t = table_of(GradePin)
    return conn.execute(t.delete().where(t.c.member == member)).rowcount > 0


def pinned_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(table_of(GradePin))).scalar() or 0


def check_criteria_tags(conn: Connection, tags: Sequence[str]) -> list[str]:
    """The tags grade criteria name that no rule gives and no member holds."""
    if not tags:
        return []
    r, t = table_of(TagRule).c, table_of(MemberTag).c
    known = set(conn.execute(select(r.tag).where(r.tag.in_(list(tags)), r.active)).scalars())
    known |= set(conn.execute(select(t.tag).where(t.tag.in_(list(tags)))).scalars())
    return [tag for tag in dict.fromkeys(tags) if tag not in known]
