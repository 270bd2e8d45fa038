"""The check-in hook: messages that start with a task's trigger word become check-ins; the
day's summaries go out when their window closes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from bot.core.deps import Deps
from bot.core.errors import UsageError
from bot.core.events import WORD_KINDS, Event, Message
from bot.core.pipeline import Batch, Hook, epoch
from bot.features.checkins.commands import (
    answer_checkin,
    makeup_text,
    review_checkin,
    said_after_word,
    summary_text,
)
from bot.features.checkins.roll import due_notices, send_notices, staff
from bot.features.checkins.service import (
    MEDIA_KINDS,
    CheckinResult,
    Checkins,
    due_summaries,
    jielong_versions,
    waiting_for_media,
)
from bot.features.outreach.api import unsubscribed
from bot.features.points.api import Ledger
from bot.features.privacy.api import rank_hidden
from tiers import checkin as rules
from tiers import jielong


class CheckinHook(Hook):
    """Takes check-ins as members write them (「打卡 今天读了20页」, 「Day3打卡：…」, 「打卡！」)."""

    name = "checkins"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.checkins = deps.service(Checkins)
        # Reminders and roundups this process has handled (sent, or found sent): ticks come
        # twice a second, so what is due is decided in memory and the store is asked once.
        self.noticed: set[tuple[str, int, date]] = set()
        # The batch's messages that hold a trigger word, and the test that found them: a message
        # is tested once, unless a command changed the tasks (and so the test) since.
        self._worded: tuple[set[str], Callable[[str], object]] = (set(), self.checkins.said_word)

    def reset(self) -> None:
        self.checkins.forget()
        self.noticed.clear()

    def start_batch(self, batch: Batch, events: Sequence[Event]) -> None:
        self.checkins.reload(batch.conn)
        said_word = self.checkins.said_word
        worded = [e for e in events if isinstance(e, Message) and said_word(e.text.casefold())]
        self._worded = ({e.id for e in worded}, said_word)
        self.checkins.begin(batch, [e.sender for e in worded])

    def on_event(self, batch: Batch, event: Event) -> None:
        self.checkins.forget_names()  # a roster or a join may have named members anew

    def handle(self, batch: Batch, msg: Message) -> bool:
        if (msg.quote_of or msg.quote_sender) and msg.text.lstrip().startswith("优秀") and batch.commands \
                and (self.deps.is_admin(msg.sender) or self.deps.is_operator(batch.conn, msg.sender)):
            return self._excellent(batch, msg)
        if msg.kind == "jielong":
            return self._jielong(batch, msg)
        if msg.kind in MEDIA_KINDS["any"]:
            return self._media(batch, msg)
        if msg.kind not in WORD_KINDS:  # text, and a quote's new words
            return False
        # Most messages are chat: a substring test rules them out before any parsing.
        worded, test = self._worded
        said_word = self.checkins.said_word
        if not (msg.id in worded if test is said_word else said_word(msg.text.casefold())):
            return False
        triggers = self.checkins.triggers
        found = rules.recognise(msg.text, triggers)
        if found is None:  # perhaps after the member's own name: 「小舟 打卡第18天」
            found = rules.recognise(msg.text, triggers, self.checkins.own_names(batch, msg))
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
        if task.media and note is None and self._wants_media(batch, msg, task):
            return True
        # No flush: the check-in reads what it needs once per batch (see Checkins.begin).
        result = self.checkins.check_in(batch, msg, task, note)
        answer_checkin(batch, msg, result)
        _took_part(batch, msg, result)
        return True

    def _wants_media(self, batch: Batch, msg: Message, task: rules.CheckinTask) -> bool:
        """A bare trigger of a photo task, in its window and not yet checked in today: the
        photo within 10 minutes is the check-in."""
        local = batch.local(msg.ts)
        if not rules.in_window(task, local.time()) or self.checkins.has_checked_in(
                batch.conn, msg.sender, task.id, rules.checkin_day(task, local)):
            return False  # answered by check_in: the window, or already
        batch.count(msg.sender, msg.room, local.date(), "commands")
        what = {"image": "一张图片", "voice": "一条语音"}.get(task.media or "", "一张图片或一条语音")
        batch.reply(msg, f"收到！请在 10 分钟内发{what}，完成「{task.name}」打卡。")
        return True

    def _media(self, batch: Batch, msg: Message) -> bool:
        """A photo (or voice message) of a task that takes them: the check-in when it comes
        within the task's window, or within 10 minutes after a bare trigger; else chat."""
        tasks = sorted((t for t in self.checkins.tasks if t.active and t.media and t.room in (None, msg.room)
                        and msg.kind in MEDIA_KINDS[t.media]), key=lambda t: (t.room is None, t.id))
        if not tasks:
            return False
        local = batch.local(msg.ts)
        conn = batch.conn
        for task in tasks:
            if self.checkins.has_checked_in(conn, msg.sender, task.id, rules.checkin_day(task, local)):
                continue  # more photos after a check-in are chat
            batch.flush()  # a bare trigger earlier in this batch
            waited = waiting_for_media(conn, msg, task, self.checkins.own_names(batch, msg))
            if not waited and not rules.in_window(task, local.time()):
                continue
            note = msg.text.strip() or ("语音打卡" if msg.kind == "voice" else "图片打卡")
            result = self.checkins.check_in(batch, msg, task, note[:rules.MAX_NOTE], any_time=waited)
            answer_checkin(batch, msg, result)
            return True
        return False

    def _excellent(self, batch: Batch, msg: Message) -> bool:
        """「优秀」 quoting a check-in, from an operator: the /excellent command."""
        batch.count(msg.sender, msg.room, batch.day(msg.ts), "commands")
        batch.flush()
        savepoint = batch.conn.begin_nested()
        try:
            said = review_checkin(batch, self.deps, msg, excellent=True, text=said_after_word(msg.text))
        except UsageError as exc:
            savepoint.rollback()
            said = str(exc)
        else:
            savepoint.commit()
        if said:
            batch.reply(msg, said)
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
        names = self.checkins.own_names(batch, msg)
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
        local = batch.local(now)
        return self.checkins.summary_due(batch.conn, local) or bool(
            due_notices(self.checkins.tasks, local.replace(tzinfo=None), self.noticed))

    def on_tick(self, batch: Batch, now: datetime) -> None:
        self.checkins.write(batch)  # the day's summary counts the check-ins stored
        local = batch.local(now)
        for summary in due_summaries(batch.conn, self.checkins, self.deps.service(Ledger), local):
            batch.send(summary_text(summary))
        if not self.checkins.tasks:  # a tick before the process's first batch
            self.checkins.reload(batch.conn)
        if due_notices(self.checkins.tasks, local.replace(tzinfo=None), self.noticed):
            conn = batch.conn
            leave_out = (staff(conn, self.deps.settings.admin_ids, batch.bot_ids)
                         | unsubscribed(conn) | rank_hidden(conn))
            for out in send_notices(conn, self.checkins.tasks, local, self.noticed, leave_out):
                batch.send(out)


def _took_part(batch: Batch, msg: Message, result: CheckinResult) -> None:
    """Writing a note every day is taking part: an accepted check-in with a note counts for
    speaking like a message of the note's words (a bare 打卡 does not)."""
    if result.points is not None and result.note:
        batch.taking_part.append(replace(msg, text=result.note, kind="text"))
