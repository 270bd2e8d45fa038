"""Schema migrations: bringing a store (empty, written by 0.1.0, or older) to the newest revision, under a lock."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
RELEASE_0_1_0 = "0.1.0"
# Release 0.1.0 created these with create_all and kept no version table: a database that has
# them all and no version table is a 0.1.0 store. History: never edit.
TABLES_0_1_0 = frozenset({
    "checkin", "checkincards", "checkintask", "dailyactivity", "eventlog", "followupitem", "followuplist",
    "followuprecord", "keywordhit", "member", "membership", "membersnapshot", "membertag", "outbox",
    "pointsentry", "room", "roomoperator", "roomsettings", "scheduledlist", "taggroup", "tagrule",
})
FIRST = "0001"  # the revision that creates exactly the 0.1.0 schema
# Every process migrating a PostgreSQL store takes this advisory lock; any constant they all
# agree on will do ("qunguan" in ASCII).
PG_LOCK = 0x71756E6775616E
# A SQLite process waits this long for another one's migration (the usual busy timeout is 30 s,
# too short for a migration that rebuilds a big table).
SQLITE_LOCK_WAIT_MS = 30 * 60 * 1000


class StoreError(RuntimeError):
    """The database is not a store this release can bring up to date."""


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # the stored revision: None for an empty database, RELEASE_0_1_0 for a 0.1.0 store
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@cache
def revisions() -> tuple[str, ...]:
    """Every revision, oldest first, read from the file names in versions/ (see its __init__)."""
    return tuple(sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")))


def head() -> str:
    return revisions()[-1]


def current(engine: Engine) -> str | None:
    """The store's revision; None when it has no version table (an empty database or a 0.1.0 store)."""
    with engine.connect() as conn:
        return _stored(conn)


def stored(engine: Engine) -> list[str]:
    """The revisions in the store's version table (none for an empty or 0.1.0 store)."""
    rev = current(engine)
    return [rev] if rev else []


def is_known(revision: str) -> bool:
    """Whether this release has `revision` (a store at an unknown one was written by a newer qunguan)."""
    return revision in revisions()


def is_release_0_1_0(engine: Engine) -> bool:
    with engine.connect() as conn:
        return _stored(conn) is None and _unversioned_kind(conn) == RELEASE_0_1_0


def upgrade(engine: Engine) -> Upgrade:
    """Bring the store to the newest revision; a store already there costs one version read.

    Holds a lock for the whole check-and-migrate, so of two processes starting at once one
    migrates and the other waits, then finds nothing to do. On SQLite the lock is the write
    lock of the transaction itself: the engine from bot.store.db begins every transaction
    with BEGIN IMMEDIATE. On PostgreSQL it is an advisory lock held until the transaction
    ends. Both dialects run DDL transactionally, so a migration that fails changes nothing."""
    with engine.connect() as conn, _patient(conn), conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK})
        before = _stored(conn)
        if before == head():
            return Upgrade(before, before)
        if before is None:
            before = _unversioned_kind(conn)
        elif before not in revisions():
            raise StoreError(f"the store is at revision {before}, which this release does not know "
                             f"(its newest is {head()}): it was written by a newer qunguan")
        _alembic(conn, stamp=FIRST if before == RELEASE_0_1_0 else None)
        after = _stored(conn)
    log.info("store upgraded from %s to %s", before or "an empty database", after)
    assert after is not None
    return Upgrade(before, after)


def _stored(conn: Connection) -> str | None:
    if not conn.dialect.has_table(conn, VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _unversioned_kind(conn: Connection) -> str | None:
    """RELEASE_0_1_0 or None (empty) for a database without a version table."""
    ours = TABLES_0_1_0 & set(inspect(conn).get_table_names())
    if ours == TABLES_0_1_0:
        return RELEASE_0_1_0
    if ours:
        raise StoreError(f"the database has some of the store's tables but not all and no version table "
                         f"(missing: {', '.join(sorted(TABLES_0_1_0 - ours))}): not a store this release "
                         f"can upgrade")
    return None


def _alembic(conn: Connection, *, stamp: str | None) -> None:
    if logging.getLogger("alembic").level == logging.NOTSET:
        # Its INFO lines (plugins, dialect) mean nothing to an operator; ours says what changed.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # alembic is imported here, not at the top: a store already at head never needs it.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = conn  # env.py runs on it, inside our transaction
    if stamp:
        command.stamp(config, stamp)
    command.upgrade(config, "head")


@contextmanager
def _patient(conn: Connection) -> Iterator[None]:
    """On SQLite, wait as long as another process's migration may take for the write lock."""
    if conn.dialect.name != "sqlite":
        yield
        return
    # Straight to the driver: through SQLAlchemy the PRAGMA would begin a transaction.
    raw = conn.connection.driver_connection
    assert raw is not None, "a connection in use has a driver connection"
    (was,) = raw.execute("PRAGMA busy_timeout").fetchone()
    raw.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(was)}")
