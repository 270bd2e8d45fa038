"""The daily job keeps the community's types, stages and grades as of its time, and the follow-up list
recomputes only the members whose inputs changed since: on random communities fed through the real
pipeline (messages, check-ins, 补签, visits, orders and refunds, tags by rule, by hand and expiring,
referrals, grade pins, joins, leaves, a roster, points) with the clock moved through the day, the list
and its assessment are those of the full assessment (production's own path when nothing usable is kept)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.events import parse_event
from bot.core.scheduler import JobContext
from bot.features.followup.service import build_items, collect_facts, operator_rooms
from bot.features.member_types.api import type_floor
from bot.features.member_types.jobs import daily_splits
from bot.features.points.api import Ledger
from bot.features.segments.service import (
    KEPT_CHURN,
    Playbook,
    _memberships,
    assess,
    assess_since_kept,
    assessment_shape,
    members_with_kept,
    read_activity,
)
from tests.harness import ADMIN, ROOM, Bot

CONFIG = """
[grades]
criteria = ["tag 意向", "type core", "level 2", "order 90", "referral 1"]
cadence = { A = 14, B = 30, C = 60 }

[[tag_rules]]
rule = "keyword 意向 多少钱 lead=yes expire=1"
"""
ROOMS = (ROOM, "r2@chatroom")
JOB = datetime.fromisoformat("2026-11-20T00:01:00+08:00")


def _bot(tmp_path: Path, url: str) -> Bot:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return Bot(tmp_path, config=path, database_url=url)


class _Community:
    """Random events of every kind that feeds the assessment, at the bot's clock."""

    def __init__(self, bot: Bot, rng: random.Random) -> None:
        self.bot, self.rng = bot, rng
        self.members = [f"m{i}" for i in range(16)]
        self.orders: list[tuple[str, str]] = []

    def order(self, member: str, amount: object, refund_of: str | None = None) -> None:
        oid = self.bot.next_id("o")
        raw = {"type": "order", "id": oid, "ts": self.bot.clock.isoformat(), "member": member, "amount": amount,
               "item": "训练营"}
        if refund_of:
            raw["refund_of"] = refund_of
        self.bot.pipeline.process([parse_event(raw)], refused=[])
        if refund_of is None:
            self.orders.append((oid, member))

    def admin(self, line: str) -> None:
        self.bot.say(ADMIN, line)

    def refund(self) -> None:
        if self.orders:
            oid, buyer = self.rng.choice(self.orders)
            self.order(buyer, -1, refund_of=oid)

    def invite(self, m: str, room: str, inviter: str | None = None) -> None:
        self.bot.feed({"type": "join", "id": self.bot.next_id("j"), "ts": self.bot.clock.isoformat(), "room": room,
                       "member": m, "member_name": m, "inviter": inviter or self.rng.choice(self.members)})

    def newcomer(self, room: str) -> None:
        fresh = f"n{len(self.members)}"
        self.members.append(fresh)
        self.bot.say(fresh, "大家好，我是新来的", room=room)

    def one(self) -> None:
        bot, rng = self.bot, self.rng
        m = rng.choice(self.members)
        room = rng.choice(ROOMS)
        kinds: list[tuple[int, Callable[[], object]]] = [
            (10, lambda: bot.say(m, rng.choice(["今天的读书笔记写好了", "早上好", "这章讲得真好"]), room=room)),
            (3, lambda: bot.say(m, "这个课多少钱", room=room)),  # the rule's tag, expiring after a day
            (4, lambda: bot.say(m, "打卡", room=room)),
            (1, lambda: bot.say(m, "补签", room=room)),
            (3, lambda: bot.visit(m)),
            (2, lambda: self.order(m, rng.choice([9, 99, "19.90"]))),
            (1, self.refund),
            (2, lambda: bot.join(m, room=room)),
            (2, lambda: self.invite(m, room)),
            (1, lambda: bot.leave(m, room=room)),
            (1, lambda: self.admin(f"/tag {m} 意向")),
            (1, lambda: self.admin(f"/untag {m} 意向")),
            (1, lambda: self.admin(f"/grade {m} {rng.choice('ABCD')} 老客户")),
            (1, lambda: self.admin(f"/grade {m} 取消")),
            (1, lambda: self.admin(f"/points {m} +{rng.choice([10, 60, 200])} 活动奖励")),
            # the room's members as listed now: some arrive, some are gone
            (1, lambda: bot.roster([*rng.sample(self.members, 5), f"p{bot.next_id('')}"], room=room)),
            (1, lambda: self.newcomer(room)),  # someone seen for the first time
        ]
        rng.choices([act for _, act in kinds], [weight for weight, _ in kinds])[0]()

    def history(self) -> None:
        """Nov 1 to 19, a roster of members there before the bot on the first day, and members first
        seen through Nov 12 (whose "new" type ends during Nov 20)."""
        bot, rng = self.bot, self.rng
        bot.roster(self.members[:4], ts="2026-11-01T08:00:00+08:00")
        for day in range(1, 20):
            start = datetime.fromisoformat(f"2026-11-{day:02d}T00:05:00+08:00")
            for second in sorted(rng.sample(range(0, 86000), 12)):
                bot.at(start + timedelta(seconds=second))
                self.one()
            if day == 10:  # q: seen once, and tagged by hand (which their grade counts)
                bot.visit("q")
                self.admin("/tag q 意向")
            if day == 17:  # new, until a roster of another room lists them with no join (there before the bot)
                bot.say("v", "大家好，我刚进来看看", room=ROOM)


def _list(conn, bot: Bot, at: datetime) -> tuple:
    rooms = operator_rooms(conn, [ADMIN])[ADMIN]
    facts = list(collect_facts(conn, bot.deps, at, rooms))
    day = build_items(conn, bot.deps, at, rooms)
    return facts, day.items, day.queued


def _assessments(conn, bot: Bot, at: datetime) -> tuple:
    playbook, levels = bot.deps.service(Playbook), bot.deps.service(Ledger).levels
    shape = assessment_shape(conn, at, playbook, levels, 30, type_floor(bot.settings))
    rows = members_with_kept(conn, at.date(), shape)
    members = sorted(rows)
    pending = read_activity(conn, at.date(), playbook.rfm, playbook.lifecycle, 30, background=True,
                            churn=KEPT_CHURN)
    kept = assess_since_kept(conn, at, playbook, levels, shape=shape, members=members, type_window=30,
                             floor=type_floor(bot.settings), activity=pending, member_rows=rows,
                             in_groups=_memberships(conn, None, at.tzinfo))
    full = assess(conn, at, None, playbook, levels, members=members, activity=pending,
                  floor=type_floor(bot.settings), with_types=True, with_rfm=False)
    return kept, {m: (t.type if (t := full.types.get(m)) else None, full.stages[m], full.grades[m]) for m in members}


def _same_as_full(bot: Bot, at: datetime) -> None:
    """The list (every fact, every item) and the assessment with what is kept, then with nothing kept
    (the rows removed in a transaction rolled back: the path production takes without a job today)."""
    with bot.engine.connect() as conn:
        kept = _list(conn, bot, at)
        kept_assessed = _assessments(conn, bot, at)
        conn.rollback()
        conn.execute(text("DELETE FROM keptassessment"))
        full = _list(conn, bot, at)
        full_assessed = _assessments(conn, bot, at)
        conn.rollback()
    assert kept_assessed[0] == kept_assessed[1]  # the assessment from what is kept is `assess`'s
    assert full_assessed[0] == full_assessed[1]
    assert kept_assessed == full_assessed
    assert kept == full


def _job(bot: Bot, at: datetime = JOB) -> None:
    daily_splits(JobContext(bot.deps, frozenset()), at)


@pytest.mark.parametrize("seed", range(4))
def test_the_list_from_the_kept_assessment_is_the_full_lists_through_a_random_day(store, tmp_path, seed):
    bot = _bot(tmp_path, store("kept"))
    rng = random.Random(seed)
    community = _Community(bot, rng)
    community.history()
    bot.at(JOB)
    _job(bot)
    kept = bot.scalar("SELECT count(*) FROM keptassessment")
    assert kept == bot.scalar("SELECT count(*) FROM member WHERE first_at <= :at", at=int(JOB.timestamp()))
    assert bot.scalar("SELECT count(*) FROM assessmentchange") == 0
    # What is kept is used: with every kept stage made wrong the list differs from the full one.
    with bot.engine.connect() as conn:
        conn.execute(text("UPDATE keptresult SET stage = '[\"churned\", \"x\"]'"))
        wrong = _list(conn, bot, JOB + timedelta(minutes=1))
        conn.rollback()
        right = _list(conn, bot, JOB + timedelta(minutes=1))
    assert wrong != right
    _same_as_full(bot, JOB + timedelta(minutes=1))
    moments = sorted(rng.sample(range(120, 86300), 40))
    for i, second in enumerate(moments):
        bot.at(JOB.replace(minute=0) + timedelta(seconds=second))
        if i == 20:
            bot.roster(["v", *rng.sample(community.members, 3)], room=ROOMS[1])
        elif i == 8:  # a tag taken from someone quiet today: only its write tells
            community.admin("/untag q 意向")
        elif i == 12:  # a first referral of someone quiet today: their count's write is all that tells
            inviters = {m for (m,) in bot.rows("SELECT inviter FROM referral")}
            quiet = [m for m in community.members if m not in inviters]
            community.invite(f"brought{seed}", ROOMS[0], rng.choice(quiet))
        elif i % 3:
            community.one()
        if i % 4 == 0:
            _same_as_full(bot, bot.clock)
    _same_as_full(bot, JOB.replace(hour=23, minute=59))


def test_other_settings_and_an_event_of_an_earlier_day_take_the_full_assessment(store, tmp_path):
    """What was kept with other settings is not used (the shape differs), and an event of an earlier day
    removes what was kept: the list is the full one either way."""
    bot = _bot(tmp_path, store("kept"))
    _Community(bot, random.Random(7)).history()
    _job(bot)
    at = JOB + timedelta(hours=9)
    _same_as_full(bot, at)
    # Other grade criteria (a restart with another config) on the same store: what is kept is of the old.
    path = tmp_path / "other" / "config.toml"
    path.parent.mkdir()
    path.write_text(CONFIG.replace('"level 2", ', ""), encoding="utf-8")
    other = Bot(tmp_path / "other", config=path, database_url=bot.settings.database_url)
    assert bot.scalar("SELECT count(*) FROM keptassessment") > 0
    with other.engine.connect() as conn:
        wrong = [(f.member, f.grade) for f in _list(conn, bot, at)[0]]  # the old settings' list
        right = [(f.member, f.grade) for f in _list(conn, other, at)[0]]
    assert wrong != right  # the criteria change grades: a kept grade used would show
    _same_as_full(other, at)
    # A late event of yesterday removes what was kept of today.
    bot.visit("m1", ts="2026-11-19T22:00:00+08:00")
    assert bot.scalar("SELECT count(*) FROM keptassessment") == 0
    assert bot.scalar("SELECT count(*) FROM keptresult") == 0
    _same_as_full(bot, at)
