"""Each trend chart's numbers, checked against a community built for it (what happened on which
day is known here), through the page's CSV; and the weekly report DM'd to the admins."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.core.scheduler import JobContext
from bot.features.trends.jobs import weekly_report
from bot.web.app import create_app
from bot.wiring import FEATURES
from tests.harness import ADMIN, ROOM, Bot
from tests.web.conftest import PASSWORD, log_in, log_in_by_link

ROOM_B = "r2@chatroom"
CHANNEL = "来源-抖音"


def at(day: str, clock: str = "10:00") -> str:
    return f"2026-11-{day}T{clock}:00+08:00"


def build(bot: Bot) -> None:
    """Four weeks of two groups and the private account (all times Asia/Shanghai):

    week of 11-02: alice (11-02), bob (11-03) join 读书群, dave (11-04) joins 二群, eve (11-06) joins
                   读书群 after becoming a friend; alice says 2 things on 11-02, bob 1 and checks in on
                   11-03, eve checks in on 11-06 and orders on 11-07
    week of 11-09: carol joins 读书群 (11-10); alice asks a price (a lead) on 11-10; dave speaks in
                   二群 on 11-11 and leaves it on 11-12
    week of 11-16: alice speaks on 11-17, carol on 11-18
    week of 11-23: carol speaks on 11-25
    11-30:         the admin says 早 in 读书群 (the last event: "now")
    """
    bot.say(ADMIN, "/rule add keyword 意向 多少钱 lead=yes", room=None, name="群主", ts=at("01", "09:00"))
    bot.say(ADMIN, f"/rule add keyword {CHANNEL} 抖音 on=hello", room=None, name="群主", ts=at("01", "09:01"))
    bot.join("wxid_alice", name="alice", ts=at("02", "08:00"))
    bot.say("wxid_alice", "大家好，我是新来的", name="alice", ts=at("02", "09:00"))
    bot.say("wxid_alice", "今天开始读第一本书", name="alice", ts=at("02", "09:05"))
    bot.join("wxid_bob", name="bob", ts=at("03", "08:00"))
    bot.say("wxid_bob", "打卡", name="bob", ts=at("03", "09:00"))
    bot.say("wxid_bob", "我也来啦，请多关照", name="bob", ts=at("03", "09:30"))
    bot.join("wxid_dave", room=ROOM_B, name="dave", ts=at("04", "08:00"))
    for member in ("wxid_eve", "wxid_frank"):
        bot.feed({"type": "friend", "id": f"fr-{member}", "ts": at("05", "10:00"), "member": member,
                  "member_name": member[5:], "hello": "我是从抖音来的", "status": "requested"},
                 {"type": "friend", "id": f"fa-{member}", "ts": at("05", "10:05"), "member": member,
                  "status": "accepted"})
    bot.join("wxid_eve", name="eve", ts=at("06", "08:00"))
    bot.say("wxid_eve", "打卡", name="eve", ts=at("06", "09:00"))
    bot.feed({"type": "order", "id": "o1", "ts": at("07"), "member": "wxid_eve", "amount": 199.0})
    bot.join("wxid_carol", name="carol", ts=at("10", "08:00"))
    bot.say("wxid_alice", "训练营多少钱？", name="alice", ts=at("10", "09:00"))
    bot.say("wxid_dave", "二群的朋友们好呀", room=ROOM_B, name="dave", ts=at("11", "09:00"))
    bot.leave("wxid_dave", room=ROOM_B, ts=at("12", "09:00"))
    bot.say("wxid_alice", "这周读完了一半", name="alice", ts=at("17", "09:00"))
    bot.say("wxid_carol", "第一次发言，请多指教", name="carol", ts=at("18", "09:00"))
    bot.say("wxid_carol", "周末一起读书吗", name="carol", ts=at("25", "09:00"))
    bot.say(ADMIN, "早", name="群主", ts=at("30", "09:00"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Bot:
    bot = Bot(tmp_path_factory.mktemp("trends"), web_password=PASSWORD)
    build(bot)
    return bot


@pytest.fixture
async def admin(built: Bot):
    async with TestClient(TestServer(create_app(built.pipeline, built.deps, FEATURES))) as client:
        await log_in(client)
        yield client


async def table(client: TestClient, chart: str, **params: str) -> list[dict[str, str]]:
    resp = await client.get(f"/export/trends/{chart}.csv", params=params)
    assert resp.status == 200, await resp.text()
    body = (await resp.read()).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def fields(bot: Bot):
    return report_fields(FEATURES, bot.deps)


async def test_daily_activity(admin, built):
    rows = {r["日期"]: r for r in await table(admin, "daily", days="30")}
    assert min(rows) == "2026-11-01" and max(rows) == "2026-11-30" and len(rows) == 30

    def day(d: str) -> tuple[int, ...]:
        r = rows[f"2026-11-{d}"]
        return tuple(int(r[k]) for k in ("活跃成员", "消息", "打卡", "入群", "退群", "新线索"))
    #                     active messages checkins joins leaves leads
    assert day("02") == (1, 2, 0, 1, 0, 0)
    assert day("03") == (1, 1, 1, 1, 0, 0)  # a check-in is not counted as a message
    assert day("04") == (0, 0, 0, 1, 0, 0)
    assert day("06") == (1, 0, 1, 1, 0, 0)  # eve only checked in
    assert day("10") == (1, 1, 0, 1, 0, 1)
    assert day("12") == (0, 0, 0, 0, 1, 0)
    assert day("30") == (1, 1, 0, 0, 0, 0)
    assert sum(int(r["消息"]) for r in rows.values()) == 9  # chat lines: not check-ins, not commands
    # The daily counters agree with the event log, day by day.
    by_day = Counter(datetime.fromtimestamp(ts, built.settings.tz).date().isoformat()
                     for ts, text in built.rows("SELECT ts, text FROM eventlog WHERE type = 'message'")
                     if text != "打卡" and not text.startswith("/"))
    assert {d: int(r["消息"]) for d, r in rows.items() if int(r["消息"])} == dict(by_day)
    # One room: 二群 saw dave join, speak once and leave.
    room_b = {r["日期"]: r for r in await table(admin, "daily", days="30", room=ROOM_B)}
    assert [(d, r["活跃成员"], r["消息"], r["入群"], r["退群"]) for d, r in room_b.items()
            if any(int(r[k]) for k in ("消息", "入群", "退群"))] == [
        ("2026-11-04", "0", "0", "1", "0"), ("2026-11-11", "1", "1", "0", "0"), ("2026-11-12", "0", "0", "0", "1")]
    html = await (await admin.get("/trends?days=30")).text()
    assert html.count("<svg class=\"trend\"") >= 5 and "numbers-daily" in html


async def test_member_types_by_week(admin, built):
    rows = await table(admin, "types", days="30")
    assert [r["截至"] for r in rows] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    # Each sample is the report's typing as of the end of that day.
    for r in rows:
        end = datetime.fromisoformat(f"{r['截至']}T23:59:59+08:00")
        with built.engine.connect() as conn:
            report = member_rows(conn, resolve_scope(conn, built.settings, end, None, None), fields(built))
        counts = Counter(x["type"] for x in report)
        assert int(r["合计"]) == len(report), r
        assert (int(r["核心成员"]), int(r["潜水成员"]), int(r["间歇活跃"]), int(r["沉默成员"]), int(r["新成员"])) == (
            counts["core"], counts["lurker"], counts["burst"], counts["dormant"], counts["new"]), r
    # Known by hand: on 11-02 only the admin (seen on 11-01) and alice (joined that day) exist,
    # both seen less than 7 days before; on 11-30 all seven are there.
    assert (rows[0]["合计"], rows[0]["新成员"]) == ("2", "2") and rows[-1]["合计"] == "7"


async def test_lifecycle_funnel(admin, built):
    rows = await table(admin, "lifecycle", days="30")
    assert [r["阶段"] for r in rows] == ["潜在", "新", "成长", "成熟", "衰退", "流失"]
    with built.engine.connect() as conn:
        report = member_rows(conn, resolve_scope(conn, built.settings, None, None, None), fields(built))
    stages = Counter(x["stage"] for x in report)
    assert {r["阶段"]: int(r["人数"]) for r in rows} == {s: stages.get(s, 0) for s in (r["阶段"] for r in rows)}
    assert sum(int(r["人数"]) for r in rows) == len(report) == 7


async def test_private_account_funnel_by_channel(admin, built):
    rows = await table(admin, "channels", days="30")
    # eve and frank came from 抖音: both friends, eve joined, checked in and ordered.
    assert rows == [{"渠道": CHANNEL, "加好友": "2", "进群": "1", "打卡": "1", "下单": "1"}]
    assert (await admin.get(f"/export/trends/channels.csv?days=30&room={ROOM}")).status == 404  # not per room


async def test_weekly_cohort_retention(admin, built):
    rows = await table(admin, "cohorts", days="30")
    # Week of 11-02: alice, bob, dave, eve; W+1 alice and dave spoke, W+2 alice, W+3 nobody,
    # W+4 (11-30 …) has not ended. Week of 11-09: carol; active in W+1 (11-18) and W+2 (11-25).
    assert [(r["入群周（周一）"], r["人数"], r["W+1"], r["W+2"], r["W+3"], r["W+4"]) for r in rows] == [
        ("2026-11-02", "4", "2（50%）", "1（25%）", "0（0%）", ""),
        ("2026-11-09", "1", "1（100%）", "1（100%）", "", "")]
    room_b = await table(admin, "cohorts", days="30", room=ROOM_B)
    assert [(r["人数"], r["W+1"]) for r in room_b] == [("1", "1（100%）")]


async def test_bad_trend_parameters(admin):
    assert (await admin.get("/trends?days=7")).status == 400
    assert (await admin.get("/trends?room=nope@chatroom")).status == 404
    assert (await admin.get("/export/trends/pie.csv?days=30")).status == 404
    assert (await admin.get("/trends?days=30&colour=red")).status == 400


def test_the_weekly_report(built, tmp_path):
    monday = datetime.fromisoformat("2026-11-16T09:00:00+08:00")
    note = weekly_report(JobContext(built.deps, frozenset()), monday)
    assert note == "weekly report 2026-11-09..2026-11-15 queued for 1 admins"
    text = built.scalar("SELECT text FROM outbox WHERE \"to\" = :a ORDER BY id DESC", a=ADMIN)
    lines = text.splitlines()
    assert lines[0] == "📊 群管周报（11-09 — 11-15，全部群）"
    # 11-09…15: alice and dave active (3 before: alice, bob, eve), 2 messages (3 before), no
    # check-ins (2 before), carol joined (4 before), dave left, alice's lead.
    assert lines[1:7] == ["活跃成员 2（上周 3，-33%）", "消息 2（上周 3，-33%）", "打卡 0（上周 2，-100%）",
                          "入群 1（上周 4，-75%）", "退群 1（上周 0，新增）", "新线索 1（上周 0，新增）"]
    assert lines[7] == "变化最大的群（活跃成员）：读书群 -2（本周 1）；r2@chatroom +1（本周 1）"
    assert "/login/link/" in lines[8]
    off = Bot(tmp_path, weekly_report="off")
    assert weekly_report(JobContext(off.deps, frozenset()), monday) == "weekly report off"


async def test_the_overview_shows_the_daily_trend_with_its_numbers(admin, built):
    html = await (await admin.get("/")).text()
    assert html.count('<svg class="trend"') == 1 and "近 30 天趋势" in html
    rows = dict(re.findall(r'<tr><td data-label="日期">(2026-11-\d\d)</td>(.*?)</tr>', html))
    assert len(rows) == 30
    cells = {d: tuple(int(v) for v in re.findall(r'<td data-label="[^"]+">(\d+)</td>', r)) for d, r in rows.items()}
    #                                   active messages checkins joins leaves leads
    assert cells["2026-11-02"] == (1, 2, 0, 1, 0, 0)
    assert cells["2026-11-10"] == (1, 1, 0, 1, 0, 1)
    assert cells["2026-11-12"] == (0, 0, 0, 0, 1, 0)
    # The same numbers as the 趋势 page's CSV of every room.
    csv_rows = {r["日期"]: tuple(int(v) for k, v in r.items() if k != "日期")
                for r in await table(admin, "daily", days="30")}
    assert cells == csv_rows
    assert 'href="/export/trends/daily.csv?days=30' in html


async def test_an_operators_overview_trend_is_of_their_room(built):
    built.say(ADMIN, "/operator @dave", mentions=["wxid_dave"], room=ROOM_B, name="群主", ts=at("30", "09:30"))
    async with TestClient(TestServer(create_app(built.pipeline, built.deps, FEATURES))) as client:
        await log_in_by_link(client, built, "wxid_dave")
        html = await (await client.get("/")).text()
    assert f"近 30 天趋势（{ROOM_B}）" in html  # 二群 has no name in this community: its id
    rows = dict(re.findall(r'<tr><td data-label="日期">(2026-11-\d\d)</td>(.*?)</tr>', html))
    messages = {d: int(re.findall(r'<td data-label="消息">(\d+)</td>', r)[0]) for d, r in rows.items()}
    assert {d: n for d, n in messages.items() if n} == {"2026-11-11": 1}  # dave's one line in 二群
