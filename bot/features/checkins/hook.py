"""The check-in hook: messages that start with a task's trigger word become check-ins; the
day's summaries go out when their window closes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.core.events import Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.deps import Deps
from bot.features.checkins.commands import answer_checkin, makeup_text, summary_text
from bot.features.checkins.service import CheckinResult, due_summaries, jielong_versions, own_names
from tiers import checkin as rules
from tiers import jielong


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
        if msg.kind == "jielong":
            return self._jielong(batch, msg)
        if msg.kind != "text":
            return False
        # Most messages are chat: a substring test rules them out before any parsing.
        said = msg.text.casefold()
        if not any(w in said for w in self.checkins.words):
            return False
        triggers = self.checkins.triggers
        found = rules.recognise(msg.text, triggers)
        if found is None:  # perhaps after the member's own name: 「小舟 打卡第18天」
            found = rules.recognise(msg.text, triggers, own_names(batch.conn, msg.sender, msg.room,
                                                                   msg.sender_name))
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
        if found.makeup:  # 「补打卡」: a make-up card fills yesterday
            batch.count(msg.sender, msg.room, batch.day(msg.ts), "commands")
            batch.reply(msg, makeup_text(self.checkins.make_up(batch, msg, task)))
            return True
        # No flush: the check-in reads what it needs once per batch (see Checkins.begin).
        result = self.checkins.check_in(batch, msg, task, note)
        answer_checkin(batch, msg, result)
        _took_part(batch, msg, result)
        return True

    def _jielong(self, batch: Batch, msg: Message) -> bool:
        """A 接龙 version: a check-in for its sender when the list is for a task and the
        sender's entry is new in it (the entry is the note); anything else is chat."""
        parsed = jielong.parse(msg.text)
        task = jielong.task_of(parsed, self.checkins.tasks, msg.room) if parsed else None
        if parsed is None or task is None:
            return False
        conn = batch.conn
        batch.flush()  # the versions before this one, in this batch too
        versions = jielong_versions(conn, msg.room or "", epoch(msg.ts), parsed.key)
        names = own_names(conn, msg.sender, msg.room, msg.sender_name)
        entry = jielong.senders_entry(versions[-1].jielong if versions else None, parsed, names)
        if entry is None:
            return False  # the starter's template, a list passed on again, someone else's edit
        note = jielong.entry_note(entry, names)
        if jielong.is_absence(note):
            return False
        starter, started = (versions[0].member, versions[0].ts) if versions else (msg.sender, epoch(msg.ts))
        day = None
        if self.deps.is_admin(starter) or self.deps.is_operator(conn, starter):
            # An operator's list is for the day it was started (an overnight task: its night).
            day = rules.checkin_day(task, batch.local(datetime.fromtimestamp(started, UTC)))
        result = self.checkins.check_in(batch, msg, task, note, day=day)
        if result.outcome.reason != "already":  # an entry edited and sent again counts once, quietly
            answer_checkin(batch, msg, result)
        _took_part(batch, msg, result)
        return True

    def wants_tick(self, batch: Batch, now: datetime) -> bool:
        return self.checkins.summary_due(batch.conn, batch.local(now))

    def on_tick(self, batch: Batch, now: datetime) -> None:
        self.checkins.write(batch)  # the day's summary counts the check-ins stored
        for summary in due_summaries(batch.conn, self.checkins, self.deps.ledger, batch.local(now)):
            batch.send(summary_text(summary))


def _took_part(batch: Batch, msg: Message, result: CheckinResult) -> None:
    """Writing a note every day is taking part: an accepted check-in with a note counts for
    speaking like a message of the note's words (a bare 打卡 does not)."""
    if result.points is not None and result.note:
        batch.taking_part.append(replace(msg, text=result.note, kind="text"))
