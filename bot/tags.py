"""Tags in the store: applying rule hits and count rules, manual tags, expiry, provenance."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, delete, func, or_, select, update
from sqlalchemy.engine import Connection

from bot.events import Event, Message
from bot.pipeline import Batch, Feature, epoch
from bot.store.db import bulk, upsert
from bot.store.models import DailyActivity, KeywordHit, MemberTag, TagGroup, TagRule
from tagging.decide import HeldTag, exclusive_displaced, hits_reached
from tagging.matcher import KeywordMatcher, Tokenizer
from tagging.reasons import Provenance, excerpt, format_reason, format_tag_line
from tagging.rules import (
    CountRule,
    KeywordRule,
    Rule,
    Scope,
    format_rule_args,
    parse_rule_args,
    validate_group,
)

DAY = 86400


def rule_from_row(row: TagRule) -> Rule:
    return parse_rule_args(json.loads(row.args), rule_id=row.id or 0)


@dataclass(frozen=True)
class RuleSet:
    stamp: tuple
    rules: dict[int, Rule]
    matcher: KeywordMatcher
    count_rules: tuple[CountRule, ...]
    exclusive: frozenset[str]
    tag_groups: dict[str, str]  # tag → group, from rules
    counted_hits: frozenset[int]  # keyword rules that need several hits


def _stamp(conn: Connection) -> tuple:
    rules = conn.execute(select(func.count(), func.max(TagRule.id), func.sum(
        TagRule.active.cast(TagRule.id.type)))).one()
    groups = conn.execute(select(func.count(), func.sum(
        TagGroup.exclusive.cast(TagRule.id.type)))).one()
    return (*rules, *groups)


def provenance_of(row: MemberTag, tz: ZoneInfo, rules: dict[int, Rule]) -> Provenance:
    rule = rules.get(row.rule_id) if row.rule_id is not None else None
    return Provenance(source=row.source, rule_id=row.rule_id, keyword=row.keyword,
                      message_id=row.message_id, at=datetime.fromtimestamp(row.at, tz),
                      excerpt=row.excerpt, by=row.by, count=row.count, days=row.days,
                      threshold=rule.threshold if isinstance(rule, CountRule) else None)


def held_now(at: int):
    """Condition for tags held at epoch `at`: given by then and not expired."""
    return (MemberTag.since <= at) & or_(MemberTag.expires_at.is_(None), MemberTag.expires_at > at)


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
            rows = conn.execute(select(TagRule).where(TagRule.active).order_by(TagRule.id)).all()
            rules = {r.id: rule_from_row(TagRule.model_validate(r._mapping)) for r in rows}
            keyword = [r for r in rules.values() if isinstance(r, KeywordRule)]
            count = tuple(r for r in rules.values() if isinstance(r, CountRule))
            exclusive = frozenset(conn.execute(select(TagGroup.name).where(TagGroup.exclusive)).scalars())
            groups = {r.tag: r.group for r in rules.values() if r.group}
            self.ruleset = RuleSet(stamp, rules, KeywordMatcher(keyword, self.tokenizer), count,
                                   exclusive, groups, frozenset(r.id for r in keyword if r.hits > 1))
        return self.ruleset

    def preview_matcher(self, rule: KeywordRule) -> KeywordMatcher:
        """A matcher for one unsaved rule (its words join the shared dictionary)."""
        return KeywordMatcher([rule], self.tokenizer)

    # ---- writing tags ----------------------------------------------------------------
    def held(self, conn: Connection, member: str, at: int) -> list[MemberTag]:
        rows = conn.execute(select(MemberTag).where(MemberTag.member == member, held_now(at))).all()
        return [MemberTag.model_validate(r._mapping) for r in rows]

    def apply(self, conn: Connection, rs: RuleSet, row: MemberTag) -> bool:
        """Give a member a tag (or refresh its reason). Returns False when it was not applied:
        a rule never overrides a manual tag, nor displaces one from an exclusive group."""
        held = self.held(conn, row.member, row.at)
        current = next((h for h in held if h.tag == row.tag), None)
        group = row.grp or rs.tag_groups.get(row.tag)
        decision = exclusive_displaced(
            [HeldTag(h.tag, "manual" if h.source == "manual" else "rule", h.rule_id, h.grp,
                     datetime.fromtimestamp(h.since)) for h in held],
            row.tag, group, rs.exclusive, source="manual" if row.source == "manual" else "rule")
        if not decision.apply:
            return False
        if decision.remove:
            conn.execute(delete(MemberTag).where(MemberTag.member == row.member,
                                                 MemberTag.tag.in_(decision.remove)))
        values = row.model_dump()
        values["grp"] = group
        if current is not None:
            values["since"] = current.since
        upsert(conn, MemberTag.__table__, [values], ["member", "tag"],
               replace=[k for k in values if k not in ("member", "tag")])
        return True

    def remove(self, conn: Connection, member: str, tag: str, *, only_source: str | None = None,
               rule_id: int | None = None) -> int:
        q = delete(MemberTag).where(MemberTag.member == member, MemberTag.tag == tag)
        if only_source:
            q = q.where(MemberTag.source == only_source)
        if rule_id is not None:
            q = q.where(MemberTag.rule_id == rule_id)
        return conn.execute(q).rowcount

    # ---- rules over time ---------------------------------------------------------------
    def evaluate_counts(self, conn: Connection, rs: RuleSet, members: Sequence[str], at: int,
                        tz: ZoneInfo, totals: dict[int, dict[str, int]] | None = None) -> None:
        """Apply or drop every count rule's tag for these members as of epoch `at`.

        `totals` (rule id → member → messages in the rule's window) may come from the
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
                    start = today - timedelta(days=rule.days - 1)
                    q = select(DailyActivity.member, func.sum(DailyActivity.messages)).where(
                        DailyActivity.member.in_(part), DailyActivity.day >= start,
                        DailyActivity.day <= today).group_by(DailyActivity.member)
                    found.update({m: n or 0 for m, n in conn.execute(q)})
                holders.update(conn.execute(select(MemberTag.member).where(
                    MemberTag.member.in_(part), MemberTag.tag == rule.tag,
                    MemberTag.rule_id == rule.id)).scalars())
            counts = counted if counted is not None else found
            refresh = []
            for m in members:
                n = counts.get(m, 0)
                if n >= rule.threshold:
                    if m in holders:
                        refresh.append({"m": m, "n": n, "at": at})
                    else:
                        self.apply(conn, rs, MemberTag(
                            member=m, tag=rule.tag, source="count", rule_id=rule.id, count=n,
                            days=rule.days, at=at, since=at))
                elif m in holders:
                    self.remove(conn, m, rule.tag, only_source="count", rule_id=rule.id)
            if refresh:
                bulk(conn, update(MemberTag.__table__).where(
                    MemberTag.__table__.c.member == bindparam("m"),
                    MemberTag.__table__.c.tag == rule.tag,
                    MemberTag.__table__.c.rule_id == rule.id)
                    .values(count=bindparam("n"), at=bindparam("at")), refresh)

    def daily(self, conn: Connection, at: int, tz: ZoneInfo) -> None:
        """Once a day: drop expired tags and re-evaluate count rules as windows slide."""
        conn.execute(delete(MemberTag).where(MemberTag.expires_at.is_not(None),
                                             MemberTag.expires_at <= at))
        rs = self.current(conn)
        if not rs.count_rules:
            return
        longest = max(r.days for r in rs.count_rules)
        since = datetime.fromtimestamp(at, tz).date() - timedelta(days=longest)
        active = set(conn.execute(select(DailyActivity.member).where(
            DailyActivity.day >= since, DailyActivity.messages > 0).distinct()).scalars())
        holders = set(conn.execute(select(MemberTag.member).where(
            MemberTag.source == "count")).scalars())
        self.evaluate_counts(conn, rs, sorted(active | holders), at, tz)


_KEYWORD_UPSERTS: dict[str, object] = {}


def _keyword_upsert(dialect: str):
    """Give or refresh a rule tag, unless the member holds it by hand; a refreshed tag keeps
    its `since` unless it had expired."""
    if dialect not in _KEYWORD_UPSERTS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        table = MemberTag.__table__
        stmt = insert(table)
        ex, t = stmt.excluded, table.c
        stale = t.expires_at.is_not(None) & (t.expires_at <= ex.at)
        set_ = {c.name: ex[c.name] for c in table.c if c.name not in ("member", "tag", "since")}
        set_["since"] = case((stale, ex.since), else_=t.since)
        _KEYWORD_UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["member", "tag"], set_=set_, where=t.source != "manual")
    return _KEYWORD_UPSERTS[dialect]


class TaggingFeature(Feature):
    """Matches every chat message against the keyword rules, and keeps each talker's recent
    messages per day in memory so count rules cost no query per batch; writes at flush."""

    def __init__(self, tagging: Tagging) -> None:
        self.tagging = tagging
        self._hits: list[tuple[Message, list]] = []
        self._talkers: dict[str, int] = {}
        self._recent: dict[str, dict[date, int]] = {}  # member → local day → messages
        self._rs: RuleSet | None = None

    def reset(self) -> None:
        self._hits.clear()
        self._talkers.clear()
        self._recent.clear()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        rs = self.tagging.current(batch.conn)
        if rs is not self._rs:
            self._recent.clear()  # new rules may look further back than what is cached
        self._rs = rs
        self._hits.clear()
        self._talkers.clear()
        batch.flush_hooks.append(self._flush)
        if rs.count_rules:
            self._preload(batch, rs, events)

    def _preload(self, batch: Batch, rs: RuleSet, events: Sequence[Event]) -> None:
        """Read the recent days of talkers this process has not seen yet (once each)."""
        unknown = sorted({e.sender for e in events if isinstance(e, Message)} - self._recent.keys())
        if not unknown:
            return
        longest = max(r.days for r in rs.count_rules)
        since = batch.day(min(e.ts for e in events)) - timedelta(days=longest)
        d = DailyActivity
        for m in unknown:
            self._recent[m] = {}
        for i in range(0, len(unknown), 900):
            q = select(d.member, d.day, func.sum(d.messages)).where(
                d.member.in_(unknown[i : i + 900]), d.day >= since).group_by(d.member, d.day)
            for m, day, n in batch.conn.execute(q):
                self._recent[m][day if isinstance(day, date) else date.fromisoformat(day)] = n or 0

    def on_chat(self, batch: Batch, msg: Message) -> None:
        rs = self._rs
        assert rs is not None
        if rs.count_rules:
            at = epoch(msg.ts)
            self._talkers[msg.sender] = max(at, self._talkers.get(msg.sender, 0))
            days = self._recent.setdefault(msg.sender, {})
            day = batch.day(msg.ts)
            days[day] = days.get(day, 0) + 1
        if msg.kind != "text" or not msg.text:
            return
        hits = rs.matcher.match(msg.text, msg.room)
        if hits:
            self._hits.append((msg, hits))

    def _window_totals(self, rs: RuleSet, members: Sequence[str], today: date) -> dict[int, dict[str, int]]:
        longest = max(r.days for r in rs.count_rules)
        oldest = today - timedelta(days=longest)
        totals: dict[int, dict[str, int]] = {r.id: {} for r in rs.count_rules}
        for m in members:
            days = self._recent.get(m, {})
            for day in [d for d in days if d <= oldest]:
                del days[day]  # out of every window from now on
            for rule in rs.count_rules:
                start = today - timedelta(days=rule.days - 1)
                totals[rule.id][m] = sum(n for d, n in days.items() if start <= d <= today)
        return totals

    def _flush(self, batch: Batch) -> None:
        rs = self.tagging.current(batch.conn, recheck=False)  # unless a command changed rules
        rules_changed = rs is not self._rs
        if rules_changed:
            self._recent.clear()
        self._rs = rs
        conn, tz = batch.conn, batch.settings.tz
        if self._hits:
            # Hits are kept only where a rule counts them (hits=N within days=D); a one-hit
            # rule's tag already records the message that triggered it.
            rows = [{"member": m.sender, "rule_id": h.rule_id, "ts": epoch(m.ts), "message_id": m.id}
                    for m, hits in self._hits for h in hits if h.rule_id in rs.counted_hits]
            upsert(conn, KeywordHit.__table__, rows, ["rule_id", "message_id"])
            latest: dict[tuple[str, int], tuple[Message, str]] = {}
            for m, hits in self._hits:
                for h in hits:
                    latest[(m.sender, h.rule_id)] = (m, h.keyword)
            self._hits.clear()
            simple: list[dict] = []
            for (member, rule_id), (m, keyword) in latest.items():
                rule = rs.rules.get(rule_id)
                if not isinstance(rule, KeywordRule):
                    continue
                at = epoch(m.ts)
                if rule.hits > 1:
                    times = conn.execute(select(KeywordHit.ts).where(
                        KeywordHit.member == member, KeywordHit.rule_id == rule_id,
                        KeywordHit.ts > at - rule.days * DAY, KeywordHit.ts <= at)).scalars()
                    if not hits_reached([datetime.fromtimestamp(t) for t in times],
                                        datetime.fromtimestamp(at), rule):
                        continue
                # Plain dicts: building a model object per hit costs more than storing it.
                row = {
                    "member": member, "tag": rule.tag, "source": "keyword", "rule_id": rule_id,
                    "grp": rule.group or rs.tag_groups.get(rule.tag), "keyword": keyword,
                    "message_id": m.id, "excerpt": excerpt(m.text, around=keyword), "by": None,
                    "count": None, "days": None, "at": at, "since": at,
                    "expires_at": at + rule.expire_days * DAY if rule.expire_days else None,
                    "lead": rule.lead,
                }
                if row["grp"] in rs.exclusive:
                    self.tagging.apply(conn, rs, MemberTag(**row))  # needs the member's other tags
                else:
                    simple.append(row)
            # Most hits need no look at other tags: one statement gives or refreshes them all.
            bulk(conn, _keyword_upsert(conn.dialect.name), simple)
        if self._talkers and rs.count_rules:
            members = sorted(self._talkers)
            at = max(self._talkers.values())
            self._talkers.clear()
            today = datetime.fromtimestamp(at, tz).date()
            totals = None if rules_changed else self._window_totals(rs, members, today)
            self.tagging.evaluate_counts(conn, rs, members, at, tz, totals)


def format_tag(row: MemberTag, tz: ZoneInfo, rules: dict[int, Rule]) -> str:
    return format_tag_line(row.tag, provenance_of(row, tz, rules))


def add_rule(conn: Connection, tagging: Tagging, args: Sequence[str], *, by: str, at: int,
             resolve_room=None) -> Rule:
    """Store a rule given in `/rule add` form; raises RuleSyntaxError / ValueError (Chinese).

    `resolve_room(name) -> id` turns the room names a manager typed into room ids."""
    rule = parse_rule_args(args)
    if isinstance(rule, KeywordRule) and rule.scope.kind == "rooms" and resolve_room:
        rule = replace(rule, scope=Scope("rooms", tuple(resolve_room(r) for r in rule.scope.rooms)))
    result = conn.execute(TagRule.__table__.insert().values(
        kind="count" if isinstance(rule, CountRule) else "keyword", tag=rule.tag,
        args=json.dumps(format_rule_args(rule), ensure_ascii=False), active=True,
        created_by=by, created_at=at))
    if rule.group:
        upsert(conn, TagGroup.__table__, [{"name": rule.group, "exclusive": False}], ["name"])
    tagging.changed = True
    return replace(rule, id=result.inserted_primary_key[0])


def delete_rule(conn: Connection, tagging: Tagging, rule_id: int) -> tuple[str, int]:
    """Disable a rule and take back the tags it gave (manual tags stay). Returns the rule's
    tag and how many tags were removed; LookupError (Chinese) if there is no such rule."""
    row = conn.execute(select(TagRule.tag).where(TagRule.id == rule_id, TagRule.active)).first()
    if row is None:
        raise LookupError(f"没有编号为 {rule_id} 的规则。发 /rules 查看现有规则。")
    conn.execute(update(TagRule.__table__).where(TagRule.__table__.c.id == rule_id).values(active=False))
    removed = conn.execute(delete(MemberTag).where(
        MemberTag.rule_id == rule_id, MemberTag.source != "manual")).rowcount
    tagging.changed = True
    return row[0], removed


def set_group(conn: Connection, tagging: Tagging, name: str, exclusive: bool) -> None:
    upsert(conn, TagGroup.__table__, [{"name": validate_group(name), "exclusive": exclusive}],
           ["name"], replace=["exclusive"])
    tagging.changed = True


def seed_rules(conn: Connection, rules: Sequence[str], groups: Sequence[tuple[str, bool]]) -> None:
    """Config rules and groups, each added once: a rule deleted in chat stays deleted."""
    for name, exclusive in groups:
        upsert(conn, TagGroup.__table__, [{"name": name, "exclusive": exclusive}], ["name"],
               replace=["exclusive"])
    known = set(conn.execute(select(TagRule.args)).scalars())
    for spec in rules:
        rule = parse_rule_args(spec.split())
        args = json.dumps(format_rule_args(rule), ensure_ascii=False)
        if args in known:
            continue
        conn.execute(TagRule.__table__.insert().values(
            kind="count" if isinstance(rule, CountRule) else "keyword", tag=rule.tag, args=args,
            active=True, created_by="config", created_at=0))
        known.add(args)
        if rule.group:
            upsert(conn, TagGroup.__table__, [{"name": rule.group, "exclusive": False}], ["name"])


def tag_fields(tagging: Tagging, tz: ZoneInfo):
    """The report's `tags` field: each tag held at the report's time, with its reason."""
    def extra(conn: Connection, scope, ids: list[str]) -> dict[str, dict]:
        at = int(scope.at.timestamp())
        rules = tagging.current(conn).rules
        out: dict[str, dict] = {m: {"tags": []} for m in ids}
        rows = conn.execute(select(MemberTag).where(held_now(at)).order_by(MemberTag.since)).all()
        for r in rows:
            row = MemberTag.model_validate(r._mapping)
            if row.member in out:
                out[row.member]["tags"].append(
                    {"name": row.tag, "reason": format_reason(provenance_of(row, tz, rules)),
                     "source": row.source})
        return out

    return extra
