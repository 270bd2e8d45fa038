"""End-to-end fixtures: a real wechaty-puppet-service + puppet-mock peer in node, on loopback.

The peer (`e2e/peer.mjs`) is driven over JSON lines on its stdin/stdout. Each test gets its
own peer on a free 127.0.0.1 port, so tests share no state. `e2e/node_modules` comes from
`npm ci` in `e2e/`; when it is missing the first peer runs `npm ci` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sqltext

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = REPO / "e2e"
PEER_SCRIPT = E2E_DIR / "peer.mjs"
TOKEN = "qunguan-e2e-token"
BOT_ID = "wxid_qunguan_bot"
BOT_NAME = "群管机器人"
PEER_START_TIMEOUT = 30.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: runs against the node wechaty peer (needs node and e2e/node_modules)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.01)


def ensure_node_modules(directory: Path = E2E_DIR) -> None:
    """`npm ci` in `directory` (e2e/ or gateway/) unless its node_modules match its lock file."""
    if shutil.which("node") is None:
        pytest.skip(f"node is not installed: the e2e tests need node 18+ for {directory.name}/")
    marker = directory / "node_modules" / ".package-lock.json"
    lock = directory / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"{directory.name}/node_modules is missing and npm is not installed: "
                    f"run `npm ci` in {directory.name}/")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=directory, check=True, capture_output=True
    )


class PeerError(RuntimeError):
    """The peer refused a control request."""


class Peer:
    """The node test peer: a puppet-service server on 127.0.0.1:`port` and its Mocker."""

    def __init__(self, port: int, state_file: Path, log_file: Path, *extra_args: str) -> None:
        self.port = port
        self.endpoint = f"127.0.0.1:{port}"
        self.token = TOKEN
        self.bot_id = BOT_ID
        self.bot_name = BOT_NAME
        self.state_file = state_file
        self.log_file = log_file
        self.extra_args = extra_args
        self.sent: list[dict] = []
        """Every message the bot sent, as the peer saw it: id, roomId, listenerId, text,
        mentionIdList; kept across restarts of the peer."""
        self.accepts: list[dict] = []
        """Friend requests the bot accepted ({friendshipId, contactId}), as the peer saw them."""
        self.room_adds: list[dict] = []
        self.room_dels: list[dict] = []  # members the bot removed from rooms
        """People the bot added to rooms ({roomId, contactId})."""
        self.ready_seconds: list[float] = []
        """Wall time from spawning node to the server accepting connections, per start."""
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._next_req = 0
        self._ready: asyncio.Future | None = None

    async def start(self) -> None:
        assert self._proc is None or self._proc.returncode is not None, "peer already running"
        ensure_node_modules()
        started = time.monotonic()
        log = self.log_file.open("ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                "node",
                str(PEER_SCRIPT),
                "--port",
                str(self.port),
                "--token",
                self.token,
                "--bot-id",
                self.bot_id,
                "--bot-name",
                self.bot_name,
                "--state",
                str(self.state_file),
                *self.extra_args,
                cwd=E2E_DIR,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(self._proc))
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), PEER_START_TIMEOUT)
        except (TimeoutError, EOFError) as exc:
            await self.kill()
            raise RuntimeError(f"the e2e peer did not start; its log:\n{self.log_tail()}") from exc
        self.ready_seconds.append(time.monotonic() - started)

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            msg = json.loads(line)
            if msg.get("event") == "ready":
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(msg)
            elif msg.get("event") == "sent":
                self.sent.append(msg["message"])
            elif msg.get("event") == "accepted":
                self.accepts.append({k: msg[k] for k in ("friendshipId", "contactId")})
            elif msg.get("event") in ("room_add", "room_del"):
                getattr(self, msg["event"] + "s").append({k: msg[k] for k in ("roomId", "contactId")})
            elif "req" in msg:
                fut = self._pending.pop(msg["req"], None)
                if fut is not None and not fut.done():
                    if msg["ok"]:
                        fut.set_result(msg["result"])
                    else:
                        fut.set_exception(PeerError(msg["error"]))
        # stdout closed: the process is gone
        for fut in [*self._pending.values(), self._ready]:
            if fut is not None and not fut.done():
                fut.set_exception(EOFError("the e2e peer exited"))
        self._pending.clear()

    async def call(self, op: str, **args: Any) -> Any:
        assert self._proc is not None and self._proc.stdin is not None, "peer not running"
        self._next_req += 1
        req = self._next_req
        fut = asyncio.get_running_loop().create_future()
        self._pending[req] = fut
        self._proc.stdin.write((json.dumps({"req": req, "op": op, **args}) + "\n").encode())
        await self._proc.stdin.drain()
        return await asyncio.wait_for(fut, 10)

    # ---- the Mocker, in the words of the tests ----

    async def contact(self, contact_id: str, name: str) -> str:
        return (await self.call("contact", id=contact_id, name=name))["id"]

    async def room(self, room_id: str, topic: str, members: list[str]) -> str:
        return (await self.call("room", id=room_id, topic=topic, members=members))["id"]

    async def say(
        self,
        talker: str,
        to: str,
        text: str = "",
        *,
        mentions: tuple[str, ...] = (),
        kind: str = "text",
    ) -> str:
        """`talker` says `text` to a room or 1:1 (to="bot"); returns the message id."""
        result = await self.call(
            "say", **{"from": talker}, to=to, text=text, mentions=list(mentions), kind=kind
        )
        return result["messageId"]

    async def redeliver(self, message_id: str) -> None:
        await self.call("redeliver", messageId=message_id)

    async def add(self, room: str, members: list[str], by: str) -> None:
        await self.call("add", room=room, members=members, by=by)

    async def remove(self, room: str, members: list[str], by: str) -> None:
        await self.call("remove", room=room, members=members, by=by)

    async def wait_sent(
        self, predicate: Callable[[dict], bool], timeout: float = 5.0, what: str = "a sent message"
    ) -> dict:
        return await until(
            lambda: next((m for m in self.sent if predicate(m)), None), timeout, what
        )

    # ---- lifecycle ----

    async def kill(self) -> None:
        """SIGKILL, as a crash of the puppet server would be."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        await self._stop_reader()

    def freeze(self, frozen: bool = True) -> None:
        """SIGSTOP/SIGCONT: the server hangs with its connections open, as behind a dead link."""
        assert self._proc is not None and self._proc.returncode is None
        os.killpg(self._proc.pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    async def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            await self._stop_reader()
            return
        assert proc.stdin is not None
        proc.stdin.close()  # the peer shuts its server down when stdin closes
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            await self.kill()
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 2)
            self._reader = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
async def make_peer(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start peers (each on its own free port); all are stopped at the end of the test."""
    peers: list[Peer] = []

    async def make(*extra_args: str) -> Peer:
        n = len(peers)
        p = Peer(
            free_port(), tmp_path / f"peer{n}-state.json", tmp_path / f"peer{n}.log", *extra_args
        )
        peers.append(p)
        await p.start()
        return p

    yield make
    for p in peers:
        await p.stop()


@pytest.fixture
async def peer(make_peer: Callable[..., Any]) -> Peer:
    return await make_peer()


class RunningAdapter:
    """A WechatyAdapter running against a peer, with a sink that collects its events."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.events: list[Any] = []
        """Messages, joins and leaves, in arrival order."""
        self.rosters: list[Any] = []
        """Rosters and friend lists (contacts), kept apart: the adapter sends one per room, and
        the account's friend list, at every login."""
        self.task: asyncio.Task | None = None
        self.gate = asyncio.Event()
        """Cleared, the sink blocks: a slow bot, with events piling up behind it."""
        self.gate.set()
        self.held: Any = None
        """The event the sink is blocked on."""

    async def sink(self, event: Any) -> None:
        self.held = event
        await self.gate.wait()
        self.held = None
        (self.rosters if type(event).__name__ in ("Roster", "Contacts") else self.events).append(event)

    async def start(self, timeout: float = 15.0) -> None:
        self.task = asyncio.create_task(self.adapter.run(self.sink))
        ready = asyncio.create_task(self.adapter.wait_connected())
        done, _ = await asyncio.wait(
            {self.task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self.task in done:
                self.task.result()  # raises the adapter's error
            raise AssertionError(f"the adapter did not log in within {timeout:g} s")

    async def wait_event(
        self, predicate: Callable[[Any], bool], timeout: float = 5.0, what: str = "an event"
    ) -> Any:
        return await until(
            lambda: next((e for e in self.events if predicate(e)), None), timeout, what
        )

    async def stop(self) -> None:
        if self.task is None:
            return
        await self.adapter.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 10)
        except TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            raise AssertionError("the adapter did not stop within 10 s of close()") from None


@pytest.fixture
async def start_adapter() -> AsyncIterator[Callable[..., Any]]:
    """`await start_adapter(peer, **options)`: a running WechatyAdapter logged in to `peer`."""
    from bot.adapters.wechaty import WechatyAdapter

    running: list[RunningAdapter] = []

    async def start(peer: Peer, **options: Any) -> RunningAdapter:
        options.setdefault("login_timeout", 10.0)
        r = RunningAdapter(WechatyAdapter(peer.token, peer.endpoint, **options))
        running.append(r)
        await r.start()
        return r

    yield start
    for r in running:
        await r.stop()


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """`await wait_until(predicate, timeout, what)`: poll a condition, fail on timeout."""
    return until


async def start_app(peer: Any, settings: Any) -> tuple[Any, Any, asyncio.Task]:
    """The bot (`App.run()`) logged in to `peer` through the real Wechaty client, sending
    without pacing; returns the app, its adapter and the running task."""
    from bot.adapters.wechaty import WechatyAdapter
    from bot.wiring import App

    adapter = WechatyAdapter(peer.token, peer.endpoint, login_timeout=10, reconnect_min=0.2,
                             reconnect_max=1.0)
    app = App(settings, adapter)
    app.sender.min_gap, app.sender.jitter = 0.05, 0.0
    task = asyncio.create_task(app.run())
    await until(lambda: adapter.connected or task.done(), 15, "the bot to log in")
    if task.done():
        task.result()
    return app, adapter, task


async def stop_app(adapter: Any, task: asyncio.Task) -> None:
    """Close a running `App`'s adapter and wait for `app.run()` to end (cancelled after 10 s)."""
    await adapter.close()
    try:
        await asyncio.wait_for(task, 10)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def store_rows(app: Any, sql: str, **params: Any) -> list[tuple]:
    """Rows of a query on a running `App`'s store."""
    with app.pipeline.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sqltext(sql), params)]
