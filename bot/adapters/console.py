"""`qunguan chat`: a person types as any member in any group and sees the bot's replies."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from bot.adapters.base import EventSink, Outgoing
from bot.core.events import MAX_TEXT, EventError, Message, check_id
from bot.core.names import NAME_PREFIX, derived_id

HELP = """\
在这里你可以扮演任何成员说话，看机器人怎么回复。
  /as 名字@群名   以「名字」的身份在「群名」里说话，例如 /as alice@读书群
  /as 名字        以「名字」的身份私聊机器人
  /quit          退出
其余输入都会作为消息发出，例如：打卡、我的等级、帮助"""


class ConsoleAdapter:
    paced = False
    self_id: str | None = None

    def __init__(
        self,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        resolve_member: Callable[[str], str] = lambda name: name,
        resolve_room: Callable[[str], str] = lambda name: name,
        member_name: Callable[[str], str] = lambda mid: mid,
        room_name: Callable[[str], str] = lambda rid: rid,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.resolve_member = resolve_member
        self.resolve_room = resolve_room
        self.member_name = member_name
        self.room_name = room_name
        self.clock = clock
        self.member = "me"
        self.name = "me"
        self.room: str | None = None
        self.room_label: str | None = None
        self._seq = itertools.count(1)
        self._run_id = int(time.time() * 1000)

    def _print(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def prompt(self) -> str:
        where = self.room_label or "私聊"
        return f"[{self.name}@{where}]> "

    def _member_id(self, name: str) -> str:
        return _as_id(self.resolve_member(name), lambda: derived_id("", name))

    def switch(self, spec: str) -> str:
        name, _, room = spec.strip().partition("@")
        if not name:
            return "用法：/as 名字@群名（私聊时不写 @群名）"
        member = self._member_id(name)
        # `/as wxid_abc@群`: speak as that member under their stored name, never renaming them
        # to their id (the name goes into every message's sender_name).
        known = self.member_name(member)
        self.member, self.name = member, known if known != member else name
        if room:
            found = _as_id(self.resolve_room(room),
                           lambda: derived_id("", room).removeprefix(NAME_PREFIX) + "@chatroom")
            self.room, self.room_label = found, room
        else:
            self.room, self.room_label = None, None
        return f"现在你是 {self.name}，在{('「' + room + '」') if room else '私聊'}里说话。"

    def message(self, text: str) -> Message:
        mentions = tuple(self._member_id(tok[1:]) for tok in text.split() if tok.startswith("@") and len(tok) > 1)
        return Message(
            id=f"console-{self._run_id}-{next(self._seq)}",
            ts=self.clock(),
            sender=self.member,
            sender_name=self.name,
            text=text[:MAX_TEXT],
            room=self.room,
            room_name=self.room_label,
            mentions=mentions,
        )

    async def run(self, sink: EventSink) -> None:
        self._print(HELP)
        while True:
            self.stdout.write(self.prompt())
            self.stdout.flush()
            line = await asyncio.to_thread(self._readline)
            if line is None:
                return
            if isinstance(line, bytes):
                self._print("这一行不是合法的 UTF-8 文本，没有发出。请检查终端的编码设置后重新输入。")
                continue
            text = line.strip()
            if not text:
                continue
            if text in ("/quit", "/exit"):
                return
            if text.startswith("/as"):
                self._print(self.switch(text[3:]))
                continue
            await sink(self.message(text))

    def _readline(self) -> str | bytes | None:
        """The next line typed; None at the end, the raw bytes when they are not UTF-8."""
        raw = getattr(self.stdin, "buffer", None)
        if raw is None:  # a text stream handed in (tests)
            return self.stdin.readline() or None
        data: bytes = raw.readline()
        if not data:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data

    def refused(self, reason: str) -> None:
        """The app refused what was typed (e.g. a control character): say so."""
        self._print(f"这条消息没有发出：{reason}")

    async def send(self, out: Outgoing) -> None:
        if out.action:  # an account action: what it would do in WeChat
            what = {"accept": "通过好友申请", "room_del": f"移出群「{self.room_name(out.room or '')}」"}.get(
                out.action, f"拉进群「{self.room_name(out.room or '')}」")
            self._print(f"群管 （{what}：{self.member_name(out.to or '')}）")
            return
        where = f"[{self.room_name(out.room)}] " if out.room else f"[私聊 {self.member_name(out.to or '')}] "
        at = " ".join("@" + self.member_name(m) for m in out.mentions)
        self._print(f"群管 {where}{at + ' ' if at else ''}{out.text}")


def _as_id(value: str, derived: Callable[[], str]) -> str:
    """`value` (a name typed after /as) as an id: itself where the contract takes it as one, else
    an id derived from it (a name with an emoji ZWJ or a zero-width space is a name, not an id)."""
    try:
        return check_id(value, "id")
    except EventError:
        return derived()
