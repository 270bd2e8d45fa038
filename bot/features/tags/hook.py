"""The tagging hook: keyword rules on every chat message, count rules as members talk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, select
from sqlmodel import col

from bot.core.events import WORD_KINDS, Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.points.api import Speaking
from bot.features.tags.models import KeywordHit, MemberTag
from bot.features.tags.service import DAY, RuleSet, Tagging
from bot.store.db import bulk, insert_for, read_rows, upsert
from bot.store.models import DailyActivity, table_of
from tagging.decide import hits_reached
from tagging.matcher import Hit
from tagging.reasons import excerpt
from tagging.rules import KeywordRule

_KEYWORD_UPSERTS: dict[str, Any] = {}
_d = DailyActivity
# Some members' counted messages a day since a day (read_rows): built once.
_RECENT = select(col(_d.member), col(_d.day), func.sum(col(_d.counted))).where(
    col(_d.member).in_(bindparam("ms", expanding=True)), col(_d.day) >= bindparam("since")
).group_by(col(_d.member), col(_d.day))


def _keyword_upsert(dialect: str) -> Any:
    """Give or refresh a rule tag, unless the member holds it by hand; a refreshed tag keeps
    its `since` unless it had expired."""
    if dialect not in _KEYWORD_UPSERTS:
        table = table_of(MemberTag)
        stmt = insert_for(dialect, table)
        ex, t = stmt.excluded, table.c
        stale = t.expires_at.is_not(None) & (t.expires_at <= ex.at)
        set_: dict[str, Any] = {
            c.name: ex[c.name] for c in table.c if c.name not in ("member", "tag", "since")}
        set_["since"] = case((stale, ex.since), else_=t.since)
        _KEYWORD_UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["member", "tag"], set_=set_, where=t.source != "manual")
    return _KEYWORD_UPSERTS[dialect]


class TaggingHook(Hook):
    """Matches every chat message against the keyword rules, and keeps each talker's recent
    messages per day in memory so count rules cost no query per batch; writes at flush."""

    name = "tags"
    after = ("points",)  # count rules read the points hook's Speaking

    def __init__(self, tagging: Tagging) -> None:
        self.tagging = tagging
        self._hits: list[tuple[Message, list[Hit]]] = []
        # member → (epoch, local day, 1 if it counted as speaking) per chat message of the batch
        self._talk: dict[str, list[tuple[int, date, int]]] = {}
        # member → local day → counted messages, up to the messages in _talk
        self._recent: dict[str, dict[date, int]] = {}
        self._rs: RuleSet | None = None  # the rules the pending hits and talkers were seen with
        self._senders: list[str] = []  # who speaks in this batch
        self._first: datetime | None = None  # the earliest event of this batch

    def reset(self) -> None:
        self._hits.clear()
        self._talk.clear()
        self._recent.clear()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        rs = self.tagging.current(batch.conn)
        if rs is not self._rs:
            self._recent.clear()  # new rules may look further back than what is cached
        self._rs = rs
        self._hits.clear()
        self._talk.clear()
        self._senders = sorted({e.sender for e in events if isinstance(e, Message)})
        self._first = min((e.ts for e in events), default=None)
        batch.flush_hooks.append(self._flush)
        if rs.count_rules:
            self._preload(batch, rs)

    def _rules(self, batch: Batch) -> tuple[RuleSet, bool]:
        """The rules for the message at hand, and whether the count of messages in the
        store already includes it.

        A command earlier in this batch may have changed the rules: then what was seen so
        far is written under the old rules, and every message from here on is matched and
        counted with the new ones, exactly as if the batch had ended at the command."""
        tagging = self.tagging
        if tagging.ruleset is self._rs and self._rs is not None and not tagging.changed:
            return self._rs, False  # what current() would give, without the call (every message asks)
        rs = tagging.current(batch.conn, recheck=False)
        if rs is self._rs:
            return rs, False
        batch.flush()  # pending hits and counts under the old rules; counters stored
        rs = self.tagging.current(batch.conn, recheck=False)
        self._rs = rs
        self._recent.clear()  # new count rules may look further back than what is cached
        if rs.count_rules:
            self._preload(batch, rs)  # the flush stored this message's count too
        return rs, True

    def _preload(self, batch: Batch, rs: RuleSet) -> None:
        """Read the recent days of this batch's talkers that this process has not seen yet
        (once each)."""
        unknown = [m for m in self._senders if m not in self._recent]
        if not unknown or self._first is None:
            return
        longest = max(r.days for r in rs.count_rules)
        since = batch.day(self._first) - timedelta(days=longest)
        for m in unknown:
            self._recent[m] = {}
        for i in range(0, len(unknown), 900):
            for m, day, n in read_rows(batch.conn, _RECENT, {"ms": unknown[i : i + 900], "since": since}):
                self._recent[m][day if isinstance(day, date) else date.fromisoformat(day)] = n or 0

    def on_taking_part(self, batch: Batch, msg: Message) -> None:
        # A check-in's note that counted as speaking is in the day's counters: count rules count
        # it in memory too, or a process restarted (reading the counters back) would judge them
        # on other totals than one that kept running (soak_crash: 6 members' 活跃 tags).
        rs, stored = self._rules(batch)
        if rs.count_rules:
            counted = int(not stored and msg.id in batch.slot(Speaking))
            self._talk.setdefault(msg.sender, []).append((epoch(msg.ts), batch.day(msg.ts), counted))

    def on_chat(self, batch: Batch, msg: Message) -> None:
        rs, stored = self._rules(batch)
        if rs.count_rules:
            # what counts as speaking, nothing else; a message the store counted already (the
            # rules changed at it: see _rules) is in _recent
            counted = int(not stored and msg.id in batch.slot(Speaking))
            at = epoch(msg.ts)
            said = self._talk.get(msg.sender)
            if said is None:
                said = self._talk[msg.sender] = []
            said.append((at, batch.day_began(at)[0], counted))
        if msg.kind not in WORD_KINDS or not msg.text:
            return
        hits = rs.matcher.match(msg.text, msg.room)
        if hits:
            self._hits.append((msg, hits))

    def _flush(self, batch: Batch) -> None:
        # What is pending was seen with self._rs; a rule changed since applies from the next
        # message on (see _rules), so it must not judge these.
        rs = self._rs
        if rs is None:
            return
        conn = batch.conn
        if self._hits:
            # Hits are kept only where a rule counts them (hits=N within days=D); a one-hit
            # rule's tag already records the message that triggered it.
            rows = [{"member": m.sender, "rule_id": h.rule_id, "ts": epoch(m.ts), "message_id": m.id}
                    for m, hits in self._hits for h in hits if h.rule_id in rs.counted_hits]
            upsert(conn, table_of(KeywordHit), rows, ["rule_id", "message_id"])
            latest: dict[tuple[str, int], tuple[Message, str]] = {}
            for m, hits in self._hits:
                for h in hits:
                    latest[(m.sender, h.rule_id)] = (m, h.keyword)
            self._hits.clear()
            simple: list[dict[str, Any]] = []
            for (member, rule_id), (m, keyword) in latest.items():
                rule = rs.rules.get(rule_id)
                if not isinstance(rule, KeywordRule):
                    continue
                at = epoch(m.ts)
                if rule.hits > 1:
                    times = conn.execute(select(col(KeywordHit.ts)).where(
                        col(KeywordHit.member) == member, col(KeywordHit.rule_id) == rule_id,
                        col(KeywordHit.ts) > at - rule.days * DAY, col(KeywordHit.ts) <= at)).scalars()
                    if not hits_reached([datetime.fromtimestamp(t) for t in times],
                                        datetime.fromtimestamp(at), rule):
                        continue
                # Plain dicts: building a model object per hit costs more than storing it.
                row: dict[str, Any] = {
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
        if self._talk and rs.count_rules:
            talk, self._talk = self._talk, {}
            self.tagging.evaluate_talk(conn, rs, talk, self._recent)
            longest = max(r.days for r in rs.count_rules)
            for member, said in talk.items():
                days = self._recent.setdefault(member, {})
                for _, day, counted in said:
                    days[day] = days.get(day, 0) + counted
                oldest = said[-1][1] - timedelta(days=longest)
                for day in [d for d in days if d <= oldest]:
                    del days[day]  # out of every window from now on
