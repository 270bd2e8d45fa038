"""Erasing a member: their texts, notes and names gone, their id replaced by an anonymous one in
every table, counts kept; and making sure what was erased is gone from the database file too.

The eraser knows no table by name. It walks the SQLModel metadata, so tables other features
add later are covered as long as they follow the conventions below:

- every string column is searched for the member's id: an exact value is replaced by the
  anonymous id, an id inside a longer text (a comma-separated list, a roster's JSON) too;
- a row is *about* the member when one of its SUBJECT columns holds their id; in such rows
  the FREE_TEXT columns (what someone wrote or is called) are erased;
- the member's names (nickname, group nicknames, names in rosters) are replaced by
  ERASED_NAME in every FREE_TEXT column of every table (bot replies, lists, others' mentions)
  except `name` columns (a task or a room keeps its name), and in a text that named them,
  quotes of their words too.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine, Table, and_, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, col

from bot.core.merge import is_text
from bot.core.outbox import cancel_pending
from bot.features.checkins.api import Checkin
from bot.features.tags.api import MemberTag
from bot.store.models import EventLog, Member, Membership, Outbox

log = logging.getLogger(__name__)

ANON_PREFIX = "anon_"
ERASED_NAME = "已注销成员"
ERASED = "成员已删除数据"
# Columns naming whom a row is about (not who acted on it: `by`, `created_by`, `done_by`).
SUBJECT = frozenset({"id", "member", "sender", "to", "operator"})
# Columns holding what a person wrote or is called.
FREE_TEXT = frozenset({"text", "note", "notes", "excerpt", "name", "room_alias", "alias", "remark",
                       "reason", "detail", "details", "summary", "result", "message", "comment",
                       "member_name", "sender_name"})
_ID_CHARS = r"A-Za-z0-9_\-@.:"
MIN_QUOTE = 4  # shorter words of the member (打卡, 好的) are everyone's words
ERASED_QUOTE = "（已删除）"


def anonymous_id() -> str:
    return ANON_PREFIX + secrets.token_hex(8)


def _tables() -> list[Table]:
    return list(SQLModel.metadata.sorted_tables)


def names_of(conn: Connection, member: str) -> set[str]:
    """Every name the store holds for the member: nickname, group nicknames, names in rosters."""
    names = {conn.execute(select(col(Member.name)).where(col(Member.id) == member)).scalar()}
    names |= set(conn.execute(select(col(Membership.room_alias)).where(col(Membership.member) == member)).scalars())
    for (text,) in conn.execute(select(col(EventLog.text)).where(
            col(EventLog.type) == "roster", col(EventLog.text).contains(member, autoescape=True))):
        try:
            listed = json.loads(text or "")
        except ValueError:
            continue
        for entry in listed if isinstance(listed, list) else ():
            if isinstance(entry, dict) and entry.get("id") == member:
                names |= {entry.get("name"), entry.get("room_alias")}
    # A one-character name would erase that character from every text.
    return {n for n in names if isinstance(n, str) and len(n.strip()) >= 2}


@dataclass(frozen=True)
class Erasure:
    anon: str
    tables: frozenset[str]  # the tables whose rows changed


def quotes_of(conn: Connection, member: str) -> list[str]:
    """What the member wrote (messages, check-in notes, tag excerpts), longest first: the bot
    quotes it in lists and reasons, where it is erased too."""
    said = set(conn.execute(select(col(EventLog.text)).where(
        col(EventLog.member) == member, col(EventLog.type) == "message",
        or_(col(EventLog.kind).is_(None), col(EventLog.kind) != "command"))).scalars())
    said |= set(conn.execute(select(col(Checkin.note)).where(col(Checkin.member) == member)).scalars())
    said |= set(conn.execute(select(col(MemberTag.excerpt)).where(col(MemberTag.member) == member)).scalars())
    return sorted({t.strip() for t in said if t and len(t.strip()) >= MIN_QUOTE}, key=len, reverse=True)


def unquote(value: str, quotes: Iterable[str]) -> str:
    """`value` with every quote of the member's words (or a shortened start of one, as the
    bot's excerpts are) replaced by ERASED_QUOTE."""
    for said in quotes:
        for end in range(len(said), MIN_QUOTE - 1, -1):
            if said[:end] in value:
                value = value.replace(said[:end], ERASED_QUOTE)
                break
    return value


def erase_member(conn: Connection, member: str, anon: str | None = None) -> Erasure:
    """Erase the member inside the caller's transaction (see the module's conventions)."""
    anon = anon or anonymous_id()
    names = sorted(names_of(conn, member), key=len, reverse=True)
    quotes = quotes_of(conn, member)
    id_pattern = re.compile(rf"(?<![{_ID_CHARS}]){re.escape(member)}(?![{_ID_CHARS}])")

    def scrub_id(value: str) -> str:
        return id_pattern.sub(anon, value)

    def scrub_text(value: str) -> str:
        new = scrub_id(value)
        for name in names:
            new = new.replace(name, ERASED_NAME)
        # A text that names the member may quote them (a follow-up list, a tag's reason).
        return unquote(new, quotes) if new != value else new

    waiting = [i for i in conn.execute(select(col(Outbox.id)).where(col(Outbox.to) == member)).scalars() if i]
    cancel_pending(conn, waiting, ERASED)
    touched: set[str] = set()
    for table in _tables():
        texts = [c for c in table.columns if is_text(c)]
        if not texts:
            continue
        subjects = [c for c in texts if c.name in SUBJECT]
        free = [c for c in texts if c.name in FREE_TEXT and not c.primary_key]
        if subjects and free:
            done = conn.execute(update(table).where(or_(*(c == member for c in subjects)))
                                .values({c.name: None if c.nullable else "" for c in free}))
            if done.rowcount:
                touched.add(table.name)
        for c in texts:
            if (getattr(c.type, "length", None) or 10**6) < max(len(member), len(anon)):
                continue  # too short to hold an id (a status, a kind)
            if conn.execute(update(table).where(c == member).values({c.name: anon})).rowcount:
                touched.add(table.name)
            # A thing's own name (a task, a shop item, a room) is not rewritten for a member who
            # happens to share it; the member's own name was erased with their rows above.
            in_free = c in free and c.name != "name"
            if _rewrite(conn, table, c, [member, *names] if in_free else [member], scrub_text if in_free else scrub_id):
                touched.add(table.name)
    return Erasure(anon, frozenset(touched))


def _rewrite(conn: Connection, table: Table, column: Column[Any], needles: list[str],
             fix: Callable[[str], str]) -> bool:
    """Rewrite, row by row (by primary key), the values of `column` holding any of `needles`."""
    keys = list(table.primary_key.columns)
    changed = False
    rows = conn.execute(select(*keys, column).where(or_(*(column.contains(n, autoescape=True) for n in needles))))
    for row in rows.all():
        value = row[-1]
        new = fix(value)
        if new != value:
            conn.execute(update(table).where(and_(*(k == v for k, v in zip(keys, row[:-1], strict=True))))
                         .values({column.name: new}))
            changed = True
    return changed


def scrub_file(engine: Engine, tables: Iterable[str], *, full: bool = True) -> str:
    """After the erasure has committed: make the erased bytes gone from the files.

    SQLite (with `secure_delete` on, see bot.store.db) zeroes freed content in the pages it
    writes; those pages sit in the WAL until a checkpoint copies them over the old ones in
    the main file, and TRUNCATE empties the WAL file itself. PostgreSQL keeps old row
    versions in the table files until VACUUM FULL rewrites them (plain VACUUM only marks the
    space reusable); its WAL segments and any backups age out on the server's own schedule.
    `full` False runs plain VACUUM there instead, which blocks nobody (the nightly retention
    over big tables), and leaves the old bytes until their space is reused."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for _ in range(50):
                busy, _, _ = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return "checkpointed"
                time.sleep(0.1)  # a reader of the console is in the middle of a page
            log.warning("WAL checkpoint after an erasure stayed busy; it completes at the next checkpoint")
            return "busy"
        finally:
            raw.close()
    names = sorted(tables)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in names:
            conn.exec_driver_sql(f'VACUUM {"FULL " if full else ""}"{name}"')
    return f"vacuumed{' (full)' if full else ''} {len(names)} tables"
