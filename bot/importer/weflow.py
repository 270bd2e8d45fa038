"""WeFlow (a WeChat 4.x exporter) JSON: `{"weflow": {...}, "session": {"wxid", "nickname",
"type": "群聊"|"私聊", "avatar" (a base64 data URL), ...}, "messages": [{"createTime",
"type" (Chinese), "content", "isSend", "senderUsername", "senderDisplayName"}, ...]}`, group or
private, read piece by piece (bot.importer.jsonstream): the avatar is never held, a file
of any length imports in bounded memory, and a file cut off mid-array keeps what was read."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.events import Event, EventError
from bot.importer import jsonstream
from bot.importer.detect import open_text
from bot.importer.kinds import CHINESE_KINDS, NOT_SPEAKING, rendered
from bot.importer.notices import NameBook, Names, Place, notice_events
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

LABEL = "WeFlow JSON"


@dataclass
class Chat:
    room: str | None  # None: a private chat
    contact: str | None  # a private chat's contact
    room_name: str | None
    exporter: str | None = None  # senderUsername of the exporting account's own messages


def _session(path: Path, encoding: str) -> tuple[dict[str, Any], bool]:
    """The session object (long strings left out) and whether `messages` came before it."""
    with open_text(path, encoding) as fh:
        s = jsonstream.Stream(fh)
        try:
            s.expect("{")
            after_messages = False
            while s.peek() != "}":
                key = s.string(200)
                s.expect(":")
                if key == "session":
                    value = s.small()
                    return (value if isinstance(value, dict) else {}), after_messages
                after_messages = after_messages or key == "messages"
                s.skip()
                if s.expect(",}") == "}":
                    break
        except (jsonstream.Cut, jsonstream.Bad) as exc:
            raise FileError(f"WeFlow 文件的开头读不出 session：{exc}") from None
    raise FileError("WeFlow 文件里没有 session（聊天的 wxid 和名字）：请用 WeFlow 重新导出 JSON")


def scan(path: Path, encoding: str, opts: ImportOptions, book: NameBook) -> Chat:
    """The chat (its id, name, group or private) from `session`, and the members' names."""
    session, _ = _session(path, encoding)
    wxid = session.get("wxid") if isinstance(session.get("wxid"), str) else None
    kind = session.get("type")
    group = kind == "群聊" or (wxid or "").endswith("@chatroom") or (kind != "私聊" and opts.room is not None)
    name = next((session[k] for k in ("nickname", "displayName") if isinstance(session.get(k), str)
                 and session[k].strip()), None)
    room_name = opts.room_name or clean_name(name)
    if group:
        room = opts.room or wxid
        if not room:
            raise FileError("这个 WeFlow 群聊文件的 session 里没有 wxid：请用 --room 指定群 id，"
                            "例如 --room 12345678@chatroom")
        chat = Chat(room, None, room_name)
    else:
        if not wxid:
            raise FileError("这个 WeFlow 私聊文件的 session 里没有对方的 wxid，无法知道是谁的消息")
        chat = Chat(None, wxid, None)
    names = Names()
    fast = _senders_fast(path, encoding)
    senders: Iterable[tuple[Any, Any, Any]] = fast if fast is not None else (  # else every message decoded
        (m.get("isSend"), m.get("senderUsername"), m.get("senderDisplayName"))
        for _, m in _messages(path, encoding, Summary(), quiet=True))
    for is_send, sender, shown in senders:
        if not isinstance(sender, str) or not sender:
            continue
        if is_send == 1:
            chat.exporter = chat.exporter or sender
        if isinstance(shown, str):
            names.add(clean_name(shown), sender)
    if chat.room is not None:
        book.room(chat.room).update(names)
    return chat


_STR = rb'"[^"\\]*(?:\\.[^"\\]*)*"'  # a JSON string, unrolled (no alternation per character)
# Who sent each message, as WeFlow writes it: `"isSend": 0, "senderUsername": "…",
# "senderDisplayName": "…"` in this order. A key's opening quote never stands inside a string
# (a quote there is escaped), so the keys found are the messages' own. Searched in the file's
# bytes (UTF-8: a quote or a backslash byte is never part of another character), about twice
# as fast as in decoded text.
_KEY = b'"senderUsername"'
_SENDER = re.compile(rb'"isSend"\s*:\s*(-?\d+|null)\s*,\s*"senderUsername"\s*:\s*(' + _STR + rb'|null)\s*,\s*'
                     rb'"senderDisplayName"\s*:\s*(' + _STR + rb'|null)')
_OVERLAP = 1 << 16  # bytes kept across reads: a sender's fields cut by a read are found whole


def _senders_fast(path: Path, encoding: str) -> list[tuple[Any, Any, Any]] | None:
    """The distinct (isSend, senderUsername, senderDisplayName) of the messages, in the order first
    seen, found by one pattern instead of decoding the messages (the scan's pass over a million);
    None when some senderUsername is not in that shape (another key order, a longer name): then
    the messages are decoded. A UTF-8 file only (else None); a byte that is not UTF-8 raises
    UnicodeDecodeError, as reading it as text does."""
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        return None
    out: list[tuple[Any, Any, Any]] = []
    seen: set[tuple[bytes | Any, ...]] = set()  # the fields as written
    keys = found = 0
    check = codecs.getincrementaldecoder("utf-8")().decode  # the text is checked, not kept
    with open(path, "rb") as fh:
        buf = b""
        while True:
            chunk = fh.read(jsonstream.CHUNK)
            check(chunk, final=not chunk)
            buf += chunk
            # What starts before `limit` is taken this round, the rest (kept) the next.
            limit = len(buf) - _OVERLAP if chunk else len(buf)
            if limit > 0:
                keys += buf.count(_KEY, 0, limit + len(_KEY) - 1)
                for m in _SENDER.finditer(buf):
                    if m.start() >= limit:
                        break
                    found += 1
                    raw = m.groups()
                    if raw not in seen:
                        seen.add(raw)
                        try:
                            out.append((json.loads(raw[0]), json.loads(raw[1]), json.loads(raw[2])))
                        except ValueError:
                            return None
                buf = buf[limit:]
            if not chunk:
                return out if keys == found else None


def _messages(path: Path, encoding: str, summary: Summary, *, quiet: bool = False
              ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, message) of the `messages` array, in file order."""
    with open_text(path, encoding) as fh:
        s = jsonstream.Stream(fh)
        try:
            s.expect("{")
            while s.peek() != "}":
                key = s.string(200)
                s.expect(":")
                if key != "messages":
                    s.skip()
                else:
                    n = 0
                    for line, item in s.items():
                        n += 1
                        if type(item) is dict:
                            yield line, item
                        elif isinstance(item, jsonstream.Skipped):
                            if not quiet:
                                summary.skip(path, item.line, f"第 {n} 条消息{item.reason}，没有导入")
                        elif not quiet:
                            summary.skip(path, line, f"第 {n} 条消息应为 JSON 对象")
                if s.expect(",}") == "}":
                    return
        except jsonstream.Cut as exc:
            if not quiet:
                summary.skip(path, s.line, f"文件不完整：{exc}；之前读到的消息已导入，请重新导出一份完整的")
        except jsonstream.Bad as exc:
            if not quiet:
                summary.skip(path, s.line, f"JSON 格式错误：{exc}；之前读到的消息已导入")


def read(path: Path, encoding: str, opts: ImportOptions, summary: Summary, chat: Chat,
         book: NameBook) -> Iterator[Event]:
    room = chat.room
    names = book.room(room) if room is not None else Names()
    if room is not None:
        summary.rooms[room] = chat.room_name or room
    exporter = opts.self_id or chat.exporter
    ids = IdMaker(room or f"1:1:{chat.contact}")
    checks = Checks(opts)
    place = Place(room or "", chat.room_name)
    learned = summary.name_ids.setdefault(room, {}) if room is not None else {}
    shown: dict[object, str | None] = {}  # senderDisplayName as given → as the contract takes it
    # Looked up once, not per message (a million messages).
    to_ts, make_id, said, kinds = checks.ts, ids.make, summary.said, CHINESE_KINDS
    for line, m in _messages(path, encoding, summary):
        get = m.get
        at = get("createTime")
        try:
            ts = to_ts(at)  # type: ignore[arg-type]  # parse_ts checks the type
        except EventError as exc:
            summary.skip(path, line, f"createTime {exc}")
            continue
        if type(at) is not int:
            at = int(ts.timestamp())
        raw_type, raw_content = get("type"), get("content")
        type_name = raw_type if isinstance(raw_type, str) else ""
        content = raw_content if isinstance(raw_content, str) else ""
        kind = kinds.get(type_name, "other")
        is_send = get("isSend")
        if kind == "system" or (is_send is None and kind in ("text", "other")):
            if room is not None:
                yield from notice_events(content, ts, place, names, exporter, ids, summary)
            continue
        if kind == NOT_SPEAKING or "撤回" in type_name:
            summary.not_speaking += 1
            continue
        raw_sender = get("senderUsername")
        if room is None:
            if is_send == 1:
                summary.operator_messages += 1
                continue
            raw_sender = chat.contact
        if not isinstance(raw_sender, str) or not raw_sender.strip():
            summary.skip(path, line, "没有发送者（senderUsername 为空）")
            continue
        try:
            sender = checks.ident(raw_sender, "senderUsername ")
        except EventError as exc:
            summary.skip(path, line, str(exc))
            continue
        name = _display_name(get("senderDisplayName"), shown)
        if name and room is not None:
            _learn(learned, name, sender)
        what, text = rendered(kind, clean_text(content))
        said(sender, at)
        yield message(make_id(at, text, what), ts, sender, text, name, room,
                      place.room_name if room else None, what)  # a rename moves room_name


def _display_name(raw: object, shown: dict[object, str | None]) -> str | None:
    """senderDisplayName as the contract takes it, each distinct one cleaned once (`shown`)."""
    try:
        return shown[raw]
    except KeyError:
        name = shown[raw] = clean_name(raw)
        return name
    except TypeError:  # not hashable: not a name
        return None


def _learn(learned: dict[str, set[str]], name: str, sender: str) -> None:
    """Note that `name` was shown for wxid `sender` in the room."""
    wxids = learned.get(name)
    if wxids is None:
        learned[name] = {sender}
    elif sender not in wxids:
        wxids.add(sender)
