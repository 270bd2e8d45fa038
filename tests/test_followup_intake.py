"""A list an operator can finish: a routine visit (分级回访) falls due one cadence after the member
was first seen in their grade (or last followed up), and routine visits only fill a list up to
the operator's daily cap, the rest waiting in due order. Through the real pipeline and the real
daily job, with an explicit clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from bot.core.scheduler import JobContext
from bot.features.followup.jobs import daily_followup
from bot.features.followup.service import build_items
from tests.harness import ADMIN, ROOM, Bot, texts

OP = "wxid_op"
MORNING = datetime.fromisoformat("2026-11-20T09:00:00+08:00")
CONFIG = """
[grades]
criteria = ["level 1", "tag 老客户", "tag 意向"]  # everyone C; one tag B; both A
cadence = { A = 14, B = 30, C = 60 }

[[tag_rules]]
rule = "keyword 老客户 续费"

[[tag_rules]]
rule = "keyword 意向 多少钱"
"""


@pytest.fixture
def graded(tmp_path, db_url) -> Bot:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    b = Bot(tmp_path, database_url=db_url, config=path)
    b.join(OP, ts="2026-08-01T10:00:00+08:00", name="小运营")
    b.say(ADMIN, "/operator @小运营", mentions=[OP], ts="2026-08-01T10:05:00+08:00")
    return b


def community(bot: Bot, a: int, b: int, c: int, *, joined: str) -> dict[str, str]:
    """a + b + c members joined at `joined` (in one batch), tagged so that a are A, b are B and
    c are C; member → grade."""
    grades = {f"m{i:03d}": "A" if i < a else "B" if i < a + b else "C" for i in range(a + b + c)}
    bot.feed(*[{"type": "join", "id": f"j-{m}", "ts": joined, "room": ROOM, "member": m,
                "member_name": f"成员{m[1:]}"} for m in grades], silent=True)
    tags = [(m, tag) for m, g in grades.items() for tag in {"A": ("老客户", "意向"), "B": ("老客户",), "C": ()}[g]]
    at = datetime.fromisoformat(joined) + timedelta(hours=1)
    bot.feed(*[{"type": "message", "id": f"t-{m}-{tag}", "ts": at.isoformat(), "room": ROOM, "room_name": "读书群",
                "sender": ADMIN, "sender_name": ADMIN, "text": f"/tag {m} {tag}", "mentions": []}
               for m, tag in tags], silent=True)
    return grades


def run_daily(bot: Bot, at: datetime) -> str:
    """The real daily job at `at`: the operator's DMs, joined."""
    start = bot.scalar("SELECT coalesce(max(id), 0) FROM outbox")
    daily_followup(JobContext(bot.deps, frozenset()), at)
    return "\n".join(t for (t,) in bot.rows(
        "SELECT text FROM outbox WHERE id > :s AND \"to\" = :op ORDER BY id", s=start, op=OP))


def listed(bot: Bot) -> list[tuple[int, str, str]]:
    """(n, kind, member) of the operator's latest list."""
    return bot.rows("SELECT n, kind, member FROM followupitem WHERE list_id = "
                    "(SELECT max(id) FROM followuplist WHERE operator = :op) ORDER BY n", op=OP)


def test_a_freshly_graded_community_gets_a_list_it_can_finish(graded: Bot):
    """240 members graded at once, all due (seen since August): the list used to hold all 240
    on the first day. Now it holds the cap, the most overdue first, and says how many wait;
    over 40 days of an operator finishing 15 a day it never holds more than the cap, the queue
    drains in due order, and everyone is visited."""
    bot = graded
    grades = community(bot, 40, 80, 120, joined="2026-08-01T12:00:00+08:00")
    cap, per_day = 20, 15
    text = run_daily(bot, MORNING)
    first = listed(bot)
    assert len(first) == cap and "（共 20 项）" in text
    assert "分级回访还有 220 项在排队，按到期先后每天补进清单（补满每天 20 项为止）。" in text
    assert {kind for _, kind, _ in first} == {"grade_overdue"}
    # the longest past due first: A members were due 14 days after August 1, C members 60
    assert {grades[m] for _, _, m in first} == {"A"}
    assert re.search(r"A 级客户（每 14 天回访一次），从未跟进（A 级已 110 天）", text)
    visited: dict[str, list[int]] = {}
    queued = []
    for day in range(40):
        at = MORNING + timedelta(days=day)
        if day:
            run_daily(bot, at)
        items = listed(bot)
        assert len(items) <= cap  # the routine never pushes a list past the day's cap
        open_cases = bot.scalar("SELECT count(*) FROM followupcase")
        assert open_cases <= cap
        queued.append(bot.scalar("SELECT queued FROM followuplist WHERE id = "
                                 "(SELECT max(id) FROM followuplist WHERE operator = :op)", op=OP))
        done = items[:per_day]
        if not done:  # nothing due today
            continue
        for _, _, m in done:
            visited.setdefault(m, []).append(day)
        reply = texts(bot.say(OP, "已跟进 " + " ".join(str(n) for n, _, _ in done), room=None,
                              ts=(at + timedelta(hours=8)).isoformat()))
        assert f"已记录第 {done[0][0]}" in reply
    # the queue went down by what was done each day until it was empty
    assert queued[:5] == [220, 205, 190, 175, 160]
    assert queued[-1] == 0 and queued == sorted(queued, reverse=True)
    assert set(visited) == set(grades)  # everyone visited
    # ... and each again one cadence after their last visit, not before
    for m, days in visited.items():
        every = {"A": 14, "B": 30, "C": 60}[grades[m]]
        assert all(b - a >= every for a, b in pairwise(days)), (m, days)
    assert any(len(days) > 1 for m, days in visited.items() if grades[m] == "A")


def test_due_one_cadence_after_first_seen_in_the_grade(graded: Bot):
    """A member never followed up is due one cadence after the bot first saw them in their grade:
    not on the first list after they joined, and, when their grade changes, one cadence of the
    new grade after the list that saw it change."""
    bot = graded
    bot.join("newer", ts="2026-11-10T10:00:00+08:00", name="新客户")  # C: due 60 days after
    bot.say("newer", "大家好，我是新来的", name="新客户", ts="2026-11-10T10:05:00+08:00")
    bot.join("old", ts="2026-10-01T10:00:00+08:00", name="老朋友")  # C since Oct 1
    assert routine(bot, MORNING) == {}  # it used to list both: never followed up
    run_daily(bot, MORNING)  # the list records each grade, and since when
    assert bot.rows("SELECT member, grade FROM membersnapshot WHERE member IN ('newer', 'old') "
                    "ORDER BY member") == [("newer", "C"), ("old", "C")]
    assert routine(bot, datetime.fromisoformat("2026-11-30T11:00:00+08:00")) == {
        "old": "C 级客户（每 60 天回访一次），从未跟进（C 级已 60 天）"}
    bot.say(ADMIN, "/tag old 老客户", ts="2026-11-20T10:00:00+08:00")
    bot.say(ADMIN, "/tag old 意向", ts="2026-11-20T10:01:00+08:00")  # A from now on
    run_daily(bot, MORNING + timedelta(days=1))  # sees old as A: A since Nov 21
    assert routine(bot, MORNING + timedelta(days=14)) == {}
    assert routine(bot, MORNING + timedelta(days=15)) == {
        "old": "A 级客户（每 14 天回访一次），从未跟进（A 级已 14 天）"}
    assert "newer" not in routine(bot, datetime.fromisoformat("2027-01-09T09:00:00+08:00"))  # 59 days
    assert "newer" in routine(bot, datetime.fromisoformat("2027-01-09T11:00:00+08:00"))


def routine(bot: Bot, at: datetime) -> dict[str, str]:
    """Member → reason of each routine visit on the operator's list at `at` (a preview); 「另」 when
    the member is listed for something more urgent and the visit is mentioned with it."""
    with bot.engine.connect() as conn:
        day = build_items(conn, bot.deps, at, [ROOM], operator=OP)
    return {i.member: i.reason if i.kind == "grade_overdue" else "另" for i in day.items
            if i.kind == "grade_overdue" or "分级回访" in i.also}
