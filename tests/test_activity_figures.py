"""Every member's activity figures of the days before today are kept by the daily job of the split
values, and a reader adds only today's counters: the follow-up list and the community's playbook
are the same as from a store where nothing was kept (every day's counters read), on a day the job
has not run yet, after an event of an earlier day (a late delivery, an import of older history),
after a restart and with two writers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from bot.core.scheduler import JobContext
from bot.features.followup.service import build_items, operator_rooms
from bot.features.member_types.jobs import daily_splits
from bot.features.points.api import Ledger
from bot.features.segments.service import KEPT_CHURN, Playbook, assess, read_activity
from bot.store.models import MemberDay, table_of
from tests.harness import ADMIN, Bot

DAY_ONE = "2026-11-11T12:00:00+08:00"


def _history(bot: Bot) -> None:
    """a speaks every day, b visits every other day, c checks in three days, d spoke once in
    October, e spoke once 200 days ago."""
    for m in ("a", "b", "c", "d"):
        bot.join(m, ts="2026-09-01T10:00:00+08:00")
    bot.say("e", "好久以前来过", ts="2026-04-20T10:00:00+08:00")
    bot.say("d", "十月说过一句", ts="2026-10-01T10:00:00+08:00")
    for day in range(1, 11):
        ts = f"2026-11-{day:02d}T10:00:00+08:00"
        bot.say("a", f"第{day}天的读书笔记，今天读了很多", ts=ts)
        if day % 2:
            bot.visit("b", ts=ts)
        if day <= 3:
            bot.say("c", "打卡", ts=ts)


def _today(bot: Bot, day: str = "2026-11-11") -> None:
    bot.say("b", "今天第一次说说话", ts=f"{day}T09:00:00+08:00")
    bot.say("c", "打卡", ts=f"{day}T09:05:00+08:00")
    bot.visit("d", ts=f"{day}T09:10:00+08:00")
    bot.say("f", "新来的朋友，大家好", ts=f"{day}T09:20:00+08:00")


def _everything(bot: Bot, at: str = DAY_ONE) -> tuple:
    """The figures as the list and the playbook read them, the list's items and the community's
    segments, stages and grades."""
    when = datetime.fromisoformat(at)
    playbook = bot.deps.service(Playbook)
    with bot.engine.connect() as conn:
        figures = [read_activity(conn, when.date(), playbook.rfm, playbook.lifecycle, 30, background=True,
                                 churn=churn)() for churn in (KEPT_CHURN, None)]
        rooms = operator_rooms(conn, [ADMIN])[ADMIN]
        listed = build_items(conn, bot.deps, when, rooms).items
        items = [(i.kind, i.member, i.reason, i.action, i.grade) for i in listed]
        found = assess(conn, when, None, playbook, bot.deps.service(Ledger).levels)
    return figures, items, found.rfm, found.stages, found.grades


def _job(bot: Bot, day: str = "2026-11-11") -> str:
    return daily_splits(JobContext(bot.deps, frozenset()), datetime.fromisoformat(f"{day}T00:01:00+08:00"))


def _kept(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT day, member FROM activityfigures ORDER BY member")


def test_kept_figures_with_todays_counters_give_what_every_days_counters_give(store, tmp_path: Path):
    kept, read = Bot(tmp_path, database_url=store("kept")), Bot(tmp_path, database_url=store("read"))
    for bot in (kept, read):
        _history(bot)
    before = _everything(read)
    assert _everything(kept) == before  # the job has not run: every day's counters are read
    assert _job(kept) == ("split values of 2026-11-11 kept for 2 scopes, activity figures for 5 members, "
                          "the assessment of 5")
    assert [m for _, m in _kept(kept)] == ["a", "b", "c", "d", "e"]
    assert _everything(kept) == before
    for bot in (kept, read):
        _today(bot)
    after = _everything(read)
    assert after != before  # today's counters moved the figures
    assert _everything(kept) == after
    assert len(_kept(kept)) == 5  # an event of today changes no figure kept of today
    # The next day, before its job: the figures kept are of another day, every day is read.
    for bot in (kept, read):
        _today(bot, "2026-11-12")
    assert _everything(kept, "2026-11-12T12:00:00+08:00") == _everything(read, "2026-11-12T12:00:00+08:00")
    # Its job keeps the new day's figures only (f spoke yesterday).
    assert _job(kept, "2026-11-12").endswith("activity figures for 6 members, the assessment of 6")
    assert {str(day)[:10] for day, _ in _kept(kept)} == {"2026-11-12"}
    assert _everything(kept, "2026-11-12T12:00:00+08:00") == _everything(read, "2026-11-12T12:00:00+08:00")


def test_an_event_of_an_earlier_day_removes_the_figures_kept_after_it(store, tmp_path: Path):
    kept, read = Bot(tmp_path, database_url=store("kept")), Bot(tmp_path, database_url=store("read"))
    for bot in (kept, read):
        _history(bot)
        _today(bot)
    _job(kept)
    assert len(_kept(kept)) == 5
    # A late delivery of yesterday's visit: what was kept for today is gone, and read again.
    for bot in (kept, read):
        bot.visit("d", ts="2026-11-10T22:00:00+08:00")
    assert _kept(kept) == []
    assert _everything(kept) == _everything(read)
    # An import of older history (one batch of messages months back) after the job ran again.
    _job(kept)
    assert len(_kept(kept)) == 5
    older = [{"type": "message", "id": f"old-{i}", "ts": f"2026-08-{i + 1:02d}T10:00:00+08:00",
              "room": "r1@chatroom", "sender": f"g{i % 3}", "text": f"八月的第{i}条旧消息"} for i in range(9)]
    for bot in (kept, read):
        bot.feed(*older)
    assert _kept(kept) == []
    assert _everything(kept) == _everything(read)
    # A recall today of a message of an earlier day un-counts that day's message.
    _job(kept)
    assert len(_kept(kept)) == 8
    recall = {"type": "recall", "id": "rc1", "ts": "2026-11-11T09:30:00+08:00", "member": "g1",
              "room": "r1@chatroom", "message": "old-4"}
    for bot in (kept, read):
        bot.feed(recall)
    assert _kept(kept) == []
    assert _everything(kept) == _everything(read)


def test_a_restarted_writer_and_a_second_writer_use_and_remove_the_same_figures(store, tmp_path: Path):
    url = store("kept")
    kept, read = Bot(tmp_path, database_url=url), Bot(tmp_path, database_url=store("read"))
    for bot in (kept, read):
        _history(bot)
    _job(kept)
    kept.engine.dispose()
    restarted = Bot(tmp_path, database_url=url)  # a new process: nothing in memory
    assert len(_kept(restarted)) == 5
    second = Bot(tmp_path, database_url=url)  # another writer on the same store
    for writer, bot in ((restarted, read), (second, read)):
        writer.say("a", "今天也来了", ts="2026-11-11T08:00:00+08:00")
        bot.say("a", "今天也来了", ts="2026-11-11T08:00:00+08:00")
    assert len(_kept(restarted)) == 5
    assert _everything(restarted) == _everything(second) == _everything(read)
    # A late event through the second writer removes what the first one reads.
    second.visit("b", ts="2026-11-10T21:00:00+08:00")
    read.visit("b", ts="2026-11-10T21:00:00+08:00")
    assert _kept(restarted) == []
    assert _everything(restarted) == _everything(read)


def test_the_days_readers_use_the_figures_kept(store, tmp_path: Path):
    """With the figures kept, the list and the playbook (with the churn signs or without) read no
    earlier day's counters: a change to them that no event made (written past the hook) shows
    only once the job keeps the figures again."""
    bot = Bot(tmp_path, database_url=store("kept"))
    _history(bot)
    _job(bot)
    before = _everything(bot)
    days = table_of(MemberDay)
    with bot.engine.begin() as conn:
        conn.execute(days.delete().where(days.c.member == "a", days.c.day == date(2026, 11, 10)))
    assert _everything(bot) == before
    _job(bot)
    figures, *_ = _everything(bot)
    assert [f["a"].last_any for f in figures] == [date(2026, 11, 9)] * 2
