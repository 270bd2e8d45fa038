"""Replay from a JSONL file of canonical events; replies go to a JSONL file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.adapters.base import EventSink, Outgoing
from bot.core.events import MAX_LINE, Event, EventError, load_json, parse_event


@dataclass
class Rejected:
    line: int
    reason: str


def jsonl_lines(fh: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) of every line of a JSONL stream, read with bounded memory: a line
    longer than MAX_LINE comes back as None after being skipped in chunks. Lines end at `\\n`
    only (so numbers match editors and `sed -n`), a `\\r` before it is dropped, and so is a
    UTF-8 BOM at the start."""
    n = 0
    while True:
        line = fh.readline(MAX_LINE + 1)
        if not line:
            return
        n += 1
        if n == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while True:  # skip the rest of the line without holding it
                chunk = fh.readline(1 << 16)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield n, None
            continue
        yield n, line.rstrip(b"\n").rstrip(b"\r")


@dataclass
class FileAdapter:
    path: Path
    replies_path: Path | None = None
    errors: TextIO = field(default_factory=lambda: sys.stderr)
    rejected: list[Rejected] = field(default_factory=list)
    paced: bool = False
    self_id: str | None = None
    not_after: datetime | None = None  # latest acceptable ts (default: wall clock + 1 day)

    def read(self) -> Iterator[Event]:
        """Every valid event in file order; bad lines are reported with their number."""
        with open(self.path, "rb") as fh:
            for n, line in jsonl_lines(fh):
                try:
                    if line is None:
                        raise EventError(f"这一行太长（上限 {MAX_LINE} 字节）")
                    if not line.strip():
                        continue
                    yield parse_event(load_json(line), not_after=self.not_after)
                except EventError as exc:
                    self.rejected.append(Rejected(n, str(exc)))
                    print(f"{self.path}:{n}: 已跳过：{exc}", file=self.errors)

    async def run(self, sink: EventSink) -> None:
        for event in self.read():
            await sink(event)

    async def send(self, out: Outgoing) -> None:
        if self.replies_path is None:
            return
        with open(self.replies_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(out.as_dict(), ensure_ascii=False) + "\n")
