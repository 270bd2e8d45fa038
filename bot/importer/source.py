"""What every format reader shares: the import's options, its running summary, and the
checks an imported event passes before it enters the pipeline."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path

from bot.core.events import MAX_TEXT, TS_MIN, Message, check_id, parse_ts
from bot.core.events import clean_name as contract_name

ID_PREFIX = "imp:"  # every imported event's id starts so: live ids are WeChat's own
LEGACY_ID_LENGTH = len(ID_PREFIX) + 24  # an id 0.2's import made (bot.importer.guards.LegacyGuard)


class FileError(Exception):
    """A whole file that cannot be imported (unknown format, wrong header, a group file
    without --room); the message says what was expected and how to fix it."""


@dataclass(frozen=True)
class ImportOptions:
    tz: tzinfo
    not_after: datetime  # the latest acceptable ts
    room: str | None = None  # --room: the group's id, which an export does not carry
    room_name: str | None = None
    self_id: str | None = None  # --self: the exporting account
    fmt: str = "auto"


@dataclass
class Summary:
    """What an import read, for the Chinese summary at the end."""

    files: list[tuple[str, str]] = field(default_factory=list)  # (path, format name)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): whole files
    messages: int = 0
    operator_messages: int = 0  # the exporting account's own, in 1:1 files
    joins: int = 0
    leaves: int = 0
    members: set[str] = field(default_factory=set)
    rooms: dict[str, str] = field(default_factory=dict)  # id → name
    first: int | None = None
    last: int | None = None
    skipped: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    unresolved: Counter[str] = field(default_factory=Counter)  # names in notices
    admins: dict[str, str] = field(default_factory=dict)  # member id → "群主" / "管理员"
    names_only: set[str] = field(default_factory=set)  # files whose only key was the name
    joined_by_name: set[str] = field(default_factory=set)  # joined by a notice, known by name only
    spoke: set[str] = field(default_factory=set)  # members with a message in the files
    # room → name → the wxids that name belongs to, from files that have both (for merging)
    name_ids: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # path → the format and generation detected
    renames: int = 0
    recalls: int = 0  # recall notices (which message is not said in an export)
    not_speaking: int = 0  # pokes (拍一拍) and other system lines that are nobody's message
    merged: int = 0  # name-only members that became one with their wxid
    notes: list[str] = field(default_factory=list)  # e.g. a GBK file decoded as such
    newer_than_live: int = 0  # events refused for overlapping live history
    imported_before: int = 0  # events an import of release 0.2 already stored
    new_events: int | None = None  # stored by this run (None: a dry run)

    def skip(self, path: Path | str, line: int, reason: str) -> None:
        self.skipped[reason].append((str(path), line))

    @property
    def skipped_count(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def said(self, member: str, ts: int) -> None:
        """A message of `member` at epoch `ts` was read (once a message of a million: kept short)."""
        self.messages += 1
        if member not in self.spoke:
            self.spoke.add(member)
            self.members.add(member)
        last = self.last
        if last is None or ts > last:
            self.last = ts
            if last is None:
                self.first = ts
        elif self.first is not None and ts < self.first:
            self.first = ts

    @property
    def silent_joiners(self) -> int:
        """Members a join notice names who never said anything in the files."""
        return len(self.joined_by_name - self.spoke)

    def saw(self, ts: int) -> None:
        if self.first is None or ts < self.first:
            self.first = ts
        if self.last is None or ts > self.last:
            self.last = ts


_blake2b = hashlib.blake2b


class IdMaker:
    """Stable ids from what a message is: (room, time, kind, a hash of its content) and, for
    identical messages in the same second, which one of them it is. Two exports of the same
    chat, overlapping or not, give each message the same id; ids from different databases of
    one chat (whose local ids differ) still agree. The sender is not part of it: one export
    names a member by wxid, another (MemoTrace 2025, TXT) only by display name."""

    def __init__(self, room: str) -> None:
        self.room = room
        self._second: int | None = None
        self._first: tuple[str, str] = ("", "")  # the second's first (kind, content)
        self._seen: dict[tuple[str, str], int] | None = None  # … and the others, once there are any

    def make(self, ts: int, content: str, kind: str) -> str:
        if ts != self._second:  # exports are in time order: one second's duplicates at a time
            self._second, self._first, self._seen = ts, (kind, content), None
            n = 0
        else:  # a second second's message: counted from here on (most seconds have one)
            key = (kind, content)
            seen = self._seen
            if seen is None:
                seen = self._seen = {self._first: 1}
            n = seen.get(key, 0)
            seen[key] = n + 1
        whole = f"{self.room}\x1f{ts}\x1f{kind}\x1f{n}\x1f{content}"
        # 13 bytes: 0.2's ids (with the sender in them) had 12, so the two are told apart.
        return ID_PREFIX + _blake2b(whole.encode(), digest_size=13).hexdigest()


class Checks:
    """The contract's checks, done once per id and cheaply per text (a million messages)."""

    def __init__(self, opts: ImportOptions) -> None:
        self.not_after = opts.not_after
        self._range = (TS_MIN.timestamp(), opts.not_after.timestamp())
        self._ids: set[str] = set()
        self._minute = -1  # the epoch of the latest minute asked, and its datetime
        self._minute_at = TS_MIN

    def ts(self, value: int | float) -> datetime:
        lo, hi = self._range
        if type(value) is int and lo <= value <= hi:  # the common case, without parse_ts's checks
            # = datetime.fromtimestamp(value, UTC), from the minute's datetime (exports are in
            # time order: most messages fall in a minute already asked)
            second = value % 60
            if value - second != self._minute:
                self._minute = value - second
                self._minute_at = datetime.fromtimestamp(self._minute, UTC)
            return self._minute_at + _SECONDS[second]
        return parse_ts(value, self.not_after)  # its checks, and its error

    def ident(self, value: str, what: str) -> str:
        """An id by the contract's own rule (bot.core.events.check_id), checked once."""
        if value in self._ids:
            return value
        value = check_id(value.strip(), what.strip())
        self._ids.add(value)
        return value


_SECONDS = tuple(timedelta(seconds=n) for n in range(60))


def _message_maker() -> Callable[[str, datetime, str, str, str | None, str | None, str | None, str], Message]:
    """`Message(id, ts, sender, text, sender_name, room, room_name, kind)` with the other fields
    at their defaults, built by setting its slots: a frozen dataclass's __init__ sets each of its
    13 fields through object.__setattr__, over twice the time (a million messages). The object
    is the same as __init__'s (Message has no __post_init__: checked here, as are its fields)."""
    names = ("id", "ts", "sender", "text", "sender_name", "room", "room_name", "mentions", "kind",
             "account", "quote_of", "quote_sender", "qr")
    declared = fields(Message)
    if tuple(f.name for f in declared) != names or hasattr(Message, "__post_init__"):
        raise TypeError("bot.core.events.Message changed: update bot.importer.source.message")
    (set_id, set_ts, set_sender, set_text, set_name, set_room, set_room_name, set_mentions, set_kind,
     set_account, set_quote_of, set_quote_sender, set_qr) = (getattr(Message, n).__set__ for n in names)
    mentions, account, quote_of, quote_sender, qr = (declared[i].default for i in (7, 9, 10, 11, 12))
    new = object.__new__

    def message(id: str, ts: datetime, sender: str, text: str, sender_name: str | None,
                room: str | None, room_name: str | None, kind: str) -> Message:
        m = new(Message)
        set_id(m, id)
        set_ts(m, ts)
        set_sender(m, sender)
        set_text(m, text)
        set_name(m, sender_name)
        set_room(m, room)
        set_room_name(m, room_name)
        set_mentions(m, mentions)
        set_kind(m, kind)
        set_account(m, account)
        set_quote_of(m, quote_of)
        set_quote_sender(m, quote_sender)
        set_qr(m, qr)
        return m

    return message


message = _message_maker()


def clean_text(text: str) -> str:
    """A text as the contract takes it: no NUL, at most MAX_TEXT characters."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:MAX_TEXT]


def clean_name(name: object) -> str | None:
    """A display name by the contract's own rule (bot.core.events.clean_name)."""
    return _clean_name(name) if isinstance(name, str) else None


@lru_cache(maxsize=1 << 14)  # a group's few hundred names, once each instead of per message
def _clean_name(name: str) -> str | None:
    return contract_name(name)
