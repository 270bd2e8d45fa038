"""Opening the database: engine, SQLite pragmas, table creation, dialect-neutral upserts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from bot.store import models  # noqa: F401  (registers the tables)


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign-key-free speed pragmas."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # pysqlite's own transaction handling breaks SAVEPOINT, which commands rely on to
            # undo a failed command alone; SQLAlchemy's documented fix: let us emit BEGIN.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable in WAL mode except on power loss, and far faster than FULL.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN")

    else:
        engine = create_engine(url, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    return engine


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Iterable[str],
    *,
    add: Iterable[str] = (),
    replace: Iterable[str] = (),
    replace_if_newer: tuple[str, Iterable[str]] | None = None,
    keep_min: Iterable[str] = (),
) -> None:
    """INSERT many rows; on a key conflict add to `add` columns, overwrite `replace` columns,
    overwrite the columns of `replace_if_newer` when its stamp column is not older, and keep
    the smaller value of `keep_min` columns. Works on SQLite and PostgreSQL."""
    if not rows:
        return
    from sqlalchemy import case

    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    ex = stmt.excluded
    set_: dict[str, Any] = {}
    for c in add:
        set_[c] = table.c[c] + ex[c]
    for c in replace:
        set_[c] = ex[c]
    for c in keep_min:
        set_[c] = case((ex[c] < table.c[c], ex[c]), else_=table.c[c])
    if replace_if_newer:
        stamp, cols = replace_if_newer
        newer = ex[stamp] >= table.c[stamp]
        for c in [*cols, stamp]:
            set_[c] = case((newer, ex[c]), else_=table.c[c])
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_) if set_ else (
        stmt.on_conflict_do_nothing(index_elements=list(keys))
    )
    conn.execute(stmt, list(rows))
