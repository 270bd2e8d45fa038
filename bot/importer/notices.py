"""WeChat's Chinese system notices in an export: who joined (and who invited them), who
was removed; names there are nicknames, resolved to members by `Names`."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.events import Event, Join, Leave
from bot.importer.source import IdMaker, Summary

SELF = "\x00self"  # 「你」 in a notice: the exporting account

_Q = r'"(?P<{}>[^"]+)"'
_JOIN = re.compile(r"^(?:" + _Q.format("inviter") + r"|(?P<you>你))邀请"
                   + _Q.format("names") + r"加入了群聊")
_SCAN = re.compile(r"^" + _Q.format("names") + r"通过扫描(?:" + _Q.format("inviter")
                   + r"|(?P<you>你))分享的二维码加入群聊")
# No inviter named: a QR code whose sharer is not said, or a plain 「加入了群聊」.
_PLAIN = re.compile(r"^" + _Q.format("names") + r"(?:通过扫描二维码)?加入(?:了)?群聊")
_REMOVE = re.compile(r"^(?:" + _Q.format("by") + r"|你)将" + _Q.format("names") + r"移出了群聊")


@dataclass(frozen=True)
class Notice:
    kind: str  # join | leave
    names: tuple[str, ...]
    inviter: str | None = None  # a nickname, SELF, or None (no inviter named)


def parse_notice(text: str) -> Notice | None:
    """A join or removal notice; None for anything else (revokes, privacy hints, topics)."""
    text = text.strip().replace("“", '"').replace("”", '"')
    for pattern in (_JOIN, _SCAN):
        m = pattern.match(text)
        if m:
            inviter = SELF if m.group("you") else m.group("inviter")
            return Notice("join", _split(m.group("names")), inviter)
    m = _PLAIN.match(text)
    if m:
        return Notice("join", _split(m.group("names")))
    m = _REMOVE.match(text)
    if m:
        return Notice("leave", _split(m.group("names")))
    return None


def _split(names: str) -> tuple[str, ...]:
    # Several people invited at once are listed in one pair of quotes, separated by 、.
    return tuple(n.strip() for n in names.split("、") if n.strip())


class Names:
    """Nicknames (and remarks) of one room's members → their ids, from what the export and
    the store say; a name resolves only when exactly one member carries it."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = defaultdict(set)

    def add(self, name: str | None, member: str) -> None:
        if name:
            self._ids[name.strip()].add(member)

    def update(self, other: Names) -> None:
        for name, ids in other._ids.items():
            self._ids[name] |= ids

    def resolve(self, name: str) -> str | None:
        ids = self._ids.get(name)
        return next(iter(ids)) if ids and len(ids) == 1 else None


class NameBook:
    """Each room's `Names`, filled from the store and from every file of the import before
    any notice is read: a name is resolved against the whole history, not one file's part."""

    def __init__(self, stored: Callable[[str], Names]) -> None:
        self._stored = stored
        self._rooms: dict[str, Names] = {}

    def room(self, room: str) -> Names:
        if room not in self._rooms:
            self._rooms[room] = self._stored(room)
        return self._rooms[room]


def notice_events(text: str, ts: datetime, room: str, room_name: str | None,
                  resolve: Callable[[str], str | None], self_id: str | None, ids: IdMaker,
                  summary: Summary) -> list[Event]:
    """The joins (with their inviter where the notice names one) and removals a system
    notice says; names that do not resolve to one member are listed in the summary."""
    notice = parse_notice(text)
    if notice is None:
        return []
    at = int(ts.timestamp())
    inviter = None
    if notice.inviter == SELF:
        inviter = self_id
        if inviter is None:
            summary.unresolved["你（导出账号：用 --self 指定它的 wxid）"] += 1
    elif notice.inviter:
        inviter = resolve(notice.inviter)
        if inviter is None:
            summary.unresolved[notice.inviter] += 1
    out: list[Event] = []
    for name in notice.names:
        member = resolve(name)
        if member is None:
            summary.unresolved[name] += 1
            continue
        summary.members.add(member)
        summary.saw(at)
        event_id = ids.make(at, member, text, notice.kind)
        if notice.kind == "join":
            summary.joins += 1
            out.append(Join(id=event_id, ts=ts, room=room, member=member, member_name=name,
                            room_name=room_name, inviter=inviter if inviter != member else None))
        else:
            summary.leaves += 1
            out.append(Leave(id=event_id, ts=ts, room=room, member=member))
    return out
