"""ChatLab v0.0.1/v0.0.2, as one JSON document or as JSONL (one object a line, streamed:
a file of any length imports in constant memory)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.core.events import Event, EventError, Message, Recall, depth_of
from bot.importer.detect import open_text
from bot.importer.kinds import rendered
from bot.importer.notices import NameBook, Names, Place, notice_events
from bot.importer.source import (
    Checks,
    FileError,
    IdMaker,
    ImportOptions,
    Summary,
    clean_name,
    clean_text,
)

TEXT, QUOTE, POKE, SYSTEM, RECALL = 0, 25, 22, 80, 81
KINDS = {TEXT: "text", QUOTE: "quote", 1: "image", 2: "voice", 3: "video", 4: "file", 5: "sticker",
         7: "link", 8: "other", 20: "other", 21: "other", 23: "other", 24: "link", 26: "link",
         27: "other", 99: "unknown"}
MAX_LINE_DEPTH = 64  # nesting of one JSONL line: a message is an object of a few levels
ROLES = {"owner": "群主", "admin": "管理员"}


@dataclass
class Chat:
    room: str | None  # None: a private (1:1) chat
    room_name: str | None
    owner: str | None  # the exporting account, whose messages in a 1:1 chat are the operator's
    admins: dict[str, str] = field(default_factory=dict)  # member → 群主 / 管理员


def _objects(path: Path, encoding: str, summary: Summary, *, quiet: bool = False
             ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) of a JSONL file, or of a JSON document taken apart into the same
    objects (header, members, messages)."""

    def skip(n: int, reason: str) -> None:
        if not quiet:
            summary.skip(path, n, reason)

    with open_text(path, encoding) as fh:
        if '"_type"' in _first_line(fh):
            yield from _lines(fh, skip)
            return
        doc = _document(fh)
    yield from _parts(doc, skip)


def _first_line(fh: TextIO) -> str:
    """The first line that is neither blank nor a comment (the file is rewound)."""
    first = ""
    for first in fh:
        if first.strip() and not first.lstrip().startswith("#"):
            break
    fh.seek(0)
    return first


def _lines(fh: TextIO, skip: Callable[[int, str], None]) -> Iterator[tuple[int, dict[str, Any]]]:
    """A JSONL file's objects; a line that is not one is skipped, saying why."""
    for n, line in enumerate(fh, 1):
        text = line.strip().lstrip("\ufeff")
        if not text or text.startswith("#"):
            continue
        obj, problem = _line_object(text)
        if obj is None:
            skip(n, problem)
            continue
        yield n, obj


def _line_object(text: str) -> tuple[dict[str, Any] | None, str]:
    """One JSONL line's object, or None and what is wrong with the line."""
    too_deep = f"JSON 嵌套太深（一行最多 {MAX_LINE_DEPTH} 层），这一行没有导入"
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return None, f"不是完整的 JSON（{exc.args[0].split(':')[0]}，文件可能被截断）"
    except RecursionError:
        return None, too_deep
    if depth_of(obj) > MAX_LINE_DEPTH:
        return None, too_deep
    if not isinstance(obj, dict):
        return None, "应为 JSON 对象"
    return obj, ""


def _document(fh: TextIO) -> dict[str, Any]:
    """A ChatLab JSON document, whole."""
    try:
        doc = json.load(fh)
    except json.JSONDecodeError as exc:
        raise FileError(f"JSON 在第 {exc.lineno} 行第 {exc.colno} 列出错（{exc.msg}），"
                        "文件可能不完整：请重新导出") from None
    except RecursionError:
        raise FileError("JSON 嵌套太深，无法读取：这不是导出工具写的 ChatLab 文件。"
                        "请重新导出（JSONL 格式可以逐行读取，坏行会被跳过）") from None
    if not isinstance(doc, dict) or "meta" not in doc:
        raise FileError("ChatLab JSON 应为含 chatlab、meta、members、messages 的对象")
    return doc


def _parts(doc: dict[str, Any], skip: Callable[[int, str], None]) -> Iterator[tuple[int, dict[str, Any]]]:
    """A JSON document taken apart into the objects of a JSONL file: header, members, messages."""
    yield 1, {"_type": "header", "chatlab": doc.get("chatlab"), "meta": doc.get("meta")}
    for m in doc.get("members") or []:
        if isinstance(m, dict):
            yield 1, {**m, "_type": "member"}
    for i, m in enumerate(doc.get("messages") or []):
        if isinstance(m, dict):
            yield i + 1, {**m, "_type": "message"}
        else:
            skip(1, "messages 里有一项不是对象")


def read(path: Path, encoding: str, opts: ImportOptions, summary: Summary, chat: Chat,
         book: NameBook) -> Iterator[Event]:
    if chat.room is not None:
        summary.rooms[chat.room] = chat.room_name or chat.room
    summary.admins.update(chat.admins)
    names = book.room(chat.room) if chat.room is not None else Names()
    ids = IdMaker(chat.room or f"1:1:{chat.owner}")
    checks = Checks(opts)
    for n, obj in _objects(path, encoding, summary):
        if obj.get("_type") != "message":
            continue
        try:
            event = _message(obj, chat, names, opts, checks, ids, summary)
        except (EventError, TypeError, ValueError) as exc:
            summary.skip(path, n, f"消息无效：{exc}" if isinstance(exc, EventError) else "消息字段类型不对")
            continue
        if isinstance(event, list):
            yield from event
        elif event is not None:
            yield event


def scan(path: Path, encoding: str, opts: ImportOptions, book: NameBook) -> Chat:
    """The first pass: the chat (header), suggested admins, and every name of its members
    (from `members` and from the messages) into the room's page of the book."""
    names = Names()
    chat: Chat | None = None
    for _, obj in _objects(path, encoding, Summary(), quiet=True):
        kind = obj.get("_type")
        if kind == "header":
            raw = obj.get("meta")
            meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
            private = meta.get("type") == "private"
            # The file's own group id is WeChat's: it wins over --room, which is for files without one.
            room = None if private else (_str(meta.get("groupId")) or opts.room)
            if not private and room is None:
                raise FileError("这个 ChatLab 群聊文件没有 meta.groupId：请用 --room 指定群 id，"
                                "例如 --room 12345678@chatroom")
            chat = Chat(room, opts.room_name or _str(meta.get("name")),
                        opts.self_id or _str(meta.get("ownerId")))
        elif chat is None:
            raise FileError("ChatLab 文件应以 header（chatlab 与 meta）开头")
        elif kind == "member":
            member = _str(obj.get("platformId"))
            if not member:
                continue
            for key in ("groupNickname", "accountName"):
                names.add(_str(obj.get(key)), member)
            for alias in obj.get("aliases") or []:
                names.add(_str(alias), member)
            for role in obj.get("roles") or []:
                rid = role.get("id") if isinstance(role, dict) else None
                if rid in ROLES and chat.room is not None:
                    chat.admins[member] = ROLES[rid]
        elif kind == "message":
            member = _str(obj.get("sender"))
            if member:
                names.add(_str(obj.get("groupNickname")), member)
                names.add(_str(obj.get("accountName")), member)
    if chat is None:
        raise FileError("ChatLab 文件没有 header（chatlab 与 meta）")
    if chat.room is not None:
        book.room(chat.room).update(names)
    return chat


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _message(obj: dict[str, Any], chat: Chat, names: Names, opts: ImportOptions, checks: Checks,
             ids: IdMaker, summary: Summary) -> Event | list[Event] | None:
    ts = checks.ts(obj.get("timestamp"))  # type: ignore[arg-type]  # parse_ts checks the type
    at = int(ts.timestamp())
    kind = obj.get("type", TEXT)
    if isinstance(kind, bool) or not isinstance(kind, int):
        raise EventError("type 应为整数类型码")
    content = obj.get("content")
    content = content if isinstance(content, str) else ""
    if kind == RECALL:  # which message is not said: the recall is recorded
        summary.recalls += 1
        sender = _str(obj.get("sender"))
        if not sender or chat.room is None:
            return None
        return Recall(id=ids.make(at, f"{sender}\x1f{content}", "recall"), ts=ts,
                      member=checks.ident(sender, "sender "), room=chat.room)
    if kind == POKE:
        summary.not_speaking += 1
        return None
    if kind == SYSTEM:
        if chat.room is None:
            return None
        place = Place(chat.room, chat.room_name)
        found = notice_events(content, ts, place, names, chat.owner, ids, summary)
        chat.room_name = place.room_name  # a rename: the room's name from here on
        return found
    sender = checks.ident(_str(obj.get("sender")) or "", "sender ")
    if chat.room is None and sender == chat.owner:
        summary.operator_messages += 1
        return None
    what, text = rendered(KINDS.get(kind, "other"), clean_text(content))
    # Not platformMessageId: another exporter's file of the same chat may lack it. Built from
    # the canonical kind and text, as every format does, so the same message gets the same id
    # from any export of the chat.
    event_id = ids.make(at, text, what)
    summary.said(sender, at)
    if chat.room is not None:
        for key in ("groupNickname", "accountName"):
            name = _str(obj.get(key))
            if name:
                summary.name_ids.setdefault(chat.room, {}).setdefault(name, set()).add(sender)
    return Message(id=event_id, ts=ts, sender=sender, text=text,
                   sender_name=clean_name(_str(obj.get("groupNickname")) or _str(obj.get("accountName"))),
                   room=chat.room, room_name=chat.room_name if chat.room else None, kind=what)

