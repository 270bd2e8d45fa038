"""Which process runs the daily jobs: one per store, whatever number of accounts run on it.

On PostgreSQL the leader is the process that holds a session-level advisory lock on a
dedicated connection. Every process tries to take it every `poll` seconds; the holder checks
its connection as often. A holder that dies (a crash, kill -9, a lost host) loses its session
and with it the lock (TCP keepalives on the lock's connection notice a silent peer within
about 30 s), so another process takes over within `poll` seconds after that: within 60 s.

On SQLite a store has one `qunguan run` (`RunLock`, an OS lock on a file next to the
database, released by the kernel however the process ends), which always leads.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

LEADER_LOCK = 0x71756E67756C64  # the advisory lock key every qunguan process agrees on
POLL_SECONDS = 15.0
# The lock's connection: the server drops a holder that went silent after 10 + 3 × 5 s.
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class StoreBusy(Exception):
    """Another `qunguan run` already uses this SQLite store; the message says what to do."""


class RunLock:
    """One `qunguan run` per SQLite file: an exclusive flock on `<db>.run.lock`, held until
    the process ends (the kernel releases it even after kill -9)."""

    def __init__(self, database: str) -> None:
        self.path = Path(f"{database}.run.lock")
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreBusy(
                f"另一个 qunguan run（进程 {holder}）正在使用这个 SQLite 数据库 {self.path.name[:-9]}："
                "SQLite 上一个库只能运行一个 qunguan run。先停掉那个进程；要同时运行多个微信账号，"
                "请让它们共用一个 PostgreSQL 数据库（--db postgresql+psycopg2://…，见 README「多个账号」）。"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def run_lock(url: str) -> RunLock | None:
    """Take the SQLite store's run lock (StoreBusy when another run has it); None for other
    databases and for in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return RunLock(parsed.database).acquire()


class Leadership:
    """Calls `start` when this process becomes the leader and `stop` when it stops being one.

    `run()` loops until cancelled. On SQLite it leads at once (the run lock made it the only
    one); on PostgreSQL it takes the advisory lock when it is free."""

    def __init__(self, engine: Engine, start: Callable[[], None], stop: Callable[[], None], *,
                 poll: float = POLL_SECONDS) -> None:
        self.engine = engine
        self.start = start
        self.stop = stop
        self.poll = poll
        self.leading = False
        self._lock_engine: Engine | None = None
        self._conn: Connection | None = None

    async def run(self) -> None:
        if self.engine.dialect.name != "postgresql":
            self._lead()
            try:
                await asyncio.Event().wait()
            finally:
                self._follow()
            return
        self._lock_engine = create_engine(self.engine.url, poolclass=NullPool, connect_args=_KEEPALIVE)
        try:
            while True:
                held = await asyncio.to_thread(self._check)
                if held and not self.leading:
                    self._lead()
                elif not held and self.leading:
                    log.warning("调度主进程的数据库连接断了，交出调度 / lost the scheduler lock")
                    self._follow()
                await asyncio.sleep(self.poll)
        finally:
            self._follow()
            await asyncio.to_thread(self._close)
            self._lock_engine.dispose()

    def _check(self) -> bool:
        """True when this process holds the lock (taking it if it is free)."""
        assert self._lock_engine is not None
        try:
            if self._conn is None:
                self._conn = self._lock_engine.connect()
            if self.leading:
                self._conn.execute(text("SELECT 1")).scalar()
                self._conn.commit()
                return True
            got = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}).scalar())
            self._conn.commit()  # end the implicit transaction; the session lock stays
            return got
        except Exception as exc:  # the server is gone or restarting: not leading until it is back
            log.warning("调度锁检查失败 / scheduler lock check failed: %s", exc)
            self._close()
            return False

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing the scheduler lock's connection failed", exc_info=True)

    def _lead(self) -> None:
        self.leading = True
        log.info("本进程负责定时任务 / this process leads the scheduler")
        self.start()

    def _follow(self) -> None:
        if self.leading:
            self.leading = False
            self.stop()


__all__ = ["LEADER_LOCK", "Leadership", "RunLock", "StoreBusy", "run_lock"]
