"""A proposed rule tried on all stored history: who it would tag, with sample messages.
The store narrows the messages to those holding a keyword; only those are matched."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.directory import member_names
from bot.features.tags.models import MemberTag
from bot.features.tags.service import Tagging, held_now
from bot.store.models import DailyActivity, EventLog
from tagging.decide import HitWindow, count_rule_holds, count_window
from tagging.matcher import expand, normalize
from tagging.rules import CountRule, Rule

SAMPLES = 10


@dataclass(frozen=True)
class Sample:
    member: str
    name: str
    ts: int
    text: str  # "" for a count rule


@dataclass(frozen=True)
class Backtest:
    rule: Rule
    members: int  # how many it would tag
    already: int  # of them, holding the tag now
    samples: tuple[Sample, ...]  # the first members by name, with the message that tagged them
    since: int | None  # the oldest stored message (keyword rules read everything since)
    candidates: int  # messages holding a keyword, matched one by one
    who: dict[str, tuple[int, str]] = field(default_factory=dict)  # member → (ts, message) that tagged them


@dataclass(frozen=True)
class Change:
    """A proposed rule against the active rules of the same tag: whom it catches that they
    do not, and whom they catch that it would not."""

    against: tuple[int, ...]  # the active rules of that tag
    caught: tuple[Sample, ...]  # newly tagged, with the message
    dropped: tuple[Sample, ...]  # tagged by the current rules, not by the proposed one
    caught_count: int
    dropped_count: int


def compare(conn: Connection, tagging: Tagging, proposed: Backtest, at: datetime) -> Change | None:
    """What `proposed` changes against the active rules of its tag (None when there are none)."""
    rules = [r for r in tagging.current(conn).rules.values()
             if r.tag == proposed.rule.tag and type(r) is type(proposed.rule)]
    if not rules:
        return None
    now: dict[str, tuple[int, str]] = {}
    for rule in rules:
        for member, hit in backtest(conn, tagging, rule, at).who.items():
            now.setdefault(member, hit)
    caught = {m: h for m, h in proposed.who.items() if m not in now}
    dropped = {m: h for m, h in now.items() if m not in proposed.who}
    names = member_names(conn, [*caught, *dropped])

    def samples(found: dict[str, tuple[int, str]]) -> tuple[Sample, ...]:
        listed = sorted(found, key=lambda m: (names.get(m) or m, m))[:SAMPLES]
        return tuple(Sample(m, names.get(m) or m, found[m][0], found[m][1]) for m in listed)

    return Change(tuple(r.id for r in rules), samples(caught), samples(dropped), len(caught), len(dropped))


def backtest(conn: Connection, tagging: Tagging, rule: Rule, at: datetime) -> Backtest:
    """Whom `rule` would tag as of `at` (aware), had it been there all along."""
    stamp = int(at.timestamp())
    if isinstance(rule, CountRule):
        start, end = count_window(at.date(), rule.days)
        d = DailyActivity
        q = select(col(d.member), func.sum(col(d.counted))).where(
            col(d.day) >= start, col(d.day) <= end).group_by(col(d.member))
        holders = {m: (0, "") for m, n in conn.execute(q) if count_rule_holds(n or 0, rule)}
        return _result(conn, rule, holders, stamp, None, 0)
    synonyms = tagging.current(conn).synonyms
    matcher = tagging.preview_matcher(rule, synonyms)
    text = col(EventLog.text)
    # Every message that matches holds a keyword (a jieba token is a slice of the text):
    # the store's LIKE leaves only those, case aside as the matcher does (SQLite's LIKE
    # ignores ASCII case by itself, and is faster without lower()).
    sqlite = conn.dialect.name == "sqlite"
    likes = [(text.like if sqlite else text.ilike)(f"%{_escaped(normalize(k))}%", escape="\\")
             for k in expand(rule, synonyms)]
    # An on=hello rule reads friend-request greetings (friend events of kind "requested"),
    # any other keyword rule chat messages.
    read = ((col(EventLog.type) == "friend") & (col(EventLog.kind) == "requested") if rule.on == "hello"
            else (col(EventLog.type) == "message") & (col(EventLog.kind).is_(None) | (col(EventLog.kind) == "quote")))
    rows = conn.execute(select(col(EventLog.member), col(EventLog.room), col(EventLog.ts), text).where(
        read, col(EventLog.ts) <= stamp, or_(*likes)).order_by(col(EventLog.ts)))
    # Matching (tokenizing) is the cost: a member the rule has fired for is skipped from then
    # on, except to find a hit recent enough to keep an expiring tag.
    fresh_from = stamp - rule.expire_days * 86400 if rule.expire_days else None
    windows: dict[str, HitWindow] = {}
    fired: dict[str, tuple[int, str]] = {}
    fresh: set[str] = set()
    candidates = 0
    for member, room, ts, said in rows:
        candidates += 1
        if member in fired and (fresh_from is None or member in fresh or ts <= fresh_from):
            continue
        if not member or not said or not matcher.match(said, room or None):
            continue
        if fresh_from is not None and ts > fresh_from:
            fresh.add(member)
        if member not in fired:
            window = windows.setdefault(member, HitWindow(rule))
            if window.add(datetime.fromtimestamp(ts, UTC)):
                fired[member] = (ts, said)
    who = {m: hit for m, hit in fired.items() if fresh_from is None or m in fresh}
    since = conn.execute(select(func.min(col(EventLog.ts))).where(
        col(EventLog.type) == ("friend" if rule.on == "hello" else "message"))).scalar()
    return _result(conn, rule, who, stamp, since, candidates)


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _result(conn: Connection, rule: Rule, who: dict[str, tuple[int, str]], at: int, since: int | None,
            candidates: int) -> Backtest:
    if not who:
        return Backtest(rule, 0, 0, (), since, candidates, {})
    already = set(conn.execute(select(col(MemberTag.member)).where(
        col(MemberTag.tag) == rule.tag, held_now(at))).scalars())
    names = member_names(conn, list(who))
    listed = sorted(who, key=lambda m: (names.get(m) or m, m))[:SAMPLES]
    samples = tuple(Sample(m, names.get(m) or m, who[m][0], who[m][1]) for m in listed)
    return Backtest(rule, len(who), len(already & who.keys()), samples, since, candidates, who)

