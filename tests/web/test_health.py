"""GET /healthz (no login, no member data) and `qunguan status`, in each state: healthy, an
account disconnected past the threshold, a run gone silent, a retired account, the store
unreachable."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.base import Outgoing
from bot.cli import main
from bot.core.accounts import heartbeat, register
from bot.core.pipeline import enqueue
from bot.store import migrate
from bot.web.app import create_app
from bot.web.health import STALE_SECONDS
from bot.wiring import FEATURES
from tests.harness import Bot

ACCOUNT = "wxid_bot_a"


@pytest.fixture
async def anon(bot: Bot):
    client = TestClient(TestServer(create_app(bot.pipeline, bot.deps, FEATURES)))
    await client.start_server()
    yield client
    await client.close()


def note(bot: Bot, *, connected: bool, state_ago: int, alive_ago: int = 0, event_ago: int = 0,
         leading: bool = False) -> None:
    now = int(time.time())
    with bot.engine.begin() as conn:
        register(conn, ACCOUNT, "A", now - state_ago)
        heartbeat(conn, ACCOUNT, connected=connected, changed=True, at=now - state_ago,
                  event_at=now - event_ago if event_ago else 0, leading=leading)
        heartbeat(conn, ACCOUNT, connected=connected, changed=False, at=now - alive_ago, event_at=0,
                  leading=leading)


async def healthz(client: TestClient) -> tuple[int, dict]:
    resp = await client.get("/healthz")  # anonymous: no session, no token
    return resp.status, json.loads(await resp.text())


async def test_healthz_in_each_state(bot: Bot, anon: TestClient, capsys):
    bot.say("wxid_alice", "今天读完了第三章", name="Alice")
    status, body = await healthz(anon)
    assert status == 200 and body["ok"] and body["reachable"]
    assert body["schema_current"] and body["schema"] == migrate.stored(bot.engine)
    assert body["accounts"] == [] and body["leader"] is None

    # A run logged in, leading, with an event 40 s ago and two replies queued 2 minutes ago.
    note(bot, connected=True, state_ago=600, event_ago=40, leading=True)
    with bot.engine.begin() as conn:
        enqueue(conn, [Outgoing(text="你好", room="r1@chatroom"), Outgoing(text="你好", to="wxid_alice")],
                bot.clock, "test")
        conn.exec_driver_sql(f"UPDATE outbox SET created_at = {int(time.time()) - 120}")
    status, body = await healthz(anon)
    assert status == 200, body
    (account,) = body["accounts"]
    assert account["id"] == ACCOUNT and account["connected"] and account["process"] == "running"
    assert 595 <= account["state_seconds"] <= 610 and 38 <= account["last_event_seconds"] <= 50
    assert body["outbox_waiting"] == 2 and 118 <= body["outbox_oldest_seconds"] <= 130
    assert body["leader"] == "A"
    raw = json.dumps(body, ensure_ascii=False)
    assert "wxid_alice" not in raw and "Alice" not in raw and "你好" not in raw  # no member data

    # Disconnected for a minute: still within the threshold (300 s).
    note(bot, connected=False, state_ago=60)
    status, body = await healthz(anon)
    assert status == 200 and not body["accounts"][0]["connected"]
    # ... and for ten minutes: 503.
    note(bot, connected=False, state_ago=600)
    status, body = await healthz(anon)
    assert status == 503 and not body["ok"] and "已断开" in body["problems"][0]

    # Connected, but its run stopped heartbeating ten minutes ago (killed): gone, 503; no leader.
    note(bot, connected=True, state_ago=3600, alive_ago=600, leading=True)
    status, body = await healthz(anon)
    assert status == 503 and body["accounts"][0]["process"] == "gone" and body["leader"] is None
    assert STALE_SECONDS < 600

    # Not seen for eight days: retired, listed but not judged.
    note(bot, connected=False, state_ago=8 * 86400, alive_ago=8 * 86400)
    status, body = await healthz(anon)
    assert status == 200 and body["accounts"][0]["process"] == "retired"

    # `qunguan status` prints the same facts; exit status 1 when unhealthy.
    note(bot, connected=False, state_ago=600)
    capsys.readouterr()
    assert main(["status", "--db", bot.settings.database_url]) == 1
    out = capsys.readouterr().out
    assert "异常" in out and "A（wxid_bot_a）：未连接" in out and "发件箱待发送：2 条" in out
    assert main(["status", "--json", "--db", bot.settings.database_url]) == 1
    assert json.loads(capsys.readouterr().out)["accounts"][0]["id"] == ACCOUNT


async def test_healthz_says_503_when_the_store_cannot_be_read(tmp_path, capsys):
    bot = Bot(tmp_path)
    client = TestClient(TestServer(create_app(bot.pipeline, bot.deps, FEATURES)))
    await client.start_server()
    try:
        assert (await healthz(client))[0] == 200
        garbage = tmp_path / "garbage"
        garbage.write_bytes(os.urandom(8192))
        bot.engine.dispose()
        os.replace(garbage, bot.path)  # a disk that went bad under the bot
        for journal in ("-wal", "-shm"):
            Path(f"{bot.path}{journal}").unlink(missing_ok=True)
        status, body = await healthz(client)
        assert status == 503 and not body["reachable"] and "数据库无法连接" in body["problems"][0]
    finally:
        await client.close()
    # A PostgreSQL server that is not there: `qunguan status` says so and exits 1.
    assert main(["status", "--db", "postgresql+psycopg2://qunguan@127.0.0.1:1/qunguan"]) == 1
    assert "数据库无法连接" in capsys.readouterr().out
