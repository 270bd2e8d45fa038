"""The console's doors: open redirects, password guessing, logout and idle sessions, CSRF, and
what the API token may do."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.web.app import create_app
from bot.web.auth import Throttle
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


async def test_password_guesses_are_throttled_and_logged(anon, caplog):
    throttle = anon.server.app[CONSOLE].throttle
    clock = [1000.0]
    throttle.clock = lambda: clock[0]
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


def test_throttle_per_client_and_for_everyone():
    clock = [0.0]
    t = Throttle(per_client=5, overall=12, clock=lambda: clock[0])
    for i in range(11):
        assert t.failed(f"10.0.0.{i}") == 0  # one guess from each of many clients
    assert t.wait("10.0.0.99") == 0
    assert t.failed("10.0.0.12") == 60  # the 12th failure overall locks everyone
    assert t.wait("10.0.0.99") == 60
    clock[0] += 60
    assert t.wait("10.0.0.99") == 0
    for _ in range(4):
        t.failed("a")
    t.succeeded("a")  # a success clears the client
    assert t.failed("a") == 0


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
