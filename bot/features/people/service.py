"""Who may use the console and as whom: roles read from the store, one-time login links, and
the login throttle kept in the store (so every process sharing it sees one lockout).

Roles: a global admin (`QUNGUAN_ADMINS`, the bootstrap) sees and does everything; a per-room
admin (`/admin @成员` in a room) and an operator (`/operator @成员`) see and act on their own
rooms only, the room admin with the admin actions there (points). Nobody else logs in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core import audit
from bot.core.deps import Roles
from bot.core.directory import member_names
from bot.core.settings import Settings
from bot.features.followup.api import RoomOperator
from bot.features.people.models import LoginLink, LoginThrottle, RoomAdmin
from bot.store.db import upsert
from bot.store.models import table_of

LINK_MINUTES = 10  # a link asked for with 控制台 is valid this long
LIST_LINK_HOURS = 12  # the link under a capped daily list: a working day
CONSOLE_WORD = "控制台"


class Level(Enum):
    ADMIN = "admin"  # global: QUNGUAN_ADMINS
    ROOM_ADMIN = "room_admin"
    OPERATOR = "operator"


LEVEL_LABELS = {Level.ADMIN: "管理员", Level.ROOM_ADMIN: "群管理员", Level.OPERATOR: "运营"}


@dataclass(frozen=True)
class Person:
    """A console user: who, their role, and the rooms they may see (all, for a global admin)."""

    member: str
    name: str
    level: Level
    rooms: frozenset[str] = frozenset()  # their rooms (ignored for a global admin)
    admin_rooms: frozenset[str] = frozenset()  # rooms where they are a room admin

    @property
    def is_admin(self) -> bool:
        return self.level is Level.ADMIN

    @property
    def label(self) -> str:
        """How the audit log and the header name them: 「运营小王」."""
        return f"{LEVEL_LABELS[self.level]}{self.name}"

    def sees(self, room: str | None) -> bool:
        """May this person see (and act on) `room`? NO_ROOM/None: the private account, admins'."""
        if self.is_admin:
            return True
        return bool(room) and room in self.rooms

    def may_manage(self, room: str | None) -> bool:
        """Admin actions (points) in `room`."""
        return self.is_admin or (bool(room) and room in self.admin_rooms)


def room_admins(conn: Connection, room: str | None = None) -> list[RoomAdmin]:
    q = select(RoomAdmin).order_by(col(RoomAdmin.room), col(RoomAdmin.member))
    if room is not None:
        q = q.where(col(RoomAdmin.room) == room)
    return [RoomAdmin.model_validate(r._mapping) for r in conn.execute(q)]


def is_room_admin(conn: Connection, member: str, room: str | None) -> bool:
    if not room:
        return False
    return conn.execute(select(col(RoomAdmin.member)).where(
        col(RoomAdmin.room) == room, col(RoomAdmin.member) == member)).first() is not None


def add_room_admin(conn: Connection, room: str, member: str, by: str, at: int) -> None:
    upsert(conn, table_of(RoomAdmin), [{"room": room, "member": member, "by": by, "at": at}],
           ["room", "member"])


def remove_room_admin(conn: Connection, room: str, member: str) -> bool:
    return bool(conn.execute(delete(RoomAdmin).where(
        col(RoomAdmin.room) == room, col(RoomAdmin.member) == member)).rowcount)


# Asked at every command: built once (building a statement costs more than running it).
_ROOM_ADMIN = select(col(RoomAdmin.member)).where(col(RoomAdmin.room) == bindparam("room"),
                                                  col(RoomAdmin.member) == bindparam("member"))
_OPERATOR = tuple(select(col(t.member)).where(col(t.member) == bindparam("member")).limit(1)
                  for t in (RoomOperator, RoomAdmin))


class StoreRoles(Roles):
    """Per-room admins (`/admin`, ours) and operators (the follow-up's), read from the store."""

    def is_room_admin(self, conn: Connection, member: str, room: str) -> bool:
        return conn.execute(_ROOM_ADMIN, {"room": room, "member": member}).first() is not None

    def is_operator(self, conn: Connection, member: str) -> bool:
        return any(conn.execute(q, {"member": member}).first() for q in _OPERATOR)

    def operators(self, conn: Connection) -> frozenset[str]:
        return frozenset(conn.execute(select(col(RoomOperator.member))).scalars())


def person(conn: Connection, settings: Settings, member: str) -> Person | None:
    """The member as a console user now, or None when they may not use the console (anymore)."""
    name = member_names(conn, [member]).get(member, member)
    if member in settings.admin_ids:
        return Person(member, name, Level.ADMIN)
    managed = frozenset(conn.execute(select(col(RoomAdmin.room)).where(col(RoomAdmin.member) == member)).scalars())
    operated = frozenset(conn.execute(select(col(RoomOperator.room)).where(
        col(RoomOperator.member) == member)).scalars())
    if managed:
        return Person(member, name, Level.ROOM_ADMIN, managed | operated, managed)
    if operated:
        return Person(member, name, Level.OPERATOR, operated)
    return None


def bootstrap_admin(settings: Settings) -> str | None:
    """Whom the shared password logs in as: the first global admin (the bootstrap)."""
    admins = [a.strip() for a in settings.admins.split(",") if a.strip()]
    return admins[0] if admins else None


# ---- one-time links ---------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_link(conn: Connection, settings: Settings, member: str, now: int, *, minutes: int = LINK_MINUTES,
             next_path: str = "/") -> str:
    """A one-time login link for `member`, valid `minutes` from `now` (epoch seconds)."""
    token = secrets.token_urlsafe(24)
    conn.execute(delete(LoginLink).where(col(LoginLink.expires_at) < now - 86400))
    conn.execute(table_of(LoginLink).insert().values(
        token_hash=_hash(token), member=member, created_at=now, expires_at=now + minutes * 60,
        next_path=next_path))
    return f"{settings.console_url}/login/link/{token}"


class LinkRefused(Exception):
    """The link cannot log anyone in; the message says why and how to get a new one."""


HOW_TO_GET_ONE = f"请在微信里私聊机器人发「{CONSOLE_WORD}」，会收到一个新的登录链接（10 分钟内有效，只能用一次）。"


def redeem_link(conn: Connection, settings: Settings, token: str, now: int) -> tuple[Person, str]:
    """Use a link once: (who it logs in, where it lands). Refused when unknown, expired, used
    before, or its member is no longer an admin or operator."""
    row = conn.execute(select(LoginLink).where(col(LoginLink.token_hash) == _hash(token))).first() \
        if 0 < len(token) <= 100 else None
    if row is None:
        raise LinkRefused("这个登录链接无效（可能复制不完整）。" + HOW_TO_GET_ONE)
    link = LoginLink.model_validate(row._mapping)
    if link.used_at is not None:
        raise LinkRefused("这个登录链接已经用过了，每个链接只能用一次。" + HOW_TO_GET_ONE)
    if link.expires_at <= now:
        raise LinkRefused("这个登录链接已过期。" + HOW_TO_GET_ONE)
    claimed = conn.execute(update(LoginLink).where(col(LoginLink.token_hash) == link.token_hash,
                                                   col(LoginLink.used_at).is_(None)).values(used_at=now)).rowcount
    if not claimed:  # another request used it a moment ago
        raise LinkRefused("这个登录链接已经用过了，每个链接只能用一次。" + HOW_TO_GET_ONE)
    who = person(conn, settings, link.member)
    if who is None:
        raise LinkRefused("你现在不是管理员或运营，不能登录控制台。如有需要，请联系管理员。")
    return who, link.next_path


# ---- the login throttle -------------------------------------------------------------------------

EVERYONE = "*"


@dataclass(frozen=True)
class ThrottleRules:
    """`per_client` failures in a row lock that client out for `base` seconds, each further
    lockout doubling the wait up to `longest`; `overall` failures from all clients together lock
    the login for everyone the same way. An hour without failures forgets a client."""

    per_client: int = 5
    overall: int = 50
    base: int = 60
    longest: int = 3600


RULES = ThrottleRules()


def _row(conn: Connection, client: str) -> LoginThrottle:
    found = conn.execute(select(LoginThrottle).where(col(LoginThrottle.client) == client)).first()
    return LoginThrottle.model_validate(found._mapping) if found else LoginThrottle(client=client)


def login_wait(conn: Connection, client: str, now: int) -> int:
    """Seconds until `client` may try the password again (0: now)."""
    rows = conn.execute(select(col(LoginThrottle.until)).where(
        col(LoginThrottle.client).in_([client[:100], EVERYONE]))).scalars()
    return max([0, *(until - now for until in rows)])


def _count(g: LoginThrottle, now: int, limit: int, rules: ThrottleRules) -> int:
    if now - g.last > 3600:
        g.failures = g.lockouts = 0
    g.last = now
    g.failures += 1
    if g.failures < limit:
        return 0
    g.failures = 0
    g.lockouts += 1
    wait: int = min(rules.longest, rules.base * 2 ** (g.lockouts - 1))
    g.until = now + wait
    return wait


def _save(conn: Connection, g: LoginThrottle) -> None:
    upsert(conn, table_of(LoginThrottle), [g.model_dump()], ["client"],
           replace=["failures", "lockouts", "until", "last", "audit_id", "counted", "run_until"])


def login_failed(conn: Connection, client: str, now: int, *, locked: bool,
                 rules: ThrottleRules = RULES) -> int:
    """Count a refused login (a wrong password, or any try while locked out) in the caller's
    transaction; returns the wait it caused or that remains.

    The audit log gets one row per client per lockout: the first failure of a run writes it,
    every further failure (and every try while locked out) updates its count, and the first
    failure after a lockout ended starts a new row. So a flood of guesses is a few rows."""
    client = client[:100]
    mine = _row(conn, client)
    everyone = _row(conn, EVERYONE)
    new_run = (not mine.audit_id or now - mine.last > 3600
               or (mine.run_until and mine.run_until <= now))
    if locked:
        wait = max(mine.until - now, everyone.until - now, 0)
        mine.last = now
    else:
        wait = max(_count(mine, now, rules.per_client, rules), _count(everyone, now, rules.overall, rules))
        _save(conn, everyone)
    if new_run:
        mine.counted, mine.run_until = 1, 0
        mine.audit_id = audit.record(conn, at=now, actor=audit.CONSOLE_ACTOR, where=audit.CONSOLE,
                                     action="login_failed", detail=client, result=_failures_text(1, wait))
    else:
        mine.counted += 1
        audit.update_result(conn, mine.audit_id, _failures_text(mine.counted, wait))
    if wait > 0:
        mine.run_until = max(mine.run_until, now + wait)
    _save(conn, mine)
    return wait


def _failures_text(n: int, wait: int) -> str:
    locked = f"，已锁定 {wait} 秒" if wait > 0 else ""
    return f"登录失败 {n} 次（密码错误或锁定期间再试）{locked}"


def login_succeeded(conn: Connection, client: str) -> None:
    conn.execute(delete(LoginThrottle).where(col(LoginThrottle.client) == client[:100]))
