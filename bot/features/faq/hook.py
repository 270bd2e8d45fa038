"""The FAQ hook: a member's question that an answer's keyword names is answered once per room
(1:1: per member) within the cooldown; a 1:1 question nothing answers waits for the operators."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.deps import Deps
from bot.core.directory import member_names
from bot.core.events import Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.faq import service
from tagging.faq import COOLDOWN, UNANSWERED_AFTER, may_answer
from tagging.matcher import KeywordMatcher
from tagging.question import looks_like_question


class FaqHook(Hook):
    name = "faq"

    def __init__(self, deps: Deps, answers: service.Answers) -> None:
        self.deps = deps
        self.answers = answers
        self._entries: dict[int, service.Entry] = {}
        self._matcher: KeywordMatcher | None = None
        self._next_alert: int | None = None  # epoch of the next 1:1 question due for the admins
        self._alerts_known = False

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        if any(isinstance(e, Message) for e in events):
            self._entries, self._matcher = self.answers.current(batch.conn)

    def on_chat(self, batch: Batch, msg: Message) -> None:
        if batch.silent or msg.kind != "text" or not msg.text:
            return
        entry = service.first_hit(self._matcher, msg.text, msg.room)
        if msg.room is not None and entry is None:
            return  # most group chat: no answer's keyword, nothing to read
        asks = looks_like_question(msg.text)
        if msg.room is None and not asks:
            return
        conn = batch.conn
        at = epoch(msg.ts)
        place = msg.room or msg.sender
        if (msg.sender in batch.bot_ids or self.deps.is_admin(msg.sender)
                or self.deps.is_operator(conn, msg.sender)):
            # An operator talking about an answer's subject in a room answers it there: the bot
            # keeps quiet about it for the cooldown. Staff are never answered.
            if msg.room is not None and entry is not None:
                service.note_sent(conn, entry, place, at)
            return
        if not asks:
            return
        if entry is not None:
            last = service.last_sent(conn, entry, place)
            if may_answer(None if last is None else datetime.fromtimestamp(last, msg.ts.tzinfo), msg.ts, COOLDOWN):
                service.note_sent(conn, entry, place, at)
                batch.reply(msg, self._entries[entry].answer)
            return  # answered, now or within the cooldown
        service.note_question(conn, msg.id, msg.sender, at, msg.text)  # 1:1, nothing answered it
        if self._next_alert is None or at < self._next_alert:
            self._next_alert = at + int(UNANSWERED_AFTER.total_seconds())

    def wants_tick(self, batch: Batch, now: datetime) -> bool:
        if batch.silent:
            return False
        if not self._alerts_known:
            self._next_alert = service.next_alert_at(batch.conn)
            self._alerts_known = True
        return self._next_alert is not None and epoch(now) >= self._next_alert

    def on_tick(self, batch: Batch, now: datetime) -> None:
        if not self.wants_tick(batch, now):
            return
        conn = batch.conn
        due = service.due_alerts(conn, epoch(now))
        self._next_alert = service.next_alert_at(conn)
        if not due or not self.deps.settings.admin_ids:
            return
        names = member_names(conn, {m for _, m, _, _ in due})
        minutes = int(UNANSWERED_AFTER.total_seconds() // 60)
        lines = [f"{names.get(m, m)}：「{text[:service.EXCERPT]}」" for _, m, _, text in due]
        text = (f"私聊提问 {minutes} 分钟没人回复（已放进跟进清单）：\n" + "\n".join(lines)
                + "\n请私聊回复 TA，回完在跟进清单里标记已跟进。")
        for admin in sorted(self.deps.settings.admin_ids):
            batch.dm(admin, text)

    def reset(self) -> None:
        self._alerts_known = False
        self._next_alert = None
