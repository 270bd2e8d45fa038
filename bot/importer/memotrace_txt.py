"""MemoTrace/留痕 TXT: blocks of 「YYYY-MM-DD HH:MM:SS 昵称」 and the content. No ids at all:
a member's id is derived from the room and the display name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bot.core.events import Event, EventError, Message
from bot.importer.detect import open_text
from bot.importer.notices import notice_events, parse_notice
from bot.importer.source import (
    Checks,
    FileError,
    IdMaker,
    ImportOptions,
    Summary,
    clean_name,
    clean_text,
    derived_id,
)

_HEAD = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (.+?)\s*$")
MEDIA = {"[图片]": "image", "[语音]": "voice", "[视频]": "video", "[表情包]": "emoticon",
         "[动画表情]": "emoticon", "[文件]": "file", "[链接]": "url"}
SYSTEM_NAMES = frozenset(("系统消息", "系统通知", "system"))


def blocks(path: Path, encoding: str, summary: Summary) -> Iterator[tuple[int, str, str, str]]:
    """(line, time, name, content) of each block; lines before the first block are skipped."""
    head: tuple[int, str, str] | None = None
    body: list[str] = []
    with open_text(path, encoding) as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n").lstrip("\ufeff") if n == 1 else raw.rstrip("\r\n")
            m = _HEAD.match(line)
            if m:
                if head is not None:
                    yield (*head, "\n".join(body).strip("\n"))
                head, body = (n, m.group(1), m.group(2)), []
            elif head is not None:
                body.append(line)
            elif line.strip():
                summary.skip(path, n, "不在任何一条消息里（应以「2024-01-01 08:00:00 昵称」开头）")
    if head is not None:
        yield (*head, "\n".join(body).strip("\n"))


def read(path: Path, encoding: str, opts: ImportOptions, summary: Summary) -> Iterator[Event]:
    if opts.room is None:
        raise FileError("留痕 TXT 导出里没有群 id：请用 --room 指定群 id，例如 --room 12345678@chatroom")
    room = opts.room
    room_name = opts.room_name or path.stem.removesuffix("_utf8")
    summary.rooms[room] = room_name
    summary.names_only.add(str(path))
    ids = IdMaker(room)
    checks = Checks(opts)
    for line, when, name, content in blocks(path, encoding, summary):
        try:
            local = datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=opts.tz)
            ts = checks.ts(local.timestamp())
        except (ValueError, OverflowError):
            summary.skip(path, line, "时间不是合法的日期时间")
            continue
        except EventError as exc:
            summary.skip(path, line, f"时间{exc}")
            continue
        at = int(ts.timestamp())
        name = clean_name(name) or ""
        if name in SYSTEM_NAMES or parse_notice(content) is not None:
            yield from notice_events(content, ts, room, room_name, lambda n: derived_id(room, n),
                                     opts.self_id, ids, summary)
            continue
        sender = derived_id(room, name)
        kind = MEDIA.get(content.strip(), "text")
        text = clean_text(content) if kind == "text" else ""
        summary.messages += 1
        summary.members.add(sender)
        summary.saw(at)
        yield Message(id=ids.make(at, sender, text, kind), ts=ts, sender=sender, text=text, sender_name=name,
                      room=room, room_name=room_name, kind=kind)

