"""Reading in a second process: a reader (an import's files, a replay's JSONL lines) runs in a
child process and sends what it read, in batches, through a pipe while this process works on
what came before; on two cores the reading costs this process only the receiving.

The child is started by `spawn`: a fresh interpreter that gets only its arguments. By the time
it starts this process has the store's connections open (a forked child would hold a
PostgreSQL socket it could close under us, and SQLite's locks must not cross a fork) and may
have threads (a batch's commit, tqdm's monitor) whose locks a fork copies as they stand.

A message is sent as the tuple of its fields and built here by setting its slots (1.4 µs),
not pickled as the frozen dataclass it is: unpickling that goes through __setstate__ and
object.__setattr__ per field (4 µs). Other events are rare (joins, leaves, recalls) and go
as they are.

Ctrl-C reaches the whole process group. The child ignores SIGINT from its start: this process
takes it, and its `close` ends the child, so no second traceback is printed and no child is
left behind. A child that dies (killed, out of memory) is `ReaderFailed`,
said in Chinese; an exception in the child's own code is raised here again, with the child's
traceback as its cause."""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import fields
from multiprocessing.connection import Connection
from operator import attrgetter
from types import TracebackType
from typing import Any

from bot.core.events import Message

BATCH = 1000  # items a send: ~150 KB of messages, a millisecond of the child's reading
PIPE_SIZE = 1 << 20

_DUMPS, _LOADS = pickle.dumps, pickle.loads
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class ReaderFailed(Exception):
    """The reading process stopped before the end of the files (killed, out of memory)."""


class RemoteTraceback(Exception):
    """The child's traceback, as the cause of the exception it raised."""

    def __str__(self) -> str:
        return str(self.args[0])


_MESSAGE_FIELDS = tuple(f.name for f in fields(Message))
packed: Callable[[Message], tuple[Any, ...]] = attrgetter(*_MESSAGE_FIELDS)  # a message's fields, in order
_SETTERS = tuple(getattr(Message, name).__set__ for name in _MESSAGE_FIELDS)
_new = object.__new__


def unpacked(values: tuple[Any, ...]) -> Message:
    """The message whose fields `packed` gave: built by setting its slots, as
    bot.core.events builds a parsed line's (Message has no __post_init__: checked there)."""
    message = _new(Message)
    for put, value in zip(_SETTERS, values, strict=True):
        put(message, value)
    return message


class Feed:
    """The child's side: items go out in batches; `call` asks this process and waits."""

    def __init__(self, conn: Connection, answers: Connection) -> None:
        self._conn = conn
        self._answers = answers
        self._items: list[Any] = []

    def put(self, item: Any) -> None:
        items = self._items
        items.append(item)
        if len(items) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self._items:
            self._conn.send_bytes(_DUMPS(("data", self._items), _PROTOCOL))
            self._items = []

    def send(self, payload: Any) -> None:
        """One payload of its own (after the items put before it)."""
        self.flush()
        self._conn.send_bytes(_DUMPS(("data", payload), _PROTOCOL))

    def call(self, request: Any) -> Any:
        """What the parent's `serve` answers to `request`."""
        self.flush()
        self._conn.send_bytes(_DUMPS(("call", request), _PROTOCOL))
        return _LOADS(self._answers.recv_bytes())


def _child(conn: Connection, answers: Connection, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to take (see the module)
    feed = Feed(conn, answers)
    try:
        result = target(feed, *args)
        feed.flush()
        message: tuple[str, Any] = ("done", result)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        return  # the parent went away (it was stopped): nobody to tell
    except Exception as exc:  # a bug in the reader: raised again in the parent, with this traceback
        message = ("failed", (exc, traceback.format_exc()))
        try:
            _DUMPS(message, _PROTOCOL)
        except Exception:
            message = ("failed", (RuntimeError(repr(exc)), traceback.format_exc()))
    try:
        conn.send_bytes(_DUMPS(message, _PROTOCOL))
    except OSError:
        return


class Readahead:
    """`target(feed, *args)` run in a child process; `batches()` are what it sends, in order
    (its `call`s answered by `serve` meanwhile), and `result` what it returned. Use it as a
    context manager: leaving ends the child."""

    def __init__(self, target: Callable[..., Any], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        # Two one-way pipes: what the child reads comes in the first, answers to its calls go in
        # the second. The first holds up to 1 MiB (Linux's limit for anyone): ~7,000 messages,
        # a third of a second of this process's work, so a child that waits for a core while
        # the machine is busy has read that far ahead.
        self._conn, child_end = context.Pipe(duplex=False)
        child_answers, self._answers = context.Pipe(duplex=False)
        with contextlib.suppress(OSError):  # not Linux, or a lower limit: the default 64 KiB
            fcntl.fcntl(child_end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self.serve: Callable[[Any], Any] | None = None  # what answers the child's `call`s
        self.result: Any = None
        self._process = context.Process(target=_child, args=(child_end, child_answers, target, args),
                                        name="qunguan-reader", daemon=True)
        # SIGINT's disposition SIG_IGN survives exec: the child ignores Ctrl-C from its first
        # instruction (a Ctrl-C in the milliseconds of the start is lost; the next stops us).
        # Not a mask: multiprocessing's resource tracker, started with the first child,
        # unblocks SIGINT on its way. Off the main thread the child sets it itself (_child).
        ignoring = threading.current_thread() is threading.main_thread()
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignoring else None
        try:
            self._process.start()
        finally:
            if ignoring:
                signal.signal(signal.SIGINT, old)
            child_end.close()  # the child's ends are the child's: EOF here once it is gone
            child_answers.close()

    def batches(self) -> Iterator[Any]:
        while True:
            kind, payload = self._receive()
            if kind == "data":
                yield payload
            elif kind == "call":
                if self.serve is None:
                    raise RuntimeError("the reader asked, and nothing here answers")
                answer = _DUMPS(self.serve(payload), _PROTOCOL)
                try:
                    self._answers.send_bytes(answer)
                except OSError:
                    raise ReaderFailed(self._stopped()) from None
            elif kind == "done":
                self.result = payload
                self._process.join()
                return
            else:
                exc, child_traceback = payload
                raise exc from RemoteTraceback(child_traceback)

    def _receive(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = _LOADS(self._conn.recv_bytes())
        except (EOFError, ConnectionResetError):
            raise ReaderFailed(self._stopped()) from None
        return message

    def _stopped(self) -> str:
        self._process.join(10)
        code = self._process.exitcode
        if code is None:
            how = "不再响应"
        elif code < 0:
            name = signal.Signals(-code).name
            how = f"被 {name} 结束" + ("（常见原因：内存不足，被系统结束）" if -code == signal.SIGKILL else "")
        else:
            how = f"退出码 {code}"
        return (f"读取文件的子进程意外退出（{how}），文件没有读完。已经写入的不会重复计算："
                "重新运行同一命令即可继续")

    def close(self) -> None:
        self._conn.close()
        self._answers.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def __enter__(self) -> Readahead:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
