"""Follow-up lists in the store: operators, gathering facts, issuing lists, marking done."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from enum import Enum

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.deps import Deps
from bot.core.directory import all_rooms, member_names, room_names, told_apart
from bot.core.memory import Memo, no_cycle_collection
from bot.core.settings import Settings
from bot.features.checkins.api import Checkin, CheckinTask
from bot.features.faq.api import has_questions, open_questions
from bot.features.followup.models import (
    FollowUpCase,
    FollowUpItem,
    FollowUpList,
    FollowUpRecord,
    MemberNote,
    MemberSnapshot,
    OperatorCap,
    RoomOperator,
    ScheduledList,
    StageChange,
)
from bot.features.followup.settings import FollowupSettings
from bot.features.friends.api import FRIENDS_NAME, friend_facts, has_friendships
from bot.features.member_types.api import type_floor
from bot.features.points.api import Ledger
from bot.features.privacy.api import is_anonymous
from bot.features.segments.api import (
    NO_ACTIVITY,
    ChurnWindows,
    InGroups,
    Playbook,
    assess_since_kept,
    assessment_shape,
    members_with_kept,
    read_activity,
)
from bot.features.shop import api as shop
from bot.features.tags.api import MemberTag
from bot.store.db import as_date, bulk, one_pass_cache, plain_rows, upsert
from bot.store.models import NO_ROOM, DailyActivity, EventLog, table_of
from tiers import followup as rules
from tiers import lifecycle
from tiers.checkin import streak_at
from tiers.followup import Case, DayList, Item, Lead, MemberFacts
from tiers.followup import DmQuestion as DmQuestionFact
from tiers.followup import StageChange as StageChangeFact
from tiers.levels import Progress, progress
from tiers.lifecycle import StageResult

DAY = 86400


@dataclass(frozen=True)
class OperatorList:
    operator: str
    operator_name: str
    list_id: int | None
    items: list[Item]
    cap: int = rules.DAILY_CAP
    queued: int = 0  # routine visits due that wait for room


# ---- operators ------------------------------------------------------------------------------
def operator_rooms(conn: Connection, admins: Sequence[str]) -> dict[str, list[str]]:
    """Operator → their rooms. Rooms without an operator fall back to the admins."""
    rooms = all_rooms(conn)
    assigned: dict[str, list[str]] = defaultdict(list)
    covered = set()
    for room, member in conn.execute(select(col(RoomOperator.room), col(RoomOperator.member))):
        assigned[member].append(room)
        covered.add(room)
    orphans = [r for r in rooms if r not in covered]
    # The private account's friends (requests, friends in no group) and 1:1 questions nobody
    # answered are the admins' to follow.
    friends = [NO_ROOM] if has_friendships(conn) or has_questions(conn) else []
    for admin in sorted(admins):
        if orphans or friends:
            assigned[admin].extend(orphans + friends)
    order = {r: i for i, r in enumerate([*rooms, NO_ROOM])}
    return {m: sorted(set(rs), key=lambda r: order.get(r, 0)) for m, rs in assigned.items()}


def seed_operators(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    upsert(conn, table_of(RoomOperator), [{"room": r, "member": m} for r, m in pairs],
           ["room", "member"])


# ---- facts ----------------------------------------------------------------------------------
def _previous_list_at(conn: Connection, at: int) -> int:
    last = conn.execute(select(func.max(col(FollowUpList.at))).where(
        col(FollowUpList.scheduled), col(FollowUpList.at) < at)).scalar()
    return last if last is not None else at - DAY


def collect_facts(conn: Connection, deps: Deps, at: datetime, rooms: Sequence[str],
                  bot_ids: frozenset[str] = frozenset(), *, background: bool = True
                  ) -> Generator[MemberFacts, None, None]:
    """`_collect_facts`, each whole table it reads once through a small page cache, and 100k members'
    facts made without the garbage collector's full passes over them. One at a time: a caller that
    keeps few of them (the list keeps the members with a reason) never holds them all."""
    with no_cycle_collection(), one_pass_cache(conn):
        yield from _collect_facts(conn, deps, at, rooms, bot_ids, background=background)


def _collect_facts(conn: Connection, deps: Deps, at: datetime, rooms: Sequence[str],
                   bot_ids: frozenset[str] = frozenset(), *, background: bool = True) -> Iterator[MemberFacts]:
    """Facts for every current member of these rooms as of `at` (local), in room order, made as
    they are taken (the reads are done first).
    `background` False inside a batch: a read on a connection of its own sees only what is
    committed, not the batch's own earlier events.

    Member types here are community-wide (all rooms, split at the community's values of the
    day): the list is about the member, and one pass over the daily counters gives the type, the
    churn signs and the playbook models."""
    tz = at.tzinfo
    now = int(at.timestamp())
    today = at.date()
    # One read of the counters serves the type's two numbers over the window, the churn
    # signs, the last day each member spoke and the playbook models below. It is the
    # slowest read, so it runs on a connection of its own while the rest is gathered here.
    window = deps.settings.window_days
    models = deps.service(Playbook)
    pending = read_activity(conn, today, models.rfm, models.lifecycle, window, background=background,
                            churn=ChurnWindows(rules.CHURN_DAYS, rules.CHURN_BASE_DAYS))
    since_prev = _previous_list_at(conn, now)
    names = room_names(conn, rooms)
    never = bot_ids | deps.settings.admin_ids  # the bot and the admins are never on a list

    # (id, points, first_at, name, kept groups, kept result) by id, one tuple per member: the facts' points,
    # first day and name, and the assessment's rows with what the daily job kept of them (`assess_since_kept`).
    # Row by row (the driver's own pace), kept as plain tuples: 100k result rows held at once (`.all()`)
    # would be tens of MB.
    levels, floor = deps.service(Ledger).levels, type_floor(deps.settings)
    shape = assessment_shape(conn, at, models, levels, window, floor)  # the settings and split values: once
    member_by_id = members_with_kept(conn, today, shape)
    # The private account's friends (NO_ROOM) come from friend_facts below. One read of every
    # membership, in plain SQL (the table in its own order): the rooms' current members, and for the
    # assessment when each member was first in a group and whether they still are in one.
    # (member, joined_at) by room.
    members_by_room: dict[str, list[tuple[str, int | None]]] = {room: [] for room in rooms}
    listed = {room: members_by_room[room] for room in rooms if room != NO_ROOM}
    in_groups = InGroups(tz)
    for r, m, j, first, active in plain_rows(
            conn.exec_driver_sql("SELECT room, member, joined_at, first_at, active FROM membership")):
        # The member read's string for the id, so that 100k ids are held once, not twice.
        row = member_by_id.get(m)
        if row is not None:
            m = row[0]
        in_groups.add(m, first, active)
        if active and first <= now and r in listed and m not in never:
            listed[r].append((m, j))
    del listed
    everyone = list(dict.fromkeys(m for ms in members_by_room.values() for m, _ in ms))  # in room order

    # Leads given since the previous list.
    leads: dict[str, list[Lead]] = defaultdict(list)
    lead_rows = (
        select(table_of(MemberTag), col(EventLog.room).label("said_in"))
                 .outerjoin(EventLog, col(EventLog.id) == col(MemberTag.message_id))
                 .where(col(MemberTag.lead), col(MemberTag.since) > since_prev, col(MemberTag.since) <= now))
    said_in_rooms = room_names(conn)
    for r in conn.execute(lead_rows):
        said = r.said_in  # where the words were said: a group, or NO_ROOM for 私聊
        leads[r.member].append(Lead(r.tag, r.keyword, r.excerpt, datetime.fromtimestamp(r.at, tz),
                                    said, said_in_rooms.get(said, said) if said else ""))

    broken = _broken_streaks(conn, today)
    # What the last scheduled list recorded of each member: (type, level, (grade, since) or None, stage).
    snap: dict[str, tuple[str | None, int | None, tuple[str, int | None] | None, str | None]] = {
        m: (was_type, lv, (was_grade, since) if was_grade is not None else None, was_stage or None)
        for m, was_type, lv, was_grade, since, was_stage in conn.execute(select(
            col(MemberSnapshot.member), col(MemberSnapshot.type), col(MemberSnapshot.level), col(MemberSnapshot.grade),
            col(MemberSnapshot.grade_since), col(MemberSnapshot.stage)).where(col(MemberSnapshot.room) == NO_ROOM))}
    # The community's type, stage and grade of each member (the types community-wide, whatever rooms the
    # list covers: the snapshot the next list compares with is one per member): the daily job's kept
    # assessment for every member whose inputs did not change since, `assess` for the rest.
    assessed = assess_since_kept(conn, at, models, levels, shape=shape, members=everyone,
                                 type_window=window, floor=floor, activity=pending,
                                 member_rows=member_by_id, in_groups=in_groups.of, background=background)
    del everyone, in_groups
    activity = pending()
    cadence = deps.service(Playbook).grades.cadence
    redemptions = shop.pending(conn, tz, now)
    last_done = dict(conn.execute(select(col(FollowUpRecord.member), func.max(col(FollowUpRecord.at)))
                                  .group_by(col(FollowUpRecord.member))).all())
    done_kinds: dict[str, set[str]] = defaultdict(set)
    done_rows = select(col(FollowUpRecord.member), col(FollowUpRecord.kind)).where(
        col(FollowUpRecord.at) > now - rules.SUPPRESS_DAYS * DAY)
    for m, kind in conn.execute(done_rows):
        done_kinds[m].add(kind)

    # Members share few distinct values of most facts: each is computed once.
    ladder: Memo[int, _LevelFacts] = Memo(lambda score: _level(progress(score, levels)))
    silent: Memo[date | None, int | None] = Memo(lambda last: (today - last).days if last is not None else None)
    moments: Memo[int, datetime] = Memo(lambda epoch: datetime.fromtimestamp(epoch, tz))
    values: Memo[Enum, str] = Memo(lambda e: e.value)  # of the types and stages
    alarming: Memo[tuple[str, StageResult], StageChangeFact | None] = Memo(lambda change: _alarming(*change))
    new_from = now - int(rules.NEW_SILENT_WITHIN.total_seconds())
    nothing: frozenset[str] = frozenset()

    def in_rooms() -> Iterator[MemberFacts]:
        last_of = {room: i for i, room in enumerate(rooms)}
        for i, room in enumerate(rooms):
            # A room's members go once its (last) facts are made: they are not held beside all the facts.
            in_room = members_by_room[room] if last_of[room] > i else members_by_room.pop(room)
            joined = [(m, j) for m, j in in_room if j is not None and new_from <= j <= now]
            spoke = _spoke_since_join(conn, room, joined, tz)
            del joined
            room_name = names.get(room) or room
            for m, j in in_room:
                if is_anonymous(m):  # a member who had their data erased: only an id, nobody to follow up
                    continue
                a = activity.get(m, NO_ACTIVITY)
                row = member_by_id.get(m)
                level = ladder[(row[1] if row else None) or 0]
                prev_type, prev_level, graded, was = snap.get(m, _NO_SNAPSHOT)
                t, stage, graded_now = assessed[m]
                done_at = last_done.get(m)
                new_join = j is not None and j >= new_from  # only a recent join can be "new"
                grade = graded_now.grade
                # since when in `grade`: as the last scheduled list recorded it; now, when it recorded
                # another grade; when the bot first saw the member, when no list recorded a grade yet
                if graded is None:
                    first_seen = row[2] if row else None
                    since = now if first_seen is None or first_seen > now else first_seen
                else:
                    since = graded[1] if graded[0] == grade and graded[1] is not None else now
                in_grade = moments[since]
                change = None if was is None else alarming[was, stage]
                yield MemberFacts(  # by position (a third of the time by keyword), in the fields' order:
                    m, (row[3] if row else None) or m, room, room_name,  # member, name, room, room_name
                    # joined_at, spoke_since_join (j is set when new_join)
                    datetime.fromtimestamp(j, tz) if new_join else None, not new_join or m in spoke,  # type: ignore[arg-type]
                    values[t] if t is not None else None, prev_type,  # type, previous_type
                    a.churn_recent, a.churn_before, silent[a.last_spoke],  # active_days_recent, _before, silent_days
                    tuple(leads[m]) if m in leads else (), broken.get(m),  # leads, broken_streak
                    level[0], level[1], prev_level, level[2], level[3],  # level, _name, previous_, next_level, _ratio
                    datetime.fromtimestamp(done_at, tz) if done_at else None,  # last_followed_up
                    grade, cadence.get(grade), in_grade,  # grade, grade_cadence, grade_since
                    values[stage.stage], change,  # stage, stage_change
                    tuple(redemptions[m]) if m in redemptions else (),  # redemptions
                    frozenset(done_kinds[m]) if m in done_kinds else nothing,  # done_recently
                )
        if NO_ROOM in rooms:
            yield from (f for f in friend_facts(conn, at, done_kinds) if not is_anonymous(f.member))

    # The anonymous ids are left out here, in `in_rooms` and in `_with_questions`: no layer per fact.
    return _with_questions(conn, in_rooms(), at, NO_ROOM in rooms, never, leads)


_NO_SNAPSHOT = (None, None, None, None)


_LevelFacts = tuple[int, str, tuple[int, str, int] | None, float]


def _level(p: Progress) -> _LevelFacts:
    """MemberFacts' level, level_name, next_level and level_ratio."""
    return p.level.n, p.level.name, (p.next.n, p.next.name, p.to_next) if p.next else None, p.ratio


def _alarming(was: str, stage: StageResult) -> StageChangeFact | None:
    """The change from the stage the last list recorded to this one, when it is alarming."""
    before = lifecycle.Stage(was)
    if not lifecycle.is_alarming(before, stage.stage):
        return None
    return StageChangeFact(lifecycle.STAGE_LABELS[before], stage.label, stage.reason,
                           lifecycle.STAGE_ACTIONS[stage.stage])


def _with_questions(conn: Connection, facts: Iterable[MemberFacts], at: datetime, private: bool,
                    never: frozenset[str], leads: dict[str, list[Lead]]) -> Iterator[MemberFacts]:
    """Each member's 1:1 question nobody answered, on their facts wherever they are listed, and
    for a member listed nowhere, on a fact of the private chats (when this list has them, after
    the others), with the leads their words gave. The facts as they are when nobody waits; never an
    anonymous id's question (`is_anonymous`)."""
    waiting = open_questions(conn, int(at.timestamp()))
    if not waiting:
        return iter(facts)
    asked = {m: DmQuestionFact(q.text, datetime.fromtimestamp(q.at, at.tzinfo), q.count) for m, q in waiting.items()
             if m not in never and not is_anonymous(m)}
    return _asking(conn, facts, asked, private, leads)


def _asking(conn: Connection, facts: Iterable[MemberFacts], asked: dict[str, DmQuestionFact], private: bool,
            leads: dict[str, list[Lead]]) -> Iterator[MemberFacts]:
    listed = set()  # of those who asked
    for f in facts:
        if f.member in asked:
            listed.add(f.member)
            f = replace(f, dm_question=asked[f.member])
        yield f
    if private:
        names = member_names(conn, [m for m in asked if m not in listed])
        yield from (MemberFacts(member=m, name=names.get(m) or m, room=NO_ROOM, room_name=FRIENDS_NAME,
                                dm_question=q, leads=tuple(leads.get(m, ())))
                    for m, q in asked.items() if m not in listed)


def _spoke_since_join(conn: Connection, room: str, joined: list[tuple[str, int]], tz: tzinfo | None
                      ) -> set[str]:
    if not joined:
        return set()
    first_day = {m: datetime.fromtimestamp(j, tz).date() for m, j in joined}
    d = table_of(DailyActivity).c
    q = select(d.member, d.day).where(d.room == room, d.messages > 0,
                                      d.member.in_(list(first_day)),
                                      d.day >= min(first_day.values()))
    return {m for m, day in conn.execute(q) if as_date(day) >= first_day[m]}


def _broken_streaks(conn: Connection, today: date) -> dict[str, tuple[str, int]]:
    """Members whose streak of STREAK_MIN+ days ended the day before yesterday."""
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)
    out: dict[str, tuple[str, int]] = {}
    tasks = dict(conn.execute(select(col(CheckinTask.id), col(CheckinTask.name))).all())
    for task_id, task_name in tasks.items():
        q = select(col(Checkin.member), col(Checkin.day)).where(
            col(Checkin.task_id) == task_id, col(Checkin.day).in_([yesterday, before]))
        days: dict[str, set[date]] = defaultdict(set)
        for m, day in conn.execute(q):
            days[m].add(as_date(day))
        candidates = [m for m, ds in days.items() if ds == {before}]
        if not candidates:
            continue
        # Look back a week first; only streaks that fill it need a longer look.
        lookback = 7
        while candidates:
            history: dict[str, set[date]] = defaultdict(set)
            since = before - timedelta(days=lookback - 1)
            for i in range(0, len(candidates), 900):
                q = select(col(Checkin.member), col(Checkin.day)).where(
                    col(Checkin.task_id) == task_id, col(Checkin.member).in_(candidates[i : i + 900]),
                    col(Checkin.day) >= since, col(Checkin.day) <= before)
                for m, day in conn.execute(q):
                    history[m].add(as_date(day))
            longer = []
            for m in candidates:
                length = streak_at(history[m], before)
                if length >= lookback and lookback < 3650:
                    longer.append(m)
                elif length >= rules.STREAK_MIN and m not in out:
                    out[m] = (task_name, length)
            candidates, lookback = longer, lookback * 8
    return out


# ---- cases: items not done yet -------------------------------------------------------------
def open_cases(conn: Connection, today: date) -> list[Case]:
    """Every item of earlier lists that is not done, as the list rules read it."""
    rows = conn.execute(select(FollowUpCase)).all()
    if not rows:
        return []
    names = member_names(conn, [r.member for r in rows])
    rooms = room_names(conn, [r.room for r in rows if r.room])
    # Its age is in local days since the first list that named it, not in lists issued (a
    # weekend without lists is two more days of waiting).
    return [Case(r.member, r.kind, r.room, rooms.get(r.room, r.room) if r.room else "私聊",
                 names.get(r.member) or r.member, r.reason, r.action,
                 days=(today - as_date(r.opened)).days + (as_date(r.last_listed) == today),
                 listed_today=as_date(r.last_listed) == today, owner=r.owner,
                 snoozed=r.snoozed_until is not None and as_date(r.snoozed_until) > today,
                 escalated=r.escalated_on is not None)
            for r in rows]


def _note_cases(conn: Connection, items: Sequence[Item], today: date) -> None:
    """Open a case for each new item; count today for the ones listed before."""
    mine = [i for i in items if not i.escalated_from]
    if not mine:
        return
    existing: dict[tuple[str, str], tuple[date, int]] = {}
    members = list({i.member for i in mine})
    for k in range(0, len(members), 900):
        q = select(col(FollowUpCase.member), col(FollowUpCase.kind), col(FollowUpCase.last_listed),
                   col(FollowUpCase.days)).where(col(FollowUpCase.member).in_(members[k : k + 900]))
        existing.update({(m, kind): (as_date(last), days) for m, kind, last, days in conn.execute(q)})
    rows = []
    for i in mine:
        last, days = existing.get((i.member, i.kind), (None, 0))
        rows.append({"member": i.member, "kind": i.kind, "room": i.room, "reason": i.reason,
                     "action": i.action, "opened": today, "last_listed": today,
                     "days": days + (last is None or last < today)})
    upsert(conn, table_of(FollowUpCase), rows, ["member", "kind"],
           replace=["room", "reason", "action", "last_listed", "days"])


def close_cases(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    for member, kind in pairs:
        conn.execute(delete(FollowUpCase).where(col(FollowUpCase.member) == member,
                                                col(FollowUpCase.kind) == kind))


def _drop_stale_events(conn: Connection, today: date) -> None:
    """Events nobody followed up within EVENT_KEEP_DAYS leave the lists (a lead from last
    month is no lead any more); one handed to an operator stays with them until done."""
    conn.execute(delete(FollowUpCase).where(
        col(FollowUpCase.kind).in_(sorted(rules.EVENT_KINDS)), col(FollowUpCase.owner).is_(None),
        col(FollowUpCase.opened) <= today - timedelta(days=rules.EVENT_KEEP_DAYS)))


def _drop_passed(conn: Connection, today: date) -> None:
    """Conditions that no list named today have passed (the member came back): their case
    closes, so a later episode starts at day 1. Events, snoozed and handed-over items stay."""
    conn.execute(delete(FollowUpCase).where(
        col(FollowUpCase.kind).not_in(sorted(rules.EVENT_KINDS)), col(FollowUpCase.owner).is_(None),
        col(FollowUpCase.last_listed) < today,
        or_(col(FollowUpCase.snoozed_until).is_(None), col(FollowUpCase.snoozed_until) <= today)))


# ---- lists ----------------------------------------------------------------------------------
def daily_cap(conn: Connection, settings: Settings, operator: str) -> int:
    own = conn.execute(select(col(OperatorCap.daily_cap)).where(col(OperatorCap.member) == operator)).scalar()
    return own if own is not None else settings.of(FollowupSettings).followup_cap


def _labelled(conn: Connection, day: DayList) -> DayList:
    """Members sharing a name told apart (group nickname or the end of the id)."""
    return replace(day, items=_told_apart(conn, day.items))


def _told_apart(conn: Connection, items: Sequence[Item]) -> list[Item]:
    # Only a name that comes up more than once can be shared: most items keep theirs as it is.
    twice = {name for name, n in Counter(i.member_name for i in items).items() if n > 1}
    if not twice:
        return list(items)
    labels = told_apart(conn, [(i.member, i.member_name, i.room) for i in items if i.member_name in twice])
    return [i if i.member_name not in twice or labels[i.member] == i.member_name
            else replace(i, member_name=labels[i.member]) for i in items]


def _never(deps: Deps, bot_ids: frozenset[str]) -> frozenset[str]:
    return deps.settings.admin_ids | bot_ids


@no_cycle_collection()  # 100k members' facts
def build_items(conn: Connection, deps: Deps, at: datetime, rooms: Sequence[str],
                bot_ids: frozenset[str] = frozenset(), *, operator: str | None = None,
                background: bool = True) -> DayList:
    """The list of these rooms now, for `operator` (never naming them, routine visits only up
    to their daily cap) when given; else everything due."""
    cap = None if operator is None else daily_cap(conn, deps.settings, operator)
    cases = open_cases(conn, at.date())
    # closed even when the list fails half way: the facts' reads put the page cache and the collector back
    with closing(collect_facts(conn, deps, at, rooms, bot_ids, background=background)) as facts:
        return _labelled(conn, rules.build_list(facts, at, cases=cases, me=operator, exclude=_never(deps, bot_ids),
                                                cap=cap))


def store_list(conn: Connection, operator: str, at: datetime, items: Sequence[Item], *,
               scheduled: bool, queued: int = 0) -> int:
    result = conn.execute(table_of(FollowUpList).insert().values(
        operator=operator, at=int(at.timestamp()), day=at.date(), scheduled=scheduled, queued=queued))
    list_id = int(result.inserted_primary_key[0])  # type: ignore[index]  # always set after an insert
    bulk(conn, table_of(FollowUpItem).insert(), [
        {"list_id": list_id, "n": i.n, "kind": i.kind, "member": i.member, "room": i.room,
         "reason": i.reason, "action": i.action, "age": i.age, "escalated_from": i.escalated_from or None}
        for i in items])
    _note_cases(conn, items, at.date())
    return list_id


@dataclass(frozen=True)
class IssuedList:
    """A list as issued to an operator: its id (for `/done`), items and the rooms it covers."""

    operator: str
    list_id: int
    at: datetime
    items: list[Item]
    room_names: list[str]  # in the operator's order
    cap: int = rules.DAILY_CAP  # items shown in chat; the rest are in the console
    queued: int = 0  # routine visits due that wait for room


def _names_in_order(conn: Connection, rooms: Sequence[str]) -> list[str]:
    names = room_names(conn, rooms) | {NO_ROOM: FRIENDS_NAME}
    return [names.get(r, r) for r in rooms]


def issue(conn: Connection, deps: Deps, operator: str, rooms: Sequence[str], at: datetime, *,
          scheduled: bool, bot_ids: frozenset[str] = frozenset(), background: bool = True) -> IssuedList:
    """Build and store one operator's list (`background`: see collect_facts)."""
    day = build_items(conn, deps, at, rooms, bot_ids, operator=operator, background=background)
    list_id = store_list(conn, operator, at, day.items, scheduled=scheduled, queued=day.queued)
    return IssuedList(operator, list_id, at, day.items, _names_in_order(conn, rooms),
                      daily_cap(conn, deps.settings, operator), day.queued)


def snapshot(conn: Connection, at: datetime, members: Sequence[MemberFacts]) -> None:
    """Remember each member's type, level and stage, so the next list can say what changed;
    stage transitions are kept for the lifecycle funnel."""
    now = int(at.timestamp())
    rows = {f.member: {"room": NO_ROOM, "member": f.member, "type": f.type, "level": f.level,
                       "at": now, "stage": f.stage, "grade": f.grade,
                       "grade_since": int(f.grade_since.timestamp()) if f.grade and f.grade_since else None}
            for f in members}
    before = dict(conn.execute(select(col(MemberSnapshot.member), col(MemberSnapshot.stage)).where(
        col(MemberSnapshot.room) == NO_ROOM)).all())
    bulk(conn, table_of(StageChange).insert(), [
        {"member": m, "at": now, "before": before.get(m), "after": r["stage"]}
        for m, r in rows.items() if r["stage"] is not None and before.get(m) != r["stage"]])
    upsert(conn, table_of(MemberSnapshot), list(rows.values()), ["room", "member"],
           replace=["type", "level", "at", "stage", "grade", "grade_since"])


@no_cycle_collection()  # 100k members' facts
def issue_daily(conn: Connection, deps: Deps, at: datetime,
                bot_ids: frozenset[str] = frozenset()) -> list[IssuedList]:
    """The scheduled run: each operator's list, once per local day (an operator who already
    got today's scheduled list is skipped), items waiting too long put on the admins' lists
    (once), and the snapshot the next run compares with."""
    today = at.date()
    assigned = operator_rooms(conn, sorted(deps.settings.admin_ids))
    already = set(conn.execute(select(col(ScheduledList.operator)).where(
        col(ScheduledList.day) == today)).scalars())
    todo = {op: rooms for op, rooms in assigned.items() if op not in already and rooms}
    admins = sorted(deps.settings.admin_ids - already)
    if not todo and not admins:
        return []
    all_rooms = list(dict.fromkeys(r for rooms in todo.values() for r in rooms))
    facts = list(collect_facts(conn, deps, at, all_rooms, bot_ids))  # once, shared by every operator
    by_room: dict[str, list[MemberFacts]] = defaultdict(list)
    for f in facts:
        by_room[f.room].append(f)
    _drop_stale_events(conn, today)
    cases = open_cases(conn, today)
    never = _never(deps, bot_ids)
    caps = {op: daily_cap(conn, deps.settings, op) for op in [*todo, *admins]}
    lists = {op: _labelled(conn, rules.build_list([f for r in rooms for f in by_room[r]], at, cases=cases,
                                                  me=op, exclude=never, cap=caps[op]))
             for op, rooms in todo.items()}
    # Items that waited too long on an operator's list go to every admin's list, once.
    late = rules.overdue({op: day.items for op, day in lists.items()}, cases,
                         deps.settings.of(FollowupSettings).followup_escalate_days, deps.settings.admin_ids)
    if late:
        names = member_names(conn, {op for op, _ in late})
        for admin in admins:
            own = lists.get(admin, DayList([]))
            lists[admin] = replace(own, items=rules.with_escalations(own.items, late, names))
    out: list[IssuedList] = []
    for operator, day in lists.items():
        list_id = store_list(conn, operator, at, day.items, scheduled=True, queued=day.queued)
        conn.execute(table_of(ScheduledList).insert().values(
            operator=operator, day=today, list_id=list_id))
        out.append(IssuedList(operator, list_id, at, day.items, _names_in_order(conn, todo.get(operator, [])),
                              caps[operator], day.queued))
    for _, i in late:
        conn.execute(update(FollowUpCase).where(col(FollowUpCase.member) == i.member,
                                                col(FollowUpCase.kind) == i.kind).values(escalated_on=today))
    _drop_passed(conn, today)
    snapshot(conn, at, facts)
    return out


def latest_list(conn: Connection, operator: str) -> FollowUpList | None:
    row = conn.execute(select(FollowUpList).where(col(FollowUpList.operator) == operator)
                       .order_by(col(FollowUpList.id).desc()).limit(1)).first()
    return FollowUpList.model_validate(row._mapping) if row else None


def _latest_items(conn: Connection, operator: str) -> tuple[FollowUpList | None, dict[int, FollowUpItem]]:
    latest = latest_list(conn, operator)
    if latest is None:
        return None, {}
    return latest, {r.n: FollowUpItem.model_validate(r._mapping) for r in conn.execute(
        select(FollowUpItem).where(col(FollowUpItem.list_id) == latest.id))}


@dataclass(frozen=True)
class DoneResult:
    """What a `/done` recorded (`check.valid`) and what it could not (`unknown`, `repeated`)."""

    check: rules.DoneCheck
    list_size: int  # items on the list the numbers refer to (0: no list yet)
    has_list: bool


def mark_done(conn: Connection, operator: str, numbers: Sequence[int], note: str | None,
              at: datetime) -> DoneResult:
    """Record follow-ups for items of the operator's latest list; records nothing when no
    number is valid."""
    latest, items = _latest_items(conn, operator)
    if latest is None:
        return DoneResult(rules.check_done(numbers, (), ()), 0, False)
    done = set(conn.execute(select(col(FollowUpRecord.n)).where(
        col(FollowUpRecord.list_id) == latest.id)).scalars())
    check = rules.check_done(numbers, items, done)
    bulk(conn, table_of(FollowUpRecord).insert(), [
        {"operator": operator, "member": items[n].member, "kind": items[n].kind,
         "room": items[n].room, "list_id": latest.id, "n": n, "at": int(at.timestamp()),
         "note": note} for n in check.valid])
    close_cases(conn, [(items[n].member, items[n].kind) for n in check.valid])
    for n in check.valid:  # a redemption item done: what was redeemed by the list was handed over
        if items[n].kind == "redemption":
            shop.fulfil(conn, items[n].member, latest.at, int(at.timestamp()), operator)
    return DoneResult(check, max(items, default=0), True)


@dataclass(frozen=True)
class Moved:
    """What a snooze or a reassignment did: the items it moved (number → member id), the
    numbers not on the list, and those already done."""

    moved: dict[int, str]
    unknown: list[int]
    done: list[int]
    list_size: int
    has_list: bool


def _move(conn: Connection, operator: str, numbers: Sequence[int], **values: object) -> Moved:
    latest, items = _latest_items(conn, operator)
    if latest is None:
        return Moved({}, list(numbers), [], 0, False)
    done = set(conn.execute(select(col(FollowUpRecord.n)).where(
        col(FollowUpRecord.list_id) == latest.id)).scalars())
    check = rules.check_done(numbers, items, done)
    for n in check.valid:
        item = items[n]
        upsert(conn, table_of(FollowUpCase), [{
            "member": item.member, "kind": item.kind, "room": item.room, "reason": item.reason,
            "action": item.action, "opened": latest.day, "last_listed": latest.day, "days": item.age,
            "owner": None, "snoozed_until": None, **values}], ["member", "kind"], replace=list(values))
    return Moved({n: items[n].member for n in check.valid}, check.unknown, check.repeated,
                 max(items, default=0), True)


def snooze(conn: Connection, operator: str, numbers: Sequence[int], days: int, at: datetime) -> Moved:
    """Leave these items of the operator's latest list off the lists for `days` days."""
    return _move(conn, operator, numbers, snoozed_until=at.date() + timedelta(days=days))


def reassign(conn: Connection, operator: str, numbers: Sequence[int], to: str) -> Moved:
    """Hand these items of the operator's latest list to another operator (from their next list)."""
    return _move(conn, operator, numbers, owner=to, snoozed_until=None, escalated_on=None)


def is_operator(conn: Connection, member: str) -> bool:
    return conn.execute(select(col(RoomOperator.member)).where(col(RoomOperator.member) == member)
                        .limit(1)).first() is not None


def set_cap(conn: Connection, operator: str, cap: int) -> None:
    upsert(conn, table_of(OperatorCap), [{"member": operator, "daily_cap": cap}], ["member"],
           replace=["daily_cap"])


# ---- notes and history ---------------------------------------------------------------------
def add_note(conn: Connection, member: str, by: str, text: str, at: datetime) -> None:
    conn.execute(table_of(MemberNote).insert().values(member=member, by=by, text=text,
                                                      at=int(at.timestamp())))


@dataclass(frozen=True)
class HistoryEntry:
    at: int
    by: str  # operator id
    by_name: str
    kind: str | None  # the item followed up (None: a note)
    note: str | None


def history(conn: Connection, member: str, limit: int = 50) -> list[HistoryEntry]:
    """Who followed this member up, when, for what, and what they noted: newest first."""
    done = conn.execute(select(col(FollowUpRecord.at), col(FollowUpRecord.operator), col(FollowUpRecord.kind),
                               col(FollowUpRecord.note)).where(col(FollowUpRecord.member) == member)
                        .order_by(col(FollowUpRecord.at).desc()).limit(limit)).all()
    notes = conn.execute(select(col(MemberNote.at), col(MemberNote.by), col(MemberNote.text))
                         .where(col(MemberNote.member) == member)
                         .order_by(col(MemberNote.at).desc()).limit(limit)).all()
    names = member_names(conn, [*(r[1] for r in done), *(r[1] for r in notes)])
    rows = [HistoryEntry(at, op, names.get(op, op), kind, note) for at, op, kind, note in done]
    rows += [HistoryEntry(at, by, names.get(by, by), None, text) for at, by, text in notes]
    return sorted(rows, key=lambda e: -e.at)[:limit]


def member_cases(conn: Connection, member: str, today: date) -> list[Case]:
    return [c for c in open_cases(conn, today) if c.member == member]


def _issued_today(conn: Connection, operator: str, at: datetime) -> FollowUpList | None:
    latest = latest_list(conn, operator)
    return latest if latest is not None and as_date(latest.day) == at.date() else None


@no_cycle_collection()  # 100k members' facts
def current_lists(conn: Connection, deps: Deps, at: datetime) -> list[OperatorList]:
    """Each operator's list for today, read only: the one issued today (by the scheduler or
    `issue_today`), else a preview of what would be issued now (`list_id` None), stored
    nowhere. Its numbers can be marked done only once it is issued."""
    out = []
    names = member_names(conn)
    previews: dict[str, DayList] = {}
    assigned = operator_rooms(conn, sorted(deps.settings.admin_ids))
    for admin in sorted(deps.settings.admin_ids - set(assigned)):  # a list of escalated items only
        if _issued_today(conn, admin, at) is not None:
            assigned[admin] = []
    issued = {op: _issued_today(conn, op, at) for op in assigned}
    pending = {op: rooms for op, rooms in assigned.items() if issued[op] is None}
    if pending:  # facts once for every operator still without a list, as send_daily does
        rooms_needed = list(dict.fromkeys(r for rooms in pending.values() for r in rooms))
        by_room: dict[str, list[MemberFacts]] = defaultdict(list)
        for f in collect_facts(conn, deps, at, rooms_needed):
            by_room[f.room].append(f)
        cases = open_cases(conn, at.date())
        never = _never(deps, frozenset())
        previews = {op: _labelled(conn, rules.build_list([f for r in rooms for f in by_room[r]], at, cases=cases,
                                                         me=op, exclude=never,
                                                         cap=daily_cap(conn, deps.settings, op)))
                    for op, rooms in pending.items()}
    for operator in assigned:
        latest = issued[operator]
        if latest is not None:
            rows = conn.execute(select(FollowUpItem).where(col(FollowUpItem.list_id) == latest.id)
                                .order_by(col(FollowUpItem.n))).all()
            room_name = room_names(conn)
            items = _told_apart(conn, [
                Item(r.n, r.kind, r.member, names.get(r.member) or r.member, r.room,
                     room_name.get(r.room, r.room) if r.room else FRIENDS_NAME, r.reason, r.action,
                     age=r.age, escalated_from=r.escalated_from or "") for r in rows])
            out.append(OperatorList(operator, names.get(operator) or operator, latest.id, items,
                                    daily_cap(conn, deps.settings, operator), latest.queued))
        else:
            preview = previews[operator]
            out.append(OperatorList(operator, names.get(operator) or operator, None,
                                    preview.items, daily_cap(conn, deps.settings, operator), preview.queued))
    return out


def issue_today(conn: Connection, deps: Deps, at: datetime) -> list[int]:
    """Issue today's list now for every operator without one today (a manager asked for it:
    not the scheduled run, so no DMs and no snapshot); returns the new list ids."""
    out = []
    for operator, rooms in operator_rooms(conn, sorted(deps.settings.admin_ids)).items():
        if _issued_today(conn, operator, at) is None:
            out.append(issue(conn, deps, operator, rooms, at, scheduled=False).list_id)
    return out


def done_numbers(conn: Connection, list_id: int) -> set[int]:
    return set(conn.execute(select(col(FollowUpRecord.n)).where(col(FollowUpRecord.list_id) == list_id)).scalars())

