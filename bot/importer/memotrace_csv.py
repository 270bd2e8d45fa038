"""MemoTrace/留痕 CSV, every generation: one chat per file, written by Python's csv module.

- 2023 (v0.2.x): 9 header names over 12 values (MsgSvrID, BytesExtra, CompressContent
  unnamed); the sender's wxid only inside BytesExtra.
- 2024 (WeChat 3.x): 12 columns, `Sender` the speaker's wxid in a group (an early variant wrote
  9 values a row in 1:1 chats).
- 2025+ (WeChat 4.x): `消息ID,类型,发送人,时间,内容,备注,昵称,更多信息`: display names only,
  local time, rendered contents; the chat's id only in the folder name `{备注}({wxid})/`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from bot.core.events import Event, EventError
from bot.core.names import NAME_PREFIX, derived_id
from bot.importer.detect import open_text
from bot.importer.kinds import (
    CHINESE_KINDS,
    MEMOTRACE_TYPES,
    NOT_SPEAKING,
    memotrace_app,
    rendered,
)
from bot.importer.notices import NameBook, Names, Place, notice_events, parse_notice
from bot.importer.source import (
    Checks,
    FileError,
    IdMaker,
    ImportOptions,
    Summary,
    clean_name,
    clean_text,
    message,
)

HEADER = ["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status",
          "StrContent", "StrTime", "Remark", "NickName", "Sender"]
HEADER_2023 = HEADER[:9]
HEADER_2025 = ["消息ID", "类型", "发送人", "时间", "内容", "备注", "昵称", "更多信息"]
GENERATIONS = {"2023": HEADER_2023, "2024": HEADER, "2025": HEADER_2025}
LABELS = {"2023": "留痕 CSV 2023 版", "2024": "留痕 CSV 2024 版", "2025": "留痕 CSV 2025 版·微信 4.x",
          "2024-1:1": "留痕 CSV 2024 早期版·私聊（每行 9 列）", "2023-all": "留痕 CSV 2023 版·全部导出（messages.csv）"}
ME = "我"  # the exporting account's Sender in a 2023 "export all" messages.csv
NOTICE, SYSTEM, APP = 10000, 10002, 49
_REPLACEMSG = re.compile(r"<replacemsg>\s*(?:<!\[CDATA\[(.*?)\]\]>|(.*?))\s*</replacemsg>", re.S)
_WXID = re.compile(r"wxid_[0-9A-Za-z_-]{4,40}")
_FOLDER_ID = re.compile(r"\(([^()]+)\)\s*$")
# What a wxid or a WeChat id looks like (a 2024 Sender), as against a display name (2023 "export all")
_LOOKS_LIKE_ID = re.compile(r"wxid_[0-9A-Za-z_-]{4,40}|[A-Za-z][-_0-9A-Za-z]{5,19}|.+@(?:chatroom|openim)")
_SECONDS = {f"{n:02d}": n for n in range(60)}
csv.field_size_limit(1 << 24)  # an app message's XML can be long; a row is still one record


def revoke_text(content: str) -> str:
    """The line WeChat shows for a system XML (a revoke: 「"张三" 撤回了一条消息」)."""
    if not content.lstrip().startswith("<"):
        return content
    m = _REPLACEMSG.search(content)
    return (m.group(1) or m.group(2) or "") if m else ""


def generation(header: list[str]) -> str | None:
    for name, names in GENERATIONS.items():
        if header == names:
            return name
    return None


def folder_id(path: Path) -> str | None:
    """The chat's id from MemoTrace 2025's folder `聊天记录/{备注}({wxid})/`, if it is there."""
    m = _FOLDER_ID.search(path.parent.name)
    return m.group(1).strip() or None if m else None


@dataclass
class Scan:
    """What a first pass over the file learns."""

    generation: str = "2024"
    speakers: set[str] = field(default_factory=set)
    exporter: str | None = None  # the exporting account (IsSender=1)
    notices: bool = False
    group: bool = True
    room: str | None = None
    room_name: str | None = None
    contact: str | None = None  # a 1:1 chat's contact
    contact_names: frozenset[str] = frozenset()  # 2025: the chat's 备注 and 昵称 (who is the contact)
    contact_name: str | None = None  # a contact known by name only (early 2024 1:1): their 备注
    chats: dict[str, Chat] = field(default_factory=dict)  # 2023 "export all": TalkerId → the chat
    names: dict[str, set[str]] = field(default_factory=dict)  # name → wxids (for merging)

    @property
    def label(self) -> str:
        return LABELS[self.generation]


@dataclass
class Chat:
    """One chat of a 2023 "export all" messages.csv (its rows share a TalkerId)."""

    remark: str = ""
    nickname: str = ""
    speakers: set[str] = field(default_factory=set)  # display names, the exporter's 我 left out
    rows: int = 0
    first: int = 0  # the line of its first row
    notices: bool = False
    room: str | None = None  # a group's id (--room), None for a group left out
    contact: str | None = None  # a 1:1 chat's contact (a name-derived id)

    @property
    def name(self) -> str:
        return self.remark or self.nickname

    @property
    def group(self) -> bool:
        return len(self.speakers) > 1 or self.notices


def header_of(path: Path, encoding: str) -> list[str]:
    with open_text(path, encoding) as fh:
        try:
            header = next(csv.reader(fh, strict=True), None)
        except csv.Error as exc:
            raise FileError(f"第 1 行不是 CSV 表头（{exc}）") from None
    if header is None:
        raise FileError("文件是空的")
    return [h.strip().lstrip("\ufeff") for h in header]


_WIDTHS = {"2023": (12,), "2024": (12, 9), "2025": (8,), "2024-1:1": (9,), "2023-all": (12,)}  # fields a record


def rows(path: Path, encoding: str, summary: Summary, gen: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each record after the header; a broken record is skipped
    with its line number."""
    widths = _WIDTHS[gen]
    with open_text(path, encoding) as fh:
        reader = csv.reader(fh, strict=True)
        next(reader, None)
        line = reader.line_num
        while True:
            try:
                for record in reader:  # the C loop; a broken record ends it, and it is taken up again
                    start, line = line + 1, reader.line_num
                    if len(record) in widths:
                        yield start, record
                    elif record and record != [""]:
                        summary.skip(path, start, f"列数不对（应为 {widths[0]} 列）")
                return
            except csv.Error as exc:
                start, line = line + 1, reader.line_num
                why = "文件在这里中断（引号没有闭合，可能没导出完整）" if "end of data" in str(exc) \
                    else f"CSV 格式错误（{exc}）"
                summary.skip(path, start, why)


def records(path: Path, encoding: str, gen: str) -> Iterator[list[str]]:
    """The fields of each record of `rows`, without line numbers or problems (a first pass: the
    second reports them)."""
    width = _WIDTHS[gen]
    with open_text(path, encoding) as fh:
        reader = csv.reader(fh, strict=True)
        next(reader, None)
        while True:
            try:
                for record in reader:
                    if len(record) in width:
                        yield record
                return
            except csv.Error:
                continue


def _sender_2023(f: list[str]) -> str | None:
    m = _WXID.search(f[10]) if len(f) > 10 else None
    return m.group(0) if m else None


def scan(path: Path, encoding: str, opts: ImportOptions, book: NameBook) -> Scan:
    """The first pass: the generation, group or 1:1, the exporter, the chat's id and name, and
    the names of the group's members (into the room's page of the book)."""
    header = header_of(path, encoding)
    gen = generation(header)
    if gen is None:
        raise FileError("表头不对，不是已知的留痕 CSV 格式：实际是「" + ",".join(header)[:200] + "」；"
                        "应为 2025 版「" + ",".join(HEADER_2025) + "」、2024 版「" + ",".join(HEADER)
                        + "」或 2023 版（前 9 列）。请用留痕/MemoTrace 重新导出 CSV，不要在 Excel 里改过再存")
    found = Scan(generation=gen)
    if gen == "2025":
        return _scan_2025(path, encoding, opts, book, found)
    if gen == "2024":
        found.generation = _variant_2024(path, encoding)
        if found.generation == "2024-1:1":
            return _scan_private_9(path, found)
        if found.generation == "2023-all":
            return _scan_all(path, encoding, opts, book, found)
    names = Names()
    for _, f in rows(path, encoding, Summary(), gen):  # problems are reported by the second pass
        if f[2].strip() == str(NOTICE):
            found.notices = found.notices or parse_notice(f[7]) is not None
            continue
        sender = (_sender_2023(f) if gen == "2023" else f[11].strip() if len(f) == 12 else "") or ""
        if not sender:
            continue
        if f[4].strip() == "1":
            found.exporter = found.exporter or sender
        else:
            found.speakers.add(sender)
        if gen == "2024" and len(f) == 12:
            for name in (f[10], f[9]):
                names.add(name, sender)
                if name.strip():
                    found.names.setdefault(name.strip(), set()).add(sender)
    # A 1:1 chat has one contact and the exporting account; anything else is a group.
    found.group = len(found.speakers) > 1 or found.notices or found.exporter is None
    found.room = opts.room if found.group else None
    found.contact = next(iter(found.speakers), None)
    if found.group and found.room is None:
        raise FileError(f"这是群聊导出（{len(found.speakers)} 人发言），文件里没有群 id："
                        "请用 --room 指定群 id，例如 --room 12345678@chatroom（群名可用 --room-name）")
    found.room_name = opts.room_name or path.stem.removesuffix("_utf8")
    if found.room is not None:
        book.room(found.room).update(names)
    return found


def _variant_2024(path: Path, encoding: str) -> str:
    """Which file wrote the 2024 header: "2024" (a chat, Sender a wxid), "2024-1:1" (an early 2024
    private chat: 9 values a row, no Remark/NickName/Sender) or "2023-all" (2023's "export all"
    messages.csv: Sender 我 or a display name, several chats told apart by TalkerId)."""
    nine = twelve = 0
    talkers: set[str] = set()
    ids = names = 0
    for _, f in rows(path, encoding, Summary(), "2024"):
        if len(f) == 9:
            nine += 1
            continue
        twelve += 1
        talkers.add(f[1].strip())
        sender = f[11].strip()
        if not sender or f[2].strip() in (str(NOTICE), str(SYSTEM)):
            continue
        if sender == ME and f[4].strip() == "1":
            return "2023-all"
        if _LOOKS_LIKE_ID.fullmatch(sender):
            ids += 1
        else:
            names += 1
    if nine and not twelve:
        return "2024-1:1"
    if len(talkers) > 1 or (names and not ids):
        return "2023-all"
    return "2024"


def _scan_private_9(path: Path, found: Scan) -> Scan:
    """An early 2024 private chat: the contact is known by the chat's 备注 (the file's name) only,
    or by the wxid in the folder name `{备注}({wxid})/` when it is there."""
    remark = path.stem.removesuffix("_utf8").strip() or path.stem
    found.group = False
    found.contact_name = clean_name(remark)
    found.contact = folder_id(path) or derived_id("", found.contact_name or remark)
    found.room_name = remark
    return found


def _scan_all(path: Path, encoding: str, opts: ImportOptions, book: NameBook, found: Scan) -> Scan:
    """A 2023 "export all" messages.csv: its chats (by TalkerId), which are groups, and which
    group `--room` names (the only group in the file, or the one `--room-name` names)."""
    chats = found.chats
    for line, f in rows(path, encoding, Summary(), "2023-all"):
        chat = chats.get(f[1].strip())
        if chat is None:
            chat = chats[f[1].strip()] = Chat(remark=f[9].strip(), nickname=f[10].strip(), first=line)
        chat.rows += 1
        if f[2].strip() in (str(NOTICE), str(SYSTEM)):
            chat.notices = chat.notices or parse_notice(revoke_text(f[7])) is not None
        elif f[11].strip() and f[4].strip() != "1":
            chat.speakers.add(f[11].strip())
    groups = [c for c in chats.values() if c.group]
    if opts.room is not None:
        named = [c for c in groups if opts.room_name in (c.remark, c.nickname)] if opts.room_name else []
        chosen = named if named else groups if len(groups) == 1 else []
        if len(chosen) == 1:
            chosen[0].room = opts.room
    for chat in chats.values():
        if not chat.group:
            name = clean_name(chat.name) or chat.name
            chat.contact = derived_id("", name)
    if not any(c.room or c.contact for c in chats.values()):
        raise FileError("这是留痕 2023 版「全部导出」的 messages.csv，里面只有群聊，文件里没有群 id："
                        + _which_group(groups))
    for chat in chats.values():
        if chat.room is not None:
            names = book.room(chat.room)
            for raw in chat.speakers - {ME}:
                said = clean_name(raw)
                if said and not names.ids(said):  # a name the store or a wxid export knows resolves to that member
                    names.add(said, derived_id(chat.room, said))
    found.group = any(c.room for c in chats.values())
    return found


def _which_group(groups: list[Chat]) -> str:
    listed = "、".join(f"「{c.name}」（{c.rows} 条）" for c in groups[:20])
    return (f"里面的群有 {listed}。请用 --room 群id --room-name 群名 一次导入一个群，例如 "
            f"--room 12345678@chatroom --room-name {groups[0].name if groups else '读书群'}；"
            "或用留痕逐个导出这些群聊再导入")


def _scan_2025(path: Path, encoding: str, opts: ImportOptions, book: NameBook, found: Scan) -> Scan:
    chat = opts.room or folder_id(path)
    remark = nickname = ""
    # (类型, 发送人) as written: a group's few hundred members and a dozen types, however many rows
    pairs: set[tuple[str, str]] = set()
    add = pairs.add
    for f in records(path, encoding, "2025"):
        add((f[1], f[2]))
        if not remark or not nickname:
            remark, nickname = remark or f[5].strip(), nickname or f[6].strip()
    # Who spoke: the senders of rows that are not system notices (the chat's id, not its
    # notices, says whether it is a group).
    speakers = {sender.strip() for kind, sender in pairs if CHINESE_KINDS.get(kind.strip()) != "system"} - {""}
    if chat is None:
        raise FileError("这是留痕 2025 版（微信 4.x）导出，文件里没有聊天的 id，所在文件夹名也没有"
                        "（应为「聊天记录/备注(wxid)/」）：请用 --room 指定群 id，例如 --room 12345678@chatroom，"
                        "或保留导出时的文件夹结构再导入")
    found.group = chat.endswith("@chatroom") or (opts.room is not None and opts.room == chat)
    found.room_name = opts.room_name or nickname or remark or path.stem
    if found.group:
        found.room = chat
        names = book.room(chat)
        for raw in speakers:
            name = clean_name(raw)
            if name and not names.ids(name):  # a name the store or a wxid export knows resolves to that member
                names.add(name, derived_id(chat, name))
    else:
        found.contact = chat
        found.contact_names = frozenset(n for n in (remark, nickname) if n)
    found.speakers = speakers
    return found


def read(path: Path, encoding: str, opts: ImportOptions, summary: Summary, found: Scan,
         book: NameBook) -> Iterator[Event]:
    if found.generation == "2025":
        yield from _read_2025(path, encoding, opts, summary, found, book)
        return
    if found.generation == "2023-all":
        yield from _read_all(path, encoding, opts, summary, found, book)
        return
    yield from _read_chat(path, encoding, opts, summary, found, book)


def _read_chat(path: Path, encoding: str, opts: ImportOptions, summary: Summary, found: Scan,
               book: NameBook) -> Iterator[Event]:
    """A 2023 or 2024 export of one chat (the 2024 1:1 variant included)."""
    if found.contact is not None and found.contact.startswith(NAME_PREFIX):
        summary.notes.append(f"{path.name}：留痕 2024 早期的私聊导出每行只有 9 列，没有联系人的 wxid："
                             f"联系人按文件名里的备注「{found.contact_name}」识别")
    exporter = opts.self_id or found.exporter
    group, room = found.group, found.room
    place = Place(room or "", found.room_name)
    contact = found.contact
    names = book.room(room) if room is not None else Names()
    if room is not None:
        summary.rooms[room] = place.room_name or room
        for name, wxids in found.names.items():
            summary.name_ids.setdefault(room, {}).setdefault(name, set()).update(wxids)
    ids = IdMaker(room or f"1:1:{contact}")
    checks = Checks(opts)
    for line, f in rows(path, encoding, summary, found.generation):
        try:
            kind, sub, is_sender, at = int(f[2]), int(f[3] or 0), f[4].strip() == "1", int(f[5])
        except ValueError:
            summary.skip(path, line, "Type、SubType、IsSender 或 CreateTime 不是数字")
            continue
        try:
            ts = checks.ts(at)
        except EventError as exc:
            summary.skip(path, line, f"CreateTime {exc}")
            continue
        content = f[7]
        if kind == SYSTEM:  # a revoke or another system XML: its visible line is in replacemsg
            content = revoke_text(content)
        if kind in (NOTICE, SYSTEM):
            if room is not None:
                yield from notice_events(content, ts, place, names, exporter, ids, summary)
            continue
        sender, nickname = _sender(f, found.generation, exporter if is_sender else None)
        if not group:
            if is_sender:
                summary.operator_messages += 1  # the operator's side of the chat, not a member
                continue
            sender = sender or contact
        if not sender:
            summary.skip(path, line, _no_sender(is_sender, found.generation))
            continue
        try:
            sender = checks.ident(sender, "Sender ")
        except EventError as exc:
            summary.skip(path, line, str(exc))
            continue
        what, text = _content(kind, sub, content)
        summary.said(sender, at)
        # never the remark (the exporter's own), but where it is all there is
        yield message(ids.make(at, text, what), ts, sender, text, clean_name(nickname) or found.contact_name,
                      room, place.room_name if room else None, what)


def _sender(f: list[str], generation: str, exporter: str | None) -> tuple[str | None, str | None]:
    """(sender wxid, group nickname) of a row; `exporter` for the exporting account's own rows
    when the file leaves their sender out (None for others' rows)."""
    if generation == "2023":
        return _sender_2023(f) or exporter, None
    if len(f) == 12:
        return f[11].strip() or exporter, f[10]
    return exporter, None


def _no_sender(is_sender: bool, generation: str) -> str:
    """Why a row without a sender was skipped, and what to do about it."""
    if is_sender:
        return "导出账号自己发的，文件里没有它的 wxid：用 --self 指定导出账号的 wxid"
    if generation == "2024":
        return "没有发送者（Sender 为空）"
    return "2023 版导出的这一行找不到发送者的 wxid（BytesExtra 里没有）"


def _content(kind: int, sub: int, content: str) -> tuple[str, str]:
    """(kind of message, its text) of a row's Type, SubType and StrContent."""
    if kind == APP:
        what, text = memotrace_app(sub, content)
        return what, clean_text(text)
    what = MEMOTRACE_TYPES.get(kind, "other")
    return rendered(what, clean_text(content)) if what == "text" else (what, "")


class LocalTime:
    """`YYYY-MM-DD HH:MM:SS` in the export's zone to epoch seconds, one zone lookup an hour
    (a million rows)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._hours: dict[str, int] = {}
        self._minutes: dict[str, int] = {}  # `YYYY-MM-DD HH:MM` → its epoch, once checked

    def epoch(self, text: str) -> int:
        # The common case in two look-ups: a minute seen before, and two digits of seconds.
        if len(text) == 19 and text[16] == ":":
            base = self._minutes.get(text[:16])
            seconds = _SECONDS.get(text[17:])
            if base is not None and seconds is not None:
                return base + seconds
        text = text.strip()
        at = self._epoch(text)
        if len(self._minutes) >= 4096:  # exports are in time order: the recent minutes are the ones asked
            self._minutes.clear()
        self._minutes[text[:16]] = at - int(text[17:19])
        return at

    def _epoch(self, text: str) -> int:
        text = text.strip()
        if len(text) != 19 or text[4] != "-" or text[13] != ":" or text[16] != ":":
            raise ValueError(text)
        hour = text[:13]
        base = self._hours.get(hour)
        if base is None:
            base = int(datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=self.tz).timestamp())
            self._hours[hour] = base
        minutes, seconds = int(text[14:16]), int(text[17:19])
        if minutes > 59 or seconds > 59:
            raise ValueError(text)
        return base + minutes * 60 + seconds


def _read_2025(path: Path, encoding: str, opts: ImportOptions, summary: Summary, found: Scan,
               book: NameBook) -> Iterator[Event]:
    room, group = found.room, found.group
    place = Place(room or "", found.room_name)
    names = book.room(room) if room is not None else Names()
    if room is not None:
        summary.rooms[room] = place.room_name or room
    summary.names_only.add(str(path))
    ids = IdMaker(room or f"1:1:{found.contact}")
    checks = Checks(opts)
    clock = LocalTime(opts.tz)
    people: dict[str, tuple[str | None, str]] = {}  # 发送人 as written → (name, sender id)
    # Looked up once, not per row (a million rows).
    epoch, to_ts, make_id, said, kinds = clock.epoch, checks.ts, ids.make, summary.said, CHINESE_KINDS
    for line, f in rows(path, encoding, summary, "2025"):
        try:
            at = epoch(f[3])
            ts = to_ts(at)
        except ValueError:
            summary.skip(path, line, f"时间「{f[3][:30]}」不是 YYYY-MM-DD HH:MM:SS")
            continue
        except EventError as exc:
            summary.skip(path, line, f"时间{exc}")
            continue
        type_name, content = f[1], f[4]
        kind = kinds.get(type_name) or kinds.get(type_name.strip(), "other")
        if kind == "system":
            if room is not None:
                yield from notice_events(content, ts, place, names, opts.self_id, ids, summary)
            continue
        if kind == NOT_SPEAKING:
            summary.not_speaking += 1
            continue
        who = people.get(f[2])
        if who is None:
            who = people[f[2]] = _who_2025(f[2], room, group, found)
        name, sender = who
        if not name:
            summary.skip(path, line, "没有发送人")
            continue
        if not sender:
            summary.operator_messages += 1  # the exporting account's side of a 1:1 chat
            continue
        what, text = rendered(kind, clean_text(content))
        said(sender, at)
        yield message(make_id(at, text, what), ts, sender, text, name, room,
                      place.room_name if room else None, what)  # a rename moves room_name


def _who_2025(raw: str, room: str | None, group: bool, found: Scan) -> tuple[str | None, str]:
    """(name, sender id) of a 发送人: the id derived from the name in a group; in a 1:1 chat the
    contact, or '' for the exporting account."""
    name = clean_name(raw)
    if not name:
        return None, ""
    if group:
        return name, derived_id(room or "", name)
    return name, (found.contact or "") if name in found.contact_names else ""


def _places(found: Scan, opts: ImportOptions, summary: Summary, book: NameBook
            ) -> dict[str, tuple[Chat, Place, Names, IdMaker]]:
    """TalkerId → (chat, place, its names, its id maker), of the chats of an "export all" file
    that can be imported (a group --room names, a 1:1 chat)."""
    places: dict[str, tuple[Chat, Place, Names, IdMaker]] = {}
    for talker, chat in found.chats.items():
        key = chat.room or chat.contact
        if key is None:
            continue
        place = Place(chat.room or "", opts.room_name or chat.nickname or chat.remark)
        if chat.room is not None:
            summary.rooms[chat.room] = place.room_name or chat.room
        names = book.room(chat.room) if chat.room is not None else Names()
        places[talker] = (chat, place, names, IdMaker(chat.room or f"1:1:{chat.contact}"))
    return places


def _read_all(path: Path, encoding: str, opts: ImportOptions, summary: Summary, found: Scan,
              book: NameBook) -> Iterator[Event]:
    """A 2023 "export all" messages.csv: each chat by its TalkerId; a group's members by display
    name (as MemoTrace 2025), the exporter (我) by --self; a group --room does not name is left
    out, said with its name and how to import it."""
    left = [c for c in found.chats.values() if c.group and c.room is None]
    for chat in left:  # said once per group, at its first line, with how to import it
        summary.skip(path, chat.first, f"群「{chat.name}」的 {chat.rows} 条没有导入：文件里没有群 id。"
                     + _which_group(left))
    if any(c.room for c in found.chats.values()):
        summary.names_only.add(str(path))
    places = _places(found, opts, summary, book)
    checks = Checks(opts)
    for line, f in rows(path, encoding, summary, "2023-all"):
        chosen = places.get(f[1].strip())
        if chosen is None:
            continue
        chat, place, names, ids = chosen
        room = chat.room
        try:
            kind, sub, is_sender, at = int(f[2]), int(f[3] or 0), f[4].strip() == "1", int(f[5])
            ts = checks.ts(at)
        except ValueError:
            summary.skip(path, line, "Type、SubType、IsSender 或 CreateTime 不是数字")
            continue
        except EventError as exc:
            summary.skip(path, line, f"CreateTime {exc}")
            continue
        content = revoke_text(f[7]) if kind == SYSTEM else f[7]
        if kind in (NOTICE, SYSTEM):
            if room is not None:
                yield from notice_events(content, ts, place, names, opts.self_id, ids, summary)
            continue
        name = clean_name(f[11])
        if room is None:  # a 1:1 chat: the contact's side, or the operator's
            if is_sender or f[11].strip() == ME:
                summary.operator_messages += 1
                continue
            sender, name = chat.contact or "", clean_name(chat.nickname) or name
        elif is_sender or f[11].strip() == ME:
            if opts.self_id is None:
                summary.skip(path, line, "导出账号自己发的，文件里没有它的 wxid：用 --self 指定导出账号的 wxid")
                continue
            sender, name = opts.self_id, None
        elif not name:
            summary.skip(path, line, "没有发送人")
            continue
        else:
            sender = derived_id(room, name)  # as MemoTrace 2025: merged once a wxid is known for the name
        what, text = _content(kind, sub, content)
        summary.said(sender, at)
        yield message(ids.make(at, text, what), ts, sender, text, name, room,
                      place.room_name if room else None, what)
