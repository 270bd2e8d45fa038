"""A real headless Chromium (Debian's `chromium`, driven by playwright) uses the console:
logs in, opens a room's quadrant chart, filters the member table, issues today's follow-up
list and marks an item done, sees it in the member's follow-up history, filters the audit
page and downloads its CSV, and saves screenshots. No script ever runs from a nickname (no dialog opens)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestServer

from bot.web.app import create_app
from bot.wiring import FEATURES
from tests.harness import ROOM
from tests.web.conftest import HOSTILE, HOSTILE_ID, PASSWORD

pytestmark = pytest.mark.slow  # scripts/test --quick leaves these out

BROWSER_SKIP = "BROWSER TEST DID NOT RUN"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("QUNGUAN_CHROMIUM"), shutil.which("chromium"),
                      "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture
async def browser():
    path = chromium_path()
    if path is None:
        pytest.skip(f"{BROWSER_SKIP}: no chromium found (scripts/test installs Debian's "
                    "`chromium` with apt-get; or set QUNGUAN_CHROMIUM)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip(f"{BROWSER_SKIP}: the playwright package is not installed (test extra)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@contextlib.asynccontextmanager
async def console_page(browser: Any, community: Any, width: int = 1280, height: int = 900
                       ) -> AsyncIterator[tuple[Any, str, list[str]]]:
    """A page of a console served over loopback, not logged in yet, the server's base URL, and the
    messages of any dialog a script opened (none ever should); both closed after."""
    server = TestServer(create_app(community.pipeline, community.deps, FEATURES), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("/")).rstrip("/")
    dialogs: list[str] = []
    page = await browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(15_000)
    try:
        yield page, base, dialogs
    finally:
        await page.close()
        await server.close()


@contextlib.asynccontextmanager
async def phone_page(browser: Any, community: Any, path: str) -> AsyncIterator[tuple[Any, str]]:
    """A 390 × 844 page of the console logged in at `path` (the login form comes first), and the
    server's base URL; both closed after."""
    async with console_page(browser, community, 390, 844) as (page, base, _):
        await page.goto(f"{base}{path}")
        await page.fill('input[name="password"]', PASSWORD)
        await page.click('button[type="submit"]')
        yield page, base


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: QUNGUAN_SCREENSHOTS if set (to look at them), else a temp dir."""
    folder = Path(os.environ.get("QUNGUAN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_a_manager_works_through_the_console(browser, community, screenshots):
    async with console_page(browser, community) as (page, base, dialogs):
        # Log in: any page sends us to the login form first.
        await page.goto(f"{base}/")
        assert "/login" in page.url
        await page.fill('input[name="password"]', PASSWORD)
        await page.click('button[type="submit"]')
        await page.wait_for_url(f"{base}/")
        assert await page.locator("h1").inner_text() == "概览"

        # The room's quadrant chart: one dot per member, threshold lines, named tooltips.
        await page.click(f'a[href="/rooms/{quote(ROOM, safe="")}"]')
        await page.wait_for_selector("svg.chart")
        assert await page.locator("svg.chart circle.dot").count() == 19
        assert await page.locator("svg.chart line.threshold-login").count() == 1
        assert await page.locator("svg.chart line.threshold-speaking").count() == 1
        alice = page.locator('circle[data-member="wxid_alice"]')
        await alice.hover()
        assert (await alice.locator("title").text_content()).startswith("Alice 爱丽丝：登录 21 天")
        evil = page.locator('circle[data-member="wxid_evil"] title')
        assert (await evil.text_content()).startswith(HOSTILE)  # text, not markup
        chart = screenshots / "room-chart.png"
        await page.screenshot(path=str(chart), full_page=True)
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        # The member table: filter by type, then search.
        await page.click('nav a[href="/members"]')
        await page.select_option('select[name="type"]', "burst")
        await page.click('form.filters button[type="submit"]')
        await page.wait_for_url("**/members?*type=burst*")
        rows = page.locator("table.members tbody tr")
        # The day's split is of the days before it: the hostile member's 6 messages in 5 login
        # days make her talk in bursts like Carol (as in tests/web/test_pages.py).
        assert await rows.count() == 2
        burst = await page.locator("table.members tbody").inner_text()
        assert "Carol 卡罗" in burst and HOSTILE in burst
        await page.select_option('select[name="type"]', "")
        await page.fill('input[name="q"]', "onerror")
        await page.click('form.filters button[type="submit"]')
        await page.wait_for_url("**q=onerror*")
        assert await rows.count() == 1
        assert HOSTILE in await rows.first.inner_text()  # shown as the literal nickname
        await page.screenshot(path=str(screenshots / "members.png"), full_page=True)

        # Today's follow-up: mark the first item done with a note.
        await page.click('nav a[href="/followup"]')
        assert await page.locator("form.done").count() == 0  # a preview until issued
        await page.click('form[action="/followup/issue"] button[type="submit"]')
        await page.wait_for_selector("form.done")
        first = page.locator("form.done").first
        n = await first.locator('input[name="n"]').get_attribute("value")
        await first.locator('input[name="note"]').fill("已电话沟通")
        await first.locator('button[type="submit"]').click()
        await page.wait_for_selector(".done-mark")
        await page.wait_for_selector(".notice")
        assert f"已记录第 {n} 项的跟进（备注：已电话沟通）" in await page.locator(".notice").inner_text()
        assert await page.locator(".done-mark").count() == 1
        await page.screenshot(path=str(screenshots / "followup.png"), full_page=True)
        assert community.scalar("SELECT note FROM followuprecord") == "已电话沟通"

        # That member's page shows the follow-up: who, when, what was noted.
        member = community.scalar("SELECT member FROM followuprecord")
        await page.goto(f"{base}/members/{quote(member, safe='')}")
        history = page.locator("table.followup-history tbody tr")
        assert await history.count() == 1
        done_row = await history.first.inner_text()
        assert "群主" in done_row and "已跟进「" in done_row and "已电话沟通" in done_row

        # The audit page: the login and the two console actions, filtered to one, and its CSV.
        await page.click('nav a[href="/audit"]')
        rows = page.locator("table.audit tbody tr")
        assert await rows.count() == 3
        assert "登录控制台" in await rows.nth(2).inner_text()
        await page.select_option('select[name="action"]', "/followup/done")
        await page.click('form.filters button[type="submit"]')
        await page.wait_for_url("**/audit?*action=%2Ffollowup%2Fdone*")
        assert await rows.count() == 1
        assert f"已记录第 {n} 项的跟进" in await rows.first.inner_text()
        async with page.expect_download() as download:
            await page.click("a.export")
        csv_path = screenshots / "audit.csv"
        await (await download.value).save_as(str(csv_path))
        lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "时间,操作人,操作人 id,位置,操作,变化" and len(lines) == 2
        await page.screenshot(path=str(screenshots / "audit.png"), full_page=True)

        # The hostile member's own page, then log out.
        await page.goto(f"{base}/members/wxid_evil")
        assert await page.locator("h1").inner_text() == HOSTILE
        await page.click("form.logout button")
        await page.wait_for_url("**/login")
        await page.goto(f"{base}/members")
        assert "/login" in page.url
        assert dialogs == [], "a script from chat ran in the console"


async def test_a_manager_sends_a_broadcast_from_the_console(browser, community, screenshots):
    """The 群发 form: a selection without a condition is refused; a preview shows who (a hostile
    nickname as text), how many and when; 确认发送 queues one 1:1 message per member."""
    async with console_page(browser, community) as (page, base, dialogs):
        await page.goto(f"{base}/outreach")
        await page.fill('input[name="password"]', PASSWORD)
        await page.click('button[type="submit"]')
        await page.wait_for_url(f"{base}/outreach")
        await page.fill('textarea[name="text"]', "周六晚 8 点直播答疑，欢迎来听")
        await page.click('button[value="preview"]')
        await page.wait_for_selector(".error")
        assert "请至少选一个条件" in await page.locator(".error").inner_text()
        assert await page.locator('textarea[name="text"]').input_value() == "周六晚 8 点直播答疑，欢迎来听"

        await page.fill('input[name="tag"]', "意向")
        await page.click('button[value="preview"]')
        await page.wait_for_selector(".preview-box")
        box = await page.locator(".preview-box").inner_text()
        assert "预览：标签「意向」" in box and f"共选中 1 人：{HOSTILE}" in box
        assert "将发给 1 人" in box and "周六晚 8 点直播答疑，欢迎来听" in box and "回复「退订」" in box
        assert community.scalar("SELECT count(*) FROM outreachmessage") == 0  # a preview sends nothing
        await page.screenshot(path=str(screenshots / "outreach-preview.png"), full_page=True)

        await page.click('button[value="send"]')
        await page.wait_for_selector(".notice")
        assert "已安排群发 #1：1 人" in await page.locator(".notice").inner_text()
        assert await page.locator("table.campaigns tbody tr").count() == 1
        assert community.rows('SELECT o."to", o.status FROM outreachmessage m JOIN outbox o ON o.id = m.outbox_id') \
            == [(HOSTILE_ID, "pending")]
        assert dialogs == [], "a script from chat ran in the console"
