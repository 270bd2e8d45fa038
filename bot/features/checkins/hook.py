"""The check-in hook: messages that start with a task's trigger word become check-ins; the
day's summaries go out when their window closes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.events import Event, Message
from bot.core.pipeline import Batch, Hook
from bot.deps import Deps
from bot.features.checkins.commands import answer_checkin, summary_text
from bot.features.checkins.service import due_summaries
from tiers import checkin as rules


class CheckinHook(Hook):
    """Takes check-ins as members write them (「打卡 今天读了20页」, 「Day3打卡：…」, 「打卡！」)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.checkins = deps.checkins

    def reset(self) -> None:
        self.checkins.forget()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        self.checkins.reload(batch.conn)
        words = self.checkins.words
        self.checkins.begin(batch, [e.sender for e in events if isinstance(e, Message)
                                    and any(w in e.text.casefold() for w in words)])

    def handle(self, batch: Batch, msg: Message) -> bool:
        # Most messages are chat: a substring test rules them out before any parsing.
        said = msg.text.casefold()
        if not any(w in said for w in self.checkins.words):
            return False
        found = rules.recognise(msg.text, self.checkins.triggers)
        if found is None:
            return False
        tasks = self.checkins.tasks
        task = rules.match_task(found.trigger, tasks, msg.room)
        if task is None:
            return False
        note = found.note
        # 「打卡 早起打卡」: the old way of naming a task after the word, not a note.
        named = rules.match_task_by_name(note, tasks, msg.room) if note else None
        if named is not None:
            task, note = named, None
        # No flush: the check-in reads what it needs once per batch (see Checkins.begin).
        answer_checkin(batch, msg, self.checkins.check_in(batch, msg, task, note))
        return True

    def wants_tick(self, batch: Batch, now: datetime) -> bool:
        return self.checkins.summary_due(batch.conn, batch.local(now))

    def on_tick(self, batch: Batch, now: datetime) -> None:
        self.checkins.write(batch)  # the day's summary counts the check-ins stored
        for summary in due_summaries(batch.conn, self.checkins, self.deps.ledger, batch.local(now)):
            batch.send(summary_text(summary))
