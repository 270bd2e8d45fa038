"""WeChat's Chinese system notices in an export, in every form WeChat writes them: who joined
(and who invited them), who was removed, renames and recalls; names there are nicknames,
resolved to members by `Names`."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.events import Event, Join, Leave, Recall
from bot.core.names import NAME_PREFIX, derived_id
from bot.importer.source import IdMaker, Summary, clean_name

SELF = "\x00self"  # 「你」 in a notice: the exporting account

_Q = r'"\s*(?P<{}>[^"]+?)\s*"'
_WHO = r"(?:" + _Q.format("{}") + r"|(?P<you>你))"
_JOIN = re.compile(r"^" + _WHO.format("inviter") + r"邀请(?:(?P<me>你)和)?" + _Q.format("names")
                   + r"加入了群聊")
# 「"A"邀请你加入了群聊，群聊参与人还有：x、y」: the exporting account joined; x, y were there.
_JOIN_ME = re.compile(r"^" + _Q.format("inviter") + r"邀请你加入了群聊")
_SCAN = re.compile(r"^" + _Q.format("names") + r"通过扫描" + _WHO.format("inviter") + r"分享的二维码加入群聊")
# No inviter named: a QR code whose sharer is not said, or a plain 「加入了群聊」.
_PLAIN = re.compile(r"^" + _Q.format("names") + r"(?:通过扫描二维码)?加入(?:了)?群聊")
_REMOVE = re.compile(r"^" + _WHO.format("by") + r"将" + _Q.format("names") + r"移出了群聊")
_REMOVED_ME = re.compile(r"^你被" + _Q.format("by") + r"移出群聊")
_RENAME = re.compile(r"^" + _WHO.format("by") + r'修改群名为"(?P<topic>.*)"\s*$', re.S)
_RECALL = re.compile(r"^" + _WHO.format("by") + r"\s*撤回了一条消息")


@dataclass(frozen=True)
class Notice:
    kind: str  # join | leave | rename | recall
    names: tuple[str, ...]  # who joined or left (SELF: the exporting account); who renamed or recalled
    inviter: str | None = None  # a nickname, SELF, or None (no inviter named)
    topic: str | None = None  # a rename's new group name


@dataclass
class Place:
    """The room a reader is in and its name, which a rename notice changes from then on."""

    room: str
    room_name: str | None


def parse_notice(text: str) -> Notice | None:
    """A join, removal, rename or recall notice, in every form WeChat writes them; None for
    anything else (privacy hints, announcements)."""
    text = text.strip().replace("“", '"').replace("”", '"')
    if not text or len(text) > 2000:
        return None
    m = _JOIN.match(text)
    if m:
        inviter = SELF if m.group("you") else m.group("inviter")
        return Notice("join", ((SELF,) if m.group("me") else ()) + _split(m.group("names")), inviter)
    m = _JOIN_ME.match(text)
    if m:
        return Notice("join", (SELF,), m.group("inviter"))
    m = _SCAN.match(text)
    if m:
        return Notice("join", _split(m.group("names")), SELF if m.group("you") else m.group("inviter"))
    m = _PLAIN.match(text)
    if m:
        return Notice("join", _split(m.group("names")))
    m = _REMOVE.match(text)
    if m:
        return Notice("leave", _split(m.group("names")))
    m = _REMOVED_ME.match(text)
    if m:
        return Notice("leave", (SELF,))
    m = _RENAME.match(text)
    if m:
        return Notice("rename", (SELF if m.group("you") else m.group("by"),), topic=m.group("topic").strip())
    m = _RECALL.match(text)
    if m:
        return Notice("recall", (SELF if m.group("you") else m.group("by"),))
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
        if name and name.strip():
            self._ids[name.strip()].add(member)

    def update(self, other: Names) -> None:
        for name, ids in other._ids.items():
            self._ids[name] |= ids

    def ids(self, name: str) -> set[str]:
        return self._ids.get(name, set())

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


def notice_events(text: str, ts: datetime, place: Place, names: Names | None,
                  self_id: str | None, ids: IdMaker, summary: Summary) -> list[Event]:
    """The joins (with their inviter where the notice names one), removals and recalls a
    system notice says; a rename changes `place.room_name`. A name no member of the room
    carries is a member known by that name (a joiner who never spoke: see derived_id); a name
    several members carry is listed in the summary as unresolved. `names` None: every name is a
    display-name id (a TXT export)."""
    notice = parse_notice(text)
    if notice is None:
        return []
    at = int(ts.timestamp())
    room = place.room

    def who(name: str) -> str | None:
        if name == SELF:
            if self_id is None:
                summary.unresolved["你（导出账号：用 --self 指定它的 wxid）"] += 1
            return self_id
        carriers = names.ids(name) if names is not None else set()
        if len(carriers) == 1:
            return next(iter(carriers))
        if carriers:
            summary.unresolved[name] += 1
            return None
        return derived_id(room, name)

    if notice.kind == "recall":
        # An export does not say which message was recalled: the recall is recorded, no more.
        summary.recalls += 1
        who_recalled = who(notice.names[0])
        if who_recalled is None:
            return []
        return [Recall(id=ids.make(at, f"{notice.names[0]}\x1f{text.strip()}", "recall"), ts=ts,
                       member=who_recalled, room=room)]
    if notice.kind == "rename":
        summary.renames += 1
        place.room_name = clean_name(notice.topic) or place.room_name
        return []
    inviter = who(notice.inviter) if notice.inviter else None
    out: list[Event] = []
    for name in notice.names:
        member = who(name)
        if member is None:
            continue
        if member.startswith(NAME_PREFIX) and notice.kind == "join":
            summary.joined_by_name.add(member)
        summary.members.add(member)
        summary.saw(at)
        event_id = ids.make(at, f"{name}\x1f{text.strip()}", notice.kind)
        if notice.kind == "join":
            summary.joins += 1
            out.append(Join(id=event_id, ts=ts, room=room, member=member,
                            member_name=None if name == SELF else clean_name(name), room_name=place.room_name,
                            inviter=inviter if inviter != member else None))
        else:
            summary.leaves += 1
            out.append(Leave(id=event_id, ts=ts, room=room, member=member))
    return out
