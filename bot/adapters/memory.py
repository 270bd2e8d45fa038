"""An adapter for tests: events are fed in by the test, and everything sent is recorded."""

from __future__ import annotations

from bot.adapters.base import EventSink, Outgoing
from bot.core.events import Event


class MemoryAdapter:
    paced = False
    self_id: str | None = None

    def __init__(self, events: list[Event] | None = None, *, fail_sends: int = 0) -> None:
        self.events = list(events or [])
        self.sent: list[Outgoing] = []
        self.fail_sends = fail_sends  # the next N sends raise, to exercise retries

    async def run(self, sink: EventSink) -> None:
        for event in self.events:
            await sink(event)

    async def send(self, out: Outgoing) -> None:
        if self.fail_sends > 0:
            self.fail_sends -= 1
            raise ConnectionError("simulated send failure")
        self.sent.append(out)
