"""Who and where: finding members and rooms by @mention, name or id, and their display names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, overload

from sqlalchemy import Engine, or_, select
from sqlalchemy.engine import Connection, Row
from sqlmodel import col

from bot.core.errors import UsageError
from bot.core.names import display, id_tail
from bot.core.options import MemberRef, shown
from bot.store.models import Member, Membership, Room


def room_names(conn: Connection, rooms: Iterable[str] | None = None) -> dict[str, str]:
    """Room id → name as shown (the id where a room has no name yet); every room when `rooms`
    is None."""
    q = select(col(Room.id), col(Room.name))
    if rooms is not None:
        q = q.where(col(Room.id).in_(list(rooms)))
    return {r: display(n, r) if n else r for r, n in conn.execute(q)}


@overload
def member_names(conn: Connection, members: Iterable[str] | None = None) -> dict[str, str]: ...
@overload
def member_names(conn: Connection, members: Iterable[str] | None, *, raw: Literal[True]) -> dict[str, str | None]: ...
def member_names(conn: Connection, members: Iterable[str] | None = None, *,
                 raw: bool = False) -> dict[str, str] | dict[str, str | None]:
    """Member id → name as shown (bot.core.names.display; the id where a member has no name
    yet), or as stored (None for no name) with `raw`; everyone when `members` is None."""
    q = select(col(Member.id), col(Member.name))
    parts = [None] if members is None else _chunks(list(dict.fromkeys(members)))
    out: dict[str, str | None] = {}
    for part in parts:
        for m, n in conn.execute(q if part is None else q.where(col(Member.id).in_(part))):
            out[m] = n if raw else display(n, m) if n else m
    return out


def told_apart(conn: Connection, people: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """member → how to name them where these (member, name, room) are listed together: the
    name, and where several share it, the group nickname (群昵称) in that room when it tells
    them apart, else the last 4 characters of the id: 木子［群昵称：小木］, 木子［id 尾号 a1b2］."""
    by_name: dict[str, list[tuple[str, str]]] = {}
    for member, name, room in people:
        by_name.setdefault(name, []).append((member, room))
    out = {member: name for member, name, _ in people}
    shared = [(name, group) for name, group in by_name.items() if len({m for m, _ in group}) > 1]
    if not shared:
        return out
    pairs = [p for _, group in shared for p in group]
    alias: dict[tuple[str, str], str] = {}
    for part in _chunks([m for m, _ in pairs]):
        q = select(col(Membership.member), col(Membership.room), col(Membership.room_alias)).where(
            col(Membership.member).in_(part or []), col(Membership.room_alias).is_not(None))
        alias.update({(m, r): a for m, r, a in conn.execute(q) if a})
    for name, group in shared:
        aliases = [alias.get(p) for p in group]
        for (member, _room), a in zip(group, aliases, strict=True):
            if a and a != name and aliases.count(a) == 1:
                out[member] = f"{name}［群昵称：{display(a, member)}］"
            else:
                out[member] = f"{name}［id 尾号 {id_tail(member)}］"
    return out


def rooms_of(conn: Connection, members: Sequence[str] | None, *, at: int | None = None) -> dict[str, list[str]]:
    """The rooms each member is in now (first seen there by epoch `at`, when given), by room
    id; everyone's when `members` is None."""
    q = select(col(Membership.member), col(Membership.room)).where(col(Membership.active))
    if at is not None:
        q = q.where(col(Membership.first_at) <= at)
    rooms: dict[str, list[str]] = {}
    for part in [None] if members is None else _chunks(list(members)):
        rows = conn.execute((q if part is None else q.where(col(Membership.member).in_(part)))
                            .order_by(col(Membership.room)))
        for m, r in rows:
            rooms.setdefault(m, []).append(r)
    return rooms


def _chunks(ids: list[str], size: int = 900) -> list[list[str] | None]:
    """Lists short enough for one IN (...) (SQLite binds at most 999 parameters)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def all_rooms(conn: Connection) -> list[str]:
    """Every room's id, by name."""
    return list(conn.execute(select(col(Room.id)).order_by(col(Room.name), col(Room.id))).scalars())


def _rooms_called(conn: Connection, value: str) -> Sequence[str]:
    """Up to two rooms whose id or name is `value`."""
    return conn.execute(select(col(Room.id)).where(or_(col(Room.id) == value, col(Room.name) == value))
                        .limit(2)).scalars().all()


def find_room(conn: Connection, value: str) -> str | None:
    """The id of the one room whose id or name is `value`; None when none or several match."""
    rows = _rooms_called(conn, value)
    return rows[0] if len(rows) == 1 else None


def room_id_or_error(conn: Connection, value: str) -> str:
    """Like `find_room`, for a manager's command: a clear error when it is not one room."""
    rows = _rooms_called(conn, value)
    if len(rows) != 1:
        raise UsageError(f"找不到群「{value}」" if not rows else f"有多个群叫「{value}」，请用群 id。")
    return rows[0]


def find_member(conn: Connection, value: str) -> str | None:
    """The id of the one member whose id or name is `value`; None when none or several match."""
    rows = conn.execute(select(col(Member.id)).where(or_(col(Member.id) == value, col(Member.name) == value))
                        .limit(2)).scalars().all()
    return rows[0] if len(rows) == 1 else None


class Lookup:
    """The directory over an engine, for callers without a connection of their own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def member_id(self, name: str) -> str:
        with self.engine.connect() as conn:
            return find_member(conn, name) or name

    def room_id(self, name: str) -> str:
        with self.engine.connect() as conn:
            return find_room(conn, name) or name

    def member_name(self, ident: str) -> str:
        with self.engine.connect() as conn:
            return member_names(conn, [ident]).get(ident, ident)

    def room_name(self, ident: str) -> str:
        with self.engine.connect() as conn:
            return room_names(conn, [ident]).get(ident, ident)


def resolve_member(conn: Connection, ref: MemberRef, *, room: str | None = None) -> tuple[str, str]:
    """(id, name) of the member a manager meant: an @mention (its wxid), an id or an exact
    name, preferring members of `room`."""
    if ref.wxid is not None:
        row = conn.execute(select(col(Member.name)).where(col(Member.id) == ref.wxid)).first()
        if row is None:
            raise UsageError(f"还没有 @{shown(ref.text)} 的任何记录，等对方在群里说过话再试。",
                             show_usage=False)
        return ref.wxid, row[0] or ref.wxid
    name = ref.text
    if not name:
        raise UsageError("请 @ 一位成员，或写出成员的昵称。")
    q = select(col(Member.id), col(Member.name)).where(or_(col(Member.id) == name, col(Member.name) == name))
    rows: Sequence[Row[str, str | None]] = []
    if room:  # in a group, prefer the group's own members
        in_room = q.join(Membership, col(Membership.member) == col(Member.id)).where(
            col(Membership.room) == room, col(Membership.active))
        rows = conn.execute(in_room.limit(6)).all()
    if not rows:
        rows = conn.execute(q.limit(6)).all()
    if not rows:
        raise UsageError(f"找不到成员「{shown(name)}」。请 @ 对方，或写出完整昵称（有空格的昵称请加引号）。")
    exact_id = [r for r in rows if r[0] == name]
    if exact_id:
        return exact_id[0][0], exact_id[0][1] or name
    if len(rows) > 1:
        listing = "、".join(f"{n}（{i}）" for i, n in rows[:5])
        raise UsageError(f"有 {len(rows)} 位成员都叫「{shown(name)}」：{listing}。请 @ 对方，或改用 id。")
    return rows[0][0], rows[0][1] or name
