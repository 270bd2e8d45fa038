"""A generated group history written as the desktop exporters write it (MemoTrace CSV of 2024
and 2025, ChatLab JSONL, WeFlow JSON): what the demo imports and scripts/bench_import.py
measures."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.demo.sample import BOOKS, DEFAULT_TZ, _wxid, chat_line, nickname

SHANGHAI = ZoneInfo(DEFAULT_TZ)  # the exporting computer's time zone (StrTime)
MEDIA = (("image", 3, 1), ("voice", 34, 2), ("emoticon", 47, 5), ("video", 43, 3))  # kind, CSV Type, ChatLab type
NOTES = ("今天读了{n}页", "跑步{n}公里", "背了{n}个单词", "读完《{book}》第{n}章", "冥想{n}分钟")


@dataclass(frozen=True)
class Said:
    """One line of a group's history: a message (text or media) or a join notice."""

    ts: int
    sender: str
    name: str
    kind: str  # text | image | voice | emoticon | video | join
    text: str = ""
    inviter: str | None = None  # a join's inviter
    inviter_name: str | None = None


def group_history(n: int, *, seed: int = 7, start: datetime | None = None, members: int = 480,
                  joins: int = 300, checkins: float = 0.05, media: float = 0.10,
                  gap: int = 10) -> Iterator[Said]:
    """`n` messages of one group, 1 to `gap` seconds apart from `start` (default 2026-03-01
    in Shanghai): `checkins` of them check-ins with a note, `media` photos, voice, stickers
    and videos, the rest chat; `joins` members join along the way (most invited by a
    member), the others were there from the start. Lazy: a million cost no memory."""
    rng = random.Random(seed)
    at = start or datetime(2026, 3, 1, 7, 0, tzinfo=ZoneInfo(DEFAULT_TZ))
    taken: set[str] = set()
    people = [(_wxid(rng, taken), nickname(rng)) for _ in range(members)]
    present = people[: members - joins]
    waiting = people[members - joins :]
    join_every = max(n // (joins + 1), 1)
    for i in range(1, n + 1):
        at += timedelta(seconds=rng.randint(1, gap))
        ts = int(at.timestamp())
        if waiting and i % join_every == 0:
            new = waiting.pop()
            inviter = rng.choice(present) if rng.random() < 0.7 else None
            present.append(new)
            yield Said(ts, new[0], new[1], "join", inviter=inviter[0] if inviter else None,
                       inviter_name=inviter[1] if inviter else None)
        # A few members say most of what is said.
        sender, name = present[min(int(rng.paretovariate(1.2)) - 1, len(present) - 1)] \
            if rng.random() < 0.6 else rng.choice(present)
        r = rng.random()
        if r < checkins:
            note = rng.choice(NOTES).format(n=rng.randint(1, 60), book=rng.choice(BOOKS))
            text = rng.choice(("打卡 ", "#打卡 第{d}天：", "【打卡】", "Day{d}打卡：")).format(
                d=rng.randint(1, 99)) + note
            yield Said(ts, sender, name, "text", text)
        elif r < checkins + media:
            yield Said(ts, sender, name, rng.choice(MEDIA)[0])
        else:
            yield Said(ts, sender, name, "text", chat_line(rng, "reading"))


HEADER = ["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status",
          "StrContent", "StrTime", "Remark", "NickName", "Sender"]
_CSV_TYPES = {kind: code for kind, code, _ in MEDIA} | {"text": 1}
_CHATLAB_TYPES = {kind: code for kind, _, code in MEDIA} | {"text": 0}


def _notice(s: Said) -> str:
    """A join as the Chinese system notice WeChat writes."""
    return (f'"{s.inviter_name}"邀请"{s.name}"加入了群聊' if s.inviter_name
            else f'"{s.name}"通过扫描二维码加入群聊')


def write_memotrace_csv(history: Iterator[Said], path: Path, tz: ZoneInfo = SHANGHAI) -> int:
    """As MemoTrace writes a group: UTF-8 with a BOM, Python's csv module, joins as Chinese
    system notices naming people by nickname; returns how many messages."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i, s in enumerate(history, 1):
            when = datetime.fromtimestamp(s.ts, tz).strftime("%Y-%m-%d %H:%M:%S")
            if s.kind == "join":
                out.writerow([i, 1, 10000, 0, 0, s.ts, 0, _notice(s), when, "", "", ""])
                continue
            n += 1
            content = s.text if s.kind == "text" else f'<msg><{s.kind} length="{i % 9000}"/></msg>'
            out.writerow([i, 1, _CSV_TYPES[s.kind], 0, 0, s.ts, 0, content, when, "", s.name, s.sender])
    return n


def write_chatlab_jsonl(history: Iterator[Said], path: Path, room: str, room_name: str) -> int:
    """As ChatLab v0.0.2 JSONL: a header line, then one message a line; returns how many."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"_type": "header", "chatlab": {"version": "0.0.2", "exportedAt": 0},
                             "meta": {"name": room_name, "platform": "wechat", "type": "group",
                                      "groupId": room}}, ensure_ascii=False) + "\n")
        for s in history:
            if s.kind == "join":
                line = {"_type": "message", "sender": "system", "accountName": "系统消息",
                        "timestamp": s.ts, "type": 80, "content": _notice(s)}
            else:
                n += 1
                line = {"_type": "message", "sender": s.sender, "accountName": s.name,
                        "timestamp": s.ts, "type": _CHATLAB_TYPES[s.kind],
                        "content": s.text if s.kind == "text" else None}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return n


HEADER_2025 = ["消息ID", "类型", "发送人", "时间", "内容", "备注", "昵称", "更多信息"]
_CHINESE = {"text": "文本", "image": "图片", "voice": "语音", "emoticon": "表情包", "video": "视频"}
_WEFLOW = {"text": "文本消息", "image": "图片消息", "voice": "语音消息", "emoticon": "动画表情", "video": "视频消息"}



def write_memotrace_2025_csv(history: Iterator[Said], path: Path, room_name: str,
                             tz: ZoneInfo = SHANGHAI) -> int:
    """As MemoTrace 2025 (WeChat 4.x) writes a group: the Chinese header, display names, local
    times, 【图片】-style contents; `path` should sit in `聊天记录/{备注}({room id})/`."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER_2025)
        for i, s in enumerate(history, 1):
            when = datetime.fromtimestamp(s.ts, tz).strftime("%Y-%m-%d %H:%M:%S")
            if s.kind == "join":
                out.writerow([i, "系统消息", "", when, _notice(s), "", room_name, "more"])
                continue
            n += 1
            content = s.text if s.kind == "text" else f"【{_CHINESE[s.kind]}】"
            out.writerow([i, _CHINESE[s.kind], s.name, when, content, "", room_name, "more"])
    return n


def write_weflow_json(history: Iterator[Said], path: Path, room: str, room_name: str,
                      avatar_bytes: int = 1 << 20) -> int:
    """As WeFlow writes a group: one JSON document, the session first with a base64 avatar of
    `avatar_bytes`, then every message; returns how many messages."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        session = {"wxid": room, "nickname": room_name, "remark": "", "displayName": room_name, "type": "群聊",
                   "messageCount": 0, "avatar": "data:image/jpeg;base64," + "A" * avatar_bytes}
        fh.write('{"weflow": {"version": "1.2.0", "exportTime": "2026-12-01 20:00:00"},\n"session": '
                 + json.dumps(session, ensure_ascii=False) + ',\n"messages": [\n')
        first = True
        for i, s in enumerate(history, 1):
            if s.kind == "join":
                m = {"localId": i, "createTime": s.ts, "type": "系统消息", "content": _notice(s), "isSend": None,
                     "senderUsername": "", "senderDisplayName": ""}
            else:
                n += 1
                m = {"localId": i, "createTime": s.ts, "type": _WEFLOW[s.kind],
                     "content": s.text if s.kind == "text" else f"[{_WEFLOW[s.kind][:2]}]", "isSend": 0,
                     "senderUsername": s.sender, "senderDisplayName": s.name}
            fh.write(("" if first else ",\n") + json.dumps(m, ensure_ascii=False))
            first = False
        fh.write("\n]}\n")
    return n
