"""Synonym sets managers extend (`/synonym add 价格 学费,收费`, the console): stored words, the
checks (a word in one set only; a set must not hear most messages), and listing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.errors import UsageError
from bot.features.tags.models import SynonymWord
from bot.store.models import EventLog, table_of
from tagging.intent import SHIPPED, Synonyms, cilin_synonyms, conflicts, parse_words, shipped
from tagging.matcher import KeywordMatcher, Tokenizer, normalize
from tagging.rules import KeywordRule, can_be_token, validate_tag

CHECK_DAYS = 7  # a set is tried on this many days of chat before it is extended
MOST = 0.5  # hitting more than this share of those messages is "most messages"
MIN_SAMPLE = 10  # fewer messages than this say nothing about how broad a set is


def stored_sets(conn: Connection) -> dict[str, list[str]]:
    """Managers' words by set, in the order they were added."""
    out: dict[str, list[str]] = {}
    for concept, word in conn.execute(select(col(SynonymWord.concept), col(SynonymWord.word))
                                      .order_by(col(SynonymWord.id))):
        out.setdefault(concept, []).append(word)
    return out


def synonym_sets(conn: Connection) -> Synonyms:
    """The sets rules expand through: the shipped ones with managers' words."""
    return shipped().merged(stored_sets(conn))


_STAMP = select(func.count(), func.max(col(SynonymWord.id)))  # read at every batch: built once


def stamp(conn: Connection) -> tuple[int | None, ...]:
    """Changes whenever a word is added or removed: the rule set is rebuilt then."""
    return tuple(conn.execute(_STAMP).one())


@dataclass(frozen=True)
class Added:
    concept: str
    added: tuple[str, ...]
    already: tuple[str, ...]  # were in the set before
    size: int  # words in the set now
    hits: int  # chat messages of the last CHECK_DAYS days the set hears now
    messages: int  # chat messages of those days
    suggestions: tuple[str, ...]  # 同义词词林's synonyms not in the set yet


def _hits(conn: Connection, tokenizer: Tokenizer, words: tuple[str, ...], at: datetime) -> tuple[int, int]:
    """(messages the words hear, chat messages) over the last CHECK_DAYS days up to `at`."""
    stamp_at = int(at.timestamp())
    start = stamp_at - CHECK_DAYS * 86400
    chat = (col(EventLog.type) == "message") & col(EventLog.kind).is_(None) & (col(EventLog.ts) > start) & (
        col(EventLog.ts) <= stamp_at)
    total = conn.execute(select(func.count()).where(chat)).scalar() or 0
    if total < MIN_SAMPLE:
        return 0, total
    mode = "word" if all(can_be_token(w) for w in words) else "substring"
    matcher = KeywordMatcher([KeywordRule(0, "同义词", words, mode=mode)], tokenizer.fork())
    text = col(EventLog.text)
    likes = [text.like(f"%{normalize(w)}%") if conn.dialect.name == "sqlite" else text.ilike(f"%{normalize(w)}%")
             for w in words if "%" not in w and "_" not in w]
    rows = conn.execute(select(text, col(EventLog.room)).where(chat, or_(*likes) if likes else chat))
    return sum(1 for said, room in rows if said and matcher.match(said, room or None)), total


def add_words(conn: Connection, tokenizer: Tokenizer, concept: str, text: str, *, by: str,
              at: datetime) -> Added:
    """Add words to a set (a new set when `concept` names none); UsageError (Chinese) when a
    word belongs to another set, or the set would then hear most chat messages."""
    try:
        name = validate_tag(concept).replace("标签名", "同义词组名")
        words = parse_words(text)
    except ValueError as exc:
        raise UsageError(str(exc).replace("标签名", "同义词组名"), show_usage=False) from None
    sets = synonym_sets(conn)
    taken = conflicts(sets, name, words)
    if taken:
        word, other = next(iter(taken.items()))
        raise UsageError(f"「{word}」已经在同义词组「{other}」里了：一个词只能属于一个组。"
                         f"要挪过来，先 /synonym del {other} {word}。", show_usage=False)
    current = sets.expand(name) if name in sets.sets else ()
    already = tuple(w for w in words if w in current or w == name)
    new = tuple(w for w in words if w not in already)
    if not new:
        raise UsageError(f"{'、'.join(words)} 都已经在「{name}」里了。", show_usage=False)
    whole = tuple(dict.fromkeys((*current, name, *new)))
    hits, messages = _hits(conn, tokenizer, whole, at)
    if messages >= MIN_SAMPLE and hits > messages * MOST:
        raise UsageError(f"没有加：加上 {'、'.join(new)} 后，「{name}」会命中最近 {CHECK_DAYS} 天 "
                         f"{messages} 条聊天里的 {hits} 条（{hits * 100 // messages}%），"
                         "几乎每条消息都算，规则就没有意义了。换个更具体的词吧。", show_usage=False)
    stamp_at = int(at.timestamp())
    conn.execute(table_of(SynonymWord).insert(), [
        {"concept": name, "word": w, "created_by": by, "created_at": stamp_at} for w in new])
    suggestions = tuple(w for w in cilin_synonyms(name) if w not in whole)[:6]
    return Added(name, new, already, len(whole), hits, messages, suggestions)


def remove_words(conn: Connection, concept: str, text: str) -> tuple[str, ...]:
    """Remove managers' words from a set; UsageError for a shipped word or one not there."""
    try:
        words = parse_words(text)
    except ValueError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    mine = set(stored_sets(conn).get(concept, []))
    for w in words:
        if w not in mine:
            if w in SHIPPED.get(concept, ()) or w in shipped().expand(concept):
                raise UsageError(f"「{w}」是内置的同义词，不能删除；不想要它，可以在规则里直接写具体的词。",
                                 show_usage=False)
            raise UsageError(f"同义词组「{concept}」里没有管理员加的「{w}」。发 /synonyms 查看。", show_usage=False)
    conn.execute(delete(SynonymWord).where(col(SynonymWord.concept) == concept, col(SynonymWord.word).in_(words)))
    return words


def listing(conn: Connection) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Each set: its name, its shipped words, the words managers added."""
    added = stored_sets(conn)
    base = shipped().sets
    names = [*base, *(n for n in added if n not in base)]
    return [(n, tuple(base.get(n, ())), tuple(added.get(n, ()))) for n in names]
