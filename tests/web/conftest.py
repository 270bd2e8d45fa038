"""Fixtures for the web console: a small community fed through the real pipeline into a real
SQLite file, and aiohttp test clients (anonymous, or logged in) over loopback."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.web.app import create_app
from bot.wiring import FEATURES
from tests.harness import ADMIN, T0, Bot

TOKEN = "test-token-令牌"  # the event API's token: it posts events, nothing else
PASSWORD = "console-密码"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_ID = "wxid_evil"
HOSTILE_TEXT = '这个课多少钱<script>alert("msg")</script>'
ROOM2 = "r2@chatroom"
START = T0 - timedelta(days=20)
CONFIG = """
[[tag_rules]]
rule = "keyword 意向 多少钱,价格 lead=yes expire=30"

[[tag_rules]]
rule = "count 活跃 10 7"

[[operators]]
room = "r1@chatroom"
member = "wxid_admin"
"""
FILLERS = 12  # quiet members, so that medians mean something and pages have several rows


def _community(bot: Bot) -> None:
    """21 days of a reading group: a core member, a lurker, a burst talker, a dormant member,
    a hostile nickname asking the price, quiet fillers and a newcomer."""
    names = {"wxid_alice": "Alice 爱丽丝", "wxid_bob": "Bob 鲍勃", "wxid_carol": "Carol 卡罗",
             "wxid_dave": "Dave 戴夫", HOSTILE_ID: HOSTILE, ADMIN: "群主"}
    names |= {f"wxid_f{i:02d}": f"成员{i:02d}" for i in range(FILLERS)}
    def say(member, text, ts):
        bot.say(member, text, name=names.get(member, member), ts=ts)

    for member, name in names.items():
        bot.join(member, name=name, ts=START)
    bot.join("wxid_alice", room=ROOM2, name=names["wxid_alice"], ts=START)
    talk = 0
    for day in range(21):
        base = START + timedelta(days=day, hours=1)
        say("wxid_alice", "打卡", base)
        for k in range(3):
            talk += 1
            say("wxid_alice", f"今天读到第{talk}章，收获很多", base + timedelta(minutes=5 + k * 7))
        bot.visit("wxid_bob", ts=base + timedelta(hours=1))
        if day in (4, 5, 6):
            for k in range(6):
                talk += 1
                say("wxid_carol", f"我来分享一下第{talk}个想法", base + timedelta(hours=2, minutes=k * 5))
        if day % 5 == 0:
            say(HOSTILE_ID, f"大家好，第{day}天来看看", base + timedelta(hours=3))
        for i in range(FILLERS):
            if (day + i) % (2 + i % 5) == 0:
                say(f"wxid_f{i:02d}", f"成员{i}第{day}天打个招呼呀", base + timedelta(hours=4, minutes=i))
    say(HOSTILE_ID, HOSTILE_TEXT, T0 - timedelta(hours=2))
    bot.join("wxid_new", name="新人小王", ts=T0 - timedelta(hours=1))
    say(ADMIN, "欢迎新人", T0)


@pytest.fixture(scope="session")
def community_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("community")
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
    bot = Bot(folder, api_token=TOKEN, web_password=PASSWORD, config=folder / "config.toml")
    _community(bot)
    bot.engine.dispose()
    return folder


@pytest.fixture
def community(community_template: Path, tmp_path: Path) -> Bot:
    """A fresh copy of the community for each test, so tests can write."""
    shutil.copy(community_template / "q.db", tmp_path / "q.db")
    shutil.copy(community_template / "config.toml", tmp_path / "config.toml")
    return Bot(tmp_path, api_token=TOKEN, web_password=PASSWORD, config=tmp_path / "config.toml")


@pytest.fixture
async def anon(community: Bot) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(community.pipeline, community.deps, FEATURES)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def log_in(client: TestClient, password: str = PASSWORD) -> str:
    """Log in through the login form; returns the session's CSRF token."""
    resp = await client.get("/login")
    form_token = csrf_of(await resp.text())
    resp = await client.post("/login", data={"password": password, "csrf": form_token},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()
    resp = await client.get("/rules")  # a page that does not depend on the community's data
    assert resp.status == 200
    return csrf_of(await resp.text())


@pytest.fixture
async def client(anon: TestClient) -> TestClient:
    anon.csrf = await log_in(anon)  # type: ignore[attr-defined]
    return anon


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SCREENSHOTS: list[Path] = []  # what the browser tests saved, listed at the end of the run


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say where the browser tests' screenshots are; say loudly when they were skipped: CI
    must run them."""
    saved = set(SCREENSHOTS)
    if saved:
        folders = sorted({str(p.parent) for p in saved})
        terminalreporter.write_sep("-", f"{len(saved)} console screenshots (390 × 844 and 1280 × 900)")
        for folder in folders:
            names = sorted(p.name for p in saved if str(p.parent) == folder)
            terminalreporter.write_line(f"{folder}: {', '.join(names)}")
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if "BROWSER TEST DID NOT RUN" in reason:
            terminalreporter.write_sep("!", "THE HEADLESS CHROMIUM TEST WAS SKIPPED", red=True)
            terminalreporter.write_line(reason, red=True)


def dm_link(bot: Bot, member: str) -> str:
    """The path of the one-time login link the bot DMs `member` who wrote 控制台 to it."""
    name = bot.scalar("SELECT name FROM member WHERE id = :m", m=member)  # kept, not renamed to the id
    replies = bot.say(member, "控制台", room=None, name=name)
    found = [r.text for r in replies if "/login/link/" in r.text]
    assert len(found) == 1 and all(r.to == member for r in replies if "/login/link/" in r.text), replies
    return found[0][found[0].index("/login/link/"):].split()[0]


async def log_in_by_link(client: TestClient, bot: Bot, member: str) -> str:
    """Log `member` in through their DM link; returns the session's CSRF token."""
    client.session.cookie_jar.clear()
    resp = await client.get(dm_link(bot, member), allow_redirects=False)
    assert resp.status == 303, await resp.text()
    resp = await client.get("/members")
    assert resp.status == 200
    return csrf_of(await resp.text())
