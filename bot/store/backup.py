"""Backups of a store while the bot runs, restores into an empty store, and copying a store
to another database (SQLite → PostgreSQL), each with the row counts it moved.

- SQLite: a backup is SQLite's online backup API, one step under one read transaction, so the
  copy is the store as of one commit while writers go on (WAL). The copy is a plain
  single-file database (journal_mode DELETE) that `--db` opens as it is.
- PostgreSQL: `pg_dump` in custom format (found on PATH, in Debian's server folders, or named).
  It reads an exported snapshot of a transaction that counts the rows in the same snapshot, so
  the counts printed are the dump's own.
- A restore writes only into an empty store (no tables): a SQLite file, or a pg_dump into
  PostgreSQL, or a SQLite backup into PostgreSQL (copied table by table). A backup of an older
  schema is upgraded after the restore; one from a newer qunguan is refused before anything is
  written.
- `copy` moves every table the models know, in dependency order, into an empty database whose
  schema the migrations create first (so its version rows are the source's), then checks
  that every table holds as many rows as the source's.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, Integer, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlmodel import SQLModel

from bot.store import migrate
from bot.store.db import make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
COPY_CHUNK = 5000  # rows per INSERT batch in `copy`


class BackupError(Exception):
    """A backup, restore or copy that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Counted:
    """What a backup, restore or copy moved: where to, its size on disk, rows per table."""

    where: str
    size: int | None
    rows: dict[str, int]
    upgraded: tuple[str, str] | None = field(default=None)  # (from, to) when a restore upgraded

    def describe(self) -> str:
        size = f"，{human_size(self.size)}" if self.size is not None else ""
        total = sum(self.rows.values())
        tables = "，".join(f"{t} {n}" for t, n in sorted(self.rows.items()) if n)
        lines = [f"{self.where}{size}：{len(self.rows)} 张表，共 {total} 行", f"  {tables or '（没有数据）'}"]
        if self.upgraded:
            lines.append(f"  结构已从 {self.upgraded[0]} 升级到 {self.upgraded[1]}")
        return "\n".join(lines)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("内存里的 SQLite 库没有可备份或恢复的文件：用 --db 指定一个文件")
    return Path(parsed.database)


# ---- counting ----

def row_counts(engine: Engine) -> dict[str, int]:
    """Rows of every table the models know that the database has, and of the version table."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        names = [t.name for t in SQLModel.metadata.sorted_tables if t.name in present]
        if migrate.VERSION_TABLE in present:
            names.append(migrate.VERSION_TABLE)
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def _tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(inspect(conn).get_table_names())


def _refuse_non_empty(url: str, engine: Engine) -> None:
    present = _tables(engine)
    if present:
        raise BackupError(
            f"目标库 {shown(url)} 不是空的（已有 {len(present)} 张表，如 {', '.join(present[:3])}）："
            "恢复和复制只写进空库。新建一个空库（SQLite：一个还不存在的文件；PostgreSQL：createdb），"
            "或者先备份这个库再清空它")


# ---- backup ----

def backup(url: str, path: Path, *, force: bool = False, pg_dump: str | None = None) -> Counted:
    """A consistent copy of the store at `url` in `path`, made while the bot may be writing."""
    if path.exists() and not force:
        raise BackupError(f"备份文件 {path} 已存在：换一个路径，或加 --force 覆盖它")
    if path.is_dir():
        raise BackupError(f"{path} 是一个文件夹：给出备份文件的路径，例如 {path / 'qunguan.backup'}")
    if not path.parent.exists():
        raise BackupError(f"文件夹 {path.parent} 不存在：先创建它")
    source = sqlite_path(url)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if source is not None:
            if not source.exists():
                raise BackupError(f"没有这个数据库文件：{source}")
            _sqlite_backup(source, tmp)
            with _disposing(_read_only(tmp)) as engine:
                rows = row_counts(engine)
        else:
            rows = _pg_dump(url, tmp, pg_dump)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return Counted(str(path), path.stat().st_size, rows)


def _sqlite_backup(source: Path, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        # pages=-1: the whole database in one step, under one read transaction of the source,
        # so the copy is one commit's state however much the bot writes meanwhile.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, not a WAL pair
        dst.commit()
    finally:
        dst.close()
        src.close()


@contextlib.contextmanager
def _disposing(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.dispose()


def _read_only(path: Path) -> Engine:
    """A plain engine on a SQLite file that changes nothing in it (not even its journal mode)."""
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


def _pg_tool(name: str, given: str | None) -> str:
    if given:
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            raise BackupError(f"--{name.replace('_', '-')} {given}：不是可执行文件")
        return given
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        raise BackupError(f"没有找到 {name}：安装 PostgreSQL 的客户端（Debian：apt-get install postgresql-client），"
                          f"或用 --{name.replace('_', '-')} 指定它的路径")
    return found


def _libpq(url: str) -> tuple[str, dict[str, str], str | None]:
    """A libpq connection string for the command-line tools (the password goes in the
    environment, not in argv), their environment, and the schema the URL's search_path names."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    options = parsed.query.get("options")
    schema = None
    if isinstance(options, str) and options.startswith("-csearch_path="):
        schema = options.split("=", 1)[1].split(",")[0]
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env, schema


def _pg_dump(url: str, dest: Path, pg_dump: str | None) -> dict[str, int]:
    tool = _pg_tool("pg_dump", pg_dump)
    conninfo, env, schema = _libpq(url)
    engine = make_engine(url)
    with _disposing(engine), engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        present = set(inspect(conn).get_table_names())
        names = [t.name for t in SQLModel.metadata.sorted_tables if t.name in present]
        names += [migrate.VERSION_TABLE] if migrate.VERSION_TABLE in present else []
        rows = {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}
        args = [tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                f"--file={dest}", *([f"--schema={schema}"] if schema else []), conninfo]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        conn.rollback()
    if done.returncode:
        raise BackupError(f"pg_dump 失败：{_first_line(done.stderr)}")
    return rows


def _first_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[0] if lines else "（没有输出）"


# ---- restore ----

def kind_of(path: Path) -> str:
    """'sqlite' or 'pgdump' for a backup file; BackupError otherwise."""
    if not path.is_file():
        raise BackupError(f"没有这个备份文件：{path}")
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pgdump"
    raise BackupError(f"{path} 不是群管的备份（既不是 SQLite 库，也不是 pg_dump 的 custom 格式文件）")


def describe_backup(path: Path, pg_restore: str | None = None) -> str:
    """One line about a backup file, for the confirmation: its kind, size and schema."""
    kind = kind_of(path)
    revs = _backup_revisions(path, kind, pg_restore)
    what = "SQLite 备份" if kind == "sqlite" else "PostgreSQL 备份（pg_dump）"
    return f"{path}：{what}，{human_size(path.stat().st_size)}，结构版本 {', '.join(revs) or '0.1.0'}"


def restore(url: str, path: Path, *, pg_restore: str | None = None) -> Counted:
    """Restore the backup `path` into the empty store at `url`, then bring its schema to the
    newest. Refuses a non-empty store, and a backup whose schema this release does not know."""
    kind = kind_of(path)
    revs = _backup_revisions(path, kind, pg_restore)
    unknown = [r for r in revs if not migrate.is_known(r)]
    if unknown:
        raise BackupError(f"这个备份的结构版本 {', '.join(unknown)} 比本版群管新（它认识的最新版本是 "
                          f"{migrate.head()}）：先升级群管，再恢复")
    target = sqlite_path(url)
    if kind == "pgdump" and target is not None:
        raise BackupError("这是 PostgreSQL 的备份（pg_dump）：只能恢复到 PostgreSQL 库（--db postgresql+psycopg2://…）")
    if target is not None:
        if target.exists() and target.stat().st_size > 0:
            with _disposing(_read_only(target)) as engine:
                _refuse_non_empty(url, engine)
        if not target.parent.exists():
            raise BackupError(f"文件夹 {target.parent} 不存在：先创建它")
        tmp = target.with_name(f".{target.name}.restoring")
        try:
            _sqlite_backup(path, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return _after_restore(url, revs)
    engine = make_engine(url)
    with _disposing(engine):
        _refuse_non_empty(url, engine)
    if kind == "pgdump":
        tool = _pg_tool("pg_restore", pg_restore)
        conninfo, env, _ = _libpq(url)
        done = subprocess.run([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                               f"--dbname={conninfo}", str(path)], env=env, capture_output=True, text=True,
                              check=False)
        if done.returncode:
            raise BackupError(f"pg_restore 失败（目标库没有改动）：{_first_line(done.stderr)}")
        return _after_restore(url, revs)
    # A SQLite backup into PostgreSQL: through a scratch copy, upgraded there, then table by table.
    with tempfile.TemporaryDirectory(prefix="qunguan-restore-") as scratch:
        local = Path(scratch) / "restore.db"
        _sqlite_backup(path, local)
        upgraded = _upgrade(f"sqlite:///{local}", revs)
        copied = copy(f"sqlite:///{local}", url)
    return Counted(copied.where, None, copied.rows, upgraded)


def _backup_revisions(path: Path, kind: str, pg_restore: str | None) -> list[str]:
    if kind == "sqlite":
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if migrate.VERSION_TABLE not in tables:
                if migrate.TABLES_0_1_0 <= tables:
                    return []  # a 0.1.0 store: upgraded after the restore like any older one
                raise BackupError(f"{path} 是一个 SQLite 库，但不是群管的库（没有版本表）")
            return sorted(r[0] for r in conn.execute(f"SELECT version_num FROM {migrate.VERSION_TABLE}"))
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} 读不了（{exc}）：文件不完整或已损坏") from None
        finally:
            conn.close()
    tool = _pg_tool("pg_restore", pg_restore)
    done = subprocess.run([tool, "--data-only", f"--table={migrate.VERSION_TABLE}", "--file=-", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupError(f"pg_restore 读不了 {path}：{_first_line(done.stderr)}")
    revs: list[str] = []
    copying = False
    for line in done.stdout.splitlines():
        if line.startswith("COPY "):
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying:
            revs.append(line.strip())
    if not revs:
        raise BackupError(f"{path} 里没有群管的版本表：不是群管的备份")
    return sorted(revs)


def _upgrade(url: str, revs: list[str]) -> tuple[str, str] | None:
    engine = make_engine(url)
    with _disposing(engine):
        done = migrate.upgrade(engine)
        after = migrate.stored(engine)
    before = ", ".join(revs) or migrate.RELEASE_0_1_0
    return (before, ", ".join(after)) if done.changed else None


def _after_restore(url: str, revs: list[str]) -> Counted:
    upgraded = _upgrade(url, revs)
    engine = make_engine(url)
    with _disposing(engine):
        rows = row_counts(engine)
    path = sqlite_path(url)
    return Counted(str(path) if path else shown(url), path.stat().st_size if path else None, rows, upgraded)


# ---- copy ----

def copy(source_url: str, target_url: str) -> Counted:
    """Every row of the store at `source_url` into the empty database at `target_url`.

    A SQLite source is read from an online backup of it, so the bot may keep running (what it
    writes after that moment is not copied: stop it first when moving for good)."""
    if shown(source_url) == shown(target_url):
        raise BackupError("源库和目标库是同一个")
    target = make_engine(target_url)
    with _disposing(target):
        _refuse_non_empty(target_url, target)
    src_path = sqlite_path(source_url)
    if src_path is not None:
        if not src_path.exists():
            raise BackupError(f"没有这个数据库文件：{src_path}")
        with tempfile.TemporaryDirectory(prefix="qunguan-copy-") as scratch:
            snapshot = Path(scratch) / "snapshot.db"
            _sqlite_backup(src_path, snapshot)
            return _copy_tables(f"sqlite:///{snapshot}", target_url)
    return _copy_tables(source_url, target_url)


def _copy_tables(source_url: str, target_url: str) -> Counted:
    source, target = make_engine(source_url), make_engine(target_url)
    with _disposing(source), _disposing(target):
        migrate.upgrade(source)  # both at the newest schema: the same tables, the same version rows
        migrate.upgrade(target)
        with source.connect() as src, target.begin() as dst:
            present = set(inspect(src).get_table_names())
            for table in SQLModel.metadata.sorted_tables:
                if table.name not in present:
                    continue
                dst.execute(table.delete())  # anything a migration put there: the source's rows win
                result = src.execution_options(yield_per=COPY_CHUNK).execute(select(table))
                for chunk in result.partitions():
                    dst.execute(table.insert(), [dict(r._mapping) for r in chunk])
            if dst.dialect.name == "postgresql":
                _reset_sequences(dst, present)
        theirs, ours = row_counts(source), row_counts(target)
    if theirs != ours:
        wrong = {t: (theirs.get(t), ours.get(t)) for t in theirs.keys() | ours.keys() if theirs.get(t) != ours.get(t)}
        raise BackupError(f"复制后行数不一致（表: 源, 目标）：{wrong}")
    path = sqlite_path(target_url)
    return Counted(str(path) if path else shown(target_url), path.stat().st_size if path else None, ours)


def _reset_sequences(conn: Connection, present: set[str]) -> None:
    """Rows came with their ids: move each serial column's sequence past the largest."""
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in present:
            continue
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto" and len(table.primary_key.columns) == 1
                                                and isinstance(column.type, Integer)):
                seq = conn.execute(select(func.pg_get_serial_sequence(f'"{table.name}"', column.name))).scalar()
                if seq:
                    top = f'(SELECT MAX("{column.name}") FROM "{table.name}")'
                    conn.execute(text(f"SELECT setval(:seq, COALESCE({top}, 0) + 1, false)"), {"seq": seq})


__all__ = ["BackupError", "Counted", "backup", "copy", "describe_backup", "kind_of", "restore", "row_counts"]
