"""Live traffic and SQLite's WAL: one-message batches leave the checkpoint to a thread of its own
that runs once the store goes quiet, the WAL stays bounded when traffic never pauses, nothing
committed is lost, and the thread ends with the engine. PostgreSQL has no WAL file to fold in."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from bot.store import db
from bot.store.db import open_engine
from tests.harness import Bot

FRAME = 24 + 4096  # a WAL frame: its header and one page


def checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "qunguan-checkpoint"]


def until_checkpointed() -> None:
    """Wait for the background checkpoints under way to run and their threads to end."""
    for thread in checkpointers():
        thread.join(timeout=30)
    assert not checkpointers()


def wal(bot: Bot) -> Path:
    return bot.path.with_name(bot.path.name + "-wal")


def burst(bot: Bot, n: int, start: int) -> None:
    for i in range(start, start + n):
        bot.say(f"wxid_{i % 7}", f"第{i}条：今天读完了第三章", ts=f"2026-11-03T09:{i // 60:02d}:{i % 60:02d}+08:00")


def test_live_batches_fold_the_wal_in_once_the_store_is_quiet(bot: Bot):
    burst(bot, 30, 0)
    if bot.engine.dialect.name != "sqlite":
        assert not checkpointers()  # nothing to do on PostgreSQL
        assert bot.scalar("SELECT count(*) FROM eventlog") == 30
        return
    until_checkpointed()
    first = wal(bot).stat().st_size
    for start in (30, 60, 90):
        burst(bot, 30, start)
        until_checkpointed()
    # Each burst after a checkpoint writes the WAL from its start again: without the checkpoint
    # (SQLite's own waits for LIVE_WAL_PAGES in live use) four bursts take four times the room.
    assert wal(bot).stat().st_size < 2 * first
    bot.engine.dispose()
    again = open_engine(f"sqlite:///{bot.path}")
    with again.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM eventlog")).scalar() == 120
        assert conn.execute(text("SELECT sum(messages) FROM dailyactivity")).scalar() == 120
    again.dispose()


def test_the_wal_stays_bounded_when_traffic_never_pauses(tmp_path, monkeypatch):
    bot = Bot(tmp_path)  # SQLite
    monkeypatch.setattr(db, "QUIET_SECONDS", 3600.0)  # the store is never quiet long enough
    monkeypatch.setattr(db, "LIVE_WAL_PAGES", 60)
    try:
        burst(bot, 80, 0)  # about ten pages each
        assert checkpointers()  # waiting for a quiet moment that does not come
        # SQLite's own checkpoint past LIVE_WAL_PAGES, the WAL written from its start again after it
        assert wal(bot).stat().st_size <= 32 + 2 * 60 * FRAME
    finally:
        bot.engine.dispose()
    assert not checkpointers()  # disposing of the engine ends the thread at once
    assert bot.scalar("SELECT count(*) FROM eventlog") == 80


def test_a_connection_takes_the_settings_of_the_batch_it_served(tmp_path):
    bot = Bot(tmp_path)  # SQLite

    def settings() -> tuple[int, int]:
        raw = bot.engine.raw_connection()  # the pool's one connection: the batches ran one after another
        try:
            cur = raw.cursor()
            cache = cur.execute("PRAGMA cache_size").fetchone()[0]
            return cache, cur.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        finally:
            raw.close()

    bot.say("wxid_1", "我的等级")  # a chat message: live
    assert settings() == (-db.LIVE_CACHE_KIB, db.LIVE_WAL_PAGES)
    many = [{"type": "message", "id": f"h{i}", "ts": f"2026-11-03T10:{i // 60:02d}:{i % 60:02d}+08:00",
             "room": "r1@chatroom", "sender": f"wxid_{i % 9}", "text": f"第{i}条"} for i in range(db.LIVE_BATCH + 1)]
    bot.feed(*many)  # more than LIVE_BATCH events in one batch: bulk, as an import
    assert settings() == (-db.CACHE_KIB, db.BULK_WAL_PAGES)
    bot.say("wxid_1", "我的等级")
    assert settings() == (-db.LIVE_CACHE_KIB, db.LIVE_WAL_PAGES)
    assert bot.engine.pool.checkedin() == 1
