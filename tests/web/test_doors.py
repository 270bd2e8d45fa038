"""The console's doors: open redirects, password guessing, logout and idle sessions, CSRF, and
what the API token may do."""

from __future__ import annotations

import logging
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.features.people.service import login_failed, login_succeeded, login_wait
from bot.web.app import create_app, warn_plain_http
from bot.web.login import safe_next
from bot.web.shell import CONSOLE
from bot.wiring import FEATURES
from tests.harness import ADMIN, ROOM, T0, Bot
from tests.web.conftest import PASSWORD, TOKEN, auth, csrf_of, log_in


async def attempt(client, password: str, next_: str = "/"):
    client.session.cookie_jar.clear()  # a fresh browser each time
    resp = await client.get("/login")
    form = csrf_of(await resp.text())
    return await client.post("/login", data={"password": password, "csrf": form, "next": next_},
                             allow_redirects=False)


HOSTILE_NEXT = ["//evil.example", "/\t/evil.example", "/%09/evil.example", "/\n/evil.example",
                "/\\evil.example", "/\\/evil.example", "https://evil.example", "javascript:alert(1)",
                "evil.example", " /members", "/members\r\nSet-Cookie: x=1", "/\u200b/evil.example",
                "/\u3000/evil.example", "/" + "a" * 3000, ""]


@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_next_accepts_only_a_local_path(value):
    decoded = value.replace("%09", "\t")  # aiohttp hands the handler the decoded query
    assert safe_next(decoded) == "/"


@pytest.mark.parametrize("value", ["/", "/members?tag=意向&room=r1%40chatroom", "/members/wxid_a",
                                   "/rooms/r1@chatroom", "/rules#add"])
def test_next_keeps_local_paths(value):
    assert safe_next(value) == value


async def test_the_login_form_never_redirects_off_site(anon):
    resp = await anon.get("/login?next=/%09/evil.example")
    assert 'value="/"' in await resp.text()
    for value in HOSTILE_NEXT:
        if value != value.strip():
            continue  # the form's fields are stripped: " /members" arrives as a local path
        resp = await attempt(anon, PASSWORD, value.replace("%09", "\t"))
        assert resp.status == 303 and resp.headers["Location"] == "/", value
    resp = await attempt(anon, PASSWORD, "/members?tag=意向")
    assert resp.headers["Location"] == "/members?tag=意向"


async def test_password_guesses_are_throttled_and_logged(anon, community, caplog):
    clock = [1_800_000_000.0]
    anon.server.app[CONSOLE].wall = lambda: clock[0]
    with caplog.at_level(logging.WARNING, logger="bot.web"):
        for _ in range(4):
            assert (await attempt(anon, "guess")).status == 401
        fifth = await attempt(anon, "guess")
        assert fifth.status == 429 and "请 60 秒后再试" in await fifth.text()
        locked = await attempt(anon, PASSWORD)  # even the right password waits
        assert locked.status == 429 and (await anon.get("/", allow_redirects=False)).status == 303
        clock[0] += 61
        for _ in range(4):
            assert (await attempt(anon, "guess")).status == 401
        again = await attempt(anon, "guess")
        assert again.status == 429 and "请 120 秒后再试" in await again.text()  # growing
        clock[0] += 121
        assert (await attempt(anon, PASSWORD)).status == 303
    logged = [r.getMessage() for r in caplog.records]
    assert sum("wrong password" in m for m in logged) == 10
    assert sum("locked out" in m for m in logged) >= 2
    # One audit row per client per lockout, with the count: 5 wrong + 1 while locked, then 5.
    assert community.rows("SELECT result FROM auditentry WHERE action = 'login_failed' ORDER BY id") == [
        ("登录失败 6 次（密码错误或锁定期间再试），已锁定 60 秒",),
        ("登录失败 5 次（密码错误或锁定期间再试），已锁定 120 秒",)]


async def test_a_flood_of_guesses_is_one_audit_row_per_lockout(anon, community):
    """Before: every refused login wrote its own audit row, also while locked out (11,848 rows
    in a minute). Now the rows of one lockout are one row with the count."""
    anon.server.app[CONSOLE].wall = lambda: 1_800_000_000.0
    for _ in range(5):
        await attempt(anon, "guess")
    for _ in range(60):
        assert (await attempt(anon, "guess")).status == 429
    assert community.rows("SELECT detail, result FROM auditentry WHERE action = 'login_failed'") == [
        ("127.0.0.1", "登录失败 65 次（密码错误或锁定期间再试），已锁定 60 秒")]


def test_throttle_per_client_and_for_everyone(community):
    now = 1_800_000_000
    with community.engine.begin() as conn:
        for i in range(49):  # one guess from each of many clients
            assert login_failed(conn, f"10.0.0.{i}", now, locked=False) == 0
        assert login_wait(conn, "10.0.0.99", now) == 0
        assert login_failed(conn, "10.0.0.49", now, locked=False) == 60  # the 50th overall locks everyone
        assert login_wait(conn, "10.0.0.99", now) == 60
        assert login_wait(conn, "10.0.0.99", now + 60) == 0
        for _ in range(4):
            login_failed(conn, "a", now + 60, locked=False)
        login_succeeded(conn, "a")  # a success clears the client
        assert login_failed(conn, "a", now + 60, locked=False) == 0


async def test_the_throttle_is_shared_by_every_process_on_the_store(community):
    """Before: each process kept its own count in memory, so guesses spread over two
    processes (two `qunguan run` on one PostgreSQL) were never locked out."""
    first = TestClient(TestServer(create_app(community.pipeline, community.deps, FEATURES)))
    second = TestClient(TestServer(create_app(community.pipeline, community.deps, FEATURES)))
    async with first, second:
        for client in (first, second):
            client.server.app[CONSOLE].wall = lambda: 1_800_000_000.0
        for _ in range(4):
            assert (await attempt(first, "guess")).status == 401
        assert (await attempt(second, "guess")).status == 429  # the 5th, on the other process
        assert (await attempt(first, PASSWORD)).status == 429


async def test_an_admin_locked_out_by_someone_elses_guessing_gets_in_by_dm_link(anon, community):
    """Before: a lockout of everyone (50 guesses from anywhere) kept the real admin out too.
    A one-time link asked for by DM (控制台) still logs them in."""
    now = int(time.time())
    with community.engine.begin() as conn:
        for i in range(50):
            login_failed(conn, f"10.1.0.{i}", now, locked=False)
    assert (await attempt(anon, PASSWORD)).status == 429
    replies = community.say(ADMIN, "控制台", room=None)
    link = next(r.text for r in replies if "/login/link/" in r.text).split("\n")[-1]
    resp = await anon.get(link[link.index("/login/link/"):], allow_redirects=False)
    assert resp.status == 303
    assert (await anon.get("/rules")).status == 200


@pytest.mark.parametrize(("web_url", "secure"), [("https://qg.example.com", True),
                                                 ("http://127.0.0.1:8080", False), ("", False)])
async def test_cookies_are_secure_behind_https(tmp_path, web_url, secure):
    """Before: the session cookie had no Secure flag even when the console is served over https."""
    bot = Bot(tmp_path, web_password=PASSWORD, web_url=web_url)
    async with TestClient(TestServer(create_app(bot.pipeline, bot.deps, FEATURES))) as c:
        resp = await c.get("/login")
        form = csrf_of(await resp.text())
        assert ("Secure" in resp.headers["Set-Cookie"]) == secure
        nonce = resp.cookies["qg_login"].value  # a client does not send a Secure cookie over http
        c.session.cookie_jar.clear()
        resp = await c.post("/login", data={"password": PASSWORD, "csrf": form}, allow_redirects=False,
                            headers={"Cookie": f"qg_login={nonce}"})
        session_cookie = [h for h in resp.headers.getall("Set-Cookie") if h.startswith("qg_session=")]
        assert len(session_cookie) == 1 and ("Secure" in session_cookie[0]) == secure
        assert "HttpOnly" in session_cookie[0] and "SameSite=Lax" in session_cookie[0]


def test_a_plain_http_console_url_is_warned_about_at_start(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.web"):
        assert warn_plain_http("http://console.example.com")
        assert not warn_plain_http("https://console.example.com")
        assert not warn_plain_http("http://127.0.0.1:8080")
        assert not warn_plain_http("")
    assert ["QUNGUAN_WEB_URL is http://console.example.com" in r.getMessage() for r in caplog.records] == [True]


async def test_logout_revokes_the_session_on_the_server(client):
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["qg_session"].value
    assert (await client.get("/rules")).status == 200
    resp = await client.post("/logout", data={"csrf": client.csrf}, allow_redirects=False)
    assert resp.status == 303
    client.session.cookie_jar.update_cookies({"qg_session": cookie})  # the old cookie, replayed
    resp = await client.get("/rules", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    assert (await client.get("/api/members")).status == 401


async def test_an_idle_session_expires(client, community):
    assert (await client.get("/rules")).status == 200
    with community.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE websession SET seen_at = seen_at - 2 * 3600 + 30")
    assert (await client.get("/rules")).status == 200  # 2 h less 30 s idle: still in
    with community.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE websession SET seen_at = seen_at - 2 * 3600 - 1")
    resp = await client.get("/rules", allow_redirects=False)
    assert resp.status == 303
    assert community.scalar("SELECT count(*) FROM websession") == 0


async def test_forms_need_the_sessions_csrf_token(client):
    resp = await client.post("/rules", data={"rule": "keyword 新 新词"})
    assert resp.status == 403 and "CSRF" in await resp.text()
    resp = await client.post("/rules", data={"rule": "keyword 新 新词", "csrf": "x" * 43})
    assert resp.status == 403


async def test_the_api_token_cannot_run_chat_commands(anon, community):
    before = community.scalar("SELECT count(*) FROM tagrule")
    ts = T0.timestamp() + 60
    events = [{"type": "message", "id": "api-cmd1", "ts": ts, "room": ROOM, "sender": ADMIN,
               "text": "/rule add keyword 偷偷 秘密"},
              {"type": "message", "id": "api-cmd2", "ts": ts + 1, "sender": ADMIN,
               "text": "/points @wxid_alice +1000"}]
    resp = await anon.post("/api/events", json=events, headers=auth())
    assert resp.status == 200 and (await resp.json())["stored"] == 2
    assert community.scalar("SELECT count(*) FROM tagrule") == before
    assert community.scalar("SELECT count(*) FROM pointsentry WHERE kind = 'manual'") == \
        community.scalar("SELECT count(*) FROM pointsentry WHERE kind = 'manual' AND ref != 'api-cmd2'"
                         " OR (kind = 'manual' AND ref IS NULL)")
    assert community.scalar("SELECT count(*) FROM outbox WHERE reply_to LIKE 'api-%'") == 0
    # The same command from the admin through chat does run.
    community.say(ADMIN, "/rule add keyword 公开 公开词", ts=T0)
    assert community.scalar("SELECT count(*) FROM tagrule") == before + 1


async def test_with_only_an_api_token_nobody_logs_in(tmp_path):
    bot = Bot(tmp_path, api_token=TOKEN)
    async with TestClient(TestServer(create_app(bot.pipeline, bot.deps, FEATURES))) as c:
        html = await (await c.get("/login")).text()
        assert "QUNGUAN_WEB_PASSWORD" in html and 'name="password"' not in html
        resp = await c.get("/members", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")


async def test_logging_in_again_works_after_logout(anon):
    await log_in(anon)
    assert (await anon.get("/rules")).status == 200


async def test_the_outbox_page_shows_unknown_and_failed_rows_with_resend_and_drop(client, community):
    with community.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO outbox (created_at, room, \"to\", text, mentions, status, attempts, next_at, "
            "error) VALUES (1793498400, 'r1@chatroom', 'wxid_alice', '<b>打卡成功</b>', '', 'unknown', 1, "
            "0, '连接断开'), (1793498500, NULL, 'wxid_bob', '你好', '', 'failed', 8, 0, '网络错误'), "
            "(1793498600, NULL, 'wxid_bob', '这条已经送达', '', 'sent', 1, 0, NULL)")
        ids = [r[0] for r in conn.exec_driver_sql(
            "SELECT id FROM outbox WHERE text IN ('<b>打卡成功</b>', '你好') ORDER BY id")]
    html = await (await client.get("/outbox")).text()
    assert "不确定是否已发出" in html and "发送失败" in html and "网络错误" in html
    assert "&lt;b&gt;打卡成功&lt;/b&gt;" in html and "<b>打卡成功" not in html
    assert "这条已经送达" not in html
    assert f'action="/outbox/{ids[0]}/resend"' in html and f'action="/outbox/{ids[1]}/drop"' in html
    assert (await client.post(f"/outbox/{ids[0]}/resend", data={})).status == 403  # CSRF
    resp = await client.post(f"/outbox/{ids[0]}/resend", data={"csrf": client.csrf})
    assert resp.status == 200 and "已重新排队" in await resp.text()
    resp = await client.post(f"/outbox/{ids[1]}/drop", data={"csrf": client.csrf})
    assert "已放弃" in await resp.text()
    assert community.rows(f"SELECT status FROM outbox WHERE id IN ({ids[0]}, {ids[1]}) ORDER BY id") == \
        [("pending",), ("dropped",)]
    again = await client.post(f"/outbox/{ids[1]}/drop", data={"csrf": client.csrf})
    assert again.status == 409
    assert "没有需要处理的消息" in await (await client.get("/outbox")).text()
