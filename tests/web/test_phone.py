"""The console on a phone, in a real headless Chromium: an operator taps the link under their
capped list at 390 × 844, snoozes an item, tags a member from the member page, and an admin
finds both in the audit log under the operator's name. Every page is screenshotted at 390 × 844
and 1280 × 900, and nothing may overflow the screen's width."""

from __future__ import annotations

import itertools
import re
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestServer

from bot.web.app import create_app
from bot.web.shell import Slots
from bot.wiring import FEATURES
from tests.harness import ADMIN, ROOM, T0, Bot, texts
from tests.web.conftest import HOSTILE_ID, SCREENSHOTS, dm_link
from tests.web.test_browser import browser, screenshots  # noqa: F401 (fixtures)

OP = "wxid_bob"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Every page of the console: each nav entry any feature declares, and the pages reached from them
# (a room, two members, a room's trends, a backtest).
EXTRA_PAGES = [f"/trends?days=90&room={quote(ROOM, safe='')}", "/members/wxid_alice", f"/members/{HOSTILE_ID}",
               f"/rooms/{quote(ROOM, safe='')}", "/rules/backtest?rule=keyword+意向+价格"]
PAGES = [*dict.fromkeys(e.path for e in Slots.of(FEATURES).nav), *EXTRA_PAGES]
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# Visible things one taps that are lower than 40 px (links inside running text are exempt).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, input:not([type=hidden]), select, .menu-button, nav a, td a, .pager a, a.export, summary')].filter(e => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.height < 40 && getComputedStyle(e).visibility !== 'hidden';
    }).map(e => e.outerHTML.slice(0, 80))"""


@pytest.fixture
def bob(community: Bot) -> Bot:
    community._ids = itertools.count(100_000)  # past the community's own event ids
    community.say(ADMIN, "/operator @Bob cap=1", mentions=[OP], name="群主", ts=T0)
    return community


async def _server(bot: Bot) -> tuple[TestServer, str]:
    server = TestServer(create_app(bot.pipeline, bot.deps, FEATURES), host="127.0.0.1")
    await server.start_server()
    return server, str(server.make_url("/")).rstrip("/")


async def test_an_operator_works_their_list_on_the_phone(browser, bob, screenshots):  # noqa: F811
    dms = texts(bob.say(OP, "跟进清单", room=None, name="Bob 鲍勃"))
    link = re.search(r"另有 \d+ 项，见控制台：http://127\.0\.0\.1:8080(/login/link/[\w-]+)", dms)
    assert link, dms
    server, base = await _server(bob)
    phone = await browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = await phone.new_page()
    page.set_default_timeout(15_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        # The link under the capped list logs Bob in on his list, no password.
        await page.goto(base + link.group(1))
        await page.wait_for_url(f"**/followup?operator={OP}")
        assert await page.locator(".who").inner_text() == "运营Bob 鲍勃"
        assert await page.evaluate(OVERFLOW) <= 0
        await page.screenshot(path=str(screenshots / "phone-followup.png"), full_page=True)
        await page.screenshot(path=str(screenshots / "phone-list.png"))  # the screen as the operator sees it
        # The nav is folded into a menu on the phone.
        assert not await page.locator("header nav").is_visible()
        await page.click(".menu-button")
        assert await page.locator('header nav a[href="/members"]').is_visible()
        await page.click(".menu-button")

        # Snooze the first item for 2 days.
        first = page.locator("table.followup tbody tr").first
        n = await first.get_attribute("data-n")
        await first.locator("details.more-actions summary").click()
        await first.locator('form.snooze select[name="days"]').select_option("2")
        await first.locator("form.snooze button").click()
        await page.wait_for_selector(".notice")
        assert f"第 {n} 项先放一放，2 天后" in await page.locator(".notice").inner_text()
        assert page.url.endswith(f"/followup?operator={OP}")

        # Tag a member from the member page.
        await page.goto(f"{base}/members/wxid_alice")
        form = page.locator("form.tag-form")
        await form.locator('input[name="tag"]').fill("想报名")
        await form.locator('input[name="reason"]').fill("私聊问了开班时间")
        await page.screenshot(path=str(screenshots / "phone-member-full.png"), full_page=True)
        await form.locator("button").click()
        await page.wait_for_selector(".notice")
        notice = await page.locator(".notice").inner_text()
        assert "已给 Alice 爱丽丝 打上「想报名」（原因：私聊问了开班时间）" in notice
        await page.screenshot(path=str(screenshots / "phone-member.png"))
        assert await page.evaluate(OVERFLOW) <= 0
        # An operator never sees the admins' pages.
        resp = await page.goto(f"{base}/audit")
        assert resp is not None and resp.status == 403
        assert "只有管理员" in await page.locator(".error").inner_text()
        await page.screenshot(path=str(screenshots / "phone-refused.png"), full_page=True)

        # The admin (their own DM link) finds both actions under Bob's name.
        admin = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
        desk = await admin.new_page()
        await desk.goto(base + dm_link(bob, ADMIN))
        await desk.goto(f"{base}/audit?actor={OP}")
        rows = desk.locator("table.audit tbody tr")
        found = [await rows.nth(i).inner_text() for i in range(await rows.count())]
        assert any("Bob 鲍勃（控制台）" in r and "/followup/snooze" in r and f"第 {n} 项先放一放" in r for r in found)
        assert any("Bob 鲍勃（控制台）" in r and "/act/tag" in r and "想报名" in r for r in found)
        assert any("登录控制台" in r for r in found)
        await desk.screenshot(path=str(screenshots / "desktop-audit.png"), full_page=True)
        await admin.close()
        assert dialogs == []
    finally:
        SCREENSHOTS.extend(screenshots.glob("*.png"))
        await phone.close()
        await server.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x900"])
async def test_every_page_fits_the_screen(browser, community, screenshots, viewport):  # noqa: F811
    server, base = await _server(community)
    context = await browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE,
                                        has_touch=viewport is PHONE)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        await page.goto(base + dm_link(community, ADMIN))
        await page.wait_for_url(f"{base}/")
        overflowing, small = {}, {}
        for path in PAGES:
            resp = await page.goto(base + path)
            assert resp is not None and resp.status == 200, path
            name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-") or "overview"
            if "?" in path:
                name += "-" + re.sub(r"[^a-z0-9]+", "-", path.split("?")[1].lower())[:20]
            await page.screenshot(path=str(screenshots / f"{viewport['width']}-{name}.png"), full_page=True)
            if (over := await page.evaluate(OVERFLOW)) > 0:
                overflowing[path] = over
            if viewport is PHONE and (tiny := await page.evaluate(SMALL_TARGETS)):
                small[path] = tiny[:3]
        if viewport is DESKTOP:  # one chart as the README shows it
            await page.goto(f"{base}/trends?days=30")
            await page.locator("section#daily").screenshot(path=str(screenshots / "desktop-chart.png"))
        assert overflowing == {}, f"wider than the screen by (px): {overflowing}"
        assert small == {}, f"tap targets under 40 px: {small}"
    finally:
        SCREENSHOTS.extend(p for p in screenshots.glob(f"{viewport['width']}-*.png"))
        await context.close()
        await server.close()
