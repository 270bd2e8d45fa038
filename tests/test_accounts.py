"""Several WeChat accounts on one store: each reply sent once, through the right account; DMs
and lists routed to an account that reaches the member; one scheduler leader per store."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine, text

from bot.adapters.base import Outgoing
from bot.adapters.memory import MemoryAdapter
from bot.cli import main, with_backoff
from bot.core.events import parse_event
from bot.core.leader import Leadership, StoreBusy, run_lock
from bot.core.pipeline import enqueue
from bot.core.scheduler import JobContext, run_job
from bot.core.settings import Settings
from bot.features.followup.jobs import daily_followup
from bot.wiring import App, build

A, B = "wxid_bot_a", "wxid_bot_b"
R1, R2, R3 = "g1@chatroom", "g2@chatroom", "g3@chatroom"
ADMIN, OP = "wxid_admin", "wxid_op"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
NOT_AFTER = datetime(2099, 1, 1, tzinfo=UTC)


def ev(id: str, sender: str, room: str | None, text: str, account: str | None, secs: int = 0, **more):
    raw = {"type": "message", "id": id, "ts": (T0 + timedelta(seconds=secs)).isoformat(), "sender": sender,
           "sender_name": sender, "text": text, **more}
    if room:
        raw |= {"room": room, "room_name": room.split("@")[0]}
    if account:
        raw["account"] = account
    return parse_event(raw, not_after=NOT_AFTER)


class Account(MemoryAdapter):
    """A process logged in as `self_id`: what it sent is what went out through that account.
    Paced, as WeChat is: a reply waits for the sender loop, where any process's sender may
    come first."""

    paced = True

    def __init__(self, self_id: str) -> None:
        super().__init__()
        self.self_id = self_id


def two_processes(url: str) -> tuple[App, App]:
    settings = Settings(database_url=url, admins=ADMIN)
    apps = App(settings, Account(A)), App(settings, Account(B))
    for app in apps:
        app.sender.min_gap = app.sender.jitter = 0.0
    return apps


def rows(app: App, sql: str, **params) -> list[tuple]:
    with app.deps.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


async def test_checkins_through_one_account_are_answered_once_through_it(db_url):
    """The reported bug: 15 check-ins through A got 15 replies from A and 14 from B."""
    a, b = two_processes(db_url)
    for i in range(15):
        await a.handle(ev(f"m{i}", f"wxid_m{i}", R1, "打卡", A, i))
        await b.sender.drain()  # B's sender runs all the time, next to A's
    await a.sender.drain()
    await b.sender.drain()
    assert len(a.adapter.sent) == 15 and all("打卡" in o.text for o in a.adapter.sent)
    assert b.adapter.sent == []
    assert rows(a, "SELECT DISTINCT account FROM outbox") == [(A,)]
    assert rows(a, "SELECT DISTINCT account FROM eventlog") == [(A,)]


async def test_a_message_both_accounts_heard_is_counted_and_answered_once(db_url):
    a, b = two_processes(db_url)
    await a.handle(ev("same", "wxid_m", R2, "打卡", A))
    await b.handle(ev("same", "wxid_m", R2, "打卡", B))  # WeChat gives both the same message id
    await b.handle(ev("chat", "wxid_m", R2, "今天读完了第三章", B, 90))
    await a.handle(ev("chat", "wxid_m", R2, "今天读完了第三章", A, 90))
    for app in (a, b):
        await app.sender.drain()
    assert len(a.adapter.sent) == 1 and b.adapter.sent == []
    assert rows(a, "SELECT checkins, messages FROM dailyactivity WHERE member = 'wxid_m' AND room = :r",
                r=R2) == [(1, 1)]
    assert rows(a, "SELECT id, account FROM eventlog ORDER BY id") == [("chat", B), ("same", A)]


def test_dms_and_room_messages_go_through_an_account_that_reaches_the_member(db_url):
    """A in groups 1-2, B in groups 2-3 (rosters), a friend of B's (a 1:1 chat)."""
    pipeline, _ = build(Settings(database_url=db_url, admins=ADMIN))
    roster = [{"type": "roster", "id": f"ro-{acct}-{room}", "ts": T0.isoformat(), "room": room,
               "account": acct, "members": [{"id": m} for m in members]}
              for acct, room, members in ((A, R1, ["only1", "both", "left"]), (A, R2, ["in2"]),
                                          (B, R2, ["in2"]), (B, R3, ["both", "left3"]))]
    pipeline.process([parse_event(r, not_after=NOT_AFTER) for r in roster])
    pipeline.process([ev("x1", "both", R1, "早上好呀大家", A, 10),
                      ev("x2", "both", R3, "晚上好呀大家", B, 20),   # spoke last near B
                      ev("x3", "friend", None, "你好", B, 30),       # 1:1 with B: a friend
                      ev("x4", "in2", R2, "嗨嗨嗨", A, 40),          # group 2, heard through A
                      parse_event({"type": "leave", "id": "l1", "ts": (T0 + timedelta(seconds=50)).isoformat(),
                                   "room": R3, "member": "left3", "account": B}, not_after=NOT_AFTER)])
    cases = {"only1": A, "both": B, "friend": B, "in2": A, "left3": None, "nobody": None}
    with pipeline.engine.begin() as conn:
        enqueue(conn, [Outgoing(text="你好", to=m) for m in cases]
                + [Outgoing(text="群里好", room=r) for r in (R1, R2, R3)]
                + [Outgoing(text="回复", room=R2, to="in2", account=B)], T0)
        got = [tuple(r) for r in conn.execute(text('SELECT "to", room, account FROM outbox ORDER BY id'))]
    assert got == [(m, None, acct) for m, acct in cases.items()] + [
        (None, R1, A), (None, R2, A), (None, R3, B), ("in2", R2, B)]


async def test_the_daily_list_goes_through_the_account_in_the_operators_group(db_url):
    a, b = two_processes(db_url)
    await b.handle(ev("o1", OP, R3, "大家好，我是运营", B, 0))
    await b.handle(ev("o2", ADMIN, R3, "/operator @" + OP, B, 100, mentions=[OP]))
    ctx = JobContext(a.deps, frozenset({A, B}))
    daily_followup(ctx, datetime(2026, 11, 3, 9, 0, tzinfo=a.settings.tz))
    daily_followup(ctx, datetime(2026, 11, 3, 9, 5, tzinfo=a.settings.tz))  # a second leader: nothing
    for app in (a, b):
        await app.sender.drain()
    assert [o.to for o in b.adapter.sent if o.to == OP and o.room is None] == [OP]
    assert not [o for o in a.adapter.sent if o.to == OP]


def test_two_processes_starting_on_an_empty_postgresql_both_work(pg_schemas):
    """The reported bug: the second crashed with UniqueViolation … pg_type_typname_nsp_index."""
    url = pg_schemas("race")
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            pipeline, _ = build(Settings(database_url=url, admins=ADMIN))
            pipeline.process([ev(f"s-{threading.get_ident()}", "wxid_m", R1, "打卡", None)])
            pipeline.engine.dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkintask WHERE name = '打卡'")).scalar() == 1
        assert conn.execute(text("SELECT checkins FROM dailyactivity")).scalar() == 1
    engine.dispose()


# ---- one scheduler leader ------------------------------------------------------------------

async def until(predicate, timeout: float = 10.0):
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_one_leader_on_postgresql_and_a_takeover_when_it_dies(pg_schemas):
    url = pg_schemas("leader")
    engine = create_engine(url)
    led: list[str] = []
    leaders = [Leadership(engine, lambda n=n: led.append(f"+{n}"), lambda n=n: led.append(f"-{n}"), poll=0.05)
               for n in range(3)]
    tasks = [asyncio.create_task(lead.run()) for lead in leaders]
    try:
        await until(lambda: led)
        await asyncio.sleep(0.3)  # several polls: nobody else takes it
        assert len(led) == 1 and sum(lead.leading for lead in leaders) == 1
        first = next(i for i, lead in enumerate(leaders) if lead.leading)
        with engine.begin() as conn:  # its session ends, as when its process is killed
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                              "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"))
        await until(lambda: sum(lead.leading for lead in leaders) == 1 and not leaders[first].leading)
        assert led[0] == f"+{first}" and f"-{first}" in led
        assert sum(1 for e in led if e.startswith("+")) - sum(1 for e in led if e.startswith("-")) == 1
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        engine.dispose()
    assert sum(1 for e in led if e.startswith("+")) == sum(1 for e in led if e.startswith("-"))


def test_a_second_run_on_one_sqlite_file_is_refused(tmp_path, monkeypatch, capsys):
    db = tmp_path / "q.db"
    lock = run_lock(f"sqlite:///{db}")
    assert lock is not None
    with pytest.raises(StoreBusy):
        run_lock(f"sqlite:///{db}")
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "t")
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:1")
    assert main(["run", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "另一个 qunguan run" in err and "PostgreSQL" in err and "Traceback" not in err
    lock.release()
    run_lock(f"sqlite:///{db}").release()  # free again
    assert run_lock("sqlite:///:memory:") is None


@pytest.mark.slow
def test_the_run_lock_of_a_killed_process_is_free_at_once(tmp_path):
    db = tmp_path / "q.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from bot.core.leader import run_lock; "
        f"run_lock({f'sqlite:///{db}'!r}); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy, match=f"进程 {holder.pid}"):
            run_lock(f"sqlite:///{db}")
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    run_lock(f"sqlite:///{db}").release()


# ---- a store that does not answer ----------------------------------------------------------

def _dead_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg2://qunguan:secret@127.0.0.1:{port}/q"


def test_a_postgresql_url_that_cannot_connect_is_a_clear_error(capsys):
    assert main(["report", "--db", _dead_url()]) == 1
    err = capsys.readouterr().err
    assert "无法连接数据库" in err and "secret" not in err and "Traceback" not in err


def test_run_waits_for_its_store_with_back_off(capsys):
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        if len(waits) == 8:
            raise KeyboardInterrupt

    url = _dead_url()
    with pytest.raises(KeyboardInterrupt):
        with_backoff(lambda: build(Settings(database_url=url)), url, sleep=sleep)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert capsys.readouterr().err.count("秒后重试") == 8


async def test_a_batch_that_loses_its_connection_is_rolled_back_and_retried(pg_schemas):
    url = pg_schemas("lost")
    app = App(Settings(database_url=url, admins=ADMIN), Account(A))
    await app.handle(ev("warm", "wxid_m", R1, "你好你好", A))
    blocker = create_engine(url)
    with blocker.connect() as conn:
        conn.execute(text("UPDATE writerepoch SET n = n WHERE name = 'ingest'"))  # holds the row lock
        task = asyncio.create_task(app.handle(ev("c1", "wxid_m", R1, "打卡", A, 100)))
        for _ in range(500):
            waiting = conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).all()
            if waiting:
                break
            await asyncio.sleep(0.02)
        assert len(waiting) == 1
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": waiting[0][0]})
        conn.rollback()
    await asyncio.wait_for(task, 30)
    blocker.dispose()
    await app.sender.drain()
    assert len([o for o in app.adapter.sent if "打卡" in o.text]) == 1
    assert rows(app, "SELECT checkins FROM dailyactivity WHERE member = 'wxid_m' AND checkins > 0") == [(1,)]
    assert rows(app, "SELECT count(*) FROM eventlog WHERE id = 'c1'") == [(1,)]


async def test_store_jobs_are_the_leaders_and_the_roster_refresh_every_accounts(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}")
    app = App(settings, Account(A))
    old = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=app.deps.engine,
                                                                   tablename="scheduled_jobs")})
    old.start(paused=True)  # as a release that ran the roster refresh once per store left it
    old.add_job(run_job, "interval", hours=6, id="roster_refresh", args=["roster_refresh"])
    old.shutdown(wait=False)
    shared, own = app.schedule(), app.schedule(per_account=True)
    try:
        assert {j.id for j in shared.get_jobs()} == {"daily_followup", "daily_tags", "checkin_reminders", "retention",
                                                  "nightly_backup", "audit_prune", "weekly_report", "daily_splits"}
        assert {j.id for j in own.get_jobs()} == {"roster_refresh"}
    finally:
        shared.shutdown(wait=False)
        own.shutdown(wait=False)


async def test_another_account_in_a_group_is_never_a_member(db_url):
    a, b = two_processes(db_url)
    b.label = "B号"
    await b.handle(ev("b1", "wxid_x", R3, "你好呀朋友们", B))  # B's first event: B is known
    roster = parse_event({"type": "roster", "id": "ro-a", "ts": T0.isoformat(), "room": R2, "account": A,
                          "members": [{"id": B, "name": "群管B"}, {"id": "wxid_m", "name": "M"}]},
                         not_after=NOT_AFTER)
    await a.handle(roster)
    assert a.bot_ids() == {A, B}
    assert rows(a, "SELECT member FROM membership WHERE room = :r", r=R2) == [("wxid_m",)]
    assert sorted(rows(a, "SELECT id, label FROM botaccount")) == [(A, None), (B, "B号")]


async def test_a_broken_sqlite_store_is_not_retried_forever(tmp_path, caplog):
    app = App(Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}"), Account(A))
    with app.deps.engine.begin() as conn:
        conn.execute(text("DROP TABLE writerepoch"))  # retrying cannot fix this
    await asyncio.wait_for(app.handle(ev("m1", "wxid_m", R1, "打卡", A)), 10)
    assert "processing event m1 failed" in caplog.text
