"""Friendships in the store: requests accepted by rule or by an operator, channel tags from the
greeting, the welcome DM, invitations into the channel's group, and what operators look at."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped
from sqlmodel import col

from bot.adapters.base import Outgoing
from bot.core.deps import Deps
from bot.core.directory import find_room, member_names, room_names
from bot.core.events import Contacts, Friend
from bot.core.outbox import ActionCap
from bot.core.pipeline import Batch, epoch
from bot.features.checkins.api import Checkin
from bot.features.friends.models import Friendship
from bot.features.guard.api import is_blocked
from bot.features.segments.api import Purchase
from bot.features.tags.api import MemberTag, Tagging
from bot.store.models import NO_ROOM, Membership, Room, table_of
from tagging.reasons import excerpt
from tagging.rules import KeywordRule
from tiers.followup import FriendRequest, MemberFacts
from tiers.friends import FriendSettings, accepts, may_invite_again, not_in_group_yet, welcome_text

log = logging.getLogger(__name__)

ACCEPT, ROOM_ADD = "accept", "room_add"  # the account actions this feature queues in the outbox
MAX_HELLO_SHOWN = 60
# What a friend is told when no invitation can go out and the admins were asked to invite them.
INVITE_WITH_ADMINS = "群邀请暂时发不出去，已经告诉管理员了，请稍等～"


def action_caps(settings: FriendSettings) -> dict[str, ActionCap]:
    """The pace of the account actions this feature queues, for the outbox sender."""
    return {ACCEPT: ActionCap(settings.accept_per_hour, settings.accept_per_day),
            ROOM_ADD: ActionCap(settings.invite_per_hour, settings.invite_per_day)}


def _row(conn: Connection, member: str) -> Friendship | None:
    row = conn.execute(select(Friendship).where(col(Friendship.member) == member)).first()
    return Friendship.model_validate(row._mapping) if row else None


def _next_n(conn: Connection) -> int:
    return (conn.execute(select(func.max(col(Friendship.n)))).scalar() or 0) + 1


def _save(conn: Connection, member: str, **values: Any) -> None:
    """Write a friendship's changed fields (a new row gets the next request number)."""
    if _row(conn, member) is None:
        base = {"member": member, "n": _next_n(conn), "status": values.get("status", "requested"),
                "account": "", "decision": "none", "pre_existing": False}
        conn.execute(table_of(Friendship).insert().values(**(base | values)))
    elif values:
        conn.execute(update(Friendship).where(col(Friendship.member) == member).values(**values))


def account_of(batch: Batch, named: str | None) -> str:
    """The account a friend event is about: the one it names (the WeChat adapter always
    does), else the only account the bot speaks as; "" when unknown."""
    if named:
        return named
    return next(iter(batch.bot_ids)) if len(batch.bot_ids) == 1 else ""


# ---- events ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestResult:
    outcome: str  # queued | waiting | already_friend | silent
    channel: str | None
    tags: tuple[str, ...]


def on_request(batch: Batch, deps: Deps, ev: Friend) -> RequestResult:
    """A friend request: stored, tagged by its greeting (`on=hello` rules), and accepted by
    the account's rule (queued in the outbox, paced there) or left for an operator."""
    conn = batch.conn
    at = epoch(ev.ts)
    current = _row(conn, ev.member)
    if current is not None and current.status == "accepted":
        # WeChat lets a friend send a request again (after deleting the bot on their side, say);
        # they are a friend here: nothing to accept, nothing to welcome twice.
        log.info("friend request %s from %s, already a friend: nothing to do", ev.id, ev.member)
        return RequestResult("already_friend", current.channel, ())
    tags = channel_tags(conn, deps.service(Tagging), ev)
    channel = current.channel if current is not None and current.channel else (tags[0] if tags else None)
    account = account_of(batch, ev.account)
    if current is not None and current.status == "requested" and current.decision == "queued":
        # Asked again while the accept is queued: the queued accept stands, nothing twice.
        log.info("friend request %s from %s: an accept is already queued", ev.id, ev.member)
        return RequestResult("queued", channel, tags)
    rule = deps.service(FriendSettings).rule_for(account)
    blocked = is_blocked(conn, ev.member)  # the guard's blocklist: a person decides
    queued = accepts(rule, ev.hello) and not batch.silent and not blocked
    _save(conn, ev.member, status="requested", account=account, request_id=ev.id, hello=ev.hello,
          requested_at=at, channel=channel, removed_at=None,
          decision="queued" if queued else "waiting", accepted_by="rule" if queued else None)
    if queued:
        batch.send(accept_action(ev.member, ev.id, account))
    outcome = "queued" if queued else ("silent" if batch.silent else ("blocked" if blocked else "waiting"))
    return RequestResult(outcome, channel, tags)


def accept_action(member: str, request_id: str, account: str) -> Outgoing:
    """Accepting a request: only the account it was sent to can (any, when unknown)."""
    return Outgoing(text=request_id, to=member, action=ACCEPT, account=account or None)


def channel_tags(conn: Connection, tagging: Tagging, ev: Friend) -> tuple[str, ...]:
    """Give the requester the tags of every `on=hello` rule their greeting matches, each with
    the greeting as its reason (through the tags service, so a manual tag or an exclusive group
    is respected); returns the tags given, in rule order."""
    if not ev.hello:
        return ()
    rs = tagging.current(conn, recheck=False)
    at = epoch(ev.ts)
    given: list[str] = []
    for hit in rs.hello_matcher.match(ev.hello, None):
        rule = rs.rules.get(hit.rule_id)
        if not isinstance(rule, KeywordRule) or rule.tag in given:
            continue
        row = MemberTag(member=ev.member, tag=rule.tag, source="keyword", rule_id=hit.rule_id,
                        grp=rule.group, keyword=hit.keyword, message_id=ev.id,
                        excerpt=excerpt(ev.hello, MAX_HELLO_SHOWN, around=hit.keyword),
                        at=at, since=at, lead=rule.lead)
        if tagging.apply(conn, rs, row):
            given.append(rule.tag)
    return tuple(given)


@dataclass(frozen=True)
class Welcomed:
    member: str
    group: str | None  # the target group's name
    invited: str  # "added" (room.add queued) | "text" (the invite text sent) | "none"


def on_accepted(batch: Batch, deps: Deps, member: str, at: int, *, account: str = "",
                by: str | None = None) -> Welcomed | None:
    """The friendship exists: recorded once; the welcome DM and the invitation into the
    channel's group go out (not for a redelivered or repeated acceptance)."""
    conn = batch.conn
    current = _row(conn, member)
    if current is not None and current.status == "accepted":
        return None
    _save(conn, member, status="accepted", accepted_at=at, decision="none", removed_at=None,
          accepted_by=(current.accepted_by if current is not None and current.accepted_by else by),
          account=current.account if current is not None and current.account else account)
    if batch.silent:
        return None
    plan = deps.service(FriendSettings).plan(current.channel if current else None)
    room = find_room(conn, plan.group) if plan.group else None
    names = member_names(conn, [member])
    batch.dm(member, welcome_text(plan, names.get(member) or "", plan.group))
    _save(conn, member, welcomed_at=at)
    invited = invite(batch, deps, member, room, plan.group, at) if plan.group else "none"
    if plan.group and invited == "none":
        batch.dm(member, INVITE_WITH_ADMINS)  # the welcome promised the group
    return Welcomed(member, plan.group, invited)


def can_add_to(conn: Connection, room: str | None) -> bool:
    """The account is in the room: rosters come only from rooms the account is in."""
    if room is None:
        return False
    return conn.execute(select(col(Room.roster_at)).where(col(Room.id) == room)).scalar() is not None


def invite(batch: Batch, deps: Deps, member: str, room: str | None, group: str | None, at: int) -> str:
    """Invite a friend into their group: `room.add` (queued, paced and capped in the outbox)
    where the account is in the group and may add people, else the group's invite text."""
    conn = batch.conn
    plan_text = deps.service(FriendSettings).plan(_channel(conn, member)).invite_text
    if deps.service(FriendSettings).invite == "add" and can_add_to(conn, room):
        row = _row(conn, member)
        batch.send(Outgoing(text=group or "", room=room, to=member, action=ROOM_ADD,
                            account=row.account or None if row else None))
        how = "added"
    elif plan_text:
        if room is None or not can_add_to(conn, room):
            log.warning("friend %s: the account is not in group %r; sending its invite text", member, group)
        batch.dm(member, plan_text)
        how = "text"
    else:
        # Nothing the bot can do by itself: the admins are told, so a person invites them.
        log.warning("friend %s: cannot invite into group %r (the account is not in it, and no "
                    "invite_text is configured)", member, group)
        name = member_names(conn, [member]).get(member) or member
        for admin in sorted(deps.settings.admin_ids):
            batch.dm(admin, f"新好友 {name} 要进「{group}」，但机器人账号不在这个群里，也没有配置进群方式"
                            f"（[friends] invite_text）：请手动邀请 TA，或把机器人拉进这个群。")
        return "none"
    _save(conn, member, invite_room=room, invited_at=at)
    return how


def _channel(conn: Connection, member: str) -> str | None:
    row = _row(conn, member)
    return row.channel if row else None


def on_removed(batch: Batch, member: str, at: int) -> bool:
    """A removal seen later; False when the member was not known as a friend (still recorded)."""
    current = _row(batch.conn, member)
    _save(batch.conn, member, status="removed", removed_at=at,
          decision="none" if current is None or current.decision != "waiting" else "waiting")
    return current is not None


def on_contacts(batch: Batch, deps: Deps, ev: Contacts) -> tuple[int, int]:
    """The account's friend list at `ts`: friends listed first are friends from before the bot
    (never welcomed), a listed request was accepted elsewhere (on the phone: welcomed now),
    friends no longer listed were removed. Returns (new, removed)."""
    conn = batch.conn
    at = epoch(ev.ts)
    listed = {m.id for m in ev.members} - set(batch.bot_ids)
    known = {r.member: r for r in (Friendship.model_validate(x._mapping) for x in conn.execute(select(Friendship)))}
    fresh = sorted(m for m in listed if m not in known)
    if fresh:  # one insert: the first list of an account can name thousands
        first = _next_n(conn)
        conn.execute(table_of(Friendship).insert(), [
            {"member": m, "n": first + i, "status": "accepted", "account": account_of(batch, ev.account),
             "decision": "none", "pre_existing": True, "accepted_at": at} for i, m in enumerate(fresh)])
    removed = 0
    for member in sorted(listed - set(fresh)):
        row = known[member]
        if row.status == "requested":
            on_accepted(batch, deps, member, at, account=account_of(batch, ev.account), by="phone")
        elif row.status == "removed" and (row.removed_at or 0) < at:
            _save(conn, member, status="accepted", removed_at=None)
    for member, row in known.items():
        if row.status == "accepted" and member not in listed and (row.accepted_at or 0) <= at:
            _save(conn, member, status="removed", removed_at=at)
            removed += 1
    return len(fresh), removed


# ---- 1:1 chat: 进群 -----------------------------------------------------------------------------

def group_of(conn: Connection, member: str) -> str | None:
    """The name of a group the member is in now, if any."""
    room = conn.execute(select(col(Membership.room)).where(
        col(Membership.member) == member, col(Membership.active)).limit(1)).scalar()
    return room_names(conn, [room]).get(room, room) if room else None


def wants_group(batch: Batch, deps: Deps, member: str, at: datetime) -> str:
    """A friend asked for the group again (进群): the reply to send."""
    conn = batch.conn
    row = _row(conn, member)
    plan = deps.service(FriendSettings).plan(row.channel if row else None)
    inside = group_of(conn, member)
    if inside:
        return f"你已经在「{inside}」里啦～"
    if not plan.group:
        return "暂时还没有可以加入的群，有消息我第一时间告诉你～"
    last = datetime.fromtimestamp(row.invited_at, at.tzinfo) if row and row.invited_at else None
    if not may_invite_again(last, at):
        return f"今天已经邀请过你进「{plan.group}」啦，请留意群邀请；明天可以再发「进群」。"
    how = invite(batch, deps, member, find_room(conn, plan.group), plan.group, epoch(at))
    if how == "added":
        return f"好的，马上拉你进「{plan.group}」～"
    if how == "text":
        return f"「{plan.group}」的进群方式发给你啦～"
    return INVITE_WITH_ADMINS


# ---- operators ----------------------------------------------------------------------------------

class ApproveError(ValueError):
    """A 通过 that cannot be done; the message (Chinese) says why."""


def approve(conn: Connection, n: int, by: str) -> tuple[Friendship, Outgoing]:
    """An operator accepts request number `n`: returns it and the accept to queue in the outbox."""
    row = conn.execute(select(Friendship).where(col(Friendship.n) == n)).first()
    if row is None:
        raise ApproveError(f"没有编号为 {n} 的好友申请，发「好友申请」看看等待通过的申请。")
    f = Friendship.model_validate(row._mapping)
    if f.status == "accepted":
        raise ApproveError(f"{n} 号已经是好友了。")
    if f.status != "requested" or f.request_id is None:
        raise ApproveError(f"{n} 号没有等待通过的好友申请（可能已删除或撤回）。")
    if f.decision == "queued":
        raise ApproveError(f"{n} 号已经在通过队列里了，稍等片刻。")
    _save(conn, f.member, decision="queued", accepted_by=by)
    return f, accept_action(f.member, f.request_id, f.account)


@dataclass(frozen=True)
class PendingRequest:
    n: int
    member: str
    name: str
    hello: str | None
    channel: str | None
    requested_at: int


def pending_requests(conn: Connection, limit: int = 200) -> list[PendingRequest]:
    """Requests waiting for an operator, oldest first."""
    rows = conn.execute(select(col(Friendship.n), col(Friendship.member), col(Friendship.hello),
                               col(Friendship.channel), col(Friendship.requested_at))
                        .where(col(Friendship.status) == "requested", col(Friendship.decision) == "waiting")
                        .order_by(col(Friendship.requested_at), col(Friendship.n)).limit(limit)).all()
    names = member_names(conn, [r[1] for r in rows])
    return [PendingRequest(n, m, names.get(m) or m, hello, ch, at or 0) for n, m, hello, ch, at in rows]


def friends_not_in_group(conn: Connection, now: datetime) -> list[tuple[str, int]]:
    """New friends (not friends from before the bot) in no group 3 days after acceptance:
    (member, accepted_at)."""
    rows = conn.execute(select(col(Friendship.member), col(Friendship.accepted_at)).where(
        col(Friendship.status) == "accepted", col(Friendship.accepted_at).is_not(None),
        col(Friendship.pre_existing).is_(False))).all()
    if not rows:
        return []
    grouped = set(conn.execute(select(col(Membership.member)).where(
        col(Membership.member).in_([m for m, _ in rows]), col(Membership.active))).scalars())
    return [(m, at) for m, at in rows if at is not None
            and not_in_group_yet(datetime.fromtimestamp(at, now.tzinfo), m in grouped, now)]


FRIENDS_NAME = "好友（私聊）"  # where friend items stand on the follow-up list, beside the rooms


def has_friendships(conn: Connection) -> bool:
    return conn.execute(select(col(Friendship.member)).limit(1)).first() is not None


def friend_facts(conn: Connection, at: datetime, done: dict[str, set[str]]) -> list[MemberFacts]:
    """Follow-up facts of the private account: requests waiting for an operator, and new
    friends in no group 3 days after acceptance (`done`: kinds each member had marked done
    recently)."""
    tz = at.tzinfo
    waiting = pending_requests(conn, limit=10_000)
    idle = friends_not_in_group(conn, at)
    names = member_names(conn, [m for m, _ in idle])
    out = [MemberFacts(member=r.member, name=r.name, room=NO_ROOM, room_name=FRIENDS_NAME,
                       friend_request=FriendRequest(r.n, r.hello, datetime.fromtimestamp(r.requested_at, tz)))
           for r in waiting]
    out += [MemberFacts(member=m, name=names.get(m) or m, room=NO_ROOM, room_name=FRIENDS_NAME,
                        friend_since=datetime.fromtimestamp(since, tz),
                        done_recently=frozenset(done.get(m, ())))
            for m, since in idle]
    return out


def friend_ids(conn: Connection) -> set[str]:
    """Everyone who is a friend of the account now."""
    return set(conn.execute(select(col(Friendship.member)).where(col(Friendship.status) == "accepted")).scalars())


def in_groups(conn: Connection) -> set[str]:
    """Everyone in at least one group now."""
    return set(conn.execute(select(col(Membership.member)).where(col(Membership.active)).distinct()).scalars())


def who_filter(conn: Connection, who: str) -> set[str]:
    """The members the console's 好友 filter keeps: "friends" (friends of the account),
    "friends_only" (friends in no group) or "groups" (in a group)."""
    if who == "groups":
        return in_groups(conn)
    friends = friend_ids(conn)
    return friends - in_groups(conn) if who == "friends_only" else friends


@dataclass(frozen=True)
class ChannelStats:
    channel: str  # the channel tag, or 未知来源
    added: int  # friends added (accepted) in the period
    joined: int  # … of whom joined a group
    checked_in: int  # … checked in at least once
    ordered: int  # … ordered at least once


NO_CHANNEL = "未知来源"


def channel_stats(conn: Connection, since: int, until: int) -> list[ChannelStats]:
    """Per first channel, the friends added in [since, until] and how far they went."""
    rows = conn.execute(select(col(Friendship.member), col(Friendship.channel)).where(
        col(Friendship.accepted_at) >= since, col(Friendship.accepted_at) <= until,
        col(Friendship.pre_existing).is_(False))).all()
    by_channel: dict[str, list[str]] = defaultdict(list)
    for member, channel in rows:
        by_channel[channel or NO_CHANNEL].append(member)
    members = [m for m, _ in rows]
    joined = _having(conn, col(Membership.member), members, col(Membership.room) != "")
    checked = _having(conn, col(Checkin.member), members)
    ordered = _having(conn, col(Purchase.member), members, col(Purchase.amount_fen) > 0)
    out = [ChannelStats(ch, len(ms), sum(m in joined for m in ms), sum(m in checked for m in ms),
                        sum(m in ordered for m in ms)) for ch, ms in by_channel.items()]
    return sorted(out, key=lambda s: (-s.added, s.channel))


def _having(conn: Connection, column: Mapped[str], members: Sequence[str], *where: ColumnElement[bool]
            ) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(members), 900):
        found.update(conn.execute(select(column).where(
            column.in_(members[i:i + 900]), *where).distinct()).scalars())
    return found

