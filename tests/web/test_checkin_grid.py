"""A task's page in the console: the grid of members × days (✓ / 补 / –) with CSV, and its
reviewed and excellent check-ins; on a 390 px phone too."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.harness import ADMIN, ROOM, T0
from tests.web.conftest import HOSTILE
from tests.web.test_browser import browser, phone_page  # noqa: F401  # the fixture

WEEK = "room=r1%40chatroom&period=week&at=2026-11-01"  # a Sunday: 10-26 to 11-01


def made_up_bob(community) -> None:
    """Bob checks in 7 days in a row (a make-up card), misses the 8th, makes it up on the 9th."""
    start = T0 - timedelta(days=9)
    for d in range(7):
        community.say("wxid_bob", "打卡", name="Bob 鲍勃", ts=start + timedelta(days=d), id=f"bob-{d}")
    community.say("wxid_bob", "补签", name="Bob 鲍勃", ts=start + timedelta(days=8), id="bob-makeup")


async def test_the_grid_of_a_week(client, community):
    made_up_bob(community)
    resp = await client.get(f"/tasks/1?{WEEK}")
    html = await resp.text()
    assert resp.status == 200 and "「打卡」2026-10-26 至 2026-11-01" in html
    assert html.count('class="done">✓</td>') >= 7  # Alice, every day
    assert 'class="made-up">补</td>' in html  # Bob's 10-31, made up
    assert HOSTILE not in html and "&lt;img src=x" in html  # a hostile nickname, escaped
    assert ">群主<" not in html  # staff are not on the roll
    assert "导出 CSV" in html and "上一周" in html


async def test_the_grid_as_csv(client, community):
    made_up_bob(community)
    resp = await client.get(f"/export/checkins-1.csv?{WEEK}")
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0] == ["id", "成员", *(f"2026-10-{d}" for d in range(26, 32)), "2026-11-01", "打卡天数"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["wxid_alice"][2:] == ["✓"] * 7 + ["7"]
    assert by_id["wxid_bob"][2:] == ["✓"] * 5 + ["补", "–", "6"]
    assert ADMIN not in by_id and "wxid_dave" in by_id
    month = await client.get("/export/checkins-1.csv?room=r1%40chatroom&period=month&at=2026-11-02")
    header = next(csv.reader(io.StringIO((await month.read()).decode("utf-8-sig"))))
    assert len(header) == 2 + 30 + 1


async def test_bad_parameters_are_named(client):
    for query, status, says in [("period=year", 400, "period 应为 week"), ("at=2026-13-40", 400, "at 应为日期"),
                                ("room=nope", 404, "没有这个群"), ("colour=red", 400, "不认识的参数")]:
        resp = await client.get(f"/tasks/1?{query}")
        assert resp.status == status and says in await resp.text(), query
    assert (await client.get("/tasks/999")).status == 404
    assert (await client.get("/tasks/abc")).status == 404


async def test_reviews_are_listed_on_the_task_page(client, community):
    community.say("wxid_carol", "打卡 读完《活着》", name="Carol 卡罗", ts=T0 + timedelta(hours=1), id="c-1")
    community.feed({"type": "message", "id": "rev-1", "ts": (T0 + timedelta(hours=2)).isoformat(), "room": ROOM,
                    "sender": ADMIN, "kind": "quote", "text": f"优秀 {HOSTILE}", "quote_of": "c-1"})
    html = await (await client.get("/tasks/1")).text()
    assert "🌟 优秀" in html and "读完《活着》" in html and "Carol 卡罗" in html
    assert HOSTILE not in html


async def test_the_grid_on_a_390_px_phone(browser, community):  # noqa: F811
    async with phone_page(browser, community, "/tasks/1?room=r1%40chatroom&period=month&at=2026-11-02") as (page, _):
        await page.wait_for_selector("table.checkin-grid")
        box = await page.eval_on_selector(".grid-scroll", "e => [e.getBoundingClientRect().right, e.scrollWidth,"
                                                          " e.clientWidth]")
        assert box[0] <= 390  # the grid's box fits the screen...
        assert box[1] > box[2]  # ...and a month scrolls sideways inside it
        name = page.locator("table.checkin-grid tbody th").first
        before = await name.bounding_box()
        await page.eval_on_selector(".grid-scroll", "e => { e.scrollLeft = 400; }")
        after = await name.bounding_box()
        assert before and after and abs(before["x"] - after["x"]) < 1  # the names stay in view
        assert await page.locator("text=导出 CSV").is_visible()


async def test_a_task_with_photos_and_a_reminder_from_the_console(client, community):
    form = {"csrf": client.csrf, "name": "跑步", "triggers": "跑步打卡", "points": "10", "reply": "auto",
            "media": "image", "remind_missing": "8:30", "public_missing": "on", "excellent": "30", "roundup": "on"}
    resp = await client.post("/tasks", data=form)
    assert resp.status == 200 and "已添加打卡任务「跑步」" in await resp.text()
    assert community.rows("SELECT media, remind_missing, public_missing, excellent_points, roundup FROM checkintask"
                          " WHERE name = '跑步'") == [("image", "08:30", 1, 30, 1)]
    resp = await client.post("/tasks", data=form | {"name": "跳绳", "triggers": "跳绳打卡", "remind_missing": "25:00"})
    assert resp.status == 400 and "应写成 HH:MM" in await resp.text()
