"""Tags in the store: applying rule hits and count rules, manual tags, expiry, provenance."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, ColumnElement, Integer, bindparam, case, cast, delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.directory import room_id_or_error
from bot.core.errors import UsageError
from bot.core.options import Options, parse
from bot.features.tags.models import MemberTag, TagGroup, TagRule
from bot.features.tags.synonyms import stamp as synonyms_stamp
from bot.features.tags.synonyms import synonym_sets
from bot.store.db import bulk, bulk_rows, insert_for, read_rows, upsert
from bot.store.models import DailyActivity, table_of
from tagging.decide import HeldTag, count_rule_holds, count_run, count_window, exclusive_displaced
from tagging.intent import Synonyms
from tagging.matcher import KeywordMatcher, Tokenizer, dictionary_words
from tagging.reasons import Provenance, format_tag_line
from tagging.rules import (
    RULE_FLAGS,
    RULE_KEYS,
    CountRule,
    KeywordRule,
    Rule,
    RuleSyntaxError,
    Scope,
    format_rule_args,
    parse_rule,
    validate_group,
)

log = logging.getLogger(__name__)

DAY = 86400

# Built once: every rule's refresh runs the same compiled statement.
_REFRESH_COUNT = (update(table_of(MemberTag)).where(
    table_of(MemberTag).c.member == bindparam("m"), table_of(MemberTag).c.tag == bindparam("t"),
    table_of(MemberTag).c.rule_id == bindparam("rid")).values(count=bindparam("n"), at=bindparam("at")))


def parse_rule_text(text: str, *, mentions: tuple[str, ...] = (), rule_id: int = 0) -> Rule:
    """A rule written as after `/rule add` (chat, the console, the config file, the store),
    read by the one option parser; UsageError (Chinese) saying what was wrong."""
    return rule_from_options(parse(text, mentions=mentions, keys=RULE_KEYS, flags=RULE_FLAGS),
                             rule_id=rule_id)


def rule_from_options(opts: Options, *, skip: int = 0, rule_id: int = 0) -> Rule:
    """The rule in parsed `/rule add` arguments (after `skip` leading words, e.g. "add")."""
    if opts.members:
        raise UsageError("规则里不能 @ 成员；关键词里的 @ 请加引号。", show_usage=False)
    try:
        return parse_rule(opts.positional[skip:], opts.named, opts.flags, rule_id=rule_id)
    except RuleSyntaxError as exc:
        raise UsageError(str(exc), show_usage=False) from None


def active_rules(conn: Connection) -> dict[int, Rule]:
    """The active rules as stored (read here, not from the pipeline's cached rule set, by
    the console's threads too): each is the list of words `format_rule_args` gave (0.1.0
    stored the words as typed, which never held a space). A rule that no longer reads (a
    0.1.0 word with a stray quote) is left out and logged, so one bad row never stops the
    bot; `/rules` and the console list only the rules that read."""
    rows = conn.execute(select(col(TagRule.id), col(TagRule.args)).where(col(TagRule.active))
                        .order_by(col(TagRule.id))).all()
    out: dict[int, Rule] = {}
    for rule_id, args in rows:
        assert rule_id is not None, "a stored rule has an id"
        try:
            out[rule_id] = parse_rule_text(" ".join(json.loads(args)), rule_id=rule_id)
        except (UsageError, ValueError) as exc:
            log.error("tag rule #%s does not read any more and is skipped: %s (%s)", rule_id, args, exc)
    return out


@dataclass(frozen=True)
class RuleSet:
    stamp: tuple[int | None, ...]  # counts and highest ids: changes when the rules do
    rules: dict[int, Rule]
    matcher: KeywordMatcher
    count_rules: tuple[CountRule, ...]
    exclusive: frozenset[str]
    tag_groups: dict[str, str]  # tag → group, from rules
    counted_hits: frozenset[int]  # keyword rules that need several hits
    hello_matcher: KeywordMatcher  # the `on=hello` rules, for friend-request greetings
    synonyms: Synonyms  # the shipped sets with managers' words: a rule's 价格 stands for all of them


# Read at every batch: built once (building a statement costs more than running it).
_RULES_STAMP = select(func.count(), func.max(col(TagRule.id)), func.sum(cast(col(TagRule.active), Integer)))
_GROUPS_STAMP = select(func.count(), func.sum(cast(col(TagGroup.exclusive), Integer)))


def _stamp(conn: Connection) -> tuple[int | None, ...]:
    rules = conn.execute(_RULES_STAMP).one()
    groups = conn.execute(_GROUPS_STAMP).one()
    return (*rules, *groups, *synonyms_stamp(conn))


def provenance_of(row: MemberTag, tz: ZoneInfo, rules: dict[int, Rule]) -> Provenance:
    rule = rules.get(row.rule_id) if row.rule_id is not None else None
    return Provenance(source=row.source, rule_id=row.rule_id, keyword=row.keyword,
                      message_id=row.message_id, at=datetime.fromtimestamp(row.at, tz),
                      excerpt=row.excerpt, by=row.by, count=row.count, days=row.days,
                      threshold=rule.threshold if isinstance(rule, CountRule) else None)


def held_now(at: int | BindParameter[int] | ColumnElement[int]) -> ColumnElement[bool]:
    """Condition for tags held at epoch `at`: given by then and not expired."""
    return (col(MemberTag.since) <= at) & or_(col(MemberTag.expires_at).is_(None), col(MemberTag.expires_at) > at)


_t = table_of(MemberTag).c
_HELD = select(_t.tag, _t.source, _t.rule_id, _t.grp, _t.since).where(
    _t.member == bindparam("m"), held_now(bindparam("at")))
_HOLDERS = select(_t.member).where(  # of one rule's tag among some members: built once
    _t.member.in_(bindparam("ms", expanding=True)), _t.tag == bindparam("t"), _t.rule_id == bindparam("rid"))
# A count rule's tag row, in this order (named here, next to the row `_give_counted` builds).
_TAG_COLUMNS = ("member", "tag", "source", "rule_id", "grp", "keyword", "message_id", "excerpt", "by", "count",
                "days", "at", "since", "expires_at", "lead")
_COUNT_UPSERTS: dict[str, Any] = {}


def _count_upsert(dialect: str) -> Any:
    """What `Tagging.apply` does with a count rule's tag outside an exclusive group, as one
    statement for many members: the tag is given or refreshed unless the member holds it by
    hand at its time, and a tag held then keeps its `since`."""
    if dialect not in _COUNT_UPSERTS:
        table = table_of(MemberTag)
        stmt = insert_for(dialect, table)
        ex, t = stmt.excluded, table.c
        held = held_now(ex.at)  # the stored row, at the new row's time
        set_: dict[str, Any] = {c.name: ex[c.name] for c in table.c if c.name not in ("member", "tag", "since")}
        set_["since"] = case((held, t.since), else_=ex.since)
        _COUNT_UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["member", "tag"], set_=set_, where=~(held & (t.source == "manual")))
    return _COUNT_UPSERTS[dialect]


class Tagging:
    """The rule set (rebuilt only when rules change) and the writes that tags need."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.ruleset: RuleSet | None = None
        self.changed = False  # set by commands that change rules or groups

    def current(self, conn: Connection, *, recheck: bool = True) -> RuleSet:
        """The rule set; re-read when the stored rules changed (checked once per batch,
        and whenever a command in this process changed them)."""
        if self.ruleset is not None and not recheck and not self.changed:
            return self.ruleset
        self.changed = False
        stamp = _stamp(conn)
        if self.ruleset is None or self.ruleset.stamp != stamp:
            rules = active_rules(conn)
            keyword = [r for r in rules.values() if isinstance(r, KeywordRule) and r.on == "chat"]
            hello = [r for r in rules.values() if isinstance(r, KeywordRule) and r.on == "hello"]
            count = tuple(r for r in rules.values() if isinstance(r, CountRule))
            exclusive = frozenset(conn.execute(select(col(TagGroup.name)).where(col(TagGroup.exclusive))).scalars())
            groups = {r.tag: r.group for r in rules.values() if r.group}
            synonyms = synonym_sets(conn)
            self.tokenizer.add_words(dictionary_words([*keyword, *hello], synonyms))  # one dictionary read
            self.ruleset = RuleSet(stamp, rules, KeywordMatcher(keyword, self.tokenizer, synonyms), count,
                                   exclusive, groups, frozenset(r.id for r in keyword if r.hits > 1),
                                   KeywordMatcher(hello, self.tokenizer, synonyms), synonyms)
        return self.ruleset

    def preview_matcher(self, rule: KeywordRule, synonyms: Synonyms) -> KeywordMatcher:
        """A matcher for one unsaved rule. Its words go into a copy of the dictionary, so
        the preview cuts text as the rule would once added, and the live matcher is untouched."""
        return KeywordMatcher([rule], self.tokenizer.fork(), synonyms)

    # ---- writing tags ----------------------------------------------------------------
    def held(self, conn: Connection, member: str, at: int) -> list[MemberTag]:
        rows = conn.execute(select(MemberTag).where(col(MemberTag.member) == member, held_now(at))).all()
        return [MemberTag.model_validate(r._mapping) for r in rows]

    def apply(self, conn: Connection, rs: RuleSet, row: MemberTag) -> bool:
        """Give a member a tag (or refresh its reason). Returns False when it was not applied:
        a rule never overrides a manual tag, nor displaces one from an exclusive group."""
        # The few columns the decision needs, as plain rows: a count rule's import applies
        # thousands of tags, and a model object per held tag cost more than the write.
        held = read_rows(conn, _HELD, {"m": row.member, "at": row.at})  # (tag, source, rule_id, grp, since)
        current = next((h for h in held if h[0] == row.tag), None)
        group = row.grp or rs.tag_groups.get(row.tag)
        decision = exclusive_displaced(
            [HeldTag(tag, "manual" if source == "manual" else "rule", rule_id, grp, datetime.fromtimestamp(since))
             for tag, source, rule_id, grp, since in held],
            row.tag, group, rs.exclusive, source="manual" if row.source == "manual" else "rule")
        if not decision.apply:
            return False
        if decision.remove:
            conn.execute(delete(MemberTag).where(col(MemberTag.member) == row.member,
                                                 col(MemberTag.tag).in_(decision.remove)))
        values = row.model_dump()
        values["grp"] = group
        if current is not None:
            values["since"] = current[4]
        upsert(conn, table_of(MemberTag), [values], ["member", "tag"],
               replace=[k for k in values if k not in ("member", "tag")])
        return True

    def remove(self, conn: Connection, member: str, tag: str, *, only_source: str | None = None,
               rule_id: int | None = None) -> int:
        q = delete(MemberTag).where(col(MemberTag.member) == member, col(MemberTag.tag) == tag)
        if only_source:
            q = q.where(col(MemberTag.source) == only_source)
        if rule_id is not None:
            q = q.where(col(MemberTag.rule_id) == rule_id)
        return conn.execute(q).rowcount

    # ---- rules over time ---------------------------------------------------------------
    def evaluate_counts(self, conn: Connection, rs: RuleSet, members: Sequence[str], at: int,
                        tz: ZoneInfo, totals: dict[int, dict[str, int]] | None = None) -> None:
        """Apply or drop every count rule's tag for these members as of epoch `at`.

        `totals` (rule id → member → counted messages, as for speaking, in the rule's window)
        may come from the
        caller; otherwise they are read from the daily counters. Only what changes is
        written: new holders get the tag, holders below the threshold lose it, and the
        others have their count refreshed in one statement."""
        if not rs.count_rules or not members:
            return
        today = datetime.fromtimestamp(at, tz).date()
        for rule in rs.count_rules:
            counted = totals.get(rule.id, {}) if totals is not None else None
            found: dict[str, int] = {}
            holders: set[str] = set()
            for i in range(0, len(members), 900):
                part = list(members[i : i + 900])
                if counted is None:
                    start, end = count_window(today, rule.days)
                    q = select(col(DailyActivity.member), func.sum(col(DailyActivity.counted))).where(
                        col(DailyActivity.member).in_(part), col(DailyActivity.day) >= start,
                        col(DailyActivity.day) <= end).group_by(col(DailyActivity.member))
                    found.update({m: n or 0 for m, n in conn.execute(q)})
                holders.update(m for (m,) in read_rows(conn, _HOLDERS, {"ms": part, "t": rule.tag, "rid": rule.id}))
            counts = counted if counted is not None else found
            refresh = []
            given: list[tuple[str, int, int, int]] = []
            for m in members:
                n = counts.get(m, 0)
                if count_rule_holds(n, rule):
                    if m in holders:
                        refresh.append({"m": m, "t": rule.tag, "rid": rule.id, "n": n, "at": at})
                    else:
                        given.append((m, n, at, at))
                elif m in holders:
                    self.remove(conn, m, rule.tag, only_source="count", rule_id=rule.id)
            self._give_counted(conn, rs, rule, given)
            if refresh:
                bulk(conn, _REFRESH_COUNT, refresh)

    def evaluate_talk(self, conn: Connection, rs: RuleSet, talk: dict[str, list[tuple[int, date, int]]],
                      days_of: dict[str, dict[date, int]]) -> None:
        """Judge every count rule at each message of a batch, member by member, as if each
        message were its own batch (tagging.decide.count_run): `talk` is member → (epoch, local
        day, counted 0/1) per chat message, `days_of` member → counted messages per local day
        before them. Writes where each rule stands after the last of them."""
        members = sorted(talk)
        for rule in rs.count_rules:
            holders: set[str] = set()
            for i in range(0, len(members), 900):
                holders.update(m for (m,) in read_rows(
                    conn, _HOLDERS, {"ms": members[i : i + 900], "t": rule.tag, "rid": rule.id}))
            refresh = []
            given: list[tuple[str, int, int, int]] = []
            for m in members:
                found = count_run(rule, days_of.get(m, {}), talk[m], m in holders)
                if found.holds and m in holders and found.since is None:
                    refresh.append({"m": m, "t": rule.tag, "rid": rule.id, "n": found.count, "at": found.at})
                    continue
                if m in holders:  # below the threshold now, or fell below and rose again
                    self.remove(conn, m, rule.tag, only_source="count", rule_id=rule.id)
                if found.holds:
                    given.append((m, found.count, found.at, found.at if found.since is None else found.since))
            self._give_counted(conn, rs, rule, given)
            if refresh:
                bulk(conn, _REFRESH_COUNT, refresh)

    def _give_counted(self, conn: Connection, rs: RuleSet, rule: CountRule,
                      given: Sequence[tuple[str, int, int, int]]) -> None:
        """Give a count rule's tag to members, (member, count, at, since) each, as `apply`
        would one by one: outside an exclusive group that needs no look at the members' other
        tags, so one statement gives them all."""
        group = rs.tag_groups.get(rule.tag)
        if group in rs.exclusive:
            for m, n, at, since in given:
                self.apply(conn, rs, MemberTag(member=m, tag=rule.tag, source="count", rule_id=rule.id,
                                               count=n, days=rule.days, at=at, since=since))
            return
        bulk_rows(conn, _count_upsert(conn.dialect.name), _TAG_COLUMNS, [
            (m, rule.tag, "count", rule.id, group, None, None, None, None, n, rule.days, at, since, None, False)
            for m, n, at, since in given])

    def daily(self, conn: Connection, at: int, tz: ZoneInfo) -> None:
        """Once a day: drop expired tags and re-evaluate count rules as windows slide."""
        conn.execute(delete(MemberTag).where(col(MemberTag.expires_at).is_not(None),
                                             col(MemberTag.expires_at) <= at))
        rs = self.current(conn)
        if not rs.count_rules:
            return
        longest = max(r.days for r in rs.count_rules)
        since = datetime.fromtimestamp(at, tz).date() - timedelta(days=longest)
        active = set(conn.execute(select(col(DailyActivity.member)).where(
            col(DailyActivity.day) >= since, col(DailyActivity.counted) > 0).distinct()).scalars())
        holders = set(conn.execute(select(col(MemberTag.member)).where(
            col(MemberTag.source) == "count")).scalars())
        self.evaluate_counts(conn, rs, sorted(active | holders), at, tz)


MAX_REASON = 100


def tag_by_hand(conn: Connection, tagging: Tagging, member: str, tag: str, *, by: str, at: int,
                reason: str | None = None) -> bool:
    """A manager's tag (/tag, the console's 打标签), with an optional reason; False when an
    exclusive group kept it off."""
    return tagging.apply(conn, tagging.current(conn), MemberTag(
        member=member, tag=tag, source="manual", by=by, at=at, since=at,
        excerpt=(reason or "")[:MAX_REASON] or None))


def untag_by_hand(conn: Connection, tagging: Tagging, member: str, tag: str) -> bool:
    """/untag and the console's 去标签: False when the member did not hold it."""
    return bool(tagging.remove(conn, member, tag))


def format_tag(row: MemberTag, tz: ZoneInfo, rules: dict[int, Rule]) -> str:
    return format_tag_line(row.tag, provenance_of(row, tz, rules))


def with_room_ids(conn: Connection, rule: Rule) -> Rule:
    """The rule with the room names a manager typed in `rooms=` turned into room ids;
    UsageError when a name is not exactly one room."""
    if isinstance(rule, KeywordRule) and rule.scope.kind == "rooms":
        ids = tuple(room_id_or_error(conn, r) for r in rule.scope.rooms)
        return replace(rule, scope=Scope("rooms", ids))
    return rule


def add_rule(conn: Connection, tagging: Tagging, rule: Rule, *, by: str, at: int) -> Rule:
    """Store a parsed rule (its rooms as ids: `with_room_ids`); returns it with its id."""
    result = conn.execute(table_of(TagRule).insert().values(
        kind="count" if isinstance(rule, CountRule) else "keyword", tag=rule.tag,
        args=json.dumps(format_rule_args(rule), ensure_ascii=False), active=True,
        created_by=by, created_at=at))
    if rule.group:
        upsert(conn, table_of(TagGroup), [{"name": rule.group, "exclusive": False}], ["name"])
    tagging.changed = True
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT always has one
    return replace(rule, id=key[0])


def delete_rule(conn: Connection, tagging: Tagging, rule_id: int) -> tuple[str, int]:
    """Disable a rule and take back the tags it gave (manual tags stay). Returns the rule's
    tag and how many tags were removed; LookupError (Chinese) if there is no such rule."""
    row = conn.execute(select(col(TagRule.tag)).where(col(TagRule.id) == rule_id, col(TagRule.active))).first()
    if row is None:
        raise LookupError(f"没有编号为 {rule_id} 的规则。发 /rules 查看现有规则。")
    conn.execute(update(table_of(TagRule)).where(table_of(TagRule).c.id == rule_id).values(active=False))
    removed = conn.execute(delete(MemberTag).where(
        col(MemberTag.rule_id) == rule_id, col(MemberTag.source) != "manual")).rowcount
    tagging.changed = True
    return row[0], removed


def set_group(conn: Connection, tagging: Tagging, name: str, exclusive: bool) -> None:
    upsert(conn, table_of(TagGroup), [{"name": validate_group(name), "exclusive": exclusive}],
           ["name"], replace=["exclusive"])
    tagging.changed = True


def seed_rules(conn: Connection, rules: Sequence[str], groups: Sequence[tuple[str, bool]]) -> None:
    """Config rules and groups, each added once: a rule deleted in chat stays deleted. The rules
    were checked when the config file was read (tags/settings.py)."""
    for name, exclusive in groups:
        upsert(conn, table_of(TagGroup), [{"name": name, "exclusive": exclusive}], ["name"],
               replace=["exclusive"])
    known = set(conn.execute(select(col(TagRule.args))).scalars())
    for spec in rules:
        rule = parse_rule_text(spec)
        args = json.dumps(format_rule_args(rule), ensure_ascii=False)
        if args in known:
            continue
        conn.execute(table_of(TagRule).insert().values(
            kind="count" if isinstance(rule, CountRule) else "keyword", tag=rule.tag, args=args,
            active=True, created_by="config", created_at=0))
        known.add(args)
        if rule.group:
            upsert(conn, table_of(TagGroup), [{"name": rule.group, "exclusive": False}], ["name"])
