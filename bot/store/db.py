"""Opening the database: engine, SQLite pragmas, schema up to date, dialect-neutral upserts."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Date, Engine, Select, Table, bindparam, case, create_engine, event, func, select
from sqlalchemy.engine import Connection, CursorResult, make_url
from sqlalchemy.exc import DBAPIError

from bot.store.migrate import load_models, upgrade

log = logging.getLogger(__name__)


def open_engine(url: str) -> Engine:
    """An engine for `url` on a store brought up to the newest schema (created if empty)."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def make_engine(url: str) -> Engine:
    """An engine for `url`, schema left as it is; SQLite gets WAL, a busy timeout and
    foreign-key-free speed pragmas. Every table (shared and each feature's) is registered."""
    load_models()
    if url.startswith("sqlite"):
        # The busy timeout: how long a write waits for another writer's lock before "database is
        # locked" (a batch that meets it is retried: bot.core.pipeline). `?timeout=SECONDS` in the
        # URL sets another.
        busy = {} if "timeout" in make_url(url).query else {"timeout": BUSY_TIMEOUT}
        engine = create_engine(url, connect_args={**busy, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINT, which commands rely on to
            # undo a failed command alone; SQLAlchemy's documented fix: let us emit BEGIN.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                _wal(cur)
            # NORMAL is durable in WAL mode except on power loss, and far faster than FULL.
            cur.execute("PRAGMA synchronous=NORMAL")
            # Deleted and overwritten content is zeroed in the file, not left in free space:
            # an erased member's texts (删除我的数据, retention) must be gone from the file.
            cur.execute("PRAGMA secure_delete=ON")
            # 64 MiB of page cache (the default is 2 MiB): counters and indexes are updated
            # at random keys, and a cache that holds them keeps bulk ingest from slowing down
            # as the store grows.
            cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            # then writes fails at once (SQLITE_BUSY_SNAPSHOT) when another thread committed
            # in between, and the busy timeout cannot help it.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        if ":memory:" not in url and engine.url.database:
            quiet = _QuietCheckpoints(engine.url.database)
            event.listen(engine, "commit", quiet.committed)
            event.listen(engine, "engine_disposed", quiet.stop)

    else:
        # execute_batch for executemany of updates and upserts: one round trip per page of rows,
        # not per row (several writers on one store spend most of a batch waiting on these).
        engine = create_engine(url, pool_pre_ping=True, executemany_mode="values_plus_batch")
    return engine


def _wal(cur: sqlite3.Cursor) -> None:
    """Switch the file to WAL (it stays so). Switching needs the file to itself, and SQLite
    answers "database is locked" at once, without waiting, while another process holds a
    write lock (a second process starting during the first one's migration of a new file):
    wait for it as the busy timeout would."""
    for _ in range(WAL_SWITCH_TRIES):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.05)
    cur.execute("PRAGMA journal_mode=WAL")


BUSY_TIMEOUT = 30  # seconds
CACHE_KIB = 65536  # each connection's page cache (make_engine)
READ_CACHE_KIB = 2048  # the page cache of a read in the background (read_in_background)
WAL_SWITCH_TRIES = 600  # 30 s, as the busy timeout
LIVE_BATCH = 100  # events: a batch of at most this many is live traffic (`use_for`)
LIVE_CACHE_KIB = 2048  # the page cache of a connection in live use (SQLite's default)
LIVE_WAL_PAGES = 10_000  # the WAL's bound in live use: past it, SQLite's own checkpoint at commit
BULK_WAL_PAGES = 1000  # SQLite's own checkpoint in bulk use (its default)
QUIET_SECONDS = 0.1  # a store without a live commit for this long is checkpointed in the background
_LIVE = "qunguan_live"  # Connection.info: the connection is set up for live use


def use_for(conn: Connection, *, live: bool) -> None:
    """Set a SQLite connection up for live traffic (batches of one message) or for bulk
    ingest (an import, a replay), once per connection and change. The two differ in:

    - the page cache: bulk keeps CACHE_KIB to update counters and indexes at random keys; live
      keeps SQLite's default. A commit after a B-tree page split walks the whole page cache
      (SQLite's pcache1 truncates to the file's size, and the split moved a page to the
      pending-byte page number for a moment): with 64 MiB that took 2-20 ms of one batch in
      fifty, with 2 MiB a few microseconds;
    - the WAL checkpoint: bulk lets SQLite's own run at the commit that takes the WAL past
      BULK_WAL_PAGES; live leaves it to a thread of its own once the store has been quiet
      for QUIET_SECONDS (`_QuietCheckpoints`), and SQLite's own runs only past LIVE_WAL_PAGES
      (the WAL's bound under traffic that never pauses). A checkpoint of 1000 pages took
      10-15 ms on the committing thread: every ~80th one-message batch.

    Other databases: nothing to do."""
    if conn.dialect.name != "sqlite" or conn.info.get(_LIVE, False) == live:
        return
    cache, pages = (LIVE_CACHE_KIB, LIVE_WAL_PAGES) if live else (CACHE_KIB, BULK_WAL_PAGES)
    # On the driver's connection: a statement of the Connection's own would begin a transaction.
    raw: Any = conn.connection.dbapi_connection
    raw.execute(f"PRAGMA cache_size=-{cache}")
    raw.execute(f"PRAGMA wal_autocheckpoint={pages}")
    conn.info[_LIVE] = live


class _QuietCheckpoints:
    """The WAL checkpoint of a SQLite file in live use, off the batches' thread: a commit on a
    connection in live use (`use_for`) asks for one, and a thread of its own runs it once no
    such commit came for QUIET_SECONDS (a checkpoint beside a running batch slowed it), then
    ends. PASSIVE: it waits for no reader or writer and copies what it can; SQLite's own
    checkpoint past LIVE_WAL_PAGES bounds the WAL when traffic never pauses. The file is
    opened read-write only: a store moved or deleted meanwhile is not created again (the
    checkpoint fails, and nothing is lost: the next connection to the file reads its WAL).
    The thread is not a daemon: a process that ends waits for its checkpoint (at most
    QUIET_SECONDS and one checkpoint); `stop` (the engine disposed) ends it at once."""

    def __init__(self, path: str) -> None:
        self._uri = Path(path).resolve().as_uri() + "?mode=rw"
        self._cond = threading.Condition()
        self._last = 0.0  # monotonic time of the latest commit in live use
        self._asked = False  # a commit since the last checkpoint began
        self._thread: threading.Thread | None = None
        self._stops = 0  # how many times `stop` ran: a thread started before the last one ends

    def committed(self, conn: Connection) -> None:
        if not conn.info.get(_LIVE):
            return
        with self._cond:
            self._last = time.monotonic()
            self._asked = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, args=(self._stops,), name="qunguan-checkpoint")
                self._thread.start()

    def stop(self, _engine: Engine | None = None) -> None:
        """End the thread without its checkpoint (the pool's last connection to close runs one)."""
        with self._cond:
            self._stops += 1
            self._asked = False
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self, stops: int) -> None:
        while True:
            with self._cond:
                while stops == self._stops and (left := self._last + QUIET_SECONDS - time.monotonic()) > 0:
                    self._cond.wait(left)
                if stops != self._stops:
                    return
                if not self._asked:
                    self._thread = None
                    return
                self._asked = False
            try:
                db = sqlite3.connect(self._uri, uri=True)
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    db.close()
            except sqlite3.Error as exc:
                log.debug("the WAL checkpoint of %s did not run: %s", self._uri, exc)


_Names = tuple[str, ...]
P = TypeVar("P")
_Newer = tuple[str, _Names]  # replace_if_newer: the stamp column and the columns it guards
_UPSERTS: dict[tuple[str, str, _Names, _Names, _Names, _Newer | None, _Names], Any] = {}
# Plans per statement object, then per (dialect, row shape). Keyed by the object itself,
# held weakly: a statement built per call takes its plans with it when it is freed, and a
# later statement at the same address can never find them (a plan bakes in the
# statement's literals, e.g. a rule's tag in a WHERE). Statements are immutable, so an
# object's plan stays right as long as the object lives.
_Plan = tuple[str, Callable[[Mapping[str, Any]], tuple[Any, ...]], dict[str, Any], frozenset[int]]
_COMPILED: WeakKeyDictionary[Any, dict[tuple[str, tuple[str, ...]], _Plan | None]] = WeakKeyDictionary()


def bulk(conn: Connection, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """executemany of one statement over many rows, at the driver's speed.

    SQLAlchemy's own executemany spends more time processing each row's parameters than
    SQLite spends storing it; for the hot bulk paths the statement is compiled once per
    row shape and rows go to the driver as plain tuples, with the columns' scalar defaults
    filled in. Dates become ISO strings on SQLite, exactly as SQLAlchemy's Date type stores
    them. Other drivers keep the ordinary path."""
    if not rows:
        return
    dialect = conn.dialect
    shape = tuple(rows[0])
    plan = _planned(_COMPILED, stmt, (dialect.name, shape), lambda: _plan(dialect, stmt, shape))
    if plan is None:
        conn.execute(stmt, list(rows))
        return
    sql, getter, defaults, date_at = plan
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    params = [getter(row) for row in rows]
    if date_at:
        params = [tuple(_sqlite_value(v) if i in date_at else v for i, v in enumerate(p)) for p in params]
    _driver_run(conn, sql, params, many=True)


def first_row(conn: Connection, stmt: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The first row of one statement (a read, or a write with RETURNING), or None; on SQLite
    compiled once per parameter shape and run at the driver's speed, as `bulk` runs rows. For
    integer and text columns: on SQLite their values come as the driver gives them, without
    SQLAlchemy's type processing (a Date would come back as its ISO text, a Boolean as 0/1)."""
    shape = tuple(params)
    plan = _planned(_COMPILED, stmt, (conn.dialect.name, shape), lambda: _plan(conn.dialect, stmt, shape))
    if plan is None:
        row = conn.execute(stmt, params).first()
        return None if row is None else tuple(row)
    sql, getter, defaults, date_at = plan
    values = getter({**defaults, **params} if defaults else params)
    if date_at:
        values = tuple(_sqlite_value(v) if i in date_at else v for i, v in enumerate(values))
    rows = _driver_run(conn, sql, values, many=False)
    return None if not rows else tuple(rows[0])


def read_rows(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every row of a read whose IN lists are bound (expanding) parameters: a batch's reads of
    its members' names, check-ins and tags. On SQLite the statement is compiled once and each
    call puts as many `?` in each IN list as it holds values, then runs at the driver's speed:
    SQLAlchemy renders the lists anew at every call, which cost more than SQLite's look-ups.
    Values come as `first_row` gives them (a Date as its ISO text, a Boolean as 0/1). An empty
    list, a parameter of another type than text, integer or date, and other databases take
    SQLAlchemy's path."""
    if conn.dialect.name == "sqlite":
        plan = _planned(_IN_PLANS, stmt, ("sqlite", ()), lambda: _in_plan(conn.dialect, stmt))
        if plan is not None:
            sql, names, expanding, literals, dates = plan
            values: list[Any] = []
            for name in names:
                value = params[name] if name in params else literals[name]
                if name in expanding:
                    if not value:
                        break
                    sql = sql.replace(f"__[POSTCOMPILE_{name}]", ",".join("?" * len(value)), 1)
                    values.extend(map(_sqlite_value, value) if name in dates else value)
                else:
                    values.append(_sqlite_value(value) if name in dates else value)
            else:
                return _driver_run(conn, sql, tuple(values), many=False)
    return [tuple(r) for r in conn.execute(stmt, dict(params))]


_InPlan = tuple[str, tuple[str, ...], frozenset[str], dict[str, Any], frozenset[str]]
_IN_PLANS: WeakKeyDictionary[Any, dict[tuple[str, tuple[str, ...]], _InPlan | None]] = WeakKeyDictionary()


def _in_plan(dialect: Any, stmt: Any) -> _InPlan | None:
    """`read_rows`' SQL of a statement, its parameters in the order they are bound, which of them
    are IN lists, the statement's own values (an IN of literals) and which are dates."""
    compiled = stmt.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    expanding, dates, literals = set(), set(), {}
    for name in set(names):
        bind = compiled.binds.get(name)
        if bind is None or bind.literal_execute or bind.callable is not None:
            return None
        if isinstance(bind.type, Date):
            dates.add(name)
        elif bind.type._cached_bind_processor(dialect) is not None:
            return None  # a value SQLAlchemy converts (a datetime, JSON): left to it
        if bind.expanding:
            expanding.add(name)
        if not bind.required and bind.value is not None:
            literals[name] = bind.value
    return str(compiled), names, frozenset(expanding), literals, frozenset(dates)


def _planned(cache: WeakKeyDictionary[Any, dict[tuple[str, tuple[str, ...]], P]], stmt: Any,
             key: tuple[str, tuple[str, ...]], make: Callable[[], P]) -> P:
    """A statement's plan for a dialect and parameter shape, made once."""
    plans = cache.get(stmt)
    if plans is None:
        plans = cache[stmt] = {}
    if key not in plans:
        plans[key] = make()
    return plans[key]


def _driver_run(conn: Connection, sql: str, params: Any, *, many: bool) -> list[Any]:
    """Run SQL on SQLite: straight on the sqlite3 connection inside a begun transaction, when no
    listener watches statements (a command's audit watches for its writes), else through
    SQLAlchemy, which costs ~15 µs a call around what SQLite runs in a few (a check-in's
    awards are four such calls). A driver error is raised as SQLAlchemy raises it (a locked
    store is an OperationalError that the pipeline retries)."""
    if not conn.in_transaction() or conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute:
        result = conn.exec_driver_sql(sql, params)
        return list(result.all()) if result.returns_rows else []
    db: Any = conn.connection.driver_connection
    try:
        cursor = db.executemany(sql, params) if many else db.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


_RowPlan = tuple[str, Callable[[tuple[Any, ...]], tuple[Any, ...]] | None, tuple[int, ...]]
_ROW_PLANS: WeakKeyDictionary[Any, dict[tuple[str, tuple[str, ...]], _RowPlan | None]] = WeakKeyDictionary()


def bulk_rows(conn: Connection, stmt: Any, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """`bulk` for rows given as tuples of the `names` columns' values, in that order: the
    hottest paths (a replay's event log, counters, ledger) build no dict per row, and on SQLite
    the tuples go to the driver as they are (reordered by one C call where the statement binds
    the columns in another order). A statement that needs a value the rows do not give (a
    column's default) takes `bulk`'s path."""
    if not rows:
        return
    dialect = conn.dialect
    plan = _planned(_ROW_PLANS, stmt, (dialect.name, names), lambda: _row_plan(dialect, stmt, names))
    if plan is None:
        bulk(conn, stmt, [dict(zip(names, r, strict=True)) for r in rows])
        return
    sql, order, date_at = plan
    for i in date_at:  # as SQLAlchemy's Date stores them; a batch holds few distinct days
        iso = {d: _sqlite_value(d) for d in {r[i] for r in rows}}
        rows = [(*r[:i], iso[r[i]], *r[i + 1 :]) for r in rows]
    _driver_run(conn, sql, rows if order is None else list(map(order, rows)), many=True)


def _row_plan(dialect: Any, stmt: Any, names: tuple[str, ...]) -> _RowPlan | None:
    plan = _plan(dialect, stmt, names)
    if plan is None or plan[2]:  # not SQLite, or defaults to fill in
        return None
    bound = tuple(stmt.compile(dialect=dialect, column_keys=list(names)).positiontup or ())
    if sorted(bound) != sorted(names):
        return None
    table = getattr(stmt, "table", None)
    dates = tuple(i for i, n in enumerate(names) if table is not None and n in table.c
                  and isinstance(table.c[n].type, Date))
    order = None if bound == names else itemgetter(*(names.index(n) for n in bound))
    return plan[0], order, dates


def _plan(dialect: Any, stmt: Any, shape: tuple[str, ...]) -> _Plan | None:
    if dialect.name != "sqlite":
        return None
    compiled = stmt.compile(dialect=dialect, column_keys=list(shape))
    names = tuple(compiled.positiontup or ())
    if not names:
        return None
    table = getattr(stmt, "table", None)
    defaults: dict[str, Any] = {}
    date_at: set[int] = set()
    for i, n in enumerate(names):
        column = table.c.get(n) if table is not None else None
        if column is not None and isinstance(column.type, Date):
            date_at.add(i)
        if n in shape:
            continue
        if column is None:  # a literal of the statement itself (e.g. 'manual' in a WHERE)
            bind = compiled.binds.get(n)
            if bind is None or bind.callable is not None:
                return None
            defaults[n] = _sqlite_value(bind.effective_value)
            continue
        default = getattr(column, "default", None)
        if default is not None and not default.is_scalar:
            return None  # a computed default: leave it to SQLAlchemy
        defaults[n] = _sqlite_value(default.arg) if default is not None else None
    getter: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    if len(names) > 1:
        getter = itemgetter(*names)
    else:
        only = names[0]

        def getter(row: Mapping[str, Any]) -> tuple[Any, ...]:
            return (row[only],)

    return str(compiled), getter, defaults, frozenset(date_at)


def _sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy's Date type stores it on SQLite (ISO text); any other as it is."""
    return value.isoformat() if isinstance(value, date) else value


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
    if rows:
        bulk(conn, _upsert_of(conn, table, keys, add, replace, replace_if_newer, keep_min), rows)


def upsert_rows(conn: Connection, table: Table, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]],
                keys: Iterable[str], *, add: Iterable[str] = (), replace: Iterable[str] = (),
                replace_if_newer: tuple[str, Iterable[str]] | None = None, keep_min: Iterable[str] = ()) -> None:
    """`upsert` of rows given as tuples of the `names` columns' values (see `bulk_rows`)."""
    if rows:
        bulk_rows(conn, _upsert_of(conn, table, keys, add, replace, replace_if_newer, keep_min), names, rows)


def _upsert_of(conn: Connection, table: Table, keys: Iterable[str], add: Iterable[str], replace: Iterable[str],
               replace_if_newer: tuple[str, Iterable[str]] | None, keep_min: Iterable[str]) -> Any:
    newer = (replace_if_newer[0], tuple(replace_if_newer[1])) if replace_if_newer else None
    shape = (conn.dialect.name, table.name, tuple(keys), tuple(add), tuple(replace), newer,
             tuple(keep_min))
    stmt = _UPSERTS.get(shape)
    if stmt is None:
        stmt = _UPSERTS[shape] = _build_upsert(conn.dialect.name, table, *shape[2:])
    return stmt


def insert_for(dialect: str, table: Table) -> Any:
    """An INSERT of `table` that takes `on_conflict_do_update` in this dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    # The two dialects' Insert classes share the upsert API but not a base class that has it.
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _build_upsert(dialect: str, table: Table, keys: _Names, add: _Names, replace: _Names,
                  newer: _Newer | None, keep_min: _Names) -> Any:
    stmt = insert_for(dialect, table)
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


IN_CHUNK = 900  # bound values one IN list may hold (SQLite's old limit is 999)
_PRESENT: dict[Any, Any] = {}


def stored(conn: Connection, column: Any, values: Iterable[Any]) -> set[Any]:
    """Which of `values` are stored in `column` (an indexed key): one read per IN_CHUNK values
    (see `values_of`)."""
    return set(values_of(conn, column, column, values))


def values_of(conn: Connection, key: Any, column: Any, keys: Iterable[Any]) -> dict[Any, Any]:
    """`column`'s value in the rows whose `key` (an indexed column of the same table) is one
    of `keys`, by key: one read per IN_CHUNK keys, through one statement built once per pair
    of columns (an expanding IN, not a new statement each). On SQLite the read goes to the
    driver as plain SQL: an import asks it of every event, and SQLAlchemy's rendering of the
    IN list cost more than SQLite's look-ups. For integer and text columns (see `first_row`)."""
    wanted = list(keys)
    found: dict[Any, Any] = {}
    if conn.dialect.name == "sqlite":
        head = f'SELECT "{key.name}", "{column.name}" FROM "{key.table.name}" WHERE "{key.name}" IN ('
        for i in range(0, len(wanted), IN_CHUNK):
            part = wanted[i : i + IN_CHUNK]
            found.update(_driver_run(conn, head + ",".join("?" * len(part)) + ")", tuple(part), many=False))
        return found
    stmt = _PRESENT.get((key, column))
    if stmt is None:
        stmt = _PRESENT[(key, column)] = select(key, column).where(key.in_(bindparam("values", expanding=True)))
    for i in range(0, len(wanted), IN_CHUNK):
        found.update(conn.execute(stmt, {"values": wanted[i : i + IN_CHUNK]}).all())
    return found


def as_date(value: object) -> date:
    """A local day as the driver returns it: a date, or on raw SQLite reads its ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def plain_rows(result: CursorResult[Any]) -> Iterator[tuple[Any, ...]]:
    """A read's rows as the driver makes them, plain tuples row by row: for reads of a whole
    table (100k rows), where SQLAlchemy's Row per row costs a third as much again. Nothing is
    converted: on SQLite a date comes back as its ISO text (`as_date`), a boolean as 0 or 1."""
    return iter(cast(Iterable[tuple[Any, ...]], result.cursor))


def read_in_background(conn: Connection, query: Select[Any]) -> Callable[[], Sequence[Any]]:
    """Start a read on a connection of its own (SQLite works without the GIL) and return a
    function that waits for its rows. Other databases read inline. The read sees what is
    committed: callers inside a write transaction must not need their own uncommitted rows."""
    if conn.dialect.name != "sqlite":
        rows = conn.execute(query).all()
        return lambda: rows
    # The rows come back as one JSON array, so the whole read is one step of SQLite's, all
    # of it without the GIL. Fetched row by row, each row would wait for the GIL the main
    # thread holds (up to the 5 ms switch interval), and the read would barely overlap.
    sub = query.subquery()
    whole = select(func.json_group_array(func.json_array(*sub.c)))
    sql = str(whole.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    engine = conn.engine

    def read() -> str:
        raw = engine.raw_connection()
        cur = raw.cursor()
        try:
            # One pass over the rows: a page cache of its own would only add to the process's
            # memory (up to the CACHE_KIB of every connection).
            with _small_cache(cur.execute):
                text: str = cur.execute(sql).fetchone()[0]
            return text
        finally:
            raw.close()

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(read)
    pool.shutdown(wait=False)
    return lambda: json.loads(future.result())


@contextmanager
def one_pass_cache(conn: Connection) -> Iterator[None]:
    """Reads of whole tables once each (the community's scoring, the follow-up list) on the
    caller's connection, with the small page cache of a read in the background: its usual one
    (CACHE_KIB) would keep up to that much of pages no later read asks for again. The cache the
    connection had is back afterwards. Inside a write transaction its pages written beyond the
    small cache go to the log early (still committed or rolled back whole)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    with _small_cache(conn.exec_driver_sql):
        yield


@contextmanager
def _small_cache(run: Callable[[str], Any]) -> Iterator[None]:
    """A SQLite connection's page cache at READ_CACHE_KIB while in the block, and back at the
    size it had (`run`: the connection's or a cursor's way of running a statement)."""
    was = run("PRAGMA cache_size").fetchone()[0]
    run(f"PRAGMA cache_size=-{READ_CACHE_KIB}")
    try:
        yield
    finally:
        run(f"PRAGMA cache_size={int(was)}")


_FULL = ("database or disk is full", "no space left on device", "could not extend file", "disk full")
_READ_ONLY = ("readonly database", "read-only", "read only file system", "read-only transaction")


def is_locked(exc: BaseException) -> bool:
    """The store was locked by another writer for longer than the busy timeout (SQLite's
    "database is locked", at the BEGIN IMMEDIATE that takes the write lock): the transaction
    that met it rolled back whole, so running it again is safe."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "database is locked" in str(orig)


def storage_problem(exc: BaseException, url: str) -> str | None:
    """One Chinese line when the store cannot be written because its disk is full or it is
    read-only (with where it is and what to do), else None. A batch that failed so was rolled
    back whole: nothing half-written, and a re-run goes on from where it stopped."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    parsed = make_url(url)
    where = parsed.database if parsed.get_backend_name() == "sqlite" else parsed.render_as_string(hide_password=True)
    if any(w in text for w in _FULL):
        return (f"磁盘已满：数据库 {where} 写不进去了。请清理这块磁盘的空间（或把数据库移到空间足够的磁盘），"
                "然后重新运行；没写完的那批事件已整体撤销，不会写一半，重跑会从断点继续。")
    if any(w in text for w in _READ_ONLY):
        return (f"数据库 {where} 是只读的，写不进去：请检查文件和所在目录的写权限、磁盘是否以只读方式挂载，"
                "改好后重新运行；没写完的那批事件已整体撤销，不会写一半。")
    return None
