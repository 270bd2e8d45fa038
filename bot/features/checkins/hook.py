"""The check-in hook: messages that are a task's trigger word become check-ins."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.events import Event, Message
from bot.core.pipeline import Batch, Hook
from bot.features.checkins.commands import answer_checkin
from bot.features.checkins.service import Checkins
from tiers import checkin as rules


class CheckinHook(Hook):
    """Takes messages that are exactly a task's trigger word (打卡, 签到, 早起打卡, ...)."""

    def __init__(self, checkins: Checkins) -> None:
        self.checkins = checkins

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        self.checkins.reload(batch.conn)

    def handle(self, batch: Batch, msg: Message) -> bool:
        if msg.text.strip().casefold() not in self.checkins.words:
            return False
        task = rules.match_task(msg.text, self.checkins.tasks, msg.room)
        if task is None:
            return False
        batch.flush()
        answer_checkin(batch, msg, self.checkins.check_in(batch, msg, task))
        return True
