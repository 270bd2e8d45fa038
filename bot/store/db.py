"""Opening the database: engine, SQLite pragmas, table creation, dialect-neutral upserts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, Table, case, create_engine, event
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


_UPSERTS: dict[tuple, Any] = {}


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
    the smaller value of `keep_min` columns. Works on SQLite and PostgreSQL.

    Statements are built once per shape and reused: building one costs more than running it."""
    if not rows:
        return
    newer = (replace_if_newer[0], tuple(replace_if_newer[1])) if replace_if_newer else None
    shape = (conn.dialect.name, table.name, tuple(keys), tuple(add), tuple(replace), newer,
             tuple(keep_min))
    stmt = _UPSERTS.get(shape)
    if stmt is None:
        stmt = _UPSERTS[shape] = _build_upsert(conn.dialect.name, table, *shape[2:])
    conn.execute(stmt, list(rows))


def _build_upsert(dialect: str, table: Table, keys: tuple, add: tuple, replace: tuple,
                  newer: tuple | None, keep_min: tuple):
    if dialect == "postgresql":
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
    if newer:
        stamp, cols = newer
        is_newer = ex[stamp] >= table.c[stamp]
        for c in [*cols, stamp]:
            set_[c] = case((is_newer, ex[c]), else_=table.c[c])
    if set_:
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)
    return stmt.on_conflict_do_nothing(index_elements=list(keys))
