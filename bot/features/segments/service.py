"""RFM segments, lifecycle stages and ABCD grades of the members of a scope, from the store."""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, case, func, literal, null, select, text
from sqlalchemy.engine import Connection

from bot.core.memory import Memo, no_cycle_collection
from bot.features.member_types.api import DEFAULT_FLOOR, NEW_DAYS, scope_for, split_values, type_some
from bot.features.points.api import PointsEntry
from bot.features.referrals.api import referral_counts
from bot.features.rosters.api import there_before_the_bot
from bot.features.segments.models import ActivityFigures, AssessmentChange, GradePin, KeptAssessment, KeptResult
from bot.features.segments.orders import OrderStats, has_orders, order_stats, yuan
from bot.features.tags.api import MemberTag, TagRule
from bot.store.db import as_date, bulk, one_pass_cache, plain_rows, read_in_background
from bot.store.models import Member, MemberDay, Membership, table_of
from tiers import followup as followup_rules
from tiers import grades as grading
from tiers import lifecycle, rfm
from tiers.grades import GradeFacts, GradeSettings, Grading
from tiers.levels import Level, level_for
from tiers.lifecycle import StageFacts, StageResult, StageRules
from tiers.rfm import RfmInput, RfmScore, RfmSettings
from tiers.types import Activity as TypeActivity
from tiers.types import Floor, MemberType, Thresholds, Typing, classify_all

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
    types: dict[str, Typing]  # the community's types, when the grades or the caller needed them


def population(conn: Connection, at: datetime, room: str | None) -> list[str]:
    """The members of the scope as of `at`: a room's current members, or everyone seen."""
    now = int(at.timestamp())
    if room is None:
        return list(conn.execute(text("SELECT id FROM member WHERE first_at <= :at"), {"at": now}).scalars())
    m = table_of(Membership).c
    return list(conn.execute(select(m.member).where(m.room == room, m.active, m.first_at <= now)).scalars())


class MemberActivity(NamedTuple):
    """One member's figures from the daily counters, for the playbook models and the
    follow-up list alike (one read serves both). A tuple: 100k of them are made at a time."""

    last_counting: date | None  # the last day of activity that counts for R
    last_any: date | None
    window_days: int
    recent: int
    previous: int
    before: int
    login_days: int  # the member type's two numbers, over the type window
    speaking: int
    churn_recent: int = 0  # presence days in the follow-up's churn windows, when asked for
    churn_before: int = 0
    last_spoke: date | None = None  # the last day with a message, within the windows read


NO_ACTIVITY = MemberActivity(None, None, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class ChurnWindows:
    """The follow-up list's churn signs: presence in the last `recent_days` against the
    `base_days` before them."""

    recent_days: int
    base_days: int


@dataclass(frozen=True)
class _Bounds:
    """read_activity's windows as of a day, each [start, stop)."""

    today: date
    windows: tuple[tuple[date, date], ...]  # the RFM window, recent, previous, before
    type_from: date
    churn: tuple[tuple[date, date], ...]  # the churn windows, when asked for
    spoken_from: date
    counting: tuple[str, ...]  # the counters whose activity counts for R

    @classmethod
    def of(cls, today: date, settings: RfmSettings, rules: StageRules, type_window: int,
           churn: ChurnWindows | None) -> _Bounds:
        end = today + timedelta(days=1)
        window_from = today - timedelta(days=settings.window_days - 1)
        recent_from = today - timedelta(days=rules.recent_days - 1)
        previous_from = recent_from - timedelta(days=rules.recent_days)
        before_from = recent_from - timedelta(days=rules.decline_base_days)
        type_from = today - timedelta(days=type_window - 1)
        windows = ((window_from, end), (recent_from, end), (previous_from, recent_from), (before_from, recent_from))
        spoken_from = min(window_from, recent_from, previous_from, before_from, type_from)
        churn_windows: tuple[tuple[date, date], ...] = ()
        if churn is not None:
            churn_from = today - timedelta(days=churn.recent_days - 1)
            base_from = churn_from - timedelta(days=churn.base_days)
            churn_windows = ((churn_from, end), (base_from, churn_from))
            spoken_from = min(base_from, type_from)  # what the follow-up list has always looked at
        counting = tuple(column for kind, column in (("message", "counted"), ("checkin", "checkins"),
                                                     ("visit", "visits")) if kind in settings.recency_from)
        return cls(today, windows, type_from, churn_windows, spoken_from, counting)

    def shape(self) -> int:
        """The windows' lengths and what counts (not the day): a checksum kept figures are found by."""
        days = [(self.today - s).days for s, _ in (*self.windows, *self.churn)]
        return zlib.crc32(repr((days, (self.today - self.type_from).days, self.counting)).encode())

    def query(self, *where: Any) -> Any:
        """One pass over the member days back to RECENCY_LOOKBACK (a row per member and day, in
        member order: no DISTINCT and no sort), each window a conditional count."""
        a = table_of(MemberDay).c
        end = self.today + timedelta(days=1)
        counts = [getattr(a, column) > 0 for column in self.counting]
        counting = func.max(case((_any(counts), a.day))) if counts else null()

        def days_in(start: date, stop: date) -> Any:
            return func.count(case(((a.day >= start) & (a.day < stop), 1)))

        return select(
            a.member, counting, func.max(a.day), *(days_in(s, e) for s, e in self.windows),
            days_in(self.type_from, end),
            func.sum(case((a.day >= self.type_from, a.counted), else_=0)),
            # without the churn windows, zeros in their place: every read's rows have the same columns
            *((days_in(s, e) for s, e in self.churn) if self.churn else (literal(0), literal(0))),
            func.max(case(((a.messages > 0) & (a.day >= self.spoken_from), a.day))),
        ).where(a.day >= self.today - timedelta(days=RECENCY_LOOKBACK), a.day < end, *where).group_by(a.member)

    def with_day(self, a: MemberActivity, messages: int, counted: int, checkins: int, visits: int) -> MemberActivity:
        """The figures over the days before `today` (`a`) with today's own counters added: what
        `query` gives over every day."""
        t = self.today
        values = {"counted": counted, "checkins": checkins, "visits": visits}
        (w, r, p, b) = ((s <= t < e) for s, e in self.windows)
        typed = t >= self.type_from
        churn_recent, churn_before = ((s <= t < e) for s, e in self.churn) if self.churn else (False, False)
        return MemberActivity(
            t if any(values[c] > 0 for c in self.counting) else a.last_counting, t,
            a.window_days + w, a.recent + r, a.previous + p, a.before + b, a.login_days + typed,
            a.speaking + (counted if typed else 0),
            a.churn_recent + churn_recent if self.churn else 0, a.churn_before + churn_before if self.churn else 0,
            t if messages > 0 and t >= self.spoken_from else a.last_spoke)


# The follow-up list's churn windows (tiers.followup): the daily job keeps the figures with them.
KEPT_CHURN = ChurnWindows(followup_rules.CHURN_DAYS, followup_rules.CHURN_BASE_DAYS)


def read_activity(conn: Connection, today: date, settings: RfmSettings, rules: StageRules, type_window: int,
                  *, background: bool, members: Sequence[str] | None = None,
                  churn: ChurnWindows | None = None) -> Callable[[], dict[str, MemberActivity]]:
    """Per member activity figures (of `members` only, when given, each read through the
    primary key), read in the background (see `read_in_background`) when allowed; returns
    a function that waits for them.

    For every member: the figures of the days before today the daily job kept (`keep_activity`)
    with today's counters added, when it kept them for these windows and no event of an earlier
    day removed them since; else one pass over the member days (`_Bounds.query`)."""
    bounds = _Bounds.of(today, settings, rules, type_window, churn)
    if members is None and (churn is None or churn == KEPT_CHURN):
        kept = _read_kept(conn, bounds, settings, rules, type_window, background)
        if kept is not None:
            return kept
    a = table_of(MemberDay).c
    reads: list[Callable[[], Sequence[Any]]] = []
    if members is not None:
        ids = list(members)
        reads += [_read(conn, bounds.query(a.member.in_(ids[i : i + 900])), background)
                  for i in range(0, len(ids), 900)]
    else:
        reads.append(_read(conn, bounds.query(), background))

    @cache  # the playbook models and the follow-up list wait on the same read
    def collect() -> dict[str, MemberActivity]:
        return _figures(row for rows in reads for row in rows())

    return collect


def _figures(rows: Iterable[Sequence[Any]], spoken_from: date | None = None) -> dict[str, MemberActivity]:
    """MemberActivity of each row of `_Bounds.query` (or of the kept figures: the same columns, the
    last day spoken taken from `spoken_from`). The counts are the driver's ints as they come."""
    dates: Memo[object, date | None] = Memo(lambda value: None if value is None else as_date(value))
    spoken: Memo[object, date | None] = Memo(
        lambda value: None if value is None or (spoken_from is not None and as_date(value) < spoken_from)
        else as_date(value))
    # Members with the same figures share one tuple: of 86k members 62k tuples (3 MB fewer, for as
    # long as the caller keeps them: the follow-up list holds them while it makes its facts).
    alike: dict[MemberActivity, MemberActivity] = {}
    out = {}
    new = tuple.__new__
    for m, last_c, last, w, r, p, b, login, speaking, churn_recent, churn_before, last_spoke in rows:
        # the tuple made directly: MemberActivity(...) is a Python call for the fields' defaults
        a = new(MemberActivity, (dates[last_c], dates[last], w, r, p, b, login, speaking or 0, churn_recent,
                                 churn_before, spoken[last_spoke]))
        out[m] = alike.setdefault(a, a)
    return out


_FIGURES = table_of(ActivityFigures)
_KEPT_COLUMNS = [_FIGURES.c[name] for name in (
    "member", "last_counting", "last_any", "window_days", "recent", "previous", "before", "login_days", "speaking",
    "churn_recent", "churn_before", "last_spoke")]


def _kept_shape(today: date, settings: RfmSettings, rules: StageRules, type_window: int) -> _Bounds:
    """The windows the figures are kept with: the follow-up list's churn windows, and the last
    day spoken looked for as far back as a read with or without them looks."""
    plain = _Bounds.of(today, settings, rules, type_window, None)
    kept = _Bounds.of(today, settings, rules, type_window, KEPT_CHURN)
    return replace(kept, spoken_from=min(plain.spoken_from, kept.spoken_from))


def _read_kept(conn: Connection, bounds: _Bounds, settings: RfmSettings, rules: StageRules, type_window: int,
               background: bool) -> Callable[[], dict[str, MemberActivity]] | None:
    """The kept figures of the day with today's counters added (None: none kept for these
    windows). A read without the churn signs uses those kept with them, but the churn signs.
    Today's counters are read in the background when allowed (`read_activity`): few rows, but
    SQLite seeks them member by member (the table's key is the member's, then the day)."""
    kept = _kept_shape(bounds.today, settings, rules, type_window)
    if bounds.spoken_from < kept.spoken_from:
        return None
    f = _FIGURES.c
    which = (f.day == bounds.today, f.shape == kept.shape())
    if conn.execute(select(f.member).where(*which).limit(1)).first() is None:
        return None
    rows = select(*(literal(0) if c.name.startswith("churn_") and not bounds.churn else c
                    for c in _KEPT_COLUMNS)).where(*which)
    a = table_of(MemberDay).c
    today = _read(conn, select(a.member, a.messages, a.counted, a.checkins, a.visits).where(a.day == bounds.today),
                  background)
    since = bounds.spoken_from

    @cache
    def collect() -> dict[str, MemberActivity]:
        # Read row by row when needed: a one-pass read in the background would hold every row
        # twice over (its text and the rows decoded from it) for what takes SQLite tens of ms.
        out = _figures(plain_rows(conn.execute(rows)), since)
        if not out:  # removed since (an event of an earlier day): every day's counters, then
            return _figures(conn.execute(bounds.query()).all())
        for m, messages, counted, checkins, visits in today():
            out[m] = bounds.with_day(out.get(m, NO_ACTIVITY), messages or 0, counted or 0, checkins or 0, visits or 0)
        return out

    return collect


def keep_activity(conn: Connection, today: date, playbook: Playbook, type_window: int) -> int:
    """The daily job's part: every member's figures over the days before `today`, kept for the
    day's readers (the follow-up list, the community's playbook); the figures of earlier days go.
    How many members. Inside the job's transaction: on SQLite it holds the write lock (BEGIN
    IMMEDIATE), on PostgreSQL the table's lock keeps a batch with an event of an earlier day
    (which removes figures: segments.hook) from committing between this read and the write."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE activityfigures IN SHARE ROW EXCLUSIVE MODE")
    bounds = _kept_shape(today, playbook.rfm, playbook.lifecycle, type_window)
    conn.execute(_FIGURES.delete().where(_FIGURES.c.day <= today))
    names = [c.name for c in _KEPT_COLUMNS]
    shape = bounds.shape()
    n = 0
    with one_pass_cache(conn):  # every member day of a year, once
        rows = conn.execute(bounds.query(table_of(MemberDay).c.day < today))
        while chunk := rows.fetchmany(5000):
            bulk(conn, _FIGURES.insert(), [{"day": today, "shape": shape, **dict(zip(names, row, strict=True))}
                                           for row in chunk])
            n += len(chunk)
    return n


_AFTER = _FIGURES.delete().where(_FIGURES.c.day > bindparam("day"))  # built once


_KEPT_AFTER = [table.delete().where(table.c.day > bindparam("day"))
               for table in (table_of(KeptAssessment), table_of(KeptResult))]


def figures_changed(conn: Connection, day: date) -> None:
    """A batch on `conn` changes the counters of `day`: the figures kept of the days after it go,
    and the assessments kept from them."""
    conn.execute(_AFTER, {"day": day})
    for statement in _KEPT_AFTER:
        conn.execute(statement, {"day": day})


def _read(conn: Connection, query: Any, background: bool) -> Callable[[], Sequence[Any]]:
    if background:
        return read_in_background(conn, query)
    fetched = conn.execute(query).all()
    return lambda: fetched


def _any(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out


class InGroups:
    """member → (the local day first in any group, still in some group), made from their membership
    rows as they come (`add`): one value for members with the same."""

    def __init__(self, tz: Any) -> None:
        self.of: dict[str, tuple[date, bool]] = {}
        self._tz = tz
        self._shared: dict[tuple[date, bool], tuple[date, bool]] = {}

    def add(self, member: str, first_at: int, active: object) -> None:
        # no memo of the days: members' first times are nearly all distinct
        value = (datetime.fromtimestamp(first_at, self._tz).date(), bool(active))
        was = self.of.get(member)
        if was is not None:  # in several groups: the first of their days, in a group if in any
            value = (min(was[0], value[0]), was[1] or value[1])
        self.of[member] = self._shared.setdefault(value, value)


def _memberships(conn: Connection, members: Sequence[str] | None, tz: Any) -> dict[str, tuple[date, bool]]:
    """`InGroups` of `members` when given, else of everyone."""
    groups = InGroups(tz)
    if members is None:  # plain SQL: 100k rows come back several times faster
        rows: Iterable[Sequence[Any]] = plain_rows(
            conn.exec_driver_sql("SELECT member, first_at, active FROM membership"))
    else:
        m = table_of(Membership).c
        rows = (row for chunk in _chunks(select(m.member, m.first_at, m.active), m.member, members)
                for row in conn.execute(chunk))
    for member, first_at, active in rows:
        groups.add(member, first_at, active)
    return groups.of


def _member_rows(conn: Connection, members: Sequence[str] | None) -> dict[str, tuple[Any, ...]]:
    """Each member's (id, points, first_at) by id, in the table's order."""
    if members is None:  # plain SQL: 100k rows come back several times faster (as plain tuples: a third the memory)
        return {row[0]: row for row in plain_rows(conn.exec_driver_sql("SELECT id, points, first_at FROM member"))}
    t = table_of(Member).c
    return {row[0]: (row[0], row[1], row[2]) for chunk in _chunks(select(t.id, t.points, t.first_at), t.id, members)
            for row in conn.execute(chunk)}


def _chunks(query: Any, column: Any, members: Sequence[str] | None) -> list[Any]:
    """The query as is, or over `members` in slices the driver takes as parameters."""
    if members is None:
        return [query]
    ids = list(members)
    return [query.where(column.in_(ids[i : i + 900])) for i in range(0, len(ids), 900)]


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
           unranked: frozenset[str] = frozenset(), background: bool = True,
           activity: Callable[[], dict[str, MemberActivity]] | None = None,
           floor: Floor = DEFAULT_FLOOR, with_types: bool = False, with_rfm: bool = True,
           member_rows: dict[str, tuple[Any, ...]] | None = None,
           in_groups: dict[str, tuple[date, bool]] | None = None, few: bool = False) -> Assessment:
    """Segment, stage and grade every member of the scope as of `at` (local).

    The numbers are the member's own, community-wide (orders and points belong to the
    member, not to a room); a room's RFM scores and median cuts rank its members against
    each other. Members in `unranked` (the managers, whose commands count as presence) are
    scored against the others without moving anyone's quintiles or medians. `background`
    reads the daily counters on a connection of its own, alongside the other reads: only
    for callers that need nothing uncommitted (not a chat command inside its batch).
    `activity` is a read of the counters already started (`read_activity`) by a caller
    that needs the same figures; a room reads only its members' rows and figures. `floor` is
    the settings' quiet-data floor of the types (member_types.service.type_floor): grades use
    the types the report shows; `with_types` gives them (of a room's members: community-wide)
    whether the grades need them or not. `with_rfm` False: no RFM scores (`rfm` empty), for a
    caller that uses only the stages, grades and types. `member_rows`: the community's, every
    member's (id, points, first_at, ...) by id, and `in_groups`, the community's `InGroups`, when the
    caller has read them already. `few`: the community's `members` are few, their orders are read by
    the member's index (not the whole table).
    The community's reads each whole table once, through a small page cache, and its 100k
    members' figures are made without the garbage collector's full passes over them."""
    with one_pass_cache(conn) if room is None else nullcontext(), no_cycle_collection():
        settings = playbook.rfm
        if window_days:
            settings = RfmSettings(window_days, settings.recency_from, settings.frequency, settings.cut)
        rules = playbook.lifecycle
        today = at.date()
        tz = at.tzinfo
        if room is not None:  # a room's reads are bounded by its members
            ids = list(members) if members is not None else population(conn, at, room)
            member_rows = _member_rows(conn, ids)
        else:
            member_rows = member_rows if member_rows is not None else _member_rows(conn, None)
            now = int(at.timestamp())  # everyone seen by then (`population`), from the rows read anyway
            ids = list(members) if members is not None else [row[0] for row in member_rows.values()
                                                             if row[2] is not None and row[2] <= now]
        window_from = today - timedelta(days=settings.window_days - 1)
        scoped = ids if room is not None else None
        pending = activity or read_activity(conn, today, settings, rules, type_window, background=background,
                                            members=scoped)
        orders = order_stats(conn, window_from, today, ids if few else scoped)
        use_points = not has_orders(conn)
        needs_type = with_types or any(c.kind == "type" for c in playbook.grades.criteria)
        # What does not depend on the counters is gathered while they are still being read: each member's
        # facts as values members share, in a list in `ids`' order (100k members' own tuples weigh some 10 MB).
        grade_keys = _grade_keys(ids, levels, orders, member_rows, _grade_facts(conn, at, playbook.grades))
        known = _known(ids, orders if with_rfm else None,
                       _points_earned(conn, window_from, today) if use_points and with_rfm else None,
                       in_groups if in_groups is not None else _memberships(conn, scoped, tz))

        counted = pending()
        typed: dict[str, Typing] = {}
        if needs_type and room is None:
            typed = _types(member_rows.values(), counted, at, type_window, floor, there_before_the_bot(conn),
                           split_values(conn, at, None, type_window))
        elif needs_type:  # types are community-wide: the room's members' own, at the community's split
            typed = type_some(conn, at, scope_for(conn, at, None, type_window, floor=floor), ids)
        grades = _grades(ids, grade_keys, playbook.grades, typed, today)
        del grade_keys

        by_orders = "order" in settings.recency_from
        by_days = settings.frequency == "days"
        inputs: list[RfmInput] = []
        stages: dict[str, StageResult] = {}
        # Members with the same numbers share one stage: most members share one of a few. Different
        # numbers often give the same stage and reason: one object each (some 4 MB fewer of them).
        shared: dict[_StageKey, StageResult] = {}
        alike: dict[StageResult, StageResult] = {}
        no_orders = OrderStats()
        for m, (monetary, in_group, left_all, first_seen) in zip(ids, known, strict=True):
            o = orders.get(m, no_orders)
            a = counted.get(m, NO_ACTIVITY)
            if with_rfm:
                last_counting = a.last_counting
                if by_orders and o.last_order is not None and (last_counting is None or o.last_order > last_counting):
                    last_counting = o.last_order
                inputs.append(RfmInput(m, (today - last_counting).days if last_counting else None,
                                       a.window_days if by_days else o.window_orders, monetary))
            last_any = a.last_any
            if o.last_order is not None and (last_any is None or o.last_order > last_any):
                last_any = o.last_order
            key: _StageKey = (in_group, left_all, first_seen, last_any, a.recent, a.previous, a.before, o.orders,
                              o.first_order)
            stage = shared.get(key)
            if stage is None:
                found = lifecycle.stage_of(StageFacts(m, *key), today, rules)
                stage = shared[key] = alike.setdefault(found, found)
            stages[m] = stage

        del known, shared, alike
        scores = (rfm.score_all(inputs, cut=settings.cut, monetary_is_points=use_points, unranked=unranked)
                  if with_rfm else {})
        return Assessment(scores, stages, grades, orders, use_points, typed)


# (monetary, in a group, left every group, first seen in a group): a member's stage facts but the
# counters and orders. Members share few of them.
_Known = tuple[float, bool, bool, date | None]


def _known(ids: Sequence[str], orders: dict[str, OrderStats] | None, earned: dict[str, int] | None,
           memberships: dict[str, tuple[date, bool]]) -> list[_Known]:
    """Each member's `_Known`, in `ids`' order: the value is the window's order amount, or the points
    earned in it (`earned`, when the community has no orders); 0 for everyone without `orders` either
    (no RFM scores asked for: only they read the value)."""
    fens = earned if earned is not None else {m: o.window_fen for m, o in orders.items()} if orders is not None else {}
    value: Callable[[int], float] = float if earned is not None else yuan
    amounts: Memo[int, float] = Memo(value)  # members share few order totals and points: convert each once
    shared: dict[_Known, _Known] = {}
    out: list[_Known] = []
    for m in ids:
        ms = memberships.get(m)
        key = (amounts[fens.get(m, 0)], ms is not None, ms is not None and not ms[1], ms[0] if ms is not None else None)
        out.append(shared.setdefault(key, key))
    return out


def _types(member_rows: Iterable[tuple[Any, ...]], activity: dict[str, MemberActivity], at: datetime,
           type_window: int, floor: Floor, before_bot: set[str], medians: Thresholds) -> dict[str, Typing]:
    """Community-wide member types (what `type_members` gives for all rooms, quiet-data floor
    and members there before the bot included), from the same read of the daily counters."""
    now = int(at.timestamp())
    recent = now - (NEW_DAYS + 1) * 86400  # only a recent first appearance can make a member new
    activities = []
    for row in member_rows:  # (id, points, first_at, ...)
        m, first = row[0], row[2]
        if first > now:
            continue
        a = activity.get(m, NO_ACTIVITY)
        joined = (datetime.fromtimestamp(first, at.tzinfo).date()
                  if first >= recent and m not in before_bot else None)
        activities.append(TypeActivity(m, a.login_days, a.speaking, joined))
    return classify_all(activities, today=at.date(), window_days=type_window, medians=medians, new_days=NEW_DAYS,
                        floor=floor)


# StageFacts' fields after the member: members with equal keys share one stage.
_StageKey = tuple[bool, bool, date | None, date | None, int, int, int, int, date | None]
# (tags, type, level, last order, referrals, pin): GradeFacts but the member.
_GradeKey = tuple[frozenset[str], int, date | None, int, tuple[str, str] | None]

@dataclass(frozen=True)
class _GradeReads:
    tags: dict[str, set[str]]
    referrals: dict[str, int]
    pinned: dict[str, tuple[str, str]]


def _grade_facts(conn: Connection, at: datetime, settings: GradeSettings) -> _GradeReads:
    kinds = {c.kind for c in settings.criteria}
    return _GradeReads(_tags(conn, settings.tags(), int(at.timestamp())),
                       referral_counts(conn) if "referral" in kinds else {}, pins(conn))


def _grade_keys(ids: Sequence[str], levels: Sequence[Level], orders: dict[str, OrderStats],
                member_rows: dict[str, tuple[Any, ...]], reads: _GradeReads) -> list[_GradeKey]:
    """Each member's grade facts but the type (which needs the counters), in `ids`' order:
    (tags, level, last order, referrals, pin), one value for members with the same."""
    tags, referrals, pinned = reads.tags, reads.referrals, reads.pinned
    level_of: dict[int, int] = {}
    no_tags: frozenset[str] = frozenset()
    shared: dict[_GradeKey, _GradeKey] = {}
    out: list[_GradeKey] = []
    for m in ids:
        row = member_rows.get(m)  # (id, points, first_at, ...)
        p = (row[1] if row else None) or 0
        lv = level_of.get(p)
        if lv is None:
            lv = level_of[p] = level_for(p, levels).n
        o = orders.get(m)
        key = (frozenset(tags[m]) if m in tags else no_tags, lv, o.last_order if o else None,
               referrals.get(m, 0), pinned.get(m))
        out.append(shared.setdefault(key, key))
    return out


def _grades(ids: Sequence[str], keys: Sequence[_GradeKey], settings: GradeSettings, typed: dict[str, Typing],
            today: date) -> dict[str, Grading]:
    shared: dict[tuple[frozenset[str], MemberType | None, int, date | None, int, tuple[str, str] | None],
                  Grading] = {}
    out: dict[str, Grading] = {}
    for m, (tags, lv, last_order, referrals, pin) in zip(ids, keys, strict=True):
        t = typed.get(m)
        kind = t.type if t else None
        # Members with the same facts share a grading: most share one of a few.
        key = (tags, kind, lv, last_order, referrals, pin)
        g = shared.get(key)
        if g is None:
            facts = GradeFacts(m, tags, kind.value if kind else None, lv, last_order, referrals, pin)
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


# ---- the day's assessment, kept by the daily job for the follow-up list -------------------------------
_KEPT = table_of(KeptAssessment)
_RESULTS = table_of(KeptResult)
_CHANGES = table_of(AssessmentChange)


def assessment_shape(conn: Connection, at: datetime, playbook: Playbook, levels: Sequence[Level], type_window: int,
                     floor: Floor) -> int:
    """A checksum of everything a member's types, stage and grade depend on besides their own facts:
    the playbook's settings, the levels, the types' window and floor, the time zone and the day's
    split values as of `at` (no sets in them: the same text in every process). The kept assessment
    is of one shape; the follow-up list takes it when its own shape, made once, is the same."""
    split = split_values(conn, at, None, type_window)
    settings = (playbook.rfm, playbook.lifecycle, playbook.grades.criteria, tuple(levels), type_window, floor,
                repr(at.tzinfo), (split.login_days, split.speaking, split.source, split.floored))
    return zlib.crc32(repr(settings).encode())


# A member's type (None: not typed), stage and grade: the follow-up list's assessment of them.
Assessed = tuple[MemberType | None, StageResult, Grading]


def _stage_text(s: StageResult) -> str:
    return json.dumps([s.stage.value, s.reason], ensure_ascii=False)


def _stage_of(text: str) -> StageResult:
    v = json.loads(text)
    return StageResult(lifecycle.Stage(v[0]), v[1])


def _grade_text(g: Grading) -> str:
    return json.dumps([g.grade, g.reason, g.pinned, list(g.met)], ensure_ascii=False)


def _grade_of(text: str) -> Grading:
    v = json.loads(text)
    return Grading(v[0], v[1], v[2], tuple(v[3]))


def keep_assessment(conn: Connection, at: datetime, playbook: Playbook, levels: Sequence[Level], type_window: int,
                    floor: Floor) -> int:
    """The daily job's part after the figures (`keep_activity`): the community's types, stages and
    grades as of `at` (no RFM scores), each member's kept with the inputs the follow-up list compares
    live, for the list to recompute only the members changed since (`assess_since_kept`). How many
    members. The members written to since (`AssessmentChange`, by triggers) start again from none:
    on PostgreSQL the table's lock holds back a writer's mark until this commits, so no write that
    this assessment does not see goes unmarked."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE assessmentchange IN EXCLUSIVE MODE")
    conn.execute(_CHANGES.delete())
    today = at.date()
    conn.execute(_KEPT.delete().where(_KEPT.c.day <= today))
    conn.execute(_RESULTS.delete().where(_RESULTS.c.day <= today))
    shape = assessment_shape(conn, at, playbook, levels, type_window, floor)
    member_rows = _member_rows(conn, None)
    in_groups = _memberships(conn, None, at.tzinfo)
    pending = read_activity(conn, today, playbook.rfm, playbook.lifecycle, type_window, background=False)
    found = assess(conn, at, None, playbook, levels, type_window=type_window, background=False, activity=pending,
                   floor=floor, with_types=True, with_rfm=False, member_rows=member_rows, in_groups=in_groups)
    activity = pending()
    before_bot = there_before_the_bot(conn)
    now = int(at.timestamp())
    results: dict[Assessed, int] = {}
    rows = []
    for m, stage in found.stages.items():
        row = member_rows[m]
        groups = in_groups.get(m)
        t = found.types.get(m)
        result = (t.type if t is not None else None, stage, found.grades[m])
        rows.append({"day": today, "shape": shape, "member": m, "at": now, "points": row[1], "first_at": row[2],
                     "groups": groups[0].toordinal() * 2 + groups[1] if groups else None,
                     "before_bot": m in before_bot, "active": activity.get(m, NO_ACTIVITY).last_any == today,
                     "result": results.setdefault(result, len(results))})
        if len(rows) >= 5000:
            bulk(conn, _KEPT.insert(), rows)
            rows = []
    bulk(conn, _KEPT.insert(), rows)
    bulk(conn, _RESULTS.insert(), [
        {"day": today, "shape": shape, "id": i, "type": t.value if t is not None else None,
         "stage": _stage_text(stage), "grade": _grade_text(grade)} for (t, stage, grade), i in results.items()])
    return len(found.stages)


def members_with_kept(conn: Connection, day: date, shape: int) -> dict[str, tuple[Any, ...]]:
    """Every member's (id, points, first_at, name, kept groups, kept result) by id, in the table's order:
    the last two from the assessment the daily job kept of `day` in this shape (`keep_assessment`,
    `assessment_shape`), when the member's points and first appearance are still those kept, else None.
    One read: the member table joined to the kept rows by their key, for `assess_since_kept`."""
    m, k = table_of(Member), _KEPT.c
    q = select(m.c.id, m.c.points, m.c.first_at, m.c.name, k.groups, k.result).select_from(m.outerjoin(_KEPT, and_(
        k.day == day, k.shape == shape, k.member == m.c.id, k.points.is_not_distinct_from(m.c.points),
        k.first_at.is_not_distinct_from(m.c.first_at))))
    return {row[0]: row for row in plain_rows(conn.execute(q))}


def assess_since_kept(conn: Connection, at: datetime, playbook: Playbook, levels: Sequence[Level], *,
                      shape: int, members: Sequence[str], type_window: int, floor: Floor,
                      activity: Callable[[], dict[str, MemberActivity]], member_rows: dict[str, tuple[Any, ...]],
                      in_groups: dict[str, tuple[date, bool]], background: bool = True) -> dict[str, Assessed]:
    """The community's type, stage and grade of each of `members` as of `at` (the follow-up list's
    assessment): what `assess` gives them (`with_types`, no RFM scores), taken from the daily job's
    kept assessment (`keep_assessment`) for every member none of whose inputs changed since the job,
    and from `assess` for the others; from `assess` for everyone when nothing usable is kept (no job
    today, other settings or split values, an event of an earlier day since, a time before the job's).
    `shape`: `assessment_shape`'s of these settings, and `member_rows`: `members_with_kept`'s of that
    shape, which compares the kept points and first appearance.

    A member is recomputed when: they were not kept (not seen by the job's time); they had counters
    of the day at the job or have now (any message, check-in or visit); their points, first
    appearance, groups (first day, still in one) or being there before the bot differ from the kept
    ones; an order, tag, referral they made or grade pin was written since (`AssessmentChange`, by
    triggers); a grade criterion's tag of theirs began or expired between the job's time and `at`;
    their first appearance crossed the types' "new" bound (`_types`) between the two times."""
    out: dict[str, Assessed] = {}
    kept = _kept_results(conn, at, playbook, shape, members, activity, member_rows, in_groups)
    if kept is None:  # nothing usable kept: everyone assessed, from the rows read already
        changed, rows, few = list(members), member_rows, False
    else:
        out, changed = kept
        rows, few = {m: member_rows[m] for m in changed if m in member_rows}, True
    found = assess(conn, at, None, playbook, levels, members=changed, type_window=type_window,
                   background=background, activity=activity, floor=floor, with_types=True, with_rfm=False,
                   member_rows=rows, in_groups=in_groups, few=few)
    types, stages, grades = found.types, found.stages, found.grades
    for m in changed:
        out[m] = (t.type if (t := types.get(m)) is not None else None, stages[m], grades[m])
    return out


def _kept_results(conn: Connection, at: datetime, playbook: Playbook, shape: int, members: Sequence[str],
                  activity: Callable[[], dict[str, MemberActivity]], member_rows: dict[str, tuple[Any, ...]],
                  in_groups: dict[str, tuple[date, bool]]) -> tuple[dict[str, Assessed], list[str]] | None:
    """`assess_since_kept`'s kept results of the members whose inputs did not change since the job,
    and the changed members in `members`' order; None when nothing usable is kept."""
    today = at.date()
    now = int(at.timestamp())
    k = _KEPT.c
    which = (k.day == today, k.shape == shape)
    job = conn.execute(select(k.at).where(*which).limit(1)).scalar()
    if job is None or job > now:
        return None
    # Marked: written since (triggers), active at the job, there before the bot then (compared below with
    # now), first appearance across the "new" bound of `_types` between the job's time and now.
    marked = set(conn.execute(select(_CHANGES.c.member)).scalars())
    marked.update(conn.execute(select(k.member).where(*which, k.active)).scalars())
    new_from, new_to = job - (NEW_DAYS + 1) * 86400, now - (NEW_DAYS + 1) * 86400
    marked.update(conn.execute(select(k.member).where(*which, k.first_at >= new_from, k.first_at < new_to)).scalars())
    before_bot = there_before_the_bot(conn)
    marked.update(before_bot.symmetric_difference(conn.execute(select(k.member).where(*which, k.before_bot)).scalars()))
    held = table_of(MemberTag).c
    tags = playbook.grades.tags()
    if tags:  # a tag of a criterion whose time came between the job's and now: no write marks it
        marked.update(conn.execute(select(held.member).where(held.tag.in_(tags), (
            (held.since > job) & (held.since <= now)) | ((held.expires_at > job) & (held.expires_at <= now))
        )).scalars())
    kr = _RESULTS.c
    results = {i: (MemberType(kind) if kind is not None else None, _stage_of(stage), _grade_of(grade))
               for i, kind, stage, grade in conn.execute(select(kr.id, kr.type, kr.stage, kr.grade).where(
                   kr.day == today, kr.shape == shape))}
    groups: Memo[int | None, tuple[date, bool] | None] = Memo(
        lambda g: None if g is None else (date.fromordinal(g // 2), bool(g % 2)))
    counted = activity()
    out: dict[str, Assessed] = {}
    changed: list[str] = []
    no_groups = in_groups.get
    for m in members:
        row = member_rows.get(m)  # (id, points, first_at, name, kept groups, kept result)
        if (row is None or row[5] is None or m in marked or counted.get(m, NO_ACTIVITY).last_any == today
                or no_groups(m) != groups[row[4]]):
            changed.append(m)
        else:
            out[m] = results[row[5]]
    return out, changed
