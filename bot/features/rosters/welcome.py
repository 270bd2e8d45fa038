"""The welcome for newcomers: per room text and switch, joins of a burst sharing one welcome."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.adapters.base import Outgoing
from bot.core.directory import member_names
from bot.core.events import Join
from bot.core.pipeline import epoch
from bot.features.checkins.api import load_tasks
from bot.features.rosters.models import PendingWelcome, RoomWelcome
from bot.store.db import upsert
from bot.store.models import table_of
from tiers.spec import check_placeholders

log = logging.getLogger(__name__)

DEFAULT_TEXT = "欢迎 {name} 加入！🎉\n发{tasks}就能打卡攒积分，发「帮助」看看我还能做什么。"
DEFAULT_TEXT_NO_TASKS = "欢迎 {name} 加入！🎉 发「帮助」看看我能做什么。"
MAX_TEXT = 300
PLACEHOLDERS = {"name": "新人昵称", "tasks": "打卡任务"}

# When a welcome goes out. A join waits QUIET seconds, so people added together share one
# welcome; a room gets at most one welcome per GAP seconds, so the rest of a burst (20
# people scanning a QR code within a minute) shares the next one; nobody waits longer than
# HOLD seconds after joining, and a join older than STALE (the bot was down) is let go.
QUIET = 2
GAP = 60
HOLD = 90
STALE = 6 * 3600
MAX_MENTIONS = 20  # a combined welcome @mentions at most this many newcomers


@dataclass(frozen=True)
class Welcome:
    room: str
    members: tuple[str, ...]

    def outgoing(self, text: str) -> Outgoing:
        return Outgoing(text=text, room=self.room, mentions=self.members[:MAX_MENTIONS])


@dataclass(frozen=True)
class WelcomeSetting:
    room: str
    enabled: bool
    text: str | None  # None: the default

    @property
    def template(self) -> str:
        return self.text or DEFAULT_TEXT


def is_due(joins: list[int], last_sent: int | None, now: int) -> bool:
    """Whether a room's waiting joins (epoch seconds) are welcomed at `now`."""
    latest, oldest = max(joins), min(joins)
    if now >= oldest + HOLD:
        return True
    return now >= latest + QUIET and (last_sent is None or now >= last_sent + GAP)


def setting(conn: Connection, room: str) -> WelcomeSetting:
    row = conn.execute(select(col(RoomWelcome.enabled), col(RoomWelcome.text)).where(
        col(RoomWelcome.room) == room)).first()
    return WelcomeSetting(room, True, None) if row is None else WelcomeSetting(room, row[0], row[1])


def save_setting(conn: Connection, room: str, *, by: str, at: int, enabled: bool | None = None,
                 text: str | None = None, reset: bool = False) -> WelcomeSetting:
    """Turn a room's welcome on or off, or set its text (`reset`: back to the default);
    ValueError (Chinese) for a text that is empty, too long or has an unknown {placeholder}."""
    current = setting(conn, room)
    if text is not None:
        text = text.strip()
        if not text:
            raise ValueError("欢迎语不能为空。")
        if len(text) > MAX_TEXT:
            raise ValueError(f"欢迎语太长了（{len(text)} 字，最多 {MAX_TEXT} 字）。")
        check_placeholders(text, PLACEHOLDERS, "欢迎语")
    new = WelcomeSetting(room, current.enabled if enabled is None else enabled,
                         None if reset else (text if text is not None else current.text))
    upsert(conn, table_of(RoomWelcome),
           [{"room": room, "enabled": new.enabled, "text": new.text, "by": by, "at": at}],
           ["room"], replace=["enabled", "text", "by", "at"])
    if not new.enabled:
        conn.execute(delete(PendingWelcome).where(col(PendingWelcome.room) == room))
    return new


def queue_join(conn: Connection, join: Join) -> None:
    if not setting(conn, join.room).enabled:
        return
    upsert(conn, table_of(PendingWelcome),
           [{"room": join.room, "member": join.member, "joined_at": epoch(join.ts)}],
           ["room", "member"], replace=["joined_at"])


def forget_join(conn: Connection, room: str, member: str) -> None:
    """Someone who left before being welcomed is not welcomed."""
    conn.execute(delete(PendingWelcome).where(col(PendingWelcome.room) == room,
                                              col(PendingWelcome.member) == member))


_WAITING = select(col(PendingWelcome.room), col(PendingWelcome.member),
                  col(PendingWelcome.joined_at)).order_by(col(PendingWelcome.joined_at))  # at every batch: built once


def due_welcomes(conn: Connection, now: datetime) -> list[Welcome]:
    """The welcomes to send at `now`, each room's waiting joins taken off the queue."""
    rows = conn.execute(_WAITING).all()
    if not rows:
        return []
    at = epoch(now)
    by_room: dict[str, list[tuple[str, int]]] = {}
    for room, member, joined in rows:
        by_room.setdefault(room, []).append((member, joined))
    last = dict(conn.execute(select(col(RoomWelcome.room), col(RoomWelcome.last_sent_at)).where(
        col(RoomWelcome.room).in_(list(by_room)))).all())
    out = []
    for room, joins in by_room.items():
        fresh = [(m, j) for m, j in joins if j > at - STALE]
        if len(fresh) < len(joins):
            log.debug("room %s: %d joins too old to welcome", room, len(joins) - len(fresh))
        if fresh and not is_due([j for _, j in fresh], last.get(room), at):
            if len(fresh) < len(joins):
                conn.execute(delete(PendingWelcome).where(
                    col(PendingWelcome.room) == room, col(PendingWelcome.joined_at) <= at - STALE))
            continue
        taken = conn.execute(delete(PendingWelcome).where(col(PendingWelcome.room) == room)).rowcount
        if not fresh or not taken:
            continue  # (none taken: another bot process sharing the store welcomed them)
        upsert(conn, table_of(RoomWelcome), [{"room": room, "enabled": True, "at": at, "last_sent_at": at}],
               ["room"], replace=["last_sent_at"])
        out.append(Welcome(room, tuple(m for m, _ in fresh)))
    return out


def task_names(conn: Connection, room: str) -> list[str]:
    """What a newcomer sends to check in, per active task of the room: its first trigger word
    (a task named 作业 is checked in with 交作业, not 作业)."""
    return [t.triggers[0] for t in load_tasks(conn) if t.active and t.room in (None, room)]


def render(template: str, names: list[str], tasks: list[str]) -> str:
    """The welcome with {name} (the newcomers' names) and {tasks} (「打卡」「早起打卡」) filled in
    (a saved text has no other placeholder: save_setting refuses them)."""
    if not tasks and template == DEFAULT_TEXT:
        template = DEFAULT_TEXT_NO_TASKS
    shown = "、".join(names[:MAX_MENTIONS]) + (f" 等 {len(names)} 位新朋友" if len(names) > MAX_MENTIONS else "")
    return template.replace("{name}", shown).replace("{tasks}", "".join(f"「{t}」" for t in tasks) or "打卡")


def welcome_text(conn: Connection, welcome: Welcome,
                 parts: Sequence[Callable[[Connection, str], str | None]] = ()) -> str:
    """The welcome, then what other features add for the room (Feature.welcome: its 群规)."""
    names = member_names(conn, welcome.members)
    text = render(setting(conn, welcome.room).template, [names.get(m, m) for m in welcome.members],
                  task_names(conn, welcome.room))
    return "\n\n".join([text, *filter(None, (part(conn, welcome.room) for part in parts))])
