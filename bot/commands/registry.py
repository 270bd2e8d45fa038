"""Command declarations, parsing of chat text into a command, and the context handlers get."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.events import Message

if TYPE_CHECKING:
    from bot.pipeline import Batch


class UsageError(Exception):
    """Bad input to a command; the text says what was wrong. The usage line is appended
    unless the text already shows the right form (`show_usage=False`)."""

    def __init__(self, text: str, *, show_usage: bool = True) -> None:
        super().__init__(text)
        self.show_usage = show_usage


class Refused(Exception):
    """The sender may not run this command."""


@dataclass(frozen=True)
class Ctx:
    """What a handler gets besides its arguments."""

    batch: Batch
    msg: Message
    deps: Any  # bot.app.Deps: the services, built once at start-up
    is_admin: bool
    is_operator: bool = False

    @property
    def now(self) -> datetime:
        return self.batch.local(self.msg.ts)

    @property
    def today(self) -> date:
        return self.now.date()

    def reply(self, text: str, *, mention: bool = True) -> None:
        self.batch.reply(self.msg, text, mention=mention)


Handler = Callable[[Ctx, list[str]], str | None]


@dataclass(frozen=True)
class Command:
    name: str  # the /english form, without the slash
    aliases: tuple[str, ...]  # Chinese forms
    usage: str  # one Chinese usage line
    summary: str
    handler: Handler
    admin: bool = False
    operator: bool = False  # operators may use it too (admins always may)

    def help_line(self) -> str:
        return f"{self.usage} — {self.summary}"


@dataclass(frozen=True)
class Invocation:
    command: Command
    word: str
    args: list[str] = field(default_factory=list)


# A leading @mention of the bot ("@群管 打卡"); WeChat ends a mention with U+2005.
_LEADING_MENTION = re.compile(r"^@[^\s\u2005]+[\s\u2005]+")


class Registry:
    def __init__(self, commands: Iterable[Command]) -> None:
        self.commands: list[Command] = []
        self._by_word: dict[str, Command] = {}
        for cmd in commands:
            for word in ("/" + cmd.name, *cmd.aliases):
                key = word.lower()
                if key in self._by_word:
                    raise ValueError(f"command word {word!r} declared twice")
                self._by_word[key] = cmd
            self.commands.append(cmd)

    def parse(self, msg: Message) -> Invocation | None:
        text = msg.text.strip()
        if not text:
            return None
        if msg.mentions and text.startswith("@"):
            text = _LEADING_MENTION.sub("", text, count=1)
        parts = text.split()
        if not parts:
            return None
        word = parts[0]
        cmd = self._by_word.get(word.lower())
        if cmd is None:
            return None
        return Invocation(cmd, word, parts[1:])

    def visible_to(self, is_admin: bool, is_operator: bool = False) -> list[Command]:
        return [c for c in self.commands if may_run(c, is_admin, is_operator)]


def may_run(cmd: Command, is_admin: bool, is_operator: bool) -> bool:
    if cmd.admin:
        return is_admin
    if cmd.operator:
        return is_admin or is_operator
    return True
