"""MemoTrace/留痕 TXT: records of 「YYYY-MM-DD HH:MM:SS 昵称」 and the content. No ids at all:
a member's id is derived from the room and the display name.

- 2024: `[图片]`-style placeholders, every record ended by a blank line.
- 2025+ (WeChat 4.x): `【图片】`-style placeholders, records joined by one blank line, a system
  record is the time line alone followed by its text, and a content may itself hold blank lines:
  only the next time line ends a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bot.core.events import Event, EventError, Message, check_id
from bot.core.names import derived_id
from bot.importer.detect import open_text
from bot.importer.kinds import JIELONG_APP, dict_app, looks_like_jielong, placeholder_kind, quote_words
from bot.importer.memotrace_csv import LocalTime, folder_id
from bot.importer.notices import Place, notice_events, parse_notice
from bot.importer.source import (
    Checks,
    FileError,
    IdMaker,
    ImportOptions,
    Summary,
    clean_name,
    clean_text,
)

_HEAD = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?: (.*?))?\s*$")
SYSTEM_NAMES = frozenset(("系统消息", "系统通知", "system"))
LABELS = {"2024": "留痕 TXT 2024 版", "2025": "留痕 TXT 2025 版·微信 4.x"}
_SNIFF = 1 << 16


def generation(path: Path, encoding: str) -> str:
    """2025 when its start holds a 【】 placeholder or a time line without a name, else 2024."""
    with open_text(path, encoding) as fh:
        head = fh.read(_SNIFF)
    for line in head.splitlines():
        m = _HEAD.match(line.lstrip("\ufeff"))
        if m and not m.group(2):
            return "2025"
        if placeholder_kind(line) and line.lstrip().startswith("【"):
            return "2025"
    return "2024"


def blocks(path: Path, encoding: str, summary: Summary) -> Iterator[tuple[int, str, str, str]]:
    """(line, time, name, content) of each record ('' for a system record's name); lines
    before the first record are skipped."""
    head: tuple[int, str, str] | None = None
    body: list[str] = []
    with open_text(path, encoding) as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n").lstrip("\ufeff") if n == 1 else raw.rstrip("\r\n")
            m = _HEAD.match(line)
            if m:
                if head is not None:
                    yield (*head, "\n".join(body).strip("\n"))
                head, body = (n, m.group(1), m.group(2) or ""), []
            elif head is not None:
                body.append(line)
            elif line.strip():
                summary.skip(path, n, "不在任何一条消息里（应以「2024-01-01 08:00:00 昵称」开头）")
    if head is not None:
        yield (*head, "\n".join(body).strip("\n"))


def _kind(content: str) -> tuple[str, str]:
    """(kind, text) of a record's content, as the placeholders and forms say."""
    media = placeholder_kind(content)
    if media is not None:
        return media, ""
    app = dict_app(content)
    if app is not None:
        return ("jielong", app[1]) if app[0] == JIELONG_APP else ("link", "")
    if looks_like_jielong(content):
        return "jielong", content.strip()
    if "\n引用：" in content or "\n引用:" in content:
        return "quote", quote_words(content)
    return "text", content


def read(path: Path, encoding: str, opts: ImportOptions, summary: Summary) -> Iterator[Event]:
    room = opts.room or folder_id(path)
    if room is None:
        raise FileError("留痕 TXT 导出里没有群 id：请用 --room 指定群 id，例如 --room 12345678@chatroom"
                        "（2025 版导出保留「聊天记录/备注(wxid)/」文件夹时可以不写）")
    if opts.room is None and not room.endswith("@chatroom"):
        yield from _private(path, encoding, opts, summary, check_id(room, "文件夹名里的 wxid"))
        return
    place = Place(room, opts.room_name or path.stem.removesuffix("_utf8"))
    summary.rooms[room] = place.room_name or room
    summary.names_only.add(str(path))
    ids = IdMaker(room)
    checks = Checks(opts)
    clock = LocalTime(opts.tz)
    for line, when, raw_name, content in blocks(path, encoding, summary):
        try:
            at = clock.epoch(when)
            ts = checks.ts(at)
        except (ValueError, OverflowError):
            summary.skip(path, line, "时间不是合法的日期时间")
            continue
        except EventError as exc:
            summary.skip(path, line, f"时间{exc}")
            continue
        name = clean_name(raw_name) or ""
        if not name or name in SYSTEM_NAMES or parse_notice(content) is not None:
            # A system record (a time line alone, or 系统消息): nobody's message.
            yield from notice_events(content, ts, place, None, opts.self_id, ids, summary)
            if parse_notice(content) is None:
                summary.not_speaking += 1  # a system line that is no join, removal, rename or recall
            continue
        sender = derived_id(room, name)
        kind, text = _kind(content)
        text = clean_text(text)
        summary.said(sender, at)
        yield Message(id=ids.make(at, text, kind), ts=ts, sender=sender, text=text, sender_name=name,
                      room=room, room_name=place.room_name, kind=kind)


def _private(path: Path, encoding: str, opts: ImportOptions, summary: Summary, contact: str) -> Iterator[Event]:
    """A 1:1 chat's TXT in `聊天记录/{备注}({wxid})/`: the records under the contact's 备注 are the
    contact's messages, the others the exporting account's (the operator's)."""
    remark = path.parent.name.rsplit("(", 1)[0].strip()
    ids = IdMaker(f"1:1:{contact}")
    checks = Checks(opts)
    clock = LocalTime(opts.tz)
    for line, when, raw_name, content in blocks(path, encoding, summary):
        try:
            ts = checks.ts(clock.epoch(when))
        except (ValueError, OverflowError, EventError):
            summary.skip(path, line, "时间不是合法的日期时间")
            continue
        name = clean_name(raw_name) or ""
        if not name or name in SYSTEM_NAMES:
            continue
        if name != remark:
            summary.operator_messages += 1
            continue
        kind, text = _kind(content)
        text = clean_text(text)
        at = int(ts.timestamp())
        summary.said(contact, at)
        yield Message(id=ids.make(at, text, kind), ts=ts, sender=contact, text=text, sender_name=name, kind=kind)
