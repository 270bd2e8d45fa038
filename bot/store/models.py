"""The tables: rooms, members, the event log, daily counters, tags, check-ins, points, outbox.

Times are stored as epoch seconds (`*_at`, `ts`) so SQLite and PostgreSQL compare them the
same way; local days (in the community's time zone) as dates.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

NO_ROOM = ""  # the room key of 1:1 chats and visits in per-room tables


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed (SQLModel sets `__table__` without declaring it)."""
    table = model.__table__  # type: ignore[attr-defined]
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


class TagGroup(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=50)
    exclusive: bool = False


class TagRule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # keyword | count
    tag: str = Field(max_length=50)
    args: str  # the rule in `/rule add` argument form, parsed by tagging.rules
    active: bool = True
    created_by: str | None = None
    created_at: int = Field(default=0, sa_type=BigInteger)


class KeywordHit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    rule_id: int
    ts: int = Field(sa_type=BigInteger)
    message_id: str = Field(max_length=200)

    __table_args__ = (
        Index("ix_hit_member_rule", "member", "rule_id", "ts"),
        UniqueConstraint("rule_id", "message_id"),
    )


class MemberTag(SQLModel, table=True):
    """A tag a member holds, with where it came from (the `why`)."""

    member: str = Field(primary_key=True, max_length=200)
    tag: str = Field(primary_key=True, max_length=50)
    source: str = Field(max_length=10)  # keyword | count | manual
    rule_id: int | None = None
    grp: str | None = None
    keyword: str | None = None
    message_id: str | None = None
    excerpt: str | None = None
    by: str | None = None  # the manager, for manual tags
    count: int | None = None
    days: int | None = None
    at: int = Field(sa_type=BigInteger)  # when the reason happened (message time / set time)
    since: int = Field(sa_type=BigInteger)  # when the member first got the tag
    expires_at: int | None = Field(default=None, sa_type=BigInteger)
    lead: bool = False

    __table_args__ = (Index("ix_membertag_tag", "tag"),)


class CheckinTask(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=30, unique=True)
    triggers: str  # comma-separated
    points: int = 10
    window_start: str | None = None  # "HH:MM"
    window_end: str | None = None
    challenge_days: int | None = None
    room: str | None = None
    active: bool = True
    min_note: int | None = None  # 作业打卡: the note (心得) must have at least this many characters
    reply: str = Field(default="auto", max_length=10)  # each | summary | auto (rooms may override)


class CheckinReply(SQLModel, table=True):
    """A room's own choice of how a task's check-ins are answered (each | summary | auto)."""

    task_id: int = Field(primary_key=True)
    room: str = Field(primary_key=True, max_length=200)
    reply: str = Field(max_length=10)


class CheckinSummary(SQLModel, table=True):
    """A day's check-in summary sent in a room, so it goes out once."""

    task_id: int = Field(primary_key=True)
    room: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    sent_at: int = Field(sa_type=BigInteger)


class Checkin(SQLModel, table=True):
    member: str = Field(primary_key=True, max_length=200)
    task_id: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    room: str = Field(default=NO_ROOM, max_length=200)
    ts: int = Field(sa_type=BigInteger)
    made_up: bool = False
    note: str | None = None  # what the member wrote after the trigger word (心得)
    quiet: bool = False  # answered in the day's summary instead of a reply of its own

    # The day's check-ins of a task in a room: counted for `reply=auto` and the summary.
    __table_args__ = (Index("ix_checkin_task_day", "task_id", "day", "room"),)


class CheckinCards(SQLModel, table=True):
    member: str = Field(primary_key=True, max_length=200)
    task_id: int = Field(primary_key=True)
    cards: int = 0


class PointsEntry(SQLModel, table=True):
    """The points ledger: every change of points is one row."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    ts: int = Field(sa_type=BigInteger)
    day: date
    delta: int
    kind: str = Field(max_length=20)  # checkin | streak_bonus | speaking | manual | makeup
    reason: str | None = None
    room: str = Field(default=NO_ROOM, max_length=200)
    ref: str | None = None  # event id
    by: str | None = None

    __table_args__ = (Index("ix_points_member_day", "member", "day"), Index("ix_points_day", "day"))


class RoomSettings(SQLModel, table=True):
    room: str = Field(primary_key=True, max_length=200)
    login_threshold: int | None = None  # None: split at the median
    speaking_threshold: int | None = None
    window_days: int | None = None


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


class RoomWelcome(SQLModel, table=True):
    """A room's welcome for newcomers; no row means on, with the default text."""

    room: str = Field(primary_key=True, max_length=200)
    enabled: bool = True
    text: str | None = None  # None: the default text
    by: str | None = Field(default=None, max_length=200)
    at: int = Field(default=0, sa_type=BigInteger)
    last_sent_at: int | None = Field(default=None, sa_type=BigInteger)


class PendingWelcome(SQLModel, table=True):
    """A join not welcomed yet: joins of a burst wait here to share one welcome."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    joined_at: int = Field(sa_type=BigInteger)


class RoomOperator(SQLModel, table=True):
    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)


class FollowUpList(SQLModel, table=True):
    """A follow-up list as it was sent to an operator: `/done` numbers refer to it."""

    id: int | None = Field(default=None, primary_key=True)
    operator: str = Field(max_length=200, index=True)
    at: int = Field(sa_type=BigInteger)
    day: date
    scheduled: bool = False

    __table_args__ = (Index("ix_followuplist_daily", "operator", "day", "scheduled"),)


class FollowUpItem(SQLModel, table=True):
    list_id: int = Field(primary_key=True)
    n: int = Field(primary_key=True)
    kind: str = Field(max_length=20)
    member: str = Field(max_length=200)
    room: str = Field(max_length=200)
    reason: str
    action: str
    age: int = 1  # the day on the lists this item was (「第 3 天未跟进」)
    escalated_from: str | None = Field(default=None, max_length=200)  # on an admin's list: whose it was


class FollowUpRecord(SQLModel, table=True):
    """One follow-up done: who did it, when, for which item, with an optional note."""

    id: int | None = Field(default=None, primary_key=True)
    operator: str = Field(max_length=200)
    member: str = Field(max_length=200, index=True)
    kind: str = Field(max_length=20)
    room: str = Field(max_length=200)
    list_id: int
    n: int
    at: int = Field(sa_type=BigInteger)
    note: str | None = None

    __table_args__ = (UniqueConstraint("list_id", "n"),)


class ScheduledList(SQLModel, table=True):
    """At most one scheduled list per operator per day, whatever the scheduler does."""

    operator: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)
    list_id: int


class MemberSnapshot(SQLModel, table=True):
    """Type, level and lifecycle stage at the last scheduled list, to see what changed since."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    type: str | None = None
    level: int = 1
    at: int = Field(sa_type=BigInteger)
    stage: str | None = Field(default=None, max_length=20)


class Purchase(SQLModel, table=True):
    """An `order` event: a purchase, renewal or sign-up; a refund is a negative amount with
    `refund_of`. Amounts in fen (1/100 yuan), so sums are exact."""

    id: str = Field(primary_key=True, max_length=200)  # the event id
    member: str = Field(max_length=200)
    ts: int = Field(sa_type=BigInteger)
    day: date
    amount_fen: int = Field(sa_type=BigInteger)
    item: str | None = Field(default=None, max_length=200)
    room: str = Field(default=NO_ROOM, max_length=200)
    refund_of: str | None = Field(default=None, max_length=200)

    __table_args__ = (Index("ix_purchase_member_day", "member", "day"), Index("ix_purchase_day", "day"),
                      Index("ix_purchase_refund_of", "refund_of"))


class Referral(SQLModel, table=True):
    """Who brought whom into a room (a join event with an inviter)."""

    room: str = Field(primary_key=True, max_length=200)
    member: str = Field(primary_key=True, max_length=200)
    inviter: str = Field(max_length=200, index=True)
    ts: int = Field(sa_type=BigInteger)
    rewarded_at: int | None = Field(default=None, sa_type=BigInteger)  # the inviter's points paid


class GradePin(SQLModel, table=True):
    """A grade a manager set by hand; it wins over the criteria until unpinned."""

    member: str = Field(primary_key=True, max_length=200)
    grade: str = Field(max_length=1)
    reason: str | None = None
    by: str | None = Field(default=None, max_length=200)
    at: int = Field(sa_type=BigInteger)


class StageChange(SQLModel, table=True):
    """A lifecycle transition seen when a daily list was made."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger, index=True)
    before: str | None = Field(default=None, max_length=20)
    after: str = Field(max_length=20)


class ShopItem(SQLModel, table=True):
    """Something members can redeem points for; stock None means unlimited."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=30, unique=True)
    price: int
    stock: int | None = None
    active: bool = True
    created_by: str | None = Field(default=None, max_length=200)
    created_at: int = Field(default=0, sa_type=BigInteger)


class Redemption(SQLModel, table=True):
    """Points spent on a shop item: pending until an operator hands it over; refunded
    redemptions gave the points (and the stock) back."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200, index=True)
    item_id: int
    item: str = Field(max_length=30)
    price: int
    ts: int = Field(sa_type=BigInteger)
    room: str = Field(default=NO_ROOM, max_length=200)
    ref: str | None = Field(default=None, max_length=200)  # the message that redeemed
    status: str = Field(default="pending", max_length=10, index=True)  # pending|fulfilled|refunded
    done_at: int | None = Field(default=None, sa_type=BigInteger)
    done_by: str | None = Field(default=None, max_length=200)


class OutreachCampaign(SQLModel, table=True):
    """A 群发: the members a manager selected and the message, previewed as a draft, then
    confirmed (its messages queued in the outbox) or cancelled."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: int = Field(sa_type=BigInteger)
    by: str = Field(max_length=200)
    via: str = Field(max_length=10)  # chat | console
    selection: str  # the filters in words, for the record
    text: str
    status: str = Field(default="draft", max_length=10)  # draft | queued | cancelled
    selected: int = 0
    queued: int = 0
    skipped: int = 0  # reached in the last days, or unsubscribed meanwhile
    confirmed_at: int | None = Field(default=None, sa_type=BigInteger)


class OutreachMessage(SQLModel, table=True):
    """One outreach message to a member (a 群发's or a check-in reminder), as queued in the
    outbox: its time counts against the member's reach limit and the account's daily cap."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # broadcast | reminder
    campaign_id: int | None = None
    member: str = Field(max_length=200)
    account: str = Field(default="", max_length=200)  # the account that sends it
    outbox_id: int
    send_at: int = Field(sa_type=BigInteger)  # not before (quiet hours, pacing, the daily cap)
    day: date  # the local day of send_at

    __table_args__ = (Index("ix_outreach_member_at", "member", "send_at"),
                      Index("ix_outreach_account_day", "account", "day"))


class OutreachOptOut(SQLModel, table=True):
    """A member who replied 退订: no outreach (群发, reminders) until they subscribe again."""

    member: str = Field(primary_key=True, max_length=200)
    at: int = Field(sa_type=BigInteger)


class ReminderTask(SQLModel, table=True):
    """A check-in task whose broken streaks get reminders (off unless a manager turns it on)."""

    task_id: int = Field(primary_key=True)
    enabled: bool = True


class CheckinReminder(SQLModel, table=True):
    """A reminder sent to a member whose streak broke, and whether they came back within 2
    days (None until known)."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200)
    task_id: int
    broke_on: date  # the first day missed
    n: int  # 1: the day after the break; 2: three days later
    day: date  # the local day it was queued
    outcome: str | None = Field(default=None, max_length=10)  # back | gone

    __table_args__ = (UniqueConstraint("member", "task_id", "broke_on", "n"),)


class RankOptOut(SQLModel, table=True):
    """A member who said 不参与排行: left out of every ranking."""

    member: str = Field(primary_key=True, max_length=200)
    at: int = Field(sa_type=BigInteger)


class DeletionRequest(SQLModel, table=True):
    """删除我的数据, waiting for the member's confirmation (deleted once done or expired)."""

    member: str = Field(primary_key=True, max_length=200)
    asked_at: int = Field(sa_type=BigInteger)


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


class FollowUpCase(SQLModel, table=True):
    """An open follow-up (a member, for one reason) from the first list that named it until it
    is done: its age, whom it was handed to, until when it sleeps, when it went to the admins."""

    member: str = Field(primary_key=True, max_length=200)
    kind: str = Field(primary_key=True, max_length=20)
    room: str = Field(max_length=200)
    reason: str
    action: str
    opened: date  # the local day of the first list that named it
    last_listed: date
    days: int = 1  # local days it has been on a list
    owner: str | None = Field(default=None, max_length=200)  # reassigned to this operator
    snoozed_until: date | None = None  # left off the lists before this day
    escalated_on: date | None = None  # put on the admins' list (once)


class OperatorCap(SQLModel, table=True):
    """An operator's own daily cap on list items (the default is a setting)."""

    member: str = Field(primary_key=True, max_length=200)
    daily_cap: int


class MemberNote(SQLModel, table=True):
    """A note an operator wrote on a member (备注 @成员 文字)."""

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(max_length=200, index=True)
    by: str = Field(max_length=200)
    at: int = Field(sa_type=BigInteger)
    text: str


class Friendship(SQLModel, table=True):
    """A member's friendship with the private account: the request, its acceptance, removal,
    the first channel (来源) it came through, the welcome DM and the group invitations."""

    member: str = Field(primary_key=True, max_length=200)
    n: int = Field(index=True)  # the request's number for operators (通过 编号), never reused
    status: str = Field(max_length=10)  # requested | accepted | removed
    account: str = Field(default="", max_length=200)  # the account it was sent to, if known
    request_id: str | None = Field(default=None, max_length=200)  # the request event's id
    hello: str | None = None  # the request's greeting (验证消息)
    requested_at: int | None = Field(default=None, sa_type=BigInteger)
    # waiting (for an operator) | queued (an accept is in the outbox) | none (not a request)
    decision: str = Field(default="none", max_length=10)
    accepted_by: str | None = Field(default=None, max_length=200)  # "rule" or the operator
    accepted_at: int | None = Field(default=None, sa_type=BigInteger)
    removed_at: int | None = Field(default=None, sa_type=BigInteger)
    channel: str | None = None  # the first channel tag; later tags never change it
    pre_existing: bool = False  # a friend before the bot (first seen in a contacts list)
    welcomed_at: int | None = Field(default=None, sa_type=BigInteger)
    invite_room: str | None = Field(default=None, max_length=200)  # the target group
    invited_at: int | None = Field(default=None, sa_type=BigInteger)  # the latest invitation
