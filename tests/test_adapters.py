"""The console and file adapters and the outbox, each through the real app and store."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.base import MaybeDelivered, Outgoing
from bot.adapters.console import ConsoleAdapter
from bot.adapters.file import FileAdapter
from bot.adapters.memory import MemoryAdapter
from bot.core.events import parse_event
from bot.core.outbox import OutboxSender
from bot.core.pipeline import enqueue
from bot.core.settings import Settings
from bot.wiring import App


def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}", admins="wxid_admin")


async def test_console_switches_identity_and_shows_replies(tmp_path):
    stdin = io.StringIO("/as alice@读书群\n帮助\n/as bob\n/help\n/as @x\n/quit\n这行不会处理\n")
    stdout = io.StringIO()
    console = ConsoleAdapter(stdin=stdin, stdout=stdout,
                             clock=lambda: datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    app = App(settings(tmp_path), console)
    await app.run()
    out = stdout.getvalue()
    assert "现在你是 alice，在「读书群」里说话。" in out
    assert "群管 [读书群] @alice 你可以用这些命令" in out
    assert "群管 [私聊 bob] 你可以用这些命令" in out
    assert "用法：/as 名字@群名" in out
    with app.deps.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT member, room, commands FROM dailyactivity ORDER BY member").all()
    assert rows == [("alice", "读书群", 1), ("bob", "", 1)]


async def test_console_resolves_names_to_stored_ids(tmp_path):
    app = App(settings(tmp_path), MemoryAdapter())
    app.pipeline.process([parse_event({"type": "message", "id": "m1", "ts": 1793498400,
                                       "room": "r9@chatroom", "room_name": "读书群",
                                       "sender": "wxid_a", "sender_name": "Alice", "text": "hi"})])
    from bot.core.directory import Lookup

    look = Lookup(app.deps.engine)
    console = ConsoleAdapter(resolve_member=look.member_id, resolve_room=look.room_id)
    console.switch("Alice@读书群")
    m = console.message("@Alice 你好")
    assert (m.sender, m.room, m.mentions) == ("wxid_a", "r9@chatroom", ("wxid_a",))
    console.switch("新人@新群")
    assert (console.member, console.room) == ("新人", "新群")


async def test_file_adapter_delivers_events_in_order_and_reports_bad_lines(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"type":"visit","id":"v1","ts":1793498400,"member":"a"}\n\n[1,2]\n'
        '{"type":"leave","id":"l1","ts":1793498401,"room":"r@chatroom","member":"a"}\n',
        encoding="utf-8")
    errors = io.StringIO()
    adapter = FileAdapter(path, errors=errors)
    got = []

    async def sink(e):
        got.append(e.id)

    await adapter.run(sink)
    assert got == ["v1", "l1"]
    assert [(r.line, r.reason) for r in adapter.rejected] == [(3, "事件应为 JSON 对象")]
    assert "e.jsonl:3: 已跳过" in errors.getvalue()


async def test_outbox_retries_a_failed_send_and_survives_a_restart(tmp_path):
    s = settings(tmp_path)
    flaky = MemoryAdapter(fail_sends=1)
    app = App(s, flaky)
    ev = parse_event({"type": "message", "id": "m1", "ts": 1793498400, "sender": "a", "text": "帮助"})
    await app.handle(ev)
    assert flaky.sent == []  # the send failed; the reply waits in the outbox
    with app.deps.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT status, attempts FROM outbox").all() == [("pending", 1)]

    # A new process: the reply is still there and is sent once it is due, exactly once.
    fresh = MemoryAdapter()
    later = App(s, fresh)
    later.sender.now = lambda: datetime.now(UTC).timestamp() + 60
    await later.sender.drain()
    await later.sender.drain()
    assert [o.to for o in fresh.sent] == ["a"] and "帮助" in fresh.sent[0].text
    await later.handle(ev)  # a redelivered event is not answered again
    assert len(fresh.sent) == 1


async def test_paced_sends_keep_a_gap_and_a_room_cap(tmp_path):
    s = settings(tmp_path)
    adapter = MemoryAdapter()
    adapter.paced = True
    app = App(s, adapter)
    for i in range(5):
        app.pipeline.process([parse_event({"type": "message", "id": f"m{i}", "ts": 1793498400 + i,
                                           "room": "r1@chatroom", "sender": "a", "text": "帮助"})])
    clock = [1000.0]
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)
        clock[0] += s

    sender = OutboxSender(app.deps.engine, adapter, min_gap=1.0, jitter=0.5, room_hourly_cap=3,
                          now=lambda: clock[0], sleep=fake_sleep)
    assert await sender.drain() == 3
    assert len(slept) == 2 and all(1.0 <= s <= 1.5 for s in slept)
    with app.deps.engine.connect() as conn:
        waiting = conn.exec_driver_sql("SELECT next_at FROM outbox WHERE status='pending'").all()
    assert len(waiting) == 2 and all(n >= 1000 + 3600 for (n,) in waiting)
    clock[0] += 3700
    assert await sender.drain() == 2
    assert len(adapter.sent) == 5


def test_replies_jsonl_shape(tmp_path):
    import asyncio

    from bot.adapters.base import Outgoing

    out = tmp_path / "r.jsonl"
    adapter = FileAdapter(tmp_path / "none.jsonl", out)
    asyncio.run(adapter.send(Outgoing("好的", room="r1@chatroom", to="a", mentions=("a",), reply_to="m1")))
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "room": "r1@chatroom", "to": "a", "text": "好的", "mentions": ["a"], "reply_to": "m1"}


async def test_a_send_that_may_have_gone_out_is_not_repeated(tmp_path):
    class Uncertain(ConnectionError, MaybeDelivered):  # the adapter says it may have gone out
        pass

    class DyingAdapter(MemoryAdapter):
        async def send(self, out):
            raise Uncertain("connection lost while the gateway had the request")

    app = App(settings(tmp_path), DyingAdapter())
    await app.handle(parse_event({"type": "message", "id": "m1", "ts": 1793498400, "sender": "a",
                                  "text": "帮助"}))
    with app.deps.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT status FROM outbox").all() == [("unknown",)]
    fresh = MemoryAdapter()
    later = App(settings(tmp_path), fresh)
    later.sender.now = lambda: datetime.now(UTC).timestamp() + 3600
    await later.sender.drain()
    assert fresh.sent == []


async def test_a_reply_goes_before_the_queue_of_bulk_messages(tmp_path):
    """A 1:1 `/me` queued while 30 room messages wait goes out at the next send, not after them."""
    s = settings(tmp_path)
    adapter = MemoryAdapter()
    adapter.paced = True
    app = App(s, adapter)
    with app.deps.engine.begin() as conn:
        enqueue(conn, [Outgoing(text=f"通知 {i}", room=f"r{i % 3}@chatroom") for i in range(30)],
                datetime.fromtimestamp(1793498400, UTC))
    clock = [1000.0]
    queued_reply = []

    async def fake_sleep(seconds: float) -> None:
        clock[0] += seconds
        if len(adapter.sent) == 5 and not queued_reply:  # a member asks while the queue drains
            queued_reply.append(app.pipeline.process([parse_event(
                {"type": "message", "id": "me1", "ts": 1793498500, "sender": "wxid_a", "text": "我的等级"})]))
            sender.wake.set()

    sender = OutboxSender(app.deps.engine, adapter, now=lambda: clock[0], sleep=fake_sleep)
    assert await sender.drain() == 31
    order = [o.text for o in adapter.sent]
    assert order[5].startswith("Lv1") and order[:5] == [f"通知 {i}" for i in range(5)]
    with app.deps.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT priority FROM outbox WHERE reply_to = 'me1'").scalar() == 0
