"""`qunguan db backup | restore | copy`: a backup taken while a replay writes is the store as of
one batch, a restore gives the same report, a copy SQLite → PostgreSQL too; and the refusals."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.core.scheduler import JobContext
from bot.core.settings import Settings
from bot.demo.sample import generate_community
from bot.features.backups.jobs import NIGHTLY_BACKUP, backup_trigger, nightly_backup
from bot.store import migrate
from bot.store.backup import BackupError, backup, restore, row_counts
from bot.store.db import make_engine
from bot.wiring import FEATURES, build
from tests.test_migrations import build_0_1_0

QUNGUAN = [sys.executable, "-m", "bot.cli"]


def write_events(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def report(url: str, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["report", "--json", "--db", url]) == 0
    return json.loads(capsys.readouterr().out)


def events_in(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        try:
            return {r[0] for r in conn.execute("SELECT id FROM eventlog")}
        except sqlite3.OperationalError:  # not created yet
            return set()


@pytest.fixture(scope="module")
def community() -> list[dict]:
    return generate_community(members=300, days=30)


def replay(events: Path, db: Path, replies: Path) -> subprocess.Popen:
    return subprocess.Popen([*QUNGUAN, "replay", str(events), "--db", str(db), "--replies", str(replies)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_a_backup_while_a_replay_writes_is_the_store_as_of_one_batch(tmp_path, community, capsys):
    events = write_events(tmp_path / "events.jsonl", community)
    src = tmp_path / "live.db"
    writer = replay(events, src, tmp_path / "replies.jsonl")
    try:
        deadline = time.monotonic() + 120
        while not events_in(src):  # the first batch is committed
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            assert time.monotonic() < deadline, "the replay committed nothing in 120 s"
            time.sleep(0.05)
        done = backup(f"sqlite:///{src}", tmp_path / "copy.db")
        writing = writer.poll() is None
    finally:
        assert writer.wait(300) == 0, writer.stderr.read() if writer.stderr else ""
    copied = events_in(tmp_path / "copy.db")
    assert writing and 0 < len(copied) < len(events_in(src)), "the backup was not taken while the replay wrote"
    assert done.rows["eventlog"] == len(copied)
    assert done.size == (tmp_path / "copy.db").stat().st_size
    assert not Path(f"{tmp_path / 'copy.db'}-wal").exists()  # one self-contained file

    # The same events up to the last one the copy holds, replayed alone, give the same report.
    last = max(i for i, e in enumerate(community) if e["id"] in copied)
    prefix = write_events(tmp_path / "prefix.jsonl", community[: last + 1])
    alone = tmp_path / "alone.db"
    assert replay(prefix, alone, tmp_path / "replies-alone.jsonl").wait(300) == 0
    expected = report(f"sqlite:///{alone}", capsys)
    assert expected["members"], "an empty report compares nothing"
    assert report(f"sqlite:///{tmp_path / 'copy.db'}", capsys) == expected

    # Restored into a new file, it still gives that report.
    capsys.readouterr()
    assert main(["db", "restore", str(tmp_path / "copy.db"), "--db", str(tmp_path / "restored.db"), "--yes"]) == 0
    said = capsys.readouterr().out
    assert f"eventlog {len(copied)}" in said and "MiB" in said
    assert report(f"sqlite:///{tmp_path / 'restored.db'}", capsys) == expected


@pytest.fixture
def small_store(tmp_path, community) -> Path:
    db = tmp_path / "small.db"
    events = write_events(tmp_path / "small.jsonl", community[:3000])
    assert main(["replay", str(events), "--db", str(db), "--silent"]) == 0
    return db


def test_backup_refuses_an_existing_path_unless_forced(small_store, tmp_path, capsys):
    target = tmp_path / "b.db"
    target.write_text("an older backup")
    assert main(["db", "backup", str(target), "--db", str(small_store)]) == 2
    assert "已存在" in capsys.readouterr().err and target.read_text() == "an older backup"
    assert main(["db", "backup", str(target), "--db", str(small_store), "--force"]) == 0
    out = capsys.readouterr().out
    assert "eventlog 3000" in out, out
    assert row_counts(make_engine(f"sqlite:///{target}")) == row_counts(make_engine(f"sqlite:///{small_store}"))


def test_restore_refuses_a_store_that_is_not_empty_and_asks_first(small_store, tmp_path, capsys, monkeypatch):
    copy_path = tmp_path / "b.db"
    backup(f"sqlite:///{small_store}", copy_path)
    with pytest.raises(BackupError, match="不是空的"):
        restore(f"sqlite:///{small_store}", copy_path)
    # Without --yes and without a terminal to answer on, nothing is done.
    monkeypatch.setattr(sys, "stdin", open("/dev/null"))
    assert main(["db", "restore", str(copy_path), "--db", str(tmp_path / "new.db")]) == 2
    assert "--yes" in capsys.readouterr().err and not (tmp_path / "new.db").exists()
    # Not a backup at all.
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BackupError, match="不是群管的备份"):
        restore(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "notes.txt")


def test_a_backup_of_a_newer_schema_is_refused_and_an_older_one_upgraded(small_store, tmp_path):
    newer = tmp_path / "newer.db"
    backup(f"sqlite:///{small_store}", newer)
    with contextlib.closing(sqlite3.connect(newer)) as conn:
        conn.execute("INSERT INTO alembic_version (version_num) VALUES ('f00dfeed')")
        conn.commit()
    with pytest.raises(BackupError, match=r"f00dfeed.*先升级群管"):
        restore(f"sqlite:///{tmp_path / 'target.db'}", newer)
    assert not (tmp_path / "target.db").exists()

    old = tmp_path / "old.db"
    build_0_1_0(f"sqlite:///{old}")
    done = restore(f"sqlite:///{tmp_path / 'upgraded.db'}", old)
    assert done.upgraded is not None and done.upgraded[0] == migrate.RELEASE_0_1_0
    assert migrate.current(make_engine(f"sqlite:///{tmp_path / 'upgraded.db'}")) == migrate.head()
    assert done.rows["member"] == 2 and done.rows["eventlog"] == 2


@pytest.fixture
def pg_database(pg_url):
    """A function giving the URL of a new, empty PostgreSQL database (dropped afterwards)."""
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make(name: str) -> str:
        db = f"{name}_{len(made)}_{int(time.time() * 1000) % 10**8}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
        made.append(db)
        return make_url(pg_url).set(database=db).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for db in made:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    admin.dispose()


def test_db_copy_sqlite_to_postgresql_gives_the_same_report(small_store, pg_database, tmp_path, capsys):
    before = report(f"sqlite:///{small_store}", capsys)
    target = pg_database("copy")
    capsys.readouterr()
    assert main(["db", "copy", "--db", str(small_store), "--to", target]) == 0
    assert "eventlog 3000" in capsys.readouterr().out
    assert report(target, capsys) == before
    # Ids continue after the copied ones: a new event's rows can be written.
    more = write_events(tmp_path / "more.jsonl", [{"type": "message", "id": "after-copy", "room": "r1@chatroom",
                                                  "ts": "2026-11-30T12:00:00+08:00", "sender": "wxid_new",
                                                  "text": "打卡"}])
    assert main(["replay", str(more), "--db", target, "--silent"]) == 0
    # Into a store that is not empty: refused, nothing written.
    engine = make_engine(target)
    rows = row_counts(engine)
    assert main(["db", "copy", "--db", str(small_store), "--to", target]) == 2
    assert "不是空的" in capsys.readouterr().err
    assert row_counts(engine) == rows
    engine.dispose()


def test_postgresql_backup_with_pg_dump_and_restore(small_store, pg_database, tmp_path, capsys):
    source = pg_database("live")
    assert main(["db", "copy", "--db", str(small_store), "--to", source]) == 0
    before = report(source, capsys)
    dump = tmp_path / "qunguan.dump"
    done = backup(source, dump)
    assert dump.read_bytes().startswith(b"PGDMP") and done.rows["eventlog"] == 3000
    # Restoring it into SQLite is refused; into an empty PostgreSQL database it gives the report.
    with pytest.raises(BackupError, match="只能恢复到 PostgreSQL"):
        restore(f"sqlite:///{tmp_path / 'x.db'}", dump)
    target = pg_database("restored")
    restored = restore(target, dump)
    assert restored.rows == done.rows
    assert report(target, capsys) == before
    with pytest.raises(BackupError, match="不是空的"):
        restore(target, dump)
    # A SQLite backup restores into PostgreSQL too (table by table).
    sqlite_backup = tmp_path / "b.db"
    backup(f"sqlite:///{small_store}", sqlite_backup)
    other = pg_database("fromsqlite")
    restore(other, sqlite_backup)
    assert report(other, capsys) == report(f"sqlite:///{small_store}", capsys)
    engine = make_engine(other)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM eventlog")).scalar() == 3000
    engine.dispose()


def test_the_nightly_backup_keeps_the_newest_and_is_off_by_default(small_store, tmp_path):
    settings = Settings(database_url=f"sqlite:///{small_store}")
    _, deps = build(settings)
    night = datetime(2026, 12, 1, 3, 30, tzinfo=settings.tz)
    assert "off" in nightly_backup(JobContext(deps, frozenset()), night)
    folder = tmp_path / "nightly"
    assert not folder.exists()

    on = dataclasses.replace(deps, settings=settings.model_copy(update={"backup_dir": str(folder), "backup_keep": 2}))
    (folder / "keep-me.txt").parent.mkdir()
    (folder / "keep-me.txt").write_text("not a nightly backup")
    for day in range(3):
        note = nightly_backup(JobContext(on, frozenset()), night + timedelta(days=day))
        assert "rows" in note
    assert sorted(p.name for p in folder.iterdir()) == [
        "keep-me.txt", "qunguan-20261202-033000.db", "qunguan-20261203-033000.db"]
    assert row_counts(make_engine(f"sqlite:///{folder / 'qunguan-20261203-033000.db'}"))["eventlog"] == 3000
    # It is a store-wide job: the leader runs it, once per store however many accounts run.
    assert NIGHTLY_BACKUP in [j for f in FEATURES for j in f.jobs] and not NIGHTLY_BACKUP.per_account
    trigger = str(backup_trigger(settings))
    assert trigger.startswith("cron[") and "hour='3', minute='30'" in trigger
