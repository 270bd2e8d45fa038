"""The shared tables: rooms, members, memberships, the event log, daily counters, outbox, bot
accounts, console sessions, the writer epoch and the audit log. Each feature declares its own
tables in `bot/features/<feature>/models.py`.

Times are stored as epoch seconds (`*_at`, `ts`) so SQLite and PostgreSQL compare them the
same way; local days (in the community's time zone) as dates.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index, Table
from sqlmodel import Field, SQLModel

NO_ROOM = ""  # the room key of 1:1 chats and visits in per-room tables


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed (SQLModel sets `__table__` without declaring it)."""
    table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel, not declared on it
    assert isinstance(table, Table)
    return table


class Room(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=200)
    name: str | None = None
    name_at: int = Field(default=0, sa_type=BigInteger)
    first_at: int = Field(default=0, sa_type=BigInteger)
    roster_at: int | None = Field(default=None, sa_type=BigInteger)  # ts of the latest roster applied


class Member(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=200)
    name: str | None = None
    name_at: int = Field(default=0, sa_type=BigInteger)
    first_at: int = Field(sa_type=BigInteger)  # first event of any kind
    last_counted_at: int | None = Field(default=None, sa_type=BigInteger)  # anti-farming
    points: int = 0  # cache of the ledger sum, kept in step with every PointsEntry


class Membership(SQLModel, table=True):
    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    joined_at: int | None = Field(default=None, sa_type=BigInteger)  # join event, if seen
    first_at: int = Field(sa_type=BigInteger)
    left_at: int | None = Field(default=None, sa_type=BigInteger)
    active: bool = True
    room_alias: str | None = None  # the member's group nickname (群昵称), from rosters
    # Listed in a roster with no join seen: there before the bot, so never a newcomer.
    pre_existing: bool = False

    __table_args__ = (Index("ix_membership_member", "member"),)


class EventLog(SQLModel, table=True):
    """Every event seen, once: the id makes re-delivery and re-import change nothing."""

    id: str = Field(primary_key=True, max_length=200)
    type: str = Field(max_length=10)
    ts: int = Field(sa_type=BigInteger, index=True)
    room: str = Field(default=NO_ROOM, max_length=200)
    member: str = Field(max_length=200)
    text: str | None = None
    kind: str | None = None
    account: str | None = Field(default=None, max_length=200)  # the bot account that received it


class DailyActivity(SQLModel, table=True):
    """Per member, per room (NO_ROOM for 1:1 and visits), per local day counters."""

    member: str = Field(primary_key=True, max_length=200)
    room: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    messages: int = 0
    counted: int = 0  # messages that pass anti-farming: the "speaking" dimension
    checkins: int = 0
    commands: int = 0
    visits: int = 0

    # Covering index: window scans (typing everyone, the follow-up facts) read only the
    # index, which is 3-4x faster than visiting each row.
    __table_args__ = (Index("ix_daily_window", "day", "member", "room", "messages", "counted",
                            "checkins", "commands", "visits"),)


class MemberDay(SQLModel, table=True):
    """Per member, per local day, the daily counters summed over every room: the whole
    community's figures (login days, speaking, recency) read in member order with no
    DISTINCT and no sort. The pipeline writes it beside DailyActivity, in the same flush."""

    member: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    messages: int = 0
    counted: int = 0
    checkins: int = 0
    commands: int = 0
    visits: int = 0

    # Without a rowid the rows are the primary key's b-tree: a scan is in member order and
    # reads no second structure.
    __table_args__ = {"sqlite_with_rowid": False}


class Outbox(SQLModel, table=True):
    """Every bot message, persisted before it is sent: at most once, nothing silently dropped.

    pending → sending (claimed by one process, committed before the send) → sent; a send that
    fails goes back to pending with a backoff, then to failed; a claim whose process died or
    whose send may or may not have gone out becomes unknown. failed and unknown rows wait for
    a person: resend (back to pending) or drop (dropped)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: int = Field(sa_type=BigInteger)
    room: str | None = None
    to: str | None = None
    text: str
    mentions: str = ""  # comma-separated member ids
    reply_to: str | None = None
    # pending | sending | sent | failed | unknown | dropped
    status: str = Field(default="pending", max_length=10, index=True)
    attempts: int = 0
    next_at: int = Field(default=0, sa_type=BigInteger)
    sent_at: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = None
    origin: str | None = Field(default=None, max_length=64)  # the run that queued it
    claimed_by: str | None = Field(default=None, max_length=64)  # the process sending it
    lease_until: int | None = Field(default=None, sa_type=BigInteger)  # claim ends: then unknown
    priority: int = 1  # REPLY (0) before BULK (1): see bot.core.outbox
    # The bot account that sends it (bot.core.accounts.route); None: any process may.
    account: str | None = Field(default=None, max_length=200)
    # None: a text. Otherwise an account action, paced and capped like texts: "accept"
    # (`text` holds the friend request's id, `to` the member) or "room_add" (`room`, `to`).
    action: str | None = Field(default=None, max_length=20)

    # A room's messages of the last hour, for its hourly cap.
    __table_args__ = (Index("ix_outbox_room_created", "room", "created_at"),)


class BotAccount(SQLModel, table=True):
    """A WeChat account the bot runs as (one `qunguan run` each), written at its login: never
    a member, never ranked or listed, even in the groups where another account sees it."""

    id: str = Field(primary_key=True, max_length=200)
    label: str | None = Field(default=None, max_length=100)  # `qunguan run --account NAME`
    seen_at: int = Field(default=0, sa_type=BigInteger)
    # What its `run` last said about itself (every HEARTBEAT_SECONDS, and at once on a change),
    # read by /healthz and `qunguan status`; epoch seconds, 0: never.
    connected: bool = False  # logged in to WeChat
    state_at: int = Field(default=0, sa_type=BigInteger)  # when `connected` last changed
    alive_at: int = Field(default=0, sa_type=BigInteger)  # the run's latest heartbeat
    event_at: int = Field(default=0, sa_type=BigInteger)  # when its latest event arrived
    leading: bool = False  # its process runs the store's daily jobs


class AccountReach(SQLModel, table=True):
    """Which bot account can reach a member, and where: `room` is a group both are in, NO_ROOM
    a 1:1 chat (a friend). `last_at` is when the member last spoke to or near that account (0:
    only seen in a roster). Outgoing DMs and room messages are routed by it."""

    account: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    room: str = Field(primary_key=True, max_length=200)
    last_at: int = Field(default=0, sa_type=BigInteger)

    __table_args__ = (Index("ix_accountreach_member", "member"), Index("ix_accountreach_room", "room"))


class WebSession(SQLModel, table=True):
    """A console login. Logging out deletes it, so its cookie stops working at once; a session
    idle for longer than the configured time is refused too. `member` is who logged in."""

    nonce: str = Field(primary_key=True, max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    seen_at: int = Field(sa_type=BigInteger)
    member: str = Field(default="", max_length=200)


class WriterEpoch(SQLModel, table=True):
    """How many ingest batches the store has committed. Each batch bumps it first (which also
    serializes batches across processes); a process whose last bump is not the one before
    knows another writer was here and forgets what it keeps in memory."""

    name: str = Field(primary_key=True, max_length=20)
    n: int = Field(default=0, sa_type=BigInteger)


class AuditEntry(SQLModel, table=True):
    """One manager or operator action (`bot.core.audit.record`): who, when, where, what."""

    id: int | None = Field(default=None, primary_key=True)
    at: int = Field(sa_type=BigInteger, index=True)
    actor: str = Field(max_length=200, index=True)  # a member id, or "console"
    place: str = Field(max_length=10)  # where: group | private | console
    room: str = Field(default=NO_ROOM, max_length=200)
    action: str = Field(max_length=50)  # a command's /english name, a console path, login…
    detail: str = ""  # what was asked (the command as typed, the form)
    result: str = ""  # what changed (the bot's answer, the console's notice)
