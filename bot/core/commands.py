"""Chat commands: declarations, the registry that parses chat text, and the hook that runs them."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import event
from sqlalchemy.engine import Connection

from bot.core import audit
from bot.core.deps import Deps
from bot.core.directory import resolve_member
from bot.core.errors import Refused, UsageError
from bot.core.events import Message
from bot.core.options import MemberRef, Options, parse
from bot.core.pipeline import Batch, Hook

log = logging.getLogger(__name__)

REFUSAL = "抱歉，这个命令只有管理员可以用。发送「帮助」看看你能用的命令。"
OPERATORS_ONLY = "抱歉，这个命令只有运营可以用。发送「帮助」看看你能用的命令。"
FAILURE = "抱歉，处理这条命令时出错了，已记录下来，请稍后再试。"


@dataclass(frozen=True)
class Ctx:
    """What a handler gets besides its arguments."""

    batch: Batch
    msg: Message
    deps: Deps
    registry: Registry
    is_admin: bool
    is_operator: bool = False
    # Set by `as_manager`: a command anyone may run did something only a manager may.
    managed: list[bool] = field(default_factory=list, compare=False)
    said: list[str] = field(default_factory=list, compare=False)  # replies so far, for the audit

    def as_manager(self) -> None:
        """Refuse unless the sender is an admin; what follows is a manager's action (audited)."""
        if not self.is_admin:
            raise Refused()
        self.managed.append(True)

    @property
    def now(self) -> datetime:
        return self.batch.local(self.msg.ts)

    @property
    def today(self) -> date:
        return self.now.date()

    def reply(self, text: str, *, mention: bool = True) -> None:
        self.said.append(text)
        self.batch.reply(self.msg, text, mention=mention)

    def member(self, ref: MemberRef) -> tuple[str, str]:
        """(id, name) of the member a manager named: an @mention, an id or an exact name."""
        return resolve_member(self.batch.conn, ref, room=self.msg.room)


Handler = Callable[[Ctx, Options], str | None]


@dataclass(frozen=True)
class Command:
    """A chat command: its words, who may run it, and how its arguments are read (by the one
    option parser, `bot.core.options.parse`, with these keys, flags and member arguments)."""

    name: str  # the /english form, without the slash
    aliases: tuple[str, ...]  # Chinese forms
    usage: str  # one Chinese usage line
    summary: str
    handler: Handler
    admin: bool = False
    operator: bool = False  # operators may use it too (admins always may)
    keys: Mapping[str, str] | None = None  # option key aliases → canonical key; None: no options
    flags: Mapping[str, str] | None = None  # bare flag words → canonical flag
    member_args: int = 0  # how many members the arguments start with
    # A members' command with manager forms too (/shop add …): their syntax and what they do,
    # shown to admins only.
    admin_usage: str = ""
    admin_summary: str = ""
    # Natural forms (排行榜, 我几级了, 我想兑换书签): regular expressions the whole message must
    # match, trailing punctuation and particles aside, so 「这个排行榜好看」 stays chat; a group
    # named `args` carries the arguments.
    forms: tuple[str, ...] = ()

    def usage_for(self, is_admin: bool) -> str:
        return f"{self.usage} · 管理员：{self.admin_usage}" if is_admin and self.admin_usage else self.usage

    def help_line(self, is_admin: bool = False) -> str:
        summary = f"{self.summary}；{self.admin_summary}" if is_admin and self.admin_summary else self.summary
        return f"{self.usage_for(is_admin)} — {summary}"

    def options(self, text: str, mentions: Sequence[str]) -> Options:
        return parse(text, mentions=mentions, keys=self.keys, flags=self.flags,
                     member_args=self.member_args)


@dataclass(frozen=True)
class Invocation:
    command: Command
    word: str
    text: str = ""  # the arguments as typed (U+2005 kept: it ends a WeChat mention's name)
    mentions: tuple[str, ...] = ()  # the mentions among the arguments, in order


# A leading @mention of the bot ("@群管 打卡"); WeChat ends a mention with U+2005.
_LEADING_MENTION = re.compile(r"^@[^\s\u2005]+[\s\u2005]+")
_WORD = re.compile(r"\S+")
# What a natural form may end with besides its words: 「排行榜呢？」「我几级了～」.
_TAIL_CHARS = r"[呢呀啊吖哈嘛\s?？!！。.~～…,，\U0001F300-\U0001FAFF\u2600-\u27BF]"
_TAIL = re.compile(_TAIL_CHARS + "+$")
_TAIL_CHAR = re.compile(_TAIL_CHARS)
_ALL_TAIL = re.compile(_TAIL_CHARS + "*")
NATURAL_MOST = 30  # characters of a natural form, its tail left out: longer is chat


def member_arg(opts: Options, words: Sequence[str]) -> MemberRef:
    """The member a command names: its first @mention, else `words` read as one nickname
    (so "/operator del 张 三" names 张 三 even without quotes)."""
    if opts.members:
        return opts.members[0]
    if not words:
        raise UsageError("请 @ 一位成员，或写出成员的昵称。")
    return MemberRef("name", " ".join(words))


class Registry:
    def __init__(self, commands: Iterable[Command]) -> None:
        self.commands: list[Command] = []
        self._by_word: dict[str, Command] = {}
        self._forms: list[tuple[re.Pattern[str], Command]] = []
        for cmd in commands:
            self._forms += [(re.compile(form), cmd) for form in cmd.forms]
            for word in ("/" + cmd.name, *cmd.aliases):
                key = word.lower()
                if key in self._by_word:
                    raise ValueError(f"command word {word!r} declared twice")
                self._by_word[key] = cmd
            self.commands.append(cmd)
        # Every form at once, its groups uncaptured: most chat matches none, found in one go.
        self._any_form = re.compile("|".join(f"(?:{re.sub(r'[(][?]P<[^>]+>', '(?:', f.pattern)})"
                                             for f, _ in self._forms) or "(?!)")

    def parse(self, msg: Message) -> Invocation | None:
        text = msg.text.lstrip()
        mentions = msg.mentions
        if mentions and text.startswith("@"):
            stripped = _LEADING_MENTION.sub("", text, count=1)
            if stripped != text:  # the bot was mentioned first: its id is not an argument
                text, mentions = stripped, mentions[1:]
        found = _WORD.match(text)
        if found is None:
            return None
        word = found.group()
        cmd = self._by_word.get(word.lower())
        if cmd is None:
            return self._natural(text, mentions)
        return Invocation(cmd, word, text[found.end():].lstrip(" \t\u3000").rstrip(), mentions)

    def _natural(self, text: str, mentions: tuple[str, ...]) -> Invocation | None:
        said = text.strip()
        if len(said) > NATURAL_MOST and _ALL_TAIL.fullmatch(said, NATURAL_MOST) is None:
            return None  # longer than a form even without its tail: chat (no scan of all of it)
        if said and _TAIL_CHAR.match(said, len(said) - 1):  # a tail ends it: else there is none to take off
            said = _TAIL.sub("", said)
        if not said or not self._any_form.fullmatch(said):
            return None
        for form, cmd in self._forms:
            matched = form.fullmatch(said)
            if matched:
                args = matched.groupdict().get("args") or ""
                return Invocation(cmd, said, args.strip(), mentions)
        return None

    def visible_to(self, is_admin: bool, is_operator: bool = False) -> list[Command]:
        return [c for c in self.commands if may_run(c, is_admin, is_operator)]


def may_run(cmd: Command, is_admin: bool, is_operator: bool) -> bool:
    if cmd.admin:
        return is_admin
    if cmd.operator:
        return is_admin or is_operator
    return True


class CommandHook(Hook):
    """Runs chat commands: permission check, a savepoint per command, usage and error replies,
    and the audit log entry of a manager's or operator's command that changed something."""

    name = "commands"
    priority = 1  # a command is a message no feature took (a check-in is taken first)

    def __init__(self, registry: Registry, deps: Deps) -> None:
        self.registry = registry
        self.deps = deps

    def handle(self, batch: Batch, msg: Message) -> bool:
        if not batch.commands:
            return False  # pushed through the event API: chat, never a command
        inv = self.registry.parse(msg)
        if inv is None:
            return False
        batch.count(msg.sender, msg.room, batch.day(msg.ts), "commands")
        batch.flush()
        is_admin = self.deps.is_admin(msg.sender) or self.deps.is_room_admin(batch.conn, msg.sender, msg.room)
        is_operator = self.deps.is_operator(batch.conn, msg.sender)
        ctx = Ctx(batch, msg, self.deps, self.registry, is_admin, is_operator)
        cmd = inv.command
        if not may_run(cmd, is_admin, is_operator):
            ctx.reply(REFUSAL if cmd.admin else OPERATORS_ONLY)
            return True
        savepoint = batch.conn.begin_nested()
        writes = _Writes(batch.conn)
        try:
            with writes:
                text = cmd.handler(ctx, cmd.options(inv.text, inv.mentions))
                batch.session.flush()
        except UsageError as exc:
            savepoint.rollback()
            batch.session.expunge_all()
            ctx.reply(f"{exc}\n用法：{cmd.usage_for(is_admin)}" if exc.show_usage else str(exc))
            return True
        except Refused as exc:
            savepoint.rollback()
            batch.session.expunge_all()
            ctx.reply(str(exc) or REFUSAL)
            return True
        except Exception:
            log.exception("command %s failed on message %s", cmd.name, msg.id)
            savepoint.rollback()
            batch.session.expunge_all()
            ctx.reply(FAILURE)
            return True
        savepoint.commit()
        if writes.seen and (cmd.admin or cmd.operator or ctx.managed):
            # A manager's or operator's command that changed something: an action to audit.
            # One that failed, was refused or only looked at something is not.
            audit.record(batch.conn, at=msg.ts, actor=msg.sender, where=audit.where_of(msg.room),
                         room=msg.room, action=cmd.name, detail=f"{inv.word} {inv.text}".strip(),
                         result=text or "\n".join(ctx.said))
        if text:
            ctx.reply(text)
        return True


_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE")


class _Writes:
    """Whether statements run on a connection, while in this block, wrote to the store."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.seen = False

    def _statement(self, conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip()[:6].upper().startswith(_WRITE_WORDS):
            self.seen = True

    def __enter__(self) -> _Writes:
        event.listen(self.conn, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.conn, "before_cursor_execute", self._statement)
