"""Two WeChat accounts, two `qunguan run` processes, one PostgreSQL store, end to end.

Account A is in groups 1-2, account B in groups 2-3; each account is its own reference puppet
server. Group 2's messages reach both accounts with the same message id, as WeChat does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine, text

from tests.e2e.conftest import REPO, free_port, until

pytestmark = pytest.mark.e2e

A, B = "wxid_bot_a", "wxid_bot_b"
G1, G2, G3 = "g1@chatroom", "g2@chatroom", "g3@chatroom"
ADMIN, OP, ALICE, BOB, CAROL, DAVE = "wxid_admin", "wxid_op", "wxid_alice", "wxid_bob", "wxid_carol", "wxid_dave"
BURST = [f"wxid_m{i}" for i in range(8)]
CONTACTS = {ADMIN: "群主", OP: "运营", ALICE: "Alice", BOB: "Bob", CAROL: "Carol", DAVE: "Dave",
            **{m: f"成员{i}" for i, m in enumerate(BURST)}}


class Run:
    """One `qunguan run` process: one account, on its puppet server, on the shared store."""

    def __init__(self, name: str, peer, url: str, folder: Path) -> None:
        self.name, self.peer, self.url, self.folder = name, peer, url, folder
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_file(self) -> Path:
        return self.folder / f"run-{self.name}-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        env = {**os.environ, "WECHATY_PUPPET_SERVICE_TOKEN": self.peer.token,
               "WECHATY_PUPPET_SERVICE_ENDPOINT": self.peer.endpoint, "QUNGUAN_DATABASE_URL": self.url,
               "QUNGUAN_ADMINS": ADMIN, "QUNGUAN_WEB_PORT": str(free_port()),
               "QUNGUAN_LEADER_POLL_SECONDS": "1"}
        with self.log_file.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--account", self.name],
                                         cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def kill(self) -> None:
        """kill -9, as a crash is."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    async def logged_in(self) -> None:
        await until(lambda: "logged in as" in self.log() or (self.proc and self.proc.poll() is not None),
                    60, f"{self.name} to log in")
        assert "logged in as" in self.log(), self.log()[-3000:]

    @property
    def leads(self) -> bool:
        return "leads the scheduler" in self.log()


def checkin_replies(peer, member: str, room: str) -> list[dict]:
    return [m for m in peer.sent if m["roomId"] == room and member in m["mentionIdList"] and "打卡" in m["text"]]


async def say(peer, talker: str, to: str, text: str, msg_id: str, mentions: tuple[str, ...] = ()) -> None:
    await peer.call("say", **{"from": talker}, to=to, text=text, id=msg_id, mentions=list(mentions))


async def test_two_accounts_on_one_postgresql_store(make_peer, pg_schemas, tmp_path):
    url = pg_schemas("accounts")
    pa, pb = await asyncio.gather(make_peer("--bot-id", A, "--bot-name", "群管A"),
                                  make_peer("--bot-id", B, "--bot-name", "群管B"))
    for peer in (pa, pb):
        for cid, name in CONTACTS.items():
            await peer.contact(cid, name)
    await pa.room(G1, "一群", [ALICE, *BURST])
    for peer in (pa, pb):
        await peer.room(G2, "二群", [BOB, CAROL])
    await pb.room(G3, "三群", [DAVE, OP, ADMIN])

    runs = {"A": Run("A", pa, url, tmp_path), "B": Run("B", pb, url, tmp_path)}
    engine = create_engine(url)

    def scalar(sql: str, **params):
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    try:
        for r in runs.values():  # at the same moment, on an empty database
            r.start()
        await asyncio.gather(*(r.logged_in() for r in runs.values()))
        await until(lambda: sum(r.leads for r in runs.values()) == 1, 30, "one scheduler leader")
        await asyncio.sleep(2)  # a few leadership polls: still one
        assert sum(r.leads for r in runs.values()) == 1

        # Check-ins in each group: one reply each, from the account in that group.
        await say(pa, ALICE, G1, "打卡", "c-alice")
        await say(pb, DAVE, G3, "打卡", "c-dave")
        await say(pa, BOB, G2, "打卡", "c-bob")
        await say(pb, BOB, G2, "打卡", "c-bob")  # the same message, heard by B too
        for i in range(3):
            for peer in (pa, pb):
                await say(peer, CAROL, G2, f"第{i}章读完啦", f"carol-{i}")
        await until(lambda: checkin_replies(pa, ALICE, G1) and checkin_replies(pb, DAVE, G3)
                    and (checkin_replies(pa, BOB, G2) or checkin_replies(pb, BOB, G2)), 30, "check-in replies")
        await until(lambda: scalar("SELECT count(*) FROM eventlog WHERE id LIKE 'carol-%'") == 3, 10, "carol")
        await asyncio.sleep(2)
        assert len(checkin_replies(pa, ALICE, G1)) == 1 and not checkin_replies(pb, ALICE, G1)
        assert len(checkin_replies(pb, DAVE, G3)) == 1 and not checkin_replies(pa, DAVE, G3)
        assert len(checkin_replies(pa, BOB, G2)) + len(checkin_replies(pb, BOB, G2)) == 1
        assert scalar("SELECT sum(messages) FROM dailyactivity WHERE member = :m AND room = :r",
                      m=CAROL, r=G2) == 3
        assert scalar("SELECT sum(checkins) FROM dailyactivity WHERE member = :m", m=BOB) == 1

        # The admin makes 运营 the operator of group 3 (B's group).
        await say(pb, ADMIN, G3, "/operator @运营", "op-1", mentions=(OP,))
        await until(lambda: scalar("SELECT count(*) FROM roomoperator"), 15, "the operator")

        # A burst in group 1; A is killed mid-burst, the daily list falls due, and the leader
        # is killed too: a new leader sends it once, A sends every reply once.
        for i, m in enumerate(BURST):
            await say(pa, m, G1, "打卡", f"burst-{i}")
        await until(lambda: scalar("SELECT count(*) FROM eventlog WHERE id LIKE 'burst-%'") == len(BURST)
                    and sum(len(checkin_replies(pa, m, G1)) for m in BURST) >= 2, 30, "the burst half answered")
        store = SQLAlchemyJobStore(engine=engine, tablename="scheduled_jobs")
        paused = AsyncIOScheduler(jobstores={"default": store})
        paused.start(paused=True)
        paused.modify_job("daily_followup", next_run_time=datetime.now().astimezone() - timedelta(minutes=1))
        paused.shutdown(wait=False)
        killed = [runs["A"]] + ([runs["B"]] if runs["B"].leads else [])
        for r in killed:
            r.kill()
        sent_before = sum(len(checkin_replies(pa, m, G1)) for m in BURST)
        assert sent_before < len(BURST), "the burst was answered before A was killed"
        for r in killed:
            r.start()
        await asyncio.gather(*(r.logged_in() for r in killed))

        def unknown() -> int:
            return scalar("SELECT count(*) FROM outbox WHERE status = 'unknown'")

        await until(lambda: sum(1 for m in BURST if checkin_replies(pa, m, G1)) + unknown() == len(BURST),
                    60, "every reply of the burst")
        await until(lambda: [m for m in pb.sent if m["listenerId"] == OP and not m["roomId"]], 30,
                    "the operator's daily list")
        await asyncio.sleep(3)
        assert all(len(checkin_replies(pa, m, G1)) <= 1 for m in BURST), "a reply went out twice"
        assert unknown() <= 1  # at most the one in flight at the kill: shown to the admins, not lost
        assert len([m for m in pb.sent if m["listenerId"] == OP and not m["roomId"]]) == 1
        assert not [m for m in pa.sent if m["listenerId"] == OP]
        # One list a day each: 运营 (group 3) and the admin (groups 1-2 have no operator).
        assert scalar("SELECT count(*) FROM scheduledlist") == 2
        assert sum(r.leads for r in runs.values()) >= 1
    finally:
        for r in runs.values():
            r.stop()
        engine.dispose()
