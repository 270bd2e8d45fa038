"""The FAQ in the store: answers, matching questions to them (jieba word boundaries), cooldowns,
the backtest, and the 1:1 questions nobody answered."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.directory import member_names, room_names
from bot.features.faq.models import DmQuestion, FaqEntry, FaqSent
from bot.features.followup.api import FollowUpRecord
from bot.store.db import upsert
from bot.store.models import EventLog, table_of
from tagging import faq as rules
from tagging.matcher import KeywordMatcher, Tokenizer
from tagging.question import looks_like_question
from tagging.rules import KeywordRule

KIND = "dm_question"  # the follow-up item of a 1:1 question nobody answered
BACKTEST_DAYS = 7
EXCERPT = 80


@dataclass(frozen=True)
class Entry:
    id: int
    keywords: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class PreviewHit:
    at: int
    room: str
    room_name: str
    member: str
    member_name: str
    text: str
    entry: int


class Answers:
    """The FAQ entries and their matcher, rebuilt when the entries change (any process's change:
    the entries are read back from the store at each batch)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self._key: tuple[Entry, ...] | None = None
        self._matcher: KeywordMatcher | None = None

    def current(self, conn: Connection) -> tuple[dict[int, Entry], KeywordMatcher | None]:
        found = entries(conn)
        key = tuple(found)
        with self._lock:
            if key != self._key:
                self._key = key
                self._matcher = matcher_of(found, self._tokenizer) if found else None
            return {e.id: e for e in found}, self._matcher


def matcher_of(found: list[Entry], tokenizer: Tokenizer) -> KeywordMatcher:
    return KeywordMatcher([KeywordRule(id=e.id, tag="faq", keywords=e.keywords) for e in found], tokenizer)


_ENTRIES = select(col(FaqEntry.id), col(FaqEntry.keywords), col(FaqEntry.answer)).order_by(col(FaqEntry.id))


def entries(conn: Connection) -> list[Entry]:
    rows = conn.execute(_ENTRIES).all()  # at every batch of messages: the statement is built once
    return [Entry(i or 0, tuple(k.split(",")), a) for i, k, a in rows]


def add(conn: Connection, keywords: tuple[str, ...], answer: str, by: str, at: int) -> int:
    key = conn.execute(table_of(FaqEntry).insert().values(keywords=",".join(keywords), answer=answer, by=by, at=at)
                       ).inserted_primary_key
    assert key is not None
    return int(key[0])


def remove(conn: Connection, entry: int) -> bool:
    conn.execute(delete(FaqSent).where(col(FaqSent.entry) == entry))
    return conn.execute(delete(FaqEntry).where(col(FaqEntry.id) == entry)).rowcount > 0


def first_hit(matcher: KeywordMatcher | None, text: str, room: str | None) -> int | None:
    """The entry a question asks about (the keyword said first), if any."""
    if matcher is None:
        return None
    hits = matcher.match(text, room)
    return hits[0].rule_id if hits else None


def last_sent(conn: Connection, entry: int, place: str) -> int | None:
    return conn.execute(select(col(FaqSent.at)).where(col(FaqSent.entry) == entry, col(FaqSent.place) == place)
                        ).scalar()


def note_sent(conn: Connection, entry: int, place: str, at: int) -> None:
    upsert(conn, table_of(FaqSent), [{"entry": entry, "place": place, "at": at}], ["entry", "place"],
           replace_if_newer=("at", []))


def recent_texts(conn: Connection, now: int, days: int = BACKTEST_DAYS) -> list[tuple[str, int, str, str, str]]:
    """(id, ts, room, member, text) of the chat messages of the last `days` days, oldest first."""
    return [(i, ts, room, member, text) for i, ts, room, member, text in conn.execute(
        select(col(EventLog.id), col(EventLog.ts), col(EventLog.room), col(EventLog.member), col(EventLog.text))
        .where(col(EventLog.type) == "message", col(EventLog.ts) > now - days * 86400, col(EventLog.ts) <= now,
               col(EventLog.text).is_not(None), col(EventLog.kind).is_(None))
        .order_by(col(EventLog.ts))) if text is not None]  # (the query's filter, for the type)


def reach(conn: Connection, keywords: tuple[str, ...], tokenizer: Tokenizer, now: int) -> tuple[int, int]:
    """(hits, messages): how many of the last 7 days' chat messages a proposed keyword set matches
    (questions or not): one that hits most of them would answer everybody."""
    matcher = KeywordMatcher([KeywordRule(id=0, tag="faq", keywords=keywords)], tokenizer.fork())
    texts = recent_texts(conn, now)
    return sum(1 for *_, text in texts if matcher.match(text, None)), len(texts)


def preview(conn: Connection, tokenizer: Tokenizer, now: int, staff: frozenset[str],
            days: int = BACKTEST_DAYS) -> list[PreviewHit]:
    """The backtest: which questions of the last `days` days the FAQ would have answered, with
    the cooldown per room (1:1: per member) as it would have applied; staff are never answered."""
    found = entries(conn)
    if not found:
        return []
    matcher = matcher_of(found, tokenizer.fork())
    sent: dict[tuple[int, str], int] = {}
    cooldown = int(rules.COOLDOWN.total_seconds())
    hits: list[tuple[int, str, str, str, int]] = []
    for _, ts, room, member, text in recent_texts(conn, now, days):
        if member in staff or not looks_like_question(text):
            continue
        entry = first_hit(matcher, text, room or None)
        if entry is None:
            continue
        place = room or member
        last = sent.get((entry, place))
        if last is not None and ts - last < cooldown:
            continue
        sent[(entry, place)] = ts
        hits.append((ts, room, member, text, entry))
    rooms = room_names(conn, {h[1] for h in hits if h[1]})
    names = member_names(conn, {h[2] for h in hits})
    return [PreviewHit(ts, room, rooms.get(room, room) if room else "私聊", member, names.get(member, member),
                       text[:EXCERPT], entry) for ts, room, member, text, entry in reversed(hits)]


# ---- 1:1 questions nobody answered ------------------------------------------------------------
def note_question(conn: Connection, message_id: str, member: str, at: int, text: str) -> None:
    upsert(conn, table_of(DmQuestion), [{"message_id": message_id, "member": member, "at": at,
                                          "text": text[:1000], "alerted": False}], ["message_id"])


@dataclass(frozen=True)
class OpenQuestion:
    member: str
    at: int  # the latest unanswered question's time
    text: str
    count: int  # questions since the member's last one was handled


def open_questions(conn: Connection, now: int) -> dict[str, OpenQuestion]:
    """Members whose 1:1 question has waited UNANSWERED_AFTER and was not handled (an item of
    theirs of this kind marked done after it): member → their latest such question."""
    due = now - int(rules.UNANSWERED_AFTER.total_seconds())
    rows = conn.execute(select(col(DmQuestion.member), col(DmQuestion.at), col(DmQuestion.text))
                        .where(col(DmQuestion.at) <= due).order_by(col(DmQuestion.at))).all()
    if not rows:
        return {}
    done = dict(conn.execute(select(col(FollowUpRecord.member), col(FollowUpRecord.at)).where(
        col(FollowUpRecord.kind) == KIND, col(FollowUpRecord.member).in_({r[0] for r in rows}))).all())
    out: dict[str, OpenQuestion] = {}
    for member, at, text in rows:
        if at <= (done.get(member) or 0):
            continue
        before = out.get(member)
        out[member] = OpenQuestion(member, at, text, (before.count if before else 0) + 1)
    return out


def has_questions(conn: Connection) -> bool:
    """Whether any 1:1 question was ever left for the operators (the admins then follow 私聊)."""
    return conn.execute(select(col(DmQuestion.message_id)).limit(1)).first() is not None


def due_alerts(conn: Connection, now: int) -> list[tuple[str, str, int, str]]:
    """(message id, member, at, text) of questions that just waited long enough and were not
    told to the admins yet; marks them told."""
    due = now - int(rules.UNANSWERED_AFTER.total_seconds())
    rows = conn.execute(select(col(DmQuestion.message_id), col(DmQuestion.member), col(DmQuestion.at),
                               col(DmQuestion.text))
                        .where(col(DmQuestion.at) <= due, col(DmQuestion.alerted).is_(False))
                        .order_by(col(DmQuestion.at))).all()
    if rows:
        conn.execute(table_of(DmQuestion).update().where(col(DmQuestion.message_id).in_([r[0] for r in rows]))
                     .values(alerted=True))
    return [(message_id, member, at, text) for message_id, member, at, text in rows]


def next_alert_at(conn: Connection) -> int | None:
    """When the next question becomes due for the admins (epoch), if any waits."""
    first = conn.execute(select(col(DmQuestion.at)).where(col(DmQuestion.alerted).is_(False))
                         .order_by(col(DmQuestion.at)).limit(1)).scalar()
    return None if first is None else first + int(rules.UNANSWERED_AFTER.total_seconds())
