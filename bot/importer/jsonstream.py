"""Reading one big JSON document piece by piece, in bounded memory: the objects of an array one
at a time (each decoded by the json module's C scanner), any value skipped without being held
(a base64 avatar of many megabytes), and a hostile piece (nested 200,000 deep, or too large)
skipped with its line instead of failing the whole file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK = 1 << 18  # characters read at a time
MAX_ITEM = 1 << 20  # characters of one array element decoded whole; a larger one is skipped
SMALL = 4096  # characters of a string kept by `small`; longer ones are skipped (None)
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_STRUCT = re.compile(r'["\[\]{}]')
_WS = " \t\r\n"
_NOT_WS = re.compile(r"[^ \t\r\n]")


class Cut(Exception):
    """The document ends in the middle (a file cut off while it was written or copied)."""


class Bad(Exception):
    """Not JSON at this point; the message says what was expected."""


class Skipped:
    """An array element that was not decoded: `reason` says why (too deep, too large, broken)."""

    def __init__(self, reason: str, line: int) -> None:
        self.reason = reason
        self.line = line


class Stream:
    def __init__(self, fh: TextIO) -> None:
        self.fh = fh
        self.buf = ""
        self.pos = 0
        self.eof = False
        # Lines are counted when asked for (`line`), not at each step: up to `_counted` they are
        # in `_lines`.
        self._lines = 1
        self._counted = 0
        self._decoder = json.JSONDecoder()

    @property
    def line(self) -> int:
        """The line `pos` is on."""
        if self._counted != self.pos:
            self._lines += self.buf.count("\n", self._counted, self.pos)
            self._counted = self.pos
        return self._lines

    # -- the buffer --------------------------------------------------------------------------

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.line  # noqa: B018  (counts the lines of what is dropped)
        self.buf = self.buf[self.pos:] + chunk
        self.pos = self._counted = 0
        return True

    def _advance(self, to: int) -> None:
        self.pos = to

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            m = _NOT_WS.search(self.buf, self.pos)
            if m is not None:
                self.pos = m.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self._fill():
                return ""

    def expect(self, chars: str) -> str:
        ch = self.peek()
        if not ch:
            raise Cut(f"在第 {self.line} 行，文件没有写完（应有 {'或'.join(chars)}）")
        if ch not in chars:
            raise Bad(f"第 {self.line} 行应为 {'或'.join(chars)}，却是「{ch}」")
        self._advance(self.pos + 1)
        return ch

    # -- values ------------------------------------------------------------------------------

    def string(self, limit: int) -> str | None:
        """A string value (the opening quote next); None, without holding it, when longer than
        `limit` characters."""
        self.expect('"')
        parts: list[str] = []
        size = 0
        while True:
            buf, pos = self.buf, self.pos
            quote = buf.find('"', pos)
            slash = buf.find("\\", pos, quote if quote >= 0 else len(buf))
            end = slash if slash >= 0 else quote
            if end < 0:  # the string goes on past the buffer
                size += len(buf) - pos
                if size <= limit:
                    parts.append(buf[pos:])
                self._advance(len(buf))
                if not self._fill():
                    raise Cut(f"在第 {self.line} 行，文件在一个字符串中间结束")
                continue
            if end == slash:
                if slash + 1 >= len(buf) and not self._fill_keep():
                    raise Cut(f"在第 {self.line} 行，文件在一个字符串中间结束")
                buf, pos = self.buf, self.pos
                slash = buf.find("\\", pos)
                piece = buf[pos:slash + 2]
                size += len(piece)
                if size <= limit:
                    parts.append(piece)
                self._advance(slash + 2)
                continue
            size += quote - pos
            if size <= limit:
                parts.append(buf[pos:quote])
            self._advance(quote + 1)
            if size > limit:
                return None
            try:
                text: str = json.loads('"' + "".join(parts) + '"')
                return text
            except ValueError:
                raise Bad(f"第 {self.line} 行有一个写坏的字符串") from None

    def _fill_keep(self) -> bool:
        """Read more without dropping what is unread (pos stays on the same character)."""
        return self._fill()

    def small(self, depth: int = 0) -> Any:
        """A value whose strings are short: a longer string becomes None without being held; an
        object or array nested past 16 levels is skipped (None)."""
        ch = self.peek()
        if ch == '"':
            return self.string(SMALL)
        if ch in "{[":
            if depth >= 16:
                self.skip()
                return None
            return self._container(depth)
        if not ch:
            raise Cut(f"在第 {self.line} 行，文件没有写完")
        while True:
            m = _SCALAR.match(self.buf, self.pos)
            if m and (m.end() < len(self.buf) or self.eof):
                self._advance(m.end())
                return json.loads(m.group(0))
            if m is None and len(self.buf) - self.pos > 64:
                raise Bad(f"第 {self.line} 行不是 JSON 值")
            if not self._fill():
                if m is None:
                    raise Bad(f"第 {self.line} 行不是 JSON 值")

    def _container(self, depth: int) -> Any:
        opening = self.expect("{[")
        closing = "}" if opening == "{" else "]"
        out: Any = {} if opening == "{" else []
        if self.peek() == closing:
            self.expect(closing)
            return out
        while True:
            if opening == "{":
                key = self.string(SMALL) or ""
                self.expect(":")
                out[key] = self.small(depth + 1)
            else:
                out.append(self.small(depth + 1))
            if self.expect(",}" if opening == "{" else ",]") == closing:
                return out

    def skip(self) -> None:
        """Pass over one value of any size or depth without building it."""
        ch = self.peek()
        if ch == '"':
            self.string(0)
            return
        if ch not in "{[":
            self.small()
            return
        level = 0
        while True:
            m = _STRUCT.search(self.buf, self.pos)
            if m is None:
                self._advance(len(self.buf))
                if not self._fill():
                    raise Cut(f"在第 {self.line} 行，文件没有写完")
                continue
            c = m.group(0)
            if c == '"':
                self._advance(m.start())
                self.string(0)
                continue
            self._advance(m.end())
            level += 1 if c in "[{" else -1
            if level == 0:
                return

    def items(self) -> Iterator[tuple[int, Any]]:
        """(line, element) of the array that starts next; an element that cannot be decoded
        comes as a Skipped. Cut when the array does not end."""
        self.expect("[")
        if self.peek() == "]":
            self.expect("]")
            return
        scan = self._decoder.scan_once  # type: ignore[attr-defined]  # what raw_decode calls, without its wrapper
        find = _NOT_WS.search
        while True:
            self.peek()
            line = self.line
            # The common case in one go: the element decodes within the buffer and its comma
            # follows there too; anything else (a cut, a hostile element, the end) goes the long way.
            buf = self.buf
            try:
                value, end = scan(buf, self.pos)
            except (StopIteration, RecursionError, ValueError):
                end = -1
            if end < 0 or end >= len(buf):
                value = self._item(line)
            else:
                after = find(buf, end)
                if after is not None and buf[after.start()] in ",]":
                    self.pos = after.start() + 1
                    yield line, value
                    if buf[after.start()] == "]":
                        return
                    continue
                self.pos = end
            yield line, value
            if self.expect(",]") == "]":
                return

    def _item(self, line: int) -> Any:
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                self.skip()
                return Skipped("嵌套太深", line)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > MAX_ITEM:
                    self.skip()
                    return Skipped(f"太大（超过 {MAX_ITEM // 1024} KB）", line)
                at_end = exc.pos >= len(self.buf) - 1 or exc.msg.startswith("Unterminated")
                if not at_end:  # broken here, not merely cut by the buffer: pass over it
                    self.skip()
                    return Skipped(f"不是合法的 JSON（{exc.msg}）", line)
                if self._fill():
                    continue
                raise Cut(f"第 {line} 行的这一条没有写完，文件在这里中断") from None
            self._advance(end)
            return value
