"""Daily follow-up lists: every kind on replayed histories, done, suppression, limits, schedule."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core.scheduler import JobContext
from bot.features.followup.jobs import daily_followup, followup_trigger
from bot.features.followup.service import build_items, issue_daily, operator_rooms
from bot.wiring import App
from tests.harness import ADMIN, ROOM, Bot, texts
from tiers.followup import render

OP = "wxid_op"
MORNING = datetime.fromisoformat("2026-11-20T09:00:00+08:00")


def items(bot: Bot, at: datetime = MORNING, rooms=(ROOM,)):
    with bot.engine.connect() as conn:
        return build_items(conn, bot.deps, at, list(rooms)).items


def kinds(bot: Bot, at: datetime = MORNING) -> dict[str, str]:
    return {i.member: i.kind for i in items(bot, at)}


def daily(bot: Bot, at: datetime = MORNING):
    with bot.engine.begin() as conn:
        return issue_daily(conn, bot.deps, at)


@pytest.fixture
def bot(tmp_path) -> Bot:
    b = Bot(tmp_path)
    b.join(OP, ts="2026-09-01T10:00:00+08:00", name="小运营")
    b.say(ADMIN, "/operator @小运营", mentions=[OP], ts="2026-09-01T10:05:00+08:00")
    return b


def test_operator_setting_and_admin_fallback(bot: Bot):
    bot.say("x", "hi", room="r2@chatroom", ts="2026-11-01T10:00:00+08:00")
    with bot.engine.connect() as conn:
        assert operator_rooms(conn, [ADMIN]) == {OP: [ROOM], ADMIN: ["r2@chatroom"]}
    assert "小运营" in texts(bot.say(ADMIN, "/operators"))
    assert "未设置运营，由管理员负责" in texts(bot.say(ADMIN, "/operators", room="r2@chatroom"))
    assert "只有管理员" in texts(bot.say("x", "/operator @x", mentions=["x"]))


def test_a_list_that_fails_half_way_gives_the_collector_back_at_once(bot: Bot, monkeypatch):
    """The cyclic collector is off while the facts are made; when the list fails half way,
    build_items closes the facts' generator, so it is on again before the error reaches the
    caller (not when the traceback goes)."""
    import gc

    from tiers import followup as rules

    bot.join("newbie", ts="2026-11-17T10:00:00+08:00")

    def fails(facts, *_a, **_k):
        next(iter(facts))  # the facts have started: the collector is off
        assert not gc.isenabled()
        raise RuntimeError("disk full")

    monkeypatch.setattr(rules, "build_list", fails)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="disk full") as failed:
        items(bot)
    assert failed.traceback  # still held here, with the list's frames
    assert gc.isenabled()


def test_new_silent_after_72_hours(bot: Bot):
    bot.join("newbie", ts="2026-11-17T10:00:00+08:00")  # 71 h before 09:00 on the 20th
    bot.join("talker", ts="2026-11-16T10:00:00+08:00")
    bot.say("talker", "大家好，我是新来的", ts="2026-11-16T10:05:00+08:00")
    assert "newbie" not in kinds(bot)
    assert kinds(bot, MORNING + timedelta(hours=2))["newbie"] == "new_silent"
    assert "talker" not in kinds(bot, MORNING + timedelta(hours=2))


def test_churn_risk_when_activity_halves(bot: Bot):
    for day in range(10, 40):  # active every other day for a month before the last week
        if day % 2 == 0:
            bot.visit("fading", ts=(datetime.fromisoformat("2026-10-01T08:00:00+08:00")
                                    + timedelta(days=day - 10)).isoformat())
            bot.visit("steady", ts=(datetime.fromisoformat("2026-10-01T08:00:00+08:00")
                                    + timedelta(days=day - 10)).isoformat())
    for day in (14, 16, 18):
        bot.visit("steady", ts=f"2026-11-{day}T08:00:00+08:00")
    bot.join("fading", ts="2026-09-01T10:00:00+08:00")
    bot.join("steady", ts="2026-09-01T10:00:00+08:00")
    got = {i.member: i for i in items(bot)}
    assert got["fading"].kind == "churn_risk" and "近7天活跃 0 天" in got["fading"].reason
    assert "steady" not in got or got["steady"].kind != "churn_risk"


def test_core_member_silent_for_a_week_and_grade_overdue(bot: Bot):
    for m in ("star", "quiet"):
        bot.join(m, ts="2026-09-01T10:00:00+08:00")
    start = datetime.fromisoformat("2026-10-25T20:00:00+08:00")
    for day in range(19):  # star speaks daily until Nov 12
        bot.say("star", f"第{day}天读书笔记", ts=(start + timedelta(days=day)).isoformat())
        bot.visit("quiet", ts=(start + timedelta(days=day)).isoformat())
    got = {i.member: i for i in items(bot)}
    assert got["star"].kind == "churn_risk" and "核心成员已 8 天没发言" in got["star"].reason  # since Nov 12
    assert "分级回访" in got["star"].also  # one line per member, the rest mentioned
    star_items = [i for i in items(bot) if i.member == "star"]
    assert len(star_items) == 1


def test_lead_type_change_and_level_up_since_the_previous_list(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 意向 多少钱 lead=yes", ts="2026-11-01T09:00:00+08:00")
    for m in ("a", "b", "c", "d"):
        bot.join(m, ts="2026-09-01T10:00:00+08:00")
    for day in range(1, 19):
        ts = f"2026-11-{day:02d}T08:00:00+08:00"
        bot.say("a", f"今天第{day}天打卡读书", ts=ts)
        bot.visit("b", ts=ts)
        bot.visit("d", ts=ts)
    bot.say("c", "这里真好", ts="2026-11-10T10:00:00+08:00")
    daily(bot, MORNING - timedelta(days=1))  # the previous scheduled list: snapshots taken
    bot.say("c", "这个课多少钱呀", ts="2026-11-19T20:00:00+08:00")
    bot.say(ADMIN, "/points d +60 活动奖励", ts="2026-11-19T21:00:00+08:00")
    for i in range(30):  # b suddenly talks a lot: lurker → core
        bot.say("b", f"补充一下第{i}点想法", ts=(MORNING - timedelta(hours=12) + timedelta(minutes=2 * i)).isoformat())
    got = {i.member: i for i in items(bot)}
    assert got["c"].kind == "lead" and "「这个课多少钱呀」" in got["c"].reason
    assert got["b"].kind == "type_change" and got["b"].reason == "潜水成员 → 核心成员"
    assert got["d"].kind == "level_up" and "Lv2" in got["d"].reason


def test_streak_broken_yesterday_and_near_level(bot: Bot):
    for m in ("s", "n"):
        bot.join(m, ts="2026-09-01T10:00:00+08:00")
    for day in (15, 16, 17, 18):  # 4 days, then nothing on the 19th
        bot.say("s", "打卡", ts=f"2026-11-{day}T07:00:00+08:00")
    bot.say(ADMIN, "/points n +46 活动奖励", ts="2026-11-18T21:00:00+08:00")
    got = {i.member: i for i in items(bot)}
    assert got["s"].kind == "streak_broken" and "连续 4 天，昨天断了" in got["s"].reason
    assert got["n"].kind == "near_level" and "再得 4 分升到 Lv2" in got["n"].reason


def test_done_flow_suppression_and_bad_input(bot: Bot):
    bot.join("newbie", ts="2026-11-10T10:00:00+08:00")
    bot.join("shy", ts="2026-11-10T11:00:00+08:00")
    replies = bot.say(OP, "/report", ts="2026-11-14T09:00:00+08:00")
    listing = texts([r for r in replies if r.room is None])
    assert "1. newbie" in listing and "2. shy" in listing and "入群 4 天还没发过言" in listing
    assert all(r.to == OP for r in replies) and "私信" in texts([r for r in replies if r.room])
    assert "清单上没有第 7 项" in texts(bot.say(OP, "/done 7", room=None))
    assert "只有运营" in texts(bot.say("newbie", "已跟进 1", room=None))
    assert bot.scalar("SELECT count(*) FROM followuprecord") == 0
    assert "已记录第 1 项的跟进（备注：已私聊欢迎）" in texts(
        bot.say(OP, "已跟进 1 已私聊欢迎", room=None))
    assert "第 1 项已经标记过了" in texts(bot.say(OP, "/done 1", room=None))
    assert bot.rows("SELECT operator, member, kind, note FROM followuprecord") == [
        (OP, "newbie", "new_silent", "已私聊欢迎")]
    assert "用法" in texts(bot.say(OP, "/done 备注而已", room=None))
    later = datetime.fromisoformat("2026-11-20T09:00:00+08:00")
    assert "newbie" not in kinds(bot, later) and kinds(bot, later)["shy"] == "new_silent"


def test_suppression_lasts_14_days(bot: Bot):
    start = datetime.fromisoformat("2026-10-01T08:00:00+08:00")
    for day in range(50):
        bot.say("core1", f"每天都来聊{day}", ts=(start + timedelta(days=day)).isoformat())
    bot.say(ADMIN, "/grade core1 A 老学员", ts="2026-10-02T08:00:00+08:00")  # A: every 14 days
    at = datetime.fromisoformat("2026-10-30T09:00:00+08:00")
    got = {i.member: i for i in items(bot, at)}
    assert got["core1"].kind == "grade_overdue"
    # no list recorded a grade yet: A since the bot first saw them (Oct 1), due 14 days after
    assert got["core1"].reason == "A 级客户（每 14 天回访一次），从未跟进（A 级已 29 天）"
    bot.say(OP, "/report", room=None, ts=at.isoformat())
    bot.say(OP, "/done 1 聊过了", room=None, ts=at.isoformat())
    assert "core1" not in kinds(bot, at)
    assert "core1" not in kinds(bot, at + timedelta(days=13))
    assert kinds(bot, at + timedelta(days=14))["core1"] == "grade_overdue"


def test_long_lists_are_split_into_1500_character_messages(bot: Bot):
    for i in range(120):
        bot.join(f"newbie{i:03d}", name=f"新朋友{i:03d}号" + "很长的昵称" * 3,
                 ts="2026-11-10T10:00:00+08:00")
    assert "最多 150 项" in texts(bot.say(ADMIN, "/operator @小运营 cap=150", mentions=[OP]))
    replies = bot.say(OP, "/report", room=None, ts="2026-11-14T09:00:00+08:00")
    assert len(replies) > 2 and all(len(r.text) <= 1500 for r in replies)
    joined = "\n".join(r.text for r in replies)
    assert all(f"{n}. " in joined for n in range(1, 121))


def test_empty_list_is_one_friendly_line(bot: Bot):
    [reply] = bot.say(OP, "/report", room=None, ts="2026-11-14T09:00:00+08:00")
    assert "今天没有需要跟进的成员" in reply.text


def test_scheduled_run_fires_at_nine_shanghai_once_per_day(bot: Bot):
    trigger = followup_trigger(bot.settings)
    now = datetime.fromisoformat("2026-11-19T23:30:00+00:00")  # 07:30 on the 20th in Shanghai
    fire = trigger.get_next_fire_time(None, now)
    assert fire == datetime.fromisoformat("2026-11-20T09:00:00+08:00")
    bot.join("newbie", ts="2026-11-15T10:00:00+08:00")

    ctx = JobContext(bot.deps, frozenset())
    daily_followup(ctx, fire)
    daily_followup(ctx, fire + timedelta(minutes=5))  # a misfire re-run: nothing new
    sent = bot.rows("SELECT \"to\", text FROM outbox WHERE \"to\" = :op", op=OP)
    assert len(sent) == 1 and "newbie" in sent[0][1]
    assert bot.scalar("SELECT count(*) FROM scheduledlist") == 1
    daily_followup(ctx, fire + timedelta(days=1))
    assert bot.scalar("SELECT count(*) FROM scheduledlist") == 2


def test_an_items_age_is_days_since_it_was_first_listed(bot: Bot):
    """「第 N 天未跟进」 counted the lists issued: an item listed on Thursday and again on Monday
    said 第 2 天."""
    bot.join("newbie", ts="2026-11-12T10:00:00+08:00")
    first = next(i for i in daily(bot, datetime.fromisoformat("2026-11-16T09:00:00+08:00"))[0].items
                 if i.member == "newbie")
    assert first.age == 1
    again = next(i for i in daily(bot, datetime.fromisoformat("2026-11-19T09:00:00+08:00"))[0].items
                 if i.member == "newbie")
    assert again.age == 4 and "〔第 4 天未跟进〕" in render([again], title="")[0]


def test_an_admin_gets_a_daily_list_only_when_it_holds_something(bot: Bot):
    """The admins' list is what no operator covers (here: the private account's friends) and
    what waited too long: it used to come every morning as 「今天没有需要跟进的成员」, titled
    「跟进清单（好友（私聊））」."""
    bot.feed({"type": "friend", "id": "f1", "ts": "2026-11-18T10:00:00+08:00", "member": "wxid_f",
              "member_name": "新朋友", "status": "accepted"})
    ctx = JobContext(bot.deps, frozenset())
    daily_followup(ctx, MORNING)
    assert bot.rows("SELECT text FROM outbox WHERE \"to\" = :a AND text LIKE '📋%'", a=ADMIN) == []
    assert bot.scalar("SELECT count(*) FROM scheduledlist WHERE operator = :a", a=ADMIN) == 1  # issued, kept
    [(text,)] = bot.rows("SELECT text FROM outbox WHERE \"to\" = :op", op=OP)
    assert "跟进清单 · 读书群" in text and "今天没有需要跟进的成员" in text
    daily_followup(ctx, MORNING + timedelta(days=30))  # the friend never joined a group: an item
    [(text,)] = bot.rows("SELECT text FROM outbox WHERE \"to\" = :a AND text LIKE '📋%'", a=ADMIN)
    assert text.startswith("📋 12-20 跟进清单 · 好友（私聊）（共 1 项）")


def test_scheduler_runs_a_missed_list_once_after_a_restart(tmp_path):
    """Each asyncio.run is one bot process: started, stopped, then started again later."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    bot = Bot(tmp_path)
    bot.join(OP, ts="2026-09-01T10:00:00+08:00")
    bot.say(ADMIN, "/operator @x", mentions=[OP])
    tz = bot.settings.tz

    async def first_run():
        scheduler = App(bot.settings, MemoryAdapter(), engine=bot.engine).schedule()
        job = scheduler.get_job("daily_followup")
        assert (job.next_run_time.hour, job.next_run_time.minute) == (9, 0)
        scheduler.shutdown(wait=False)

    async def while_down():  # its 09:00 passes: the stored next run is 10 minutes ago
        store = SQLAlchemyJobStore(engine=bot.engine, tablename="scheduled_jobs")
        paused = AsyncIOScheduler(jobstores={"default": store}, timezone=tz)
        paused.start(paused=True)
        paused.modify_job("daily_followup", next_run_time=datetime.now(tz) - timedelta(minutes=10))
        paused.shutdown(wait=False)

    async def back_up():
        scheduler = App(bot.settings, MemoryAdapter(), engine=bot.engine).schedule()
        for _ in range(200):
            if bot.scalar("SELECT count(*) FROM scheduledlist"):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # room for a wrong second run to show up
        nxt = scheduler.get_job("daily_followup").next_run_time
        scheduler.shutdown(wait=False)
        return nxt

    asyncio.run(first_run())
    asyncio.run(while_down())
    assert bot.scalar("SELECT count(*) FROM scheduledlist") == 0
    nxt = asyncio.run(back_up())
    assert bot.scalar("SELECT count(*) FROM scheduledlist") == 1
    assert bot.scalar("SELECT count(*) FROM outbox WHERE \"to\" = :op", op=OP) == 1
    assert nxt > datetime.now(tz) and (nxt.hour, nxt.minute) == (9, 0)


def test_followup_cli_json(bot: Bot):
    bot.join("newbie", ts="2026-11-10T10:00:00+08:00", name="新朋友")
    res = subprocess.run([sys.executable, "-m", "bot.cli", "followup", "--json", "--db",
                          str(bot.path), "--at", "2026-11-14T09:00:00+08:00", "--operator", OP],
                         capture_output=True, text=True, timeout=60,
                         env={"QUNGUAN_ADMINS": ADMIN, "PATH": ""})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["items"] == [{"n": 1, "kind": "new_silent", "member": "newbie",
                             "member_name": "新朋友", "room": ROOM, "room_name": "读书群",
                             "reason": "入群 4 天还没发过言",
                             "action": "发条欢迎，@TA 介绍一下自己，帮 TA 破冰", "also": []}]
