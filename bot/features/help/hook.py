"""The friendly pointer: a 1:1 message that asks something no command or answer took gets a short
reply pointing to 帮助, once a member a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from bot.core.events import Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.store.models import Outbox
from tagging.question import looks_like_question

POINTER = "这个问题我还答不上来～ 发「帮助」看看我能帮你做什么。"


class PointerHook(Hook):
    """Answers at the batch's next write, once every feature has read the message: an answer
    already queued for it (an FAQ answer) wins, so a message never gets two replies."""

    name = "help"
    after = ("faq",)  # an FAQ answer queued for a question wins over the pointer

    def __init__(self) -> None:
        self._asked: list[Message] = []

    def reset(self) -> None:
        self._asked.clear()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        self._asked.clear()
        batch.flush_hooks.append(self._flush)

    def on_chat(self, batch: Batch, msg: Message) -> None:
        if (msg.room is None and msg.kind == "text" and msg.sender not in batch.bot_ids
                and looks_like_question(msg.text)):
            self._asked.append(msg)

    def _flush(self, batch: Batch) -> None:
        asked, self._asked = self._asked, []
        for msg in asked:
            if any(r.reply_to == msg.id for r in batch.replies) or _pointed_today(batch, msg):
                continue
            batch.reply(msg, POINTER)


def _pointed_today(batch: Batch, msg: Message) -> bool:
    local = batch.local(msg.ts)
    midnight = epoch(datetime.combine(local.date(), datetime.min.time(), local.tzinfo))
    if any(r.to == msg.sender and r.room is None and r.text == POINTER for r in batch.replies):
        return True
    return batch.conn.execute(select(col(Outbox.id)).where(
        col(Outbox.room).is_(None), col(Outbox.created_at) >= midnight, col(Outbox.to) == msg.sender,
        col(Outbox.text) == POINTER).limit(1)).first() is not None
