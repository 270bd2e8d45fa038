"""Delivery semantics: claimed before sending, at most once, nothing silently dropped."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys

from bot.adapters.memory import MemoryAdapter
from bot.cli import main
from bot.core import outbox
from bot.core.events import parse_event
from bot.core.outbox import LEASE, OutboxSender, expire_claims
from bot.core.settings import Settings
from bot.wiring import App
from tests.test_cli import msg, run, write

NOW = 2_000_000_000.0


def settings(db_url: str) -> Settings:
    """A store on SQLite or PostgreSQL (the db_url fixture runs each test on both)."""
    return Settings(database_url=db_url, admins="wxid_admin")


def queue_help(app: App, n: int) -> None:
    app.pipeline.process([parse_event({"type": "message", "id": f"h{i}", "ts": 1793498400 + i,
                                       "sender": f"wxid_{i}", "text": "帮助"}) for i in range(n)])


def statuses(app: App) -> list[str]:
    with app.deps.engine.connect() as conn:
        return [s for (s,) in conn.exec_driver_sql("SELECT status FROM outbox ORDER BY id")]


class Gate(MemoryAdapter):
    """Sends wait at a gate: lets a test cancel a send while it waits for the ack."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, out) -> None:
        self.entered.set()
        await self.release.wait()
        self.sent.append(out)


async def test_two_senders_on_one_store_send_each_row_once(db_url):
    app = App(settings(db_url), MemoryAdapter())
    queue_help(app, 30)

    class Slow(MemoryAdapter):
        async def send(self, out) -> None:
            await asyncio.sleep(0.001)
            self.sent.append(out)

    a, b = Slow(), Slow()
    other = App(settings(db_url), b)  # a second engine, as a second process would have
    one = OutboxSender(app.deps.engine, a)
    two = OutboxSender(other.deps.engine, b)
    sent = await asyncio.gather(one.drain(), two.drain())
    assert sum(sent) == 30
    texts = [o.to for o in a.sent + b.sent]
    assert sorted(texts) == sorted(f"wxid_{i}" for i in range(30))  # each once
    assert statuses(app) == ["sent"] * 30


async def test_a_send_cancelled_while_waiting_for_the_ack_is_unknown_and_never_resent(db_url):
    gate = Gate()
    app = App(settings(db_url), gate)
    queue_help(app, 1)
    task = asyncio.create_task(app.sender.drain())
    await gate.entered.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert statuses(app) == ["unknown"]
    fresh = MemoryAdapter()
    assert await OutboxSender(app.deps.engine, fresh).drain() == 0
    assert fresh.sent == []


async def test_a_claim_left_by_a_killed_process_becomes_unknown_at_once(db_url):
    app = App(settings(db_url), MemoryAdapter())
    queue_help(app, 2)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    host = socket.gethostname()[:30]
    with app.deps.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE outbox SET status='sending', claimed_by='{host}/{dead}/x', "
                             f"lease_until={int(NOW) + LEASE} WHERE id=1")
        # another host's claim lasts until its lease runs out
        conn.exec_driver_sql(f"UPDATE outbox SET status='sending', claimed_by='elsewhere/1/x', "
                             f"lease_until={int(NOW) + LEASE} WHERE id=2")
    sender = OutboxSender(app.deps.engine, app.adapter, now=lambda: NOW)
    assert await sender.drain() == 0
    assert statuses(app) == ["unknown", "sending"]
    assert expire_claims(app.deps.engine, int(NOW) + LEASE + 1) == 1
    assert statuses(app) == ["unknown", "unknown"]
    assert app.adapter.sent == []


def outbox_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["outbox", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_failed_rows_stay_until_a_person_resends_or_drops_them(db_url, capsys):
    adapter = MemoryAdapter(fail_sends=100)
    app = App(settings(db_url), adapter)
    queue_help(app, 2)
    clock = [NOW]
    sender = OutboxSender(app.deps.engine, adapter, now=lambda: clock[0])
    for _ in range(outbox.MAX_ATTEMPTS):
        await sender.drain()
        clock[0] += 1000
    assert statuses(app) == ["failed", "failed"]
    await sender.drain()
    assert statuses(app) == ["failed", "failed"]  # nothing dropped by itself

    db = db_url
    code, out, err = outbox_cli(capsys, "--db", db)
    assert code == 0, err
    assert "发送失败 2" in out and "#1\t发送失败" in out and "simulated" in out
    assert outbox_cli(capsys, "--db", db, "--resend", "1")[0] == 0
    assert outbox_cli(capsys, "--db", db, "--drop", "2")[0] == 0
    code, _, err = outbox_cli(capsys, "--db", db, "--drop", "2")
    assert code == 2 and "没有待处理的消息 #2" in err
    assert statuses(app) == ["pending", "dropped"]
    adapter.fail_sends = 0
    assert await sender.drain() == 1
    assert statuses(app) == ["sent", "dropped"]
    assert "没有需要处理的消息" in outbox_cli(capsys, "--db", db, "--status", "unknown")[1]


def test_a_silent_replay_leaves_other_processes_rows_alone(tmp_path):
    db = tmp_path / "q.db"
    loud = write(tmp_path / "loud.jsonl", [msg(1, "帮助")])
    assert run("replay", str(loud), "--db", str(db), "--silent").returncode == 0
    with sqlite3.connect(db) as conn:  # a row another process queued and has not sent yet
        conn.execute("INSERT INTO outbox (created_at, text, mentions, status, attempts, next_at) "
                     "VALUES (0, '别人的消息', '', 'pending', 0, 0)")
    quiet = write(tmp_path / "quiet.jsonl", [msg(2, "帮助")])
    assert run("replay", str(quiet), "--db", str(db), "--silent").returncode == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, sent_at FROM outbox").fetchall() == [("pending", None)]


def test_replies_of_a_replay_are_claimed_and_marked_sent(tmp_path):
    db = tmp_path / "q.db"
    events = write(tmp_path / "e.jsonl", [msg(1, "帮助"), msg(2, "我的等级")])
    res = run("replay", str(events), "--db", str(db), "--replies", str(tmp_path / "r.jsonl"))
    assert res.returncode == 0, res.stderr
    replies = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["reply_to"] for r in replies] == ["m1", "m2"]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, claimed_by IS NOT NULL, origin IS NOT NULL "
                            "FROM outbox").fetchall()
    assert rows == [("sent", 1, 1)] * 2


def test_rows_waiting_for_an_account_that_is_not_running_are_shown(tmp_path, capsys):
    db = tmp_path / "q.db"
    assert run("replay", str(write(tmp_path / "e.jsonl", [msg(1, "帮助")])), "--db", str(db),
               "--silent").returncode == 0
    with sqlite3.connect(db) as conn:  # queued for account B, whose `qunguan run` is down
        conn.executemany("INSERT INTO outbox (created_at, text, mentions, status, attempts, next_at, account) "
                         "VALUES (?, ?, '', 'pending', 0, 0, ?)",
                         [(1793509200, "给 B 的群消息", "wxid_bot_b"), (1793512800, "又一条", "wxid_bot_b"),
                          (1793516400, "谁发都行", None)])
    code, out, err = outbox_cli(capsys, "--db", str(db))
    assert code == 0, err
    assert "待发送（经账号 wxid_bot_b）：2 条，最早 11-01 13:00；这个账号的 qunguan run 在运行时才会发出" in out
    assert "待发送（任一账号）：1 条，最早 11-01 15:00" in out
