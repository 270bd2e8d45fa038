"""The gateway (gateway/gateway.mjs) started as the README says, serving `qunguan run` end to end
with the mock puppet; and its one-line refusals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, ensure_node_modules, free_port, until

pytestmark = pytest.mark.e2e

GATEWAY_DIR = REPO / "gateway"
QUNGUAN = str(Path(sys.executable).with_name("qunguan"))
ALICE, ROOM = "wxid_alice", "r1@chatroom"


class Gateway:
    """`node gateway/gateway.mjs --puppet mock`, with its stdout read line by line."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.ready: str | None = None
        self.sent: list[dict] = []
        self.replies: dict[int, dict] = {}
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._req = 0

    async def start(self) -> None:
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                "node", "gateway/gateway.mjs", "--puppet", "mock", cwd=REPO, env=self.env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                start_new_session=True)
        self._reader = asyncio.create_task(self._read())
        await until(lambda: self.ready or self.proc.returncode is not None, 30, "the gateway's ready line")
        assert self.ready, f"the gateway exited: {self.log.read_text()}"

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        async for raw in self.proc.stdout:
            line = raw.decode().strip()
            if line.startswith("qunguan-gateway ready:"):
                self.ready = line
            elif line.startswith("{"):
                msg = json.loads(line)
                if msg.get("event") == "sent":
                    self.sent.append(msg["message"])
                elif "req" in msg:
                    self.replies[msg["req"]] = msg

    async def call(self, op: str, **args: object) -> dict:
        assert self.proc and self.proc.stdin
        self._req += 1
        req = self._req
        self.proc.stdin.write((json.dumps({"req": req, "op": op, **args}) + "\n").encode())
        await self.proc.stdin.drain()
        reply = await until(lambda: self.replies.get(req), 10, f"the gateway's answer to {op}")
        assert reply["ok"], reply
        return reply["result"]

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        if self._reader:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 2)


def gateway_env(port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHATY_", "QUNGUAN_"))}
    env.update(WECHATY_PUPPET_SERVICE_TOKEN="gateway-e2e-token",
               WECHATY_PUPPET_SERVICE_ENDPOINT=f"127.0.0.1:{port}", **extra)
    return env


@pytest.fixture
async def gateway(tmp_path):
    ensure_node_modules(GATEWAY_DIR)
    gw = Gateway(gateway_env(free_port()), tmp_path / "gateway.log")
    await gw.start()
    yield gw
    await gw.stop()


async def start_run(env: dict[str, str], db: Path, log: Path) -> asyncio.subprocess.Process:
    """`qunguan run --db DB` as the README starts it, in a process of its own."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            QUNGUAN, "run", "--db", str(db), "--account", "A", cwd=db.parent, env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=out)


async def stop_run(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0


def logged_in(db: Path) -> bool:
    if not db.exists():
        return False
    with contextlib.closing(sqlite3.connect(db)) as conn:
        try:
            return bool(conn.execute("SELECT 1 FROM botaccount WHERE id = 'wxid_qunguan_bot'").fetchone())
        except sqlite3.OperationalError:  # not created yet
            return False


def healthz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:  # not listening yet
        return 0, {}


async def test_gateway_serves_qunguan_run_with_the_mock_puppet(gateway, tmp_path):
    assert "wechaty-puppet-mock on 127.0.0.1:" in gateway.ready
    web = free_port()
    env = {**gateway.env, "QUNGUAN_WEB_PORT": str(web), "QUNGUAN_ADMINS": "wxid_admin",
           "QUNGUAN_HEALTH_DISCONNECTED_SECONDS": "2"}
    db = tmp_path / "qunguan.db"
    run = await start_run(env, db, tmp_path / "run.log")
    try:
        await until(lambda: logged_in(db) or run.returncode is not None, 30, "qunguan run to log in")
        assert run.returncode is None, (tmp_path / "run.log").read_text()
        await gateway.call("contact", id=ALICE, name="Alice")
        await gateway.call("room", id=ROOM, topic="读书群", members=[ALICE])
        await gateway.call("say", **{"from": ALICE}, to=ROOM, text="打卡")
        reply = await until(lambda: next((m for m in gateway.sent if "打卡" in m["text"]), None), 15,
                            "the bot's answer through the gateway")
        assert reply["roomId"] == ROOM
        assert reply["text"].startswith("@Alice\u2005「打卡」成功")

        # /healthz of the running bot: its account connected, with an event just now; it leads.
        def connected() -> dict | None:
            status, body = healthz(web)
            accounts = body.get("accounts") or [{}]
            return body if status == 200 and accounts[0].get("connected") else None

        body = await until(lambda: connected(), 10, "/healthz to show the account connected")
        assert body["accounts"][0]["id"] == "wxid_qunguan_bot" and body["leader"] == "A"
        assert body["accounts"][0]["last_event_seconds"] < 30
        # The gateway goes away: the account is disconnected, and past 2 s the check says 503.
        await gateway.stop()
        _, body = await until(lambda: (h := healthz(web))[0] == 503 and h, 20, "/healthz to say 503")
        assert not body["accounts"][0]["connected"] and "已断开" in body["problems"][0]
    finally:
        assert await stop_run(run) in (0, 130), (tmp_path / "run.log").read_text()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM checkin WHERE member = ?", (ALICE,)).fetchone() == (1,)


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--puppet", "mock"], {"WECHATY_PUPPET_SERVICE_TOKEN": ""}, "no token: set WECHATY_PUPPET_SERVICE_TOKEN"),
    (["--puppet", "padlocal"], {}, "npm install --prefix gateway wechaty-puppet-padlocal@"),
    ([], {"WECHATY_PUPPET": "wechaty-puppet-nosuch"}, "npm install --prefix gateway wechaty-puppet-nosuch"),
    (["--puppet", "workpro"], {}, "is not on the npm registry"),
    ([], {}, "no puppet named"),
    (["--puppet", "mock", "--listen", "0.0.0.0:8788"], {}, "loopback or a private address"),
    (["--puppet", "mock", "--listen", "203.0.113.9:8788"], {}, "refusing 203.0.113.9"),
    (["--puppet", "mock"], {"WECHATY_PUPPET_OPTIONS": "{botId"}, "WECHATY_PUPPET_OPTIONS is not JSON"),
])
def test_gateway_refuses_with_one_line(args, env, says):
    ensure_node_modules(GATEWAY_DIR)
    done = subprocess.run(["node", "gateway/gateway.mjs", *args], cwd=REPO, capture_output=True, text=True,
                          env={**gateway_env(free_port()), **env}, timeout=30)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
