"""The console's 防广告 and 问答 pages: forms that go through and ones refused, and both pages
used in a real Chromium at a phone's width (390 px) without sideways scrolling."""

from __future__ import annotations

from tests.harness import ROOM, Bot
from tests.web.test_browser import browser, phone_page  # noqa: F401  (the real Chromium fixture)
from tests.web.test_pages import text_of

T = "2026-11-20T10:{:02d}:00+08:00"


async def test_the_guard_page_turns_a_room_on_and_edits_ad_words(community: Bot, client):
    text = text_of(await (await client.get("/guard")).text())
    assert "读书群 未开启" in text and "黑名单是空的" in text
    resp = await client.post("/guard", data={"csrf": client.csrf, "action": "on", "value": ROOM})
    assert "已开启防广告" in await resp.text()
    assert community.scalar("SELECT enabled FROM guardroom WHERE room = :r", r=ROOM) in (1, True)
    resp = await client.post("/guard", data={"csrf": client.csrf, "action": "add", "value": "代理招募"})
    assert "已添加广告词「代理招募」" in await resp.text()
    resp = await client.post("/guard", data={"csrf": client.csrf, "action": "on", "value": "nope@chatroom"})
    assert "没有这个群" in await resp.text()
    resp = await client.post("/guard", data={"csrf": client.csrf, "action": "explode", "value": ROOM})
    assert "不认识的操作" in await resp.text()
    community.feed({"type": "message", "id": "g1", "ts": T.format(1), "room": ROOM, "sender": "wxid_alice",
                    "text": "<b>加V</b> wx999"})
    html = await (await client.get("/guard")).text()
    assert "&lt;b&gt;加V&lt;/b&gt;" in html and "已提醒" in html  # the post, escaped, with its outcome


async def test_the_faq_page_adds_deletes_and_backtests(community: Bot, client):
    resp = await client.post("/faq", data={"csrf": client.csrf, "action": "add", "keywords": "几点开课, 上课时间",
                                             "answer": "每晚 8 点"})
    assert "已添加问答 1" in await resp.text()
    community.say("wxid_alice", "请问几点开课？", ts=T.format(2), id="faq-q1")
    text = text_of(await (await client.get("/faq")).text())
    assert "1. 几点开课、上课时间" in text and "「请问几点开课？」→ 问答 1" in text
    resp = await client.post("/faq", data={"csrf": client.csrf, "action": "add", "keywords": "课", "answer": "x"})
    assert "至少两个字" in await resp.text()
    resp = await client.post("/faq", data={"csrf": client.csrf, "action": "del", "entry": "x"})
    assert "问答编号应为数字" in await resp.text()
    resp = await client.post("/faq", data={"csrf": client.csrf, "action": "del", "entry": "1"})
    assert "已删除问答 1" in await resp.text()


async def test_both_pages_work_at_a_phones_width(browser, community: Bot):  # noqa: F811
    async with phone_page(browser, community, "/guard") as (page, base):
        await page.wait_for_url(f"{base}/guard")
        await page.click('ul.guard-rooms button[value="on"] >> nth=0')
        await page.wait_for_selector("text=已开启防广告")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await page.goto(f"{base}/faq")
        await page.fill('input[name="keywords"]', "回放在哪")
        await page.fill('textarea[name="answer"]', "回放在群公告里")
        await page.click('button[value="add"]')
        await page.wait_for_selector("text=已添加问答 1")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
