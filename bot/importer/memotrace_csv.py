"""MemoTrace/留痕 CSV: one chat per file, 12 columns, UTF-8 with a BOM, written by Python's
csv module. A group file names each speaker by wxid (`Sender`); a 1:1 file holds the
contact's messages and the exporting account's own (`IsSender=1`, the operator's)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.events import Event, EventError, Message
from bot.importer.detect import open_text
from bot.importer.notices import NameBook, Names, notice_events, parse_notice
from bot.importer.source import (
    Checks,
    FileError,
    IdMaker,
    ImportOptions,
    Summary,
    clean_name,
    clean_text,
)

HEADER = ["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status",
          "StrContent", "StrTime", "Remark", "NickName", "Sender"]
TEXT, NOTICE, SYSTEM, APP = 1, 10000, 10002, 49
KINDS = {3: "image", 34: "voice", 43: "video", 47: "emoticon", 42: "contact", 48: "location",
         50: "call"}
APP_KINDS = {6: "file", 5: "url", 3: "url", 19: "chat_history", 2000: "transfer", 33: "mini_program",
             36: "mini_program"}
QUOTE = 57  # an app message that is a reply quoting another: its own text is chat
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
csv.field_size_limit(1 << 24)  # an app message's XML can be long; a row is still one record


@dataclass
class Scan:
    """What a first pass over the file learns."""

    speakers: set[str] = field(default_factory=set)
    exporter: str | None = None  # the exporting account (IsSender=1)
    notices: bool = False
    group: bool = True


def rows(path: Path, encoding: str, summary: Summary) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each record after the header; a broken record is skipped
    with its line number."""
    with open_text(path, encoding) as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise FileError(f"第 1 行不是 CSV 表头（{exc}）") from None
        if header is None:
            raise FileError("文件是空的")
        header = [h.strip().lstrip("\ufeff") for h in header]
        if header != HEADER:
            raise FileError(f"表头不对：应为 {','.join(HEADER)}（留痕导出的 12 列），"
                            f"实际是 {','.join(header)[:200]}")
        line = reader.line_num
        while True:
            start = line + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                why = "文件在这里中断（引号没有闭合，可能没导出完整）" if "end of data" in str(exc) \
                    else f"CSV 格式错误（{exc}）"
                summary.skip(path, start, why)
                continue
            line = reader.line_num
            if not record or record == [""]:
                continue
            if len(record) != len(HEADER):
                summary.skip(path, start, f"列数不对（应为 {len(HEADER)} 列）")
                continue
            yield start, record


def scan(path: Path, encoding: str, opts: ImportOptions, book: NameBook) -> Scan:
    """The first pass: is it a group or a 1:1 chat, who is the exporter, and the names of
    the group's members (into the room's page of the book)."""
    found = Scan()
    names = Names()
    for _, f in rows(path, encoding, Summary()):  # problems are reported by the second pass
        if f[2].strip() == str(NOTICE):
            found.notices = found.notices or parse_notice(f[7]) is not None
            continue
        sender = f[11].strip()
        if not sender:
            continue
        if f[4].strip() == "1":
            found.exporter = found.exporter or sender
        else:
            found.speakers.add(sender)
        names.add(f[10], sender)
        names.add(f[9], sender)
    # A 1:1 chat has one contact and the exporting account; anything else is a group.
    found.group = len(found.speakers) > 1 or found.notices or found.exporter is None
    if found.group and opts.room is None:
        raise FileError(f"这是群聊导出（{len(found.speakers)} 人发言），文件里没有群 id："
                        "请用 --room 指定群 id，例如 --room 12345678@chatroom（群名可用 --room-name）")
    if found.group and opts.room is not None:
        book.room(opts.room).update(names)
    return found


def read(path: Path, encoding: str, opts: ImportOptions, summary: Summary, found: Scan,
         book: NameBook) -> Iterator[Event]:
    exporter = opts.self_id or found.exporter
    group = found.group
    room = opts.room if group else None
    room_name = opts.room_name or path.stem.removesuffix("_utf8")
    contact = next(iter(found.speakers), None)
    names = book.room(room) if room is not None else Names()
    if room is not None:
        summary.rooms[room] = room_name
    ids = IdMaker(room or f"1:1:{contact}")
    checks = Checks(opts)
    for line, f in rows(path, encoding, summary):
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
        if kind == SYSTEM:
            continue  # revokes and system XML: nobody spoke
        if kind == NOTICE:
            if room is not None:
                yield from notice_events(content, ts, room, room_name, names.resolve, exporter,
                                         ids, summary)
            continue
        sender = f[11].strip() or (exporter if is_sender else None)
        if not group:
            if is_sender:
                summary.operator_messages += 1  # the operator's side of the chat, not a member
                continue
            sender = sender or contact
        if not sender:
            summary.skip(path, line, "没有发送者（Sender 为空）")
            continue
        try:
            sender = checks.ident(sender, "Sender ")
        except EventError as exc:
            summary.skip(path, line, str(exc))
            continue
        text, what = _text_and_kind(kind, sub, content)
        summary.messages += 1
        summary.members.add(sender)
        summary.saw(at)
        yield Message(id=ids.make(at, sender, text, what), ts=ts, sender=sender, text=text,
                      sender_name=clean_name(f[10]), room=room,  # never the remark: the exporter's own
                      room_name=room_name if room else None, kind=what)


def _text_and_kind(kind: int, sub: int, content: str) -> tuple[str, str]:
    if kind == TEXT:
        return clean_text(content), "text"
    if kind == APP and sub == QUOTE:
        if content.lstrip().startswith("<"):
            m = _TITLE.search(content)
            content = m.group(1) if m else ""
        return clean_text(content), "text"
    if kind == APP:
        return "", APP_KINDS.get(sub, "url")
    return "", KINDS.get(kind, "unknown")

