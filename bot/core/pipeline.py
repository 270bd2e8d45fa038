"""The one path every event takes: dedupe → persist → features and commands → replies.

Events are processed in batches inside one transaction each. Plain chat is buffered in
memory and written with a few executemany calls per batch; anything that must read the
store (a command, a check-in) first flushes the buffers, so it sees every earlier event.
A batch commits together with its outbox rows: after a crash a re-run either sees the
whole batch or none of it, and never sends a reply twice.
"""

from __future__ import annotations

import gc
import heapq
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from bot.adapters.base import Outgoing
from bot.core.accounts import route
from bot.core.events import Contacts, Event, Friend, Join, Leave, Message, Order, Recall, Roster, Visit
from bot.core.outbox import priority_of, worker_id
from bot.core.settings import Settings
from bot.store.db import LIVE_BATCH, bulk_rows, is_locked, stored, upsert, upsert_rows, use_for
from bot.store.models import (
    NO_ROOM,
    AccountReach,
    DailyActivity,
    EventLog,
    Member,
    MemberDay,
    Membership,
    Outbox,
    Room,
    WriterEpoch,
    table_of,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 5000
# A batch that met a store locked by another writer past the busy timeout (it rolled back whole)
# is run again this many times in all, waiting LOCKED_WAIT seconds, then twice as long each time.
LOCKED_TRIES = 5
LOCKED_WAIT = 2.0
_INSERT_EVENT = table_of(EventLog).insert()
_EPOCH = table_of(WriterEpoch)
_EPOCH_N = select(col(WriterEpoch.n)).where(col(WriterEpoch.name) == "ingest")  # every batch: built once
_COUNTERS = ("messages", "counted", "checkins", "commands", "visits")
_COUNTER_AT = {name: i for i, name in enumerate(_COUNTERS)}
_EVENT_COLUMNS = ("id", "type", "ts", "room", "member", "text", "kind", "account")  # a log row's tuple
_event_row = itemgetter(*_EVENT_COLUMNS)
_DAY_COLUMNS = ("member", "room", "day", *_COUNTERS)
_MEMBER_DAY_COLUMNS = ("member", "day", *_COUNTERS)
T = TypeVar("T")


@dataclass
class Known:
    """What this process has stored about names and first appearances, so a batch writes
    a member, room or membership only when something about it changed. Cleared when a
    batch fails, since its writes were rolled back."""

    members: dict[str, tuple[str | None, int, int]] = field(default_factory=dict)
    rooms: dict[str, tuple[str | None, int, int]] = field(default_factory=dict)
    presence: dict[tuple[str, str], int] = field(default_factory=dict)

    def clear(self) -> None:
        self.members.clear()
        self.rooms.clear()
        self.presence.clear()

    @staticmethod
    def changed(known: dict[str, tuple[str | None, int, int]], rows: Iterable[dict[str, Any]]
                ) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            k = known.get(r["id"])
            if (k is None or r["first_at"] < k[2]
                    or (r["name"] is not None and r["name"] != k[0] and r["name_at"] >= k[1])):
                out.append(r)
        return out

    @staticmethod
    def note(known: dict[str, tuple[str | None, int, int]], rows: Iterable[dict[str, Any]]) -> None:
        for r in rows:
            k = known.get(r["id"])
            if k is None:
                known[r["id"]] = (r["name"], r["name_at"], r["first_at"])
                continue
            name, name_at = (r["name"], r["name_at"]) if (
                r["name"] is not None and r["name_at"] >= k[1]) else k[:2]
            known[r["id"]] = (name, name_at, min(k[2], r["first_at"]))


@dataclass
class Batch:
    """One transaction's worth of events, with write buffers and the replies it produced."""

    conn: Connection
    settings: Settings
    silent: bool
    known: Known = field(default_factory=Known)
    bot_ids: frozenset[str] = frozenset()  # the bot's own accounts: never ranked or listed
    # False for events pushed through the event API: a message there is never a chat command,
    # whoever it claims to be from (commands arrive only through a chat adapter).
    commands: bool = True
    session: Session = field(init=False)
    replies: list[Outgoing] = field(default_factory=list)
    # Events a hook refused against the store (a refund of an unknown order): (id, reason).
    refused: list[tuple[str, str]] = field(default_factory=list)
    _events: list[tuple[Any, ...]] = field(default_factory=list)  # event log rows (_EVENT_COLUMNS)
    _rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    _members: dict[str, dict[str, Any]] = field(default_factory=dict)
    _presence: dict[tuple[str, str], int] = field(default_factory=dict)
    _reach: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _counters: dict[tuple[str, str, date], list[int]] = field(default_factory=dict)
    flush_hooks: list[Callable[[Batch], None]] = field(default_factory=list)
    # Called once the batch has committed (outside its transaction): e.g. to checkpoint the
    # SQLite WAL after an erasure, which cannot happen inside the transaction.
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    _days: dict[int, tuple[date, int]] = field(default_factory=dict)  # quarter hours of epoch time → day_began
    _slots: dict[type, Any] = field(default_factory=dict)  # see `slot`
    # Messages a feature took that also count as taking part (a check-in with a note, whose
    # text is the note): the pipeline hands each to every hook's `on_taking_part`.
    taking_part: list[Message] = field(default_factory=list)
    # The members whose rows (names) this batch wrote, in order: what read their names before may be stale.
    named: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The session rides on the batch transaction: it must never commit it or open its own
        # savepoints, since commands wrap themselves in savepoints of the connection.
        self.session = Session(bind=self.conn, join_transaction_mode="rollback_only")

    def slot(self, kind: type[T]) -> T:
        """This batch's `kind` (made empty on first use): data one hook produces for the hooks
        after it. The type belongs to the producing feature's package (points' `Speaking`: the
        messages that counted as speaking), and a hook that reads it names that feature in its
        `after`, so the pipeline runs the producer first."""
        found = self._slots.get(kind)
        if found is None:
            found = self._slots[kind] = kind()
        return cast(T, found)  # keyed by its own type: always a `kind`

    # ---- time -------------------------------------------------------------------------
    def local(self, ts: datetime) -> datetime:
        return ts.astimezone(self.settings.tz)

    def day(self, ts: datetime) -> date:
        return self.day_of(int(ts.timestamp()))

    def day_of(self, at: int) -> date:
        """The local day of an epoch second. Asked for every message by several hooks."""
        return self.day_began(at)[0]

    def day_began(self, at: int) -> tuple[date, int]:
        """The local day of an epoch second, and the epoch second its local time of day
        began from (at minus the hours, minutes and seconds of the local time: midnight,
        save on a day whose offset changed before `at`). Every zone's offset and DST change
        is a multiple of 15 minutes, so a quarter hour of epoch time lies within one local
        day and one offset."""
        quarter = at // 900
        found = self._days.get(quarter)
        if found is None:
            local = datetime.fromtimestamp(quarter * 900, self.settings.tz)
            began = quarter * 900 - (local.hour * 3600 + local.minute * 60 + local.second)
            found = self._days[quarter] = (local.date(), began)
        return found

    # ---- buffered writes ----------------------------------------------------------------
    def count(self, member: str, room: str | None, day: date, counter: str, n: int = 1) -> None:
        key = (member, room or NO_ROOM, day)
        counts = self._counters.get(key)
        if counts is None:
            counts = self._counters[key] = [0, 0, 0, 0, 0]
        counts[_COUNTER_AT[counter]] += n

    def see_member(self, member: str, name: str | None, at: int) -> None:
        _see(self._members, member, name, at)

    def see_room(self, room: str, name: str | None, at: int) -> None:
        _see(self._rooms, room, name, at)

    def see_presence(self, room: str, member: str, at: int) -> None:
        key = (room, member)
        first = self._presence.get(key)  # the earliest: without a call of min (every message)
        if first is None or at < first:
            self._presence[key] = at

    def see_reach(self, account: str | None, member: str, room: str | None, at: int) -> None:
        """`account` reaches `member` in `room` (None: 1:1); `at` > 0 when the member spoke."""
        if account and member != account:
            key = (account, member, room or NO_ROOM)
            self._reach[key] = max(self._reach.get(key, at), at)

    def log_event(self, row: dict[str, Any]) -> None:
        self._events.append(_event_row(row))

    def log_message(self, msg: Message, at: int, kind: str | None) -> None:
        """A message's log row: built as the tuple that is stored, since every message has one."""
        self._events.append((msg.id, "message", at, msg.room or NO_ROOM, msg.sender, msg.text, kind, msg.account))

    def flush(self) -> None:
        """Write every buffered row, so reads inside this transaction see all events so far."""
        conn = self.conn
        known = self.known
        self.flush_names()
        if self._presence:
            seen = known.presence
            rows = [(r, m, at, True) for (r, m), at in self._presence.items() if at < seen.get((r, m), at + 1)]
            upsert_rows(conn, table_of(Membership), ("room", "member", "first_at", "active"), rows,
                        ["room", "member"], keep_min=["first_at"])
            for r, m, at, _ in rows:
                seen[(r, m)] = min(seen.get((r, m), at), at)
            self._presence.clear()
        if self._reach:
            upsert_rows(conn, table_of(AccountReach), ("account", "member", "room", "last_at"),
                        [(*key, at) for key, at in self._reach.items()],
                        ["account", "member", "room"], replace_if_newer=("last_at", []))
            self._reach.clear()
        if self._events:
            bulk_rows(conn, _INSERT_EVENT, _EVENT_COLUMNS, self._events)
            self._events.clear()
        self.flush_counters()
        for hook in self.flush_hooks:
            hook(self)
        self.session.flush()

    def flush_counters(self) -> None:
        """Write the buffered day counters (with the names they need): enough for a read of a
        member's stored day (what speaking paid today), far cheaper than a whole flush."""
        self.flush_names()
        conn = self.conn
        if self._counters:
            upsert_rows(conn, table_of(DailyActivity), _DAY_COLUMNS,
                        [(*key, *c) for key, c in self._counters.items()],
                        ["member", "room", "day"], add=_COUNTERS)
            days: dict[tuple[str, date], list[int]] = {}
            for (m, _, d), c in self._counters.items():
                total = days.get((m, d))
                if total is None:
                    days[(m, d)] = list(c)
                else:
                    for i, n in enumerate(c):
                        total[i] += n
            upsert_rows(conn, table_of(MemberDay), _MEMBER_DAY_COLUMNS,
                        [(*key, *c) for key, c in days.items()], ["member", "day"], add=_COUNTERS)
            self._counters.clear()

    def flush_names(self) -> None:
        """Write the buffered rooms and members only: enough for a write that needs the
        member's row (points), and far cheaper than a whole flush."""
        conn = self.conn
        known = self.known
        if self._rooms:
            rows = known.changed(known.rooms, self._rooms.values())
            upsert(conn, table_of(Room), rows, ["id"],
                   replace_if_newer=("name_at", ["name"]), keep_min=["first_at"])
            known.note(known.rooms, rows)
            self._rooms.clear()
        if self._members:
            rows = known.changed(known.members, self._members.values())
            self.named.extend(r["id"] for r in rows)
            upsert(conn, table_of(Member), rows, ["id"],
                   replace_if_newer=("name_at", ["name"]), keep_min=["first_at"])
            known.note(known.members, rows)
            self._members.clear()

    # ---- replies ------------------------------------------------------------------------
    def reply(self, msg: Message, text: str, *, mention: bool = True) -> None:
        """Answer a message where it was said: in its room @mentioning the sender, or 1:1."""
        if msg.room:
            mentions = (msg.sender,) if mention else ()
            self.send(Outgoing(text=text, room=msg.room, to=msg.sender, mentions=mentions,
                               reply_to=msg.id, account=msg.account))
        else:
            self.send(Outgoing(text=text, to=msg.sender, reply_to=msg.id, account=msg.account))

    def dm(self, member: str, text: str, *, reply_to: str | None = None) -> None:
        self.send(Outgoing(text=text, to=member, reply_to=reply_to))

    def send(self, out: Outgoing) -> None:
        if not self.silent:
            self.replies.append(out)


def _see(rows: dict[str, dict[str, Any]], key: str, name: str | None, at: int) -> None:
    """Buffer a member or room: its first appearance, and its name as of the latest event."""
    row = rows.get(key)
    if row is None:
        rows[key] = {"id": key, "name": name, "name_at": at if name else 0, "first_at": at}
        return
    if at < row["first_at"]:
        row["first_at"] = at
    if name and at >= row["name_at"]:
        row["name"], row["name_at"] = name, at


class Hook:
    """What a feature plugs into the pipeline; every method runs inside the batch. The
    defaults do nothing, so a feature overrides only what it needs.

    Hooks run in an order the pipeline works out from what each declares (`order_hooks`):
    `after` names the hooks that must see each message and event before this one (a reader
    of another feature's batch slot names that feature), `priority` places a hook among
    those `after` leaves free (lower first); the registry's order settles the rest."""

    name: ClassVar[str] = ""  # what other hooks' `after` calls it (its feature's name)
    after: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 0

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        """Before the batch's new events are processed (e.g. to preload state for them)."""

    def handle(self, batch: Batch, msg: Message) -> bool:
        """Take an interactive message (a command, a check-in); True when it was taken."""
        return False

    def on_chat(self, batch: Batch, msg: Message) -> None:
        """Every message that was not taken as a command, after it was counted."""

    def on_taking_part(self, batch: Batch, msg: Message) -> None:
        """A message another hook took that counts as taking part all the same: a check-in
        with a note (心得), given here with the note as its text. Speaking counts it."""

    def on_event(self, batch: Batch, event: Event) -> None:
        """Every join, leave, visit, order and roster, after it was recorded."""

    def refuse(self, batch: Batch, event: Event) -> str | None:
        """A reason (Chinese) to refuse a non-message event that contradicts the store, such
        as a refund of an unknown order; None to accept it. A refused event is not recorded,
        so it can be sent again once it makes sense."""
        return None

    def on_tick(self, batch: Batch, now: datetime) -> None:
        """Time has reached `now`: after every batch (at its last event's time) and, live,
        every second or so (at the wall clock). For what waits on time: a burst of joins
        welcomed together, a day's check-in summary at the window's end."""

    def wants_tick(self, batch: Batch, now: datetime) -> bool:
        """Whether on_tick has anything to do at `now`, asked at each new hour of a batch
        (default: whenever the hook has an on_tick)."""
        return type(self).on_tick is not Hook.on_tick

    def reset(self) -> None:
        """Forget what is cached in memory: the batch that filled it was rolled back."""


class HookOrderError(ValueError):
    """Hooks whose declared order cannot be kept: an unknown name, a name twice, a cycle."""


def order_hooks(hooks: Sequence[Hook]) -> list[Hook]:
    """The hooks in the order they declare: each after every hook its `after` names; among
    hooks free to go, the lowest `priority` first, then the one registered first."""
    named: dict[str, int] = {}
    for i, h in enumerate(hooks):
        if h.name in named:
            raise HookOrderError(f"two pipeline hooks are called {h.name!r}")
        if h.name:
            named[h.name] = i
    waiting: dict[int, set[int]] = {}
    for i, h in enumerate(hooks):
        unknown = [n for n in h.after if n not in named]
        if unknown:
            raise HookOrderError(f"pipeline hook {h.name or type(h).__name__!r} runs after {unknown[0]!r}, "
                                 f"which no hook is called (hooks: {', '.join(sorted(named))})")
        waiting[i] = {named[n] for n in h.after}
    ready = [(h.priority, i) for i, h in enumerate(hooks) if not waiting[i]]
    heapq.heapify(ready)
    out: list[Hook] = []
    while ready:
        _, i = heapq.heappop(ready)
        out.append(hooks[i])
        del waiting[i]
        for j, needs in waiting.items():
            if i in needs:
                needs.discard(i)
                if not needs:
                    heapq.heappush(ready, (hooks[j].priority, j))
    if waiting:  # what is left waits on a circle: follow it from any of them
        path = [min(waiting)]
        while path[-1] not in path[:-1]:
            path.append(min(waiting[path[-1]]))
        circle = path[path.index(path[-1]):]
        raise HookOrderError("pipeline hooks wait for each other in a circle: "
                             + " after ".join(hooks[i].name for i in circle))
    return out


def epoch(ts: datetime) -> int:
    # Every hook asks it of the message at hand, and an imported message's local time zone
    # makes `timestamp` slow: the last answer is kept, for the same datetime object (held
    # here, so no other object can take its id; one tuple, so a reading thread sees a pair).
    global _last_epoch
    last = _last_epoch
    if last[0] is ts:
        return last[1]
    at = int(ts.timestamp())
    _last_epoch = (ts, at)
    return at


_last_epoch: tuple[datetime | None, int] = (None, 0)


class Pipeline:
    """Turns events into stored state and replies. Synchronous: the app runs it in a thread."""

    def __init__(self, engine: Engine, settings: Settings, hooks: Sequence[Hook] = ()) -> None:
        self.engine = engine
        self.settings = settings
        self.hooks = order_hooks(hooks)
        self.known = Known()
        # Hooks keep per-batch state: the chat adapter and the web API take turns.
        self._lock = threading.Lock()
        self.origin = worker_id()  # marks the outbox rows this process queues
        self._epoch: int | None = None  # the writer epoch this process last committed
        self._dispatch()

    def process(self, events: Iterable[Event], *, silent: bool = False,
                refused: list[tuple[str, str]] | None = None, commands: bool = True,
                batch_size: int = BATCH_SIZE) -> list[Outgoing]:
        """Process events in batches; returns the replies queued (already in the outbox).
        Events the store refuses are logged, and added to `refused` as (id, reason). With
        `commands` False (imported history) no message is taken as a chat command.

        Each batch commits in a thread of its own while the next batch's events are read
        (SQLite commits without holding the GIL): a long import or replay spends a tenth of
        its time committing. The next batch starts only once the commit is done, so batches
        still commit one after another; a failed commit is raised before anything else runs."""
        out: list[Outgoing] = []
        chunk: list[Event] = []
        pending: _Commit | None = None
        # What lives before a long run (the dictionary, the rules, the modules: most of the
        # process's objects) is left out of the garbage collector's passes until it ends.
        gc.freeze()
        try:
            for event in events:
                chunk.append(event)
                if len(chunk) >= batch_size:
                    if pending is not None:
                        out += pending.wait()[1]
                    pending = self._ingest_retrying(chunk, silent=silent, bot_ids=frozenset(), commands=commands,
                                                    refused=refused, defer=True)
                    chunk = []
            if pending is not None:
                out += pending.wait()[1]
                pending = None
            if chunk:
                out += self.ingest(chunk, silent=silent, refused=refused, commands=commands)[1]
        finally:
            gc.unfreeze()
            if pending is not None:  # the events could not all be read: still end the last commit
                pending.wait()
        return out

    def process_batch(self, events: Sequence[Event], *, silent: bool = False,
                      bot_ids: frozenset[str] = frozenset()) -> list[Outgoing]:
        return self.ingest(events, silent=silent, bot_ids=bot_ids)[1]

    def ingest(self, events: Sequence[Event], *, silent: bool = False,
               bot_ids: frozenset[str] = frozenset(), commands: bool = True,
               refused: list[tuple[str, str]] | None = None) -> tuple[int, list[Outgoing]]:
        """One batch in one transaction; returns how many events were new and stored, and the
        replies. `bot_ids` are the accounts the bot itself speaks as (known once logged in); with
        `commands` False (the event API) no message is taken as a chat command. Events a hook
        refused are not stored: they are logged and added to `refused`.

        A batch that found the store locked by another writer for longer than the busy timeout
        rolled back whole: it is run again (LOCKED_TRIES in all, with a growing wait, each logged),
        and reads the event log afresh, so nothing is counted twice."""
        return self._ingest_retrying(events, silent=silent, bot_ids=bot_ids, commands=commands,
                                     refused=refused, defer=False).wait()

    def _ingest_retrying(self, events: Sequence[Event], *, silent: bool, bot_ids: frozenset[str],
                         commands: bool, refused: list[tuple[str, str]] | None, defer: bool) -> _Commit:
        attempt = 1
        while True:
            try:
                return self._ingest(events, silent=silent, bot_ids=bot_ids, commands=commands,
                                    refused=refused, defer=defer)
            except OperationalError as exc:
                if not is_locked(exc) or attempt >= LOCKED_TRIES:
                    raise
                wait = LOCKED_WAIT * 2 ** (attempt - 1)
                attempt += 1
                log.warning("the store was locked by another writer (%s): the batch of %d events was rolled "
                            "back whole; trying again in %.0f s (try %d of %d)",
                            exc.orig, len(events), wait, attempt, LOCKED_TRIES)
                time.sleep(wait)

    def _ingest(self, events: Sequence[Event], *, silent: bool, bot_ids: frozenset[str], commands: bool,
                refused: list[tuple[str, str]] | None, defer: bool) -> _Commit:
        """The batch's work in its transaction, holding the pipeline's lock; the commit (in a
        thread when `defer`) and what follows it are the returned _Commit's."""
        self._lock.acquire()
        try:
            conn = self.engine.connect()
            try:
                trans = conn.begin()
                batch = Batch(conn, self.settings, silent, self.known, bot_ids, commands=commands)
                try:
                    new = self._work(batch, events)
                finally:
                    batch.session.close()
            except BaseException:
                conn.close()  # rolls back what the batch wrote
                raise
        except BaseException:
            self._epoch = None
            self._forget()
            self._lock.release()
            raise
        return _Commit(self, conn, trans, batch, new, refused, defer, len(events) <= LIVE_BATCH)

    def _work(self, batch: Batch, events: Sequence[Event]) -> int:
        """Everything a batch does before its commit; returns how many events were new and stored."""
        conn = batch.conn
        self._take_turn(conn)
        self._dispatch()
        fresh = self._fresh(conn, events)
        for f in self.hooks:
            f.start_batch(batch, fresh)
        hour = None
        for event in fresh:
            # Time moves with the events: at each new hour of a long replay, what waits
            # on time (a summary due at 22:00) acts then, not at the end of the batch.
            at_hour = epoch(event.ts) // 3600
            if hour is not None and at_hour != hour:
                # Only hooks with something due: a flush per hour of history is
                # most of a long import's writing otherwise.
                due = [f for f in self.hooks if f.wants_tick(batch, event.ts)]
                if due:
                    batch.flush()
                for f in due:
                    f.on_tick(batch, event.ts)
            hour = at_hour
            self._one(batch, event)
        if fresh:
            last = max(e.ts for e in fresh)
            for f in self.hooks:
                if f.wants_tick(batch, last):  # a silent batch takes no one's due welcome
                    f.on_tick(batch, last)
        batch.flush()
        if batch.replies:
            enqueue(conn, batch.replies, fresh[-1].ts if fresh else None, self.origin)
        return len(fresh) - len(batch.refused)

    def _committed(self, batch: Batch, refused: list[tuple[str, str]] | None) -> None:
        for after in batch.after_commit:
            try:
                after()
            except Exception:
                log.exception("a step after the batch's commit failed")
        for event_id, reason in batch.refused:
            log.warning("event %s refused: %s", event_id, reason)
        if refused is not None:
            refused += batch.refused

    def _take_turn(self, conn: Connection) -> None:
        """Bump the store's writer epoch first thing in the batch. The bump write-locks its row
        until commit, so batches of several processes on one store run one after another; and
        when the epoch moved since this process's last batch, another writer was here, so what
        the hooks keep in memory (last counted times, today's counts, names) is forgotten and
        read back from the store."""
        upsert(conn, _EPOCH, [{"name": "ingest", "n": 1}], ["name"], add=["n"])
        n = conn.execute(_EPOCH_N).scalar_one()
        if self._epoch is None or n - 1 != self._epoch:
            self._forget()
        self._epoch = n

    def _forget(self) -> None:
        """Drop what this process keeps in memory about the store (known names, the hooks'
        state): it is read back from the store by the next batch."""
        self.known.clear()
        for f in self.hooks:
            f.reset()

    def tick(self, now: datetime, *, bot_ids: frozenset[str] = frozenset()) -> list[Outgoing]:
        """Let the hooks act on time alone (no event): returns the replies queued."""
        with self._lock, self.engine.begin() as conn:
            batch = Batch(conn, self.settings, False, self.known, bot_ids)
            try:
                self._check_turn(conn)
                for f in self.hooks:
                    f.on_tick(batch, now)
                batch.flush()
                if batch.replies:
                    enqueue(conn, batch.replies, now, self.origin)
                batch.session.close()
            except BaseException:
                batch.session.close()
                self._epoch = None
                self._forget()
                raise
        return batch.replies

    def _check_turn(self, conn: Connection) -> None:
        """Like _take_turn without the bump (a tick writes little and often): forget what the
        hooks keep in memory when another writer was here since this process's last batch."""
        n = conn.execute(_EPOCH_N).scalar()
        if n is not None and n != self._epoch:
            self._forget()
            self._epoch = n

    @staticmethod
    def _fresh(conn: Connection, events: Sequence[Event]) -> list[Event]:
        seen: set[str] = stored(conn, col(EventLog.id), {e.id for e in events})
        fresh: list[Event] = []
        for e in events:
            if e.id not in seen:
                seen.add(e.id)
                fresh.append(e)
        return fresh

    def _dispatch(self) -> None:
        """Which hooks do something on a message (overriding the do-nothing default), looked
        up once per batch: a message then calls no empty method of the other hooks."""
        def doing(method: str) -> list[Any]:
            return [getattr(h, method) for h in self.hooks if getattr(type(h), method) is not getattr(Hook, method)]
        self._handlers = doing("handle")
        self._chatters = doing("on_chat")
        self._takers = doing("on_taking_part")

    def _one(self, batch: Batch, event: Event) -> None:
        if isinstance(event, Message):
            self._message(batch, event)
            return
        at = epoch(event.ts)
        row = {"id": event.id, "ts": at, "room": NO_ROOM, "text": None, "kind": None,
               "account": getattr(event, "account", None)}
        for f in self.hooks:
            reason = f.refuse(batch, event)
            if reason is not None:
                batch.refused.append((event.id, reason))
                return
        _RECORD[type(event)](batch, event, row, at)
        for f in self.hooks:
            f.on_event(batch, event)

    def _message(self, batch: Batch, msg: Message) -> None:
        at = epoch(msg.ts)
        sender, room = msg.sender, msg.room
        batch.see_member(sender, msg.sender_name, at)
        batch.see_reach(msg.account, sender, room, at)
        if room:
            batch.see_room(room, msg.room_name, at)
            batch.see_presence(room, sender, at)
        for handle in self._handlers:
            if handle(batch, msg):
                # Commands and check-ins are talk to the bot, not chat: rule previews
                # and history scans skip them.
                batch.log_message(msg, at, "command")
                while batch.taking_part:
                    part = batch.taking_part.pop(0)
                    for take in self._takers:
                        take(batch, part)
                return
        batch.log_message(msg, at, None if msg.kind == "text" else msg.kind)
        batch.count(sender, room, batch.day_of(at), "messages")
        for chat in self._chatters:
            chat(batch, msg)


# How each kind of event other than a message is recorded (its log row, names, memberships),
# before the hooks' on_event.

def _record_join(batch: Batch, event: Join, row: dict[str, Any], at: int) -> None:
    batch.log_event(row | {"type": "join", "member": event.member, "room": event.room})
    batch.see_member(event.member, event.member_name, at)
    batch.see_room(event.room, event.room_name, at)
    batch.see_reach(event.account, event.member, event.room, 0)
    # Names only: the membership write below commutes with the buffered presence (which only
    # lowers first_at), and a whole flush per join is most of the writing of an imported
    # history with many joins.
    batch.flush_names()
    upsert(batch.conn, table_of(Membership),
           [{"room": event.room, "member": event.member, "joined_at": at,
             "first_at": at, "left_at": None, "active": True}],
           ["room", "member"], replace=["joined_at", "left_at", "active"], keep_min=["first_at"])


def _record_leave(batch: Batch, event: Leave, row: dict[str, Any], at: int) -> None:
    batch.log_event(row | {"type": "leave", "member": event.member, "room": event.room})
    batch.see_member(event.member, None, at)
    batch.see_room(event.room, None, at)
    batch.flush_names()  # as for a join
    upsert(batch.conn, table_of(Membership),
           [{"room": event.room, "member": event.member, "first_at": at, "left_at": at, "active": False}],
           ["room", "member"], replace=["left_at", "active"], keep_min=["first_at"])


def _record_roster(batch: Batch, event: Roster, row: dict[str, Any], at: int) -> None:
    # The list itself is kept in the log: the rosters feature applies it.
    listed = [{k: v for k, v in (("id", m.id), ("name", m.name), ("room_alias", m.room_alias)) if v}
              for m in event.members]
    batch.log_event(row | {"type": "roster", "member": "", "room": event.room,
                           "text": json.dumps(listed, ensure_ascii=False)})
    batch.see_room(event.room, event.room_name, at)
    for m in event.members:
        batch.see_reach(event.account, m.id, event.room, 0)


def _record_visit(batch: Batch, event: Visit, row: dict[str, Any], at: int) -> None:
    batch.log_event(row | {"type": "visit", "member": event.member, "text": event.source})
    batch.see_member(event.member, None, at)
    batch.count(event.member, None, batch.day(event.ts), "visits")


def _record_order(batch: Batch, event: Order, row: dict[str, Any], at: int) -> None:
    batch.log_event(row | {"type": "order", "member": event.member, "room": event.room or NO_ROOM,
                           "text": event.item})
    batch.see_member(event.member, None, at)
    if event.room:
        batch.see_room(event.room, None, at)
    batch.flush()  # the order's hook writes the member's purchase row at once


def _record_friend(batch: Batch, event: Friend, row: dict[str, Any], at: int) -> None:
    batch.log_event(row | {"type": "friend", "member": event.member, "text": event.hello,
                           "kind": event.status})
    batch.see_member(event.member, event.member_name, at)
    if event.status == "accepted":
        batch.see_reach(event.account, event.member, None, 0)  # 1:1 through this account
    batch.flush()  # the friends hook reads and writes the member's friendship at once


def _record_recall(batch: Batch, event: Recall, row: dict[str, Any], at: int) -> None:
    # The recalled message's id in `text`: the recalls feature un-counts it.
    batch.log_event(row | {"type": "recall", "member": event.member, "room": event.room or NO_ROOM,
                           "text": event.message})
    batch.see_member(event.member, None, at)
    batch.flush()


def _record_contacts(batch: Batch, event: Contacts, row: dict[str, Any], at: int) -> None:
    # The list itself is kept in the log: the friends feature applies it.
    batch.log_event(row | {"type": "contacts", "member": "",
                           "text": json.dumps([m.id for m in event.members], ensure_ascii=False)})
    # No reach from a friend list: a DM goes where the member is heard (their groups, a 1:1
    # chat, a friendship accepted here), not to whichever account lists them.
    for m in event.members:
        batch.see_member(m.id, m.name, at)
    batch.flush()


_RECORD: dict[type, Callable[[Batch, Any, dict[str, Any], int], None]] = {
    Join: _record_join, Leave: _record_leave, Roster: _record_roster, Visit: _record_visit,
    Order: _record_order, Friend: _record_friend, Recall: _record_recall, Contacts: _record_contacts,
}


class _Commit:
    """A batch's commit: at once, or (`defer`) in a thread of its own while the caller reads
    the next batch's events. `wait` ends it, then runs what follows a commit, and returns the
    batch's count of new events and its replies; a failed commit is raised there, and the
    pipeline forgets what it kept in memory, as for a batch that failed before."""

    def __init__(self, pipeline: Pipeline, conn: Connection, trans: RootTransaction, batch: Batch, new: int,
                 refused: list[tuple[str, str]] | None, defer: bool, live: bool) -> None:
        self._pipeline, self._conn, self._trans, self._batch = pipeline, conn, trans, batch
        self._new, self._refused = new, refused
        self._live = live
        self._error: BaseException | None = None
        self._ended = False
        self._thread: threading.Thread | None = None
        if defer:
            self._thread = threading.Thread(target=self._commit, name="qunguan-commit", daemon=True)
            self._thread.start()
        else:
            self._commit()

    def _commit(self) -> None:
        try:
            self._trans.commit()
        except BaseException as exc:  # raised by wait, in the caller's thread
            self._error = exc

    def wait(self) -> tuple[int, list[Outgoing]]:
        """Once only: a second call (`process` ending this commit after the next batch
        failed, or a Ctrl-C came, before it was replaced) gives nothing and releases nothing."""
        if self._ended:
            return 0, []
        if self._thread is not None:
            self._thread.join()
        pipeline = self._pipeline
        try:
            if self._error is not None:
                pipeline._epoch = None
                pipeline._forget()
                raise self._error
            # The connection set up for the next batch of this one's size: after the commit, so
            # that the pages this batch read are the ones a smaller page cache keeps.
            try:
                use_for(self._conn, live=self._live)
            except Exception:  # the batch is committed all the same
                log.exception("could not set the store's connection up for the next batch")
        finally:
            self._ended = True
            self._conn.close()
            pipeline._lock.release()
        pipeline._committed(self._batch, self._refused)
        return self._new, self._batch.replies


def enqueue(conn: Connection, replies: Sequence[Outgoing], ts: datetime | None,
            origin: str | None = None) -> None:
    """Put replies in the outbox, in the same transaction as the events that caused them, each
    with the account it goes through (bot.core.accounts.route)."""
    now = epoch(ts) if ts else 0
    conn.execute(table_of(Outbox).insert(), [_outbox_row(conn, r, now, 0, origin) for r in replies])


def enqueue_at(conn: Connection, out: Outgoing, created: datetime, not_before: int,
               origin: str | None = None) -> int:
    """Put one bulk message in the outbox that must not go out before `not_before` (epoch):
    outreach waits for the morning and its turn. Returns its outbox id."""
    row = _outbox_row(conn, out, epoch(created), not_before, origin)
    key = conn.execute(table_of(Outbox).insert().values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _outbox_row(conn: Connection, r: Outgoing, created: int, next_at: int, origin: str | None) -> dict[str, Any]:
    return {"created_at": created, "room": r.room, "to": r.to, "text": r.text,
            "mentions": ",".join(r.mentions), "reply_to": r.reply_to, "status": "pending",
            "attempts": 0, "next_at": next_at, "origin": origin, "priority": priority_of(r),
            "account": route(conn, r), "action": r.action}


def invalidate_caches(conn: Connection) -> None:
    """Make every process forget what its hooks keep in memory at its next batch, as when
    another writer was here: for a change that rewrote rows under them (an erasure)."""
    upsert(conn, _EPOCH, [{"name": "ingest", "n": 1}], ["name"], add=["n"])
