"""Replay from a JSONL file of canonical events; replies go to a JSONL file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.adapters.base import EventSink, Outgoing
from bot.core.events import MAX_TEXT, Event, EventError, parse_event

MAX_LINE = MAX_TEXT * 4 + 4096  # bytes-ish; longer lines are rejected before json.loads


@dataclass
class Rejected:
    line: int
    reason: str


@dataclass
class FileAdapter:
    path: Path
    replies_path: Path | None = None
    errors: TextIO = field(default_factory=lambda: sys.stderr)
    rejected: list[Rejected] = field(default_factory=list)
    paced: bool = False
    self_id: str | None = None

    def read(self) -> Iterator[Event]:
        """Every valid event in file order; bad lines are reported with their number."""
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    if len(line) > MAX_LINE:
                        raise EventError(f"这一行太长（{len(line)} 字符）")
                    try:
                        raw = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise EventError(f"不是合法的 JSON：{exc.msg}（第 {exc.colno} 列）") from None
                    yield parse_event(raw)
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
