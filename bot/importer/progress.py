"""How far an import is: a tqdm bar on a terminal (file, messages/s, eta), else a line
every 10 seconds, on an explicit clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from tqdm import tqdm

from bot.core.events import Event, Message

LINE_EVERY = 10.0  # seconds between lines when not on a terminal


class Progress:
    def __init__(self, total: int, *, enabled: bool = True, terminal: bool = False,
                 out: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.enabled = enabled
        self.terminal = terminal
        self.out = out
        self.clock = clock
        self._bar: tqdm | None = None
        self.current = ""  # the file the latest event came from

    def labelled(self, name: str, events: Iterable[Event]) -> Iterator[Event]:
        for event in events:
            self.current = name
            yield event

    def track(self, events: Iterable[Event]) -> Iterator[Event]:
        if not self.enabled:
            yield from events
            return
        if self.terminal:
            self._bar = tqdm(total=self.total or None, unit=" 条", unit_scale=True, file=self.out,
                             desc="导入", dynamic_ncols=True, mininterval=0.5)
        started = last = self.clock()
        done = 0
        shown_file = ""
        for event in events:
            yield event
            if not isinstance(event, Message):
                continue
            done += 1
            if done & 255:
                continue
            now = self.clock()
            current = self.current
            if self._bar is not None:
                self._bar.update(done - self._bar.n)
                if current != shown_file:
                    self._bar.set_postfix_str(current, refresh=False)
                    shown_file = current
            elif now - last >= LINE_EVERY:
                last = now
                rate = done / max(now - started, 1e-9)
                left = f"，约还需 {max(self.total - done, 0) / rate:.0f} 秒" if self.total and rate else ""
                print(f"导入中：{current}，已读 {done} 条消息，每秒 {rate:,.0f} 条{left}",
                      file=self.out, flush=True)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
