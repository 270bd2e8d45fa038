"""The guard in the store: which rooms it watches, who is exempt, strikes, removals and the blocklist."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.adapters.base import Outgoing
from bot.core import audit
from bot.core.accounts import bot_accounts
from bot.core.deps import Deps
from bot.core.directory import member_names, room_names
from bot.core.events import Message
from bot.core.pipeline import Batch, epoch
from bot.features.followup.api import RoomOperator
from bot.features.guard.models import GuardBlock, GuardExempt, GuardPattern, GuardRoom, GuardStrike
from bot.store.db import upsert
from bot.store.models import EventLog, Membership, table_of
from tagging import guard as rules

log = logging.getLogger(__name__)

ROOM_DEL = "room_del"
GUARD = "guard"  # the actor of what the guard does by itself (audit log, blocklist)
EXCERPT = 60  # characters of a post kept with its strike


@dataclass(frozen=True)
class Strike:
    room: str
    member: str
    rule: str
    n: int  # strikes within the window, this one included
    removed: bool  # removal queued (the bot owns or administers the group)
    not_removable: bool  # removal was due but the bot is no owner or admin there


@dataclass(frozen=True)
class RoomGuard:
    room: str
    name: str
    enabled: bool
    bot_role: str | None  # "owner" | "admin" | None (a member, or not known)
    exempt: tuple[str, ...]


# ---- rooms -----------------------------------------------------------------------------------
_GUARDED = select(col(GuardRoom.room)).where(col(GuardRoom.enabled))  # read at every batch: built once


def guarded_rooms(conn: Connection) -> frozenset[str]:
    return frozenset(conn.execute(_GUARDED).scalars())


def set_enabled(conn: Connection, room: str, enabled: bool, by: str, at: int) -> None:
    upsert(conn, table_of(GuardRoom), [{"room": room, "enabled": enabled, "changed_by": by, "changed_at": at}],
           ["room"], replace=["enabled", "changed_by", "changed_at"])


def note_roles(conn: Connection, room: str, owner: str | None, admins: tuple[str, ...], at: int) -> None:
    """Who owns and administers the group, as a roster said (a newer roster wins)."""
    row = conn.execute(select(col(GuardRoom.roles_at)).where(col(GuardRoom.room) == room)).first()
    if row is not None and row[0] is not None and row[0] > at:
        return
    upsert(conn, table_of(GuardRoom), [{"room": room, "owner": owner, "admins": ",".join(admins), "roles_at": at}],
           ["room"], replace=["owner", "admins", "roles_at"])


def remover(conn: Connection, room: str, accounts: frozenset[str]) -> str | None:
    """The bot account that may remove people from `room` (its owner or an admin), if any."""
    row = conn.execute(select(col(GuardRoom.owner), col(GuardRoom.admins)).where(col(GuardRoom.room) == room)).first()
    if row is None:
        return None
    owner, admins = row
    for account in ([owner] if owner else []) + [a for a in admins.split(",") if a]:
        if account in accounts:
            return account
    return None


def room_guards(conn: Connection, accounts: frozenset[str]) -> list[RoomGuard]:
    """Every room the bot knows, with its guard: for the console and /guard."""
    names = room_names(conn)
    rows = {r.room: r for r in conn.execute(select(table_of(GuardRoom)))}
    exempt: dict[str, list[str]] = {}
    for room, member in conn.execute(select(col(GuardExempt.room), col(GuardExempt.member))):
        exempt.setdefault(room, []).append(member)
    out = []
    for room, name in sorted(names.items(), key=lambda kv: kv[1]):
        if not room:
            continue
        r = rows.get(room)
        role = None
        if r is not None:
            if r.owner and r.owner in accounts:
                role = "owner"
            elif any(a in accounts for a in r.admins.split(",") if a):
                role = "admin"
        out.append(RoomGuard(room, name, bool(r is not None and r.enabled), role, tuple(exempt.get(room, ()))))
    return out


# ---- exemptions, ad words, blocklist ----------------------------------------------------------
def set_exempt(conn: Connection, room: str, member: str, exempt: bool, by: str, at: int) -> bool:
    """Whitelist (or not) a member in a room; False when that was already so."""
    q = select(col(GuardExempt.member)).where(col(GuardExempt.room) == room, col(GuardExempt.member) == member)
    there = conn.execute(q).first() is not None
    if there == exempt:
        return False
    if exempt:
        conn.execute(table_of(GuardExempt).insert().values(room=room, member=member, by=by, at=at))
    else:
        conn.execute(delete(GuardExempt).where(col(GuardExempt.room) == room, col(GuardExempt.member) == member))
    return True


@dataclass
class Watch:
    """What the guard reads once per batch (from the store: another process may have changed it)
    and what it saw earlier in the batch, so judging a message reads the store little."""

    rooms: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    exempt: frozenset[tuple[str, str]] = frozenset()  # (room, member) on a room's whitelist
    staff: frozenset[str] = frozenset()  # admins and operators
    said: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)  # (member, text) → (room, at)

    def is_exempt(self, room: str, member: str) -> bool:
        return member in self.staff or (room, member) in self.exempt


def watch(conn: Connection, deps: Deps) -> Watch:
    rooms = guarded_rooms(conn)
    if not rooms:
        return Watch()
    exempt = frozenset((r, m) for r, m in conn.execute(select(col(GuardExempt.room), col(GuardExempt.member))))
    operators = frozenset(conn.execute(select(col(RoomOperator.member))).scalars())
    return Watch(rooms, tuple(p for _, p in patterns(conn)), exempt, deps.settings.admin_ids | operators)


def patterns(conn: Connection) -> list[tuple[int, str]]:
    return [(i or 0, p) for i, p in conn.execute(select(col(GuardPattern.id), col(GuardPattern.pattern))
                                             .order_by(col(GuardPattern.id)))]


def add_pattern(conn: Connection, pattern: str, by: str, at: int) -> bool:
    if pattern in {p for _, p in patterns(conn)}:
        return False
    conn.execute(table_of(GuardPattern).insert().values(pattern=pattern, by=by, at=at))
    return True


def del_pattern(conn: Connection, pattern: str) -> bool:
    return conn.execute(delete(GuardPattern).where(col(GuardPattern.pattern) == pattern)).rowcount > 0


def pattern_reach(conn: Connection, pattern: str, now: int, days: int = 7) -> tuple[int, int]:
    """(hits, messages) of a proposed ad word over the last `days` days of group messages."""
    texts = conn.execute(select(col(EventLog.text)).where(
        col(EventLog.type) == "message", col(EventLog.ts) > now - days * 86400, col(EventLog.ts) <= now,
        col(EventLog.room) != "", col(EventLog.text).is_not(None), col(EventLog.kind).is_(None))).scalars()
    total = hits = 0
    for text in texts:
        if text is None:
            continue
        total += 1
        hits += rules.matches_pattern(text, pattern)
    return hits, total


def block(conn: Connection, member: str, by: str, at: int, reason: str, room: str = "") -> bool:
    """Put a member on the blocklist; False when already there."""
    if is_blocked(conn, member):
        return False
    conn.execute(table_of(GuardBlock).insert().values(member=member, by=by, at=at, reason=reason, room=room))
    return True


def unblock(conn: Connection, member: str) -> bool:
    return conn.execute(delete(GuardBlock).where(col(GuardBlock.member) == member)).rowcount > 0


def is_blocked(conn: Connection, member: str) -> bool:
    """On the blocklist: their friend requests wait for a person, a re-join is told to the admins."""
    return conn.execute(select(col(GuardBlock.member)).where(col(GuardBlock.member) == member)).first() is not None


def blocklist(conn: Connection) -> list[GuardBlock]:
    return [GuardBlock.model_validate(r._mapping) for r in
            conn.execute(select(table_of(GuardBlock)).order_by(col(GuardBlock.at).desc()))]


def recent_strikes(conn: Connection, limit: int = 100, member: str | None = None) -> list[GuardStrike]:
    q = select(table_of(GuardStrike)).order_by(col(GuardStrike.at).desc()).limit(limit)
    if member is not None:
        q = q.where(col(GuardStrike.member) == member)
    return [GuardStrike.model_validate(r._mapping) for r in conn.execute(q)]


# ---- the check of a group message -------------------------------------------------------------
def check(batch: Batch, deps: Deps, msg: Message, seen: Watch) -> Strike | None:
    """Judge one message in a guarded room: a warning (and, after enough strikes, removal or
    word to the admins) when it breaks a rule; None when it breaks none or its sender is exempt."""
    assert msg.room is not None
    conn = batch.conn
    if msg.sender in batch.bot_ids or seen.is_exempt(msg.room, msg.sender):
        return None
    at = epoch(msg.ts)
    joined = conn.execute(select(col(Membership.joined_at)).where(
        col(Membership.room) == msg.room, col(Membership.member) == msg.sender)).scalar()
    post = rules.Post(text=msg.text, kind=msg.kind, qr=msg.qr, at=msg.ts,
                      joined_at=datetime.fromtimestamp(joined, msg.ts.tzinfo) if joined else None,
                      same_text_rooms=_rooms_with_text(batch, msg, at, seen))
    rule = rules.broken_rule(post, seen.patterns)
    if rule is None:
        return None
    if conn.execute(select(col(GuardStrike.id)).where(col(GuardStrike.message_id) == msg.id)).first():
        return None  # the same message again
    since = at - rules.STRIKE_DAYS * 86400
    n = 1 + (conn.execute(select(func.count()).where(
        col(GuardStrike.member) == msg.sender, col(GuardStrike.room) == msg.room,
        col(GuardStrike.at) > since)).scalar() or 0)
    removing = rules.removes(n)
    account = remover(conn, msg.room, bot_accounts(conn) | batch.bot_ids
                      | ({msg.account} if msg.account else frozenset())) if removing else None
    action = "warned" if not removing else ("removed" if account else "not_removed")
    conn.execute(table_of(GuardStrike).insert().values(
        room=msg.room, member=msg.sender, rule=rule, at=at, message_id=msg.id, text=(msg.text or "")[:EXCERPT],
        action=action))
    name = msg.sender_name or member_names(conn, [msg.sender]).get(msg.sender) or msg.sender
    room_name = msg.room_name or room_names(conn, [msg.room]).get(msg.room) or msg.room
    title = rules.RULE_TITLES[rule]
    said = (msg.text or msg.kind)[:EXCERPT]
    detail = f"{name}（{msg.sender}）：{title}，「{said}」，{rules.STRIKE_DAYS} 天内第 {n} 次"
    if not removing:
        batch.reply(msg, rules.warning_text(rule, n))
        audit.record(conn, at=at, actor=GUARD, where=audit.GROUP, room=msg.room, action="guard_warn",
                     detail=detail, result="已警告")
        return Strike(msg.room, msg.sender, rule, n, False, False)
    block(conn, msg.sender, GUARD, at, f"{rules.STRIKE_DAYS} 天内 {n} 次违规（{title}）", msg.room)
    if account:
        batch.send(Outgoing(text=f"移出群「{room_name}」", room=msg.room, to=msg.sender, action=ROOM_DEL,
                            account=account))
        batch.reply(msg, f"{rules.STRIKE_DAYS} 天内第 {n} 次{title}，按群规移出本群。", mention=True)
        told = (f"已将 {name} 移出「{room_name}」：{detail}。"
                f"如有误会，请把 TA 拉回群，并发「/guard unblock {msg.sender}」。")
        result = "已移出并加入黑名单"
    else:
        batch.reply(msg, rules.warning_text(rule, n))
        told = (f"「{room_name}」里 {name} {detail}，该移出了，但机器人不是这个群的群主或管理员，移不了："
                f"请手动移出（已加入黑名单）。")
        result = "机器人不是群主或管理员：已告诉管理员"
    for admin in sorted(deps.settings.admin_ids):
        batch.dm(admin, told)
    audit.record(conn, at=at, actor=GUARD, where=audit.GROUP, room=msg.room, action="guard_remove",
                 detail=detail, result=result)
    return Strike(msg.room, msg.sender, rule, n, account is not None, account is None)


def _rooms_with_text(batch: Batch, msg: Message, at: int, seen: Watch) -> int:
    """Rooms the sender posted this very text in within the flood window, this one included:
    earlier batches from the store, this batch from what the guard saw (no flush needed)."""
    if msg.kind != "text" or len(msg.text.strip()) < rules.FLOOD_MIN_CHARS:
        return 1
    since = at - rules.FLOOD_MINUTES * 60
    said = seen.said.setdefault((msg.sender, msg.text), [])
    rooms = {r for r, t in said if since <= t <= at}
    said.append((msg.room or "", at))
    rooms.update(batch.conn.execute(select(col(EventLog.room)).distinct().where(
        col(EventLog.member) == msg.sender, col(EventLog.type) == "message", col(EventLog.text) == msg.text,
        col(EventLog.room) != "", col(EventLog.ts) >= since, col(EventLog.ts) <= at)).scalars())
    rooms.add(msg.room or "")
    return len(rooms)


# ---- joins, appeals ---------------------------------------------------------------------------
def on_rejoin(batch: Batch, deps: Deps, room: str, member: str, name: str | None, at: datetime) -> bool:
    """A blocklisted member joined a room: the admins are told (once per join)."""
    conn = batch.conn
    row = conn.execute(select(col(GuardBlock.reason)).where(col(GuardBlock.member) == member)).first()
    if row is None:
        return False
    who = name or member_names(conn, [member]).get(member) or member
    room_name = room_names(conn, [room]).get(room) or room
    for admin in sorted(deps.settings.admin_ids):
        batch.dm(admin, f"黑名单成员 {who}（{member}）又进了「{room_name}」"
                        f"（之前：{row[0] or '被加入黑名单'}），请留意。")
    audit.record(conn, at=at, actor=GUARD, where=audit.GROUP, room=room, action="guard_rejoin",
                 detail=f"{who}（{member}）", result="已告诉管理员")
    return True


def appeal(batch: Batch, deps: Deps, msg: Message, words: str) -> bool:
    """A member's 申诉: to the admins with their strikes. False when they were never warned."""
    conn = batch.conn
    strikes = recent_strikes(conn, limit=5, member=msg.sender)
    if not strikes and not is_blocked(conn, msg.sender):
        return False
    name = msg.sender_name or msg.sender
    names = room_names(conn, {s.room for s in strikes})
    tz = deps.settings.tz
    lines = [f"{datetime.fromtimestamp(s.at, tz):%m-%d %H:%M} 「{names.get(s.room, s.room)}」"
             f"{rules.RULE_TITLES.get(s.rule, s.rule)}：「{s.text or ''}」" for s in strikes]
    said = f"：「{words}」" if words else ""
    text = f"{name}（{msg.sender}）申诉{said}\n最近的警告：\n" + "\n".join(lines or ["（在黑名单上）"])
    text += f"\n如要解除黑名单：/guard unblock {msg.sender}"
    for admin in sorted(deps.settings.admin_ids):
        batch.dm(admin, text)
    audit.record(conn, at=msg.ts, actor=msg.sender, where=audit.where_of(msg.room), room=msg.room,
                 action="guard_appeal", detail=words, result="已转给管理员")
    return True
