"""Schema migrations: bringing a store (empty, written by 0.1.0, or older) to the newest revision, under a lock."""

from __future__ import annotations

import ast
import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

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
RELEASE_0_2_0 = "0011"  # the core revision release 0.2.0 left every store at
# The core chain (shared tables, and every table up to 0.2.0: 0001..0011, frozen history) and
# one folder of migrations per feature, each its own alembic branch: see versions/__init__.py.
CORE = MIGRATIONS / "versions"
FEATURES = Path(__file__).resolve().parent.parent / "features"
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


@dataclass(frozen=True)
class Revision:
    """What a migration file says about its place in the graph, read without loading alembic."""

    id: str
    down: tuple[str, ...]
    depends_on: tuple[str, ...]
    branch_labels: tuple[str, ...]
    path: Path


def locations() -> list[Path]:
    """The version locations: the core chain, then each feature's `migrations/` folder."""
    return [CORE, *sorted(p for p in FEATURES.glob("*/migrations") if p.is_dir())]


def _names(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    assert isinstance(value, tuple | list) and all(isinstance(v, str) for v in value), value
    return tuple(value)


def load_models() -> None:
    """Import every feature's models.py, so that SQLModel.metadata holds every table of the
    store (the eraser walks it; env.py and the tests compare the migrations against it)."""
    importlib.import_module("bot.store.models")
    for path in sorted(FEATURES.glob("*/models.py")):
        importlib.import_module(f"bot.features.{path.parent.name}.models")


def read_revision(path: Path) -> Revision:
    """The module-level `revision`, `down_revision`, `depends_on` and `branch_labels` of a file."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = ast.literal_eval(node.value)
    rev = found.get("revision")
    if not isinstance(rev, str):
        raise StoreError(f"{path} names no revision")
    return Revision(rev, _names(found.get("down_revision")), _names(found.get("depends_on")),
                    _names(found.get("branch_labels")), path)


@cache
def revisions() -> dict[str, Revision]:
    """Every revision of every location, by id."""
    out: dict[str, Revision] = {}
    for location in locations():
        for path in sorted(location.glob("*.py")):
            if path.name != "__init__.py":
                rev = read_revision(path)
                if rev.id in out:
                    raise StoreError(f"revision {rev.id} twice: {out[rev.id].path} and {path}")
                out[rev.id] = rev
    return out


def heads() -> frozenset[str]:
    """The revisions alembic keeps in the version table once a store is up to date: those no
    other revision builds on (down_revision) or depends on (depends_on)."""
    every = revisions()
    used = {r for rev in every.values() for r in (*rev.down, *rev.depends_on)}
    return frozenset(every) - used


def head() -> str:
    """The newest schema as `current` shows it: the heads, sorted, comma-separated."""
    return _shown(heads())


def current(engine: Engine) -> str | None:
    """The store's revision(s); None when it has no version table (an empty database or a 0.1.0 store)."""
    with engine.connect() as conn:
        stored = _stored(conn)
    return _shown(stored) if stored else None


def _shown(revs: frozenset[str]) -> str:
    return ", ".join(sorted(revs))


def stored(engine: Engine) -> list[str]:
    """The revisions in the store's version table, sorted (none for an empty or 0.1.0 store)."""
    with engine.connect() as conn:
        return sorted(_stored(conn))


def stored_on(conn: Connection) -> list[str]:
    """`stored`, on an open connection."""
    return sorted(_stored(conn))


def is_current(revisions_: list[str]) -> bool:
    """Whether a store at these revisions (every head's row) has the newest schema."""
    return frozenset(revisions_) == heads()


def is_known(revision: str) -> bool:
    """Whether this release has `revision` (a store at an unknown one was written by a newer qunguan)."""
    return revision in revisions()


def is_release_0_1_0(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not _stored(conn) and _unversioned_kind(conn) == RELEASE_0_1_0


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
        stored = _stored(conn)
        if stored == heads():
            return Upgrade(head(), head())
        unknown = stored - set(revisions())
        if unknown:
            raise StoreError(f"the store is at revision {_shown(unknown)}, which this release does not know "
                             f"(its newest is {head()}): it was written by a newer qunguan")
        before = _shown(stored) if stored else _unversioned_kind(conn)
        _alembic(conn, stamp=FIRST if before == RELEASE_0_1_0 else None)
        after = _shown(_stored(conn))
    log.info("store upgraded from %s to %s", before or "an empty database", after)
    return Upgrade(before, after)


def _stored(conn: Connection) -> frozenset[str]:
    if not conn.dialect.has_table(conn, VERSION_TABLE):
        return frozenset()
    return frozenset(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


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


def _quiet_alembic() -> None:
    if logging.getLogger("alembic").level == logging.NOTSET:
        # Its INFO lines (plugins, dialect) mean nothing to an operator; ours says what changed.
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _alembic(conn: Connection, *, stamp: str | None) -> None:
    _quiet_alembic()
    # alembic is imported here, not at the top: a store already at head never needs it.
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = conn  # env.py runs on it, inside our transaction
    if stamp:
        command.stamp(config, stamp)
    command.upgrade(config, "heads")


def core_head() -> str:
    """The newest revision of the core chain (a feature's first migration builds on it)."""
    core = {rev.id for rev in revisions().values() if rev.path.parent == CORE}
    (last,) = core - {d for rev in revisions().values() if rev.path.parent == CORE for d in rev.down}
    return last


def new_revision(message: str, feature: str | None = None, depends_on: str | None = None) -> Path:
    """Write a new, empty migration with a generated id (alembic's `command.revision`) at the
    end of the core chain, or of `feature`'s own branch (its first one starts the branch,
    labelled with the feature's name, on the core's newest revision). Returns its file."""
    _quiet_alembic()
    from alembic import command

    if feature is None:
        location, head, label = CORE, core_head(), None
    else:
        if not (FEATURES / feature / "__init__.py").is_file():
            known = sorted(p.parent.name for p in FEATURES.glob("*/__init__.py"))
            raise StoreError(f"no feature {feature!r} under bot/features (one of: {', '.join(known)})")
        location = FEATURES / feature / "migrations"
        started = location.is_dir() and any(p.name != "__init__.py" for p in location.glob("*.py"))
        head, label = (f"{feature}@head", None) if started else (core_head(), feature)
        if not location.is_dir():
            location.mkdir()
            (location / "__init__.py").write_text(f'"""The {feature} feature\'s migrations: its own alembic branch '
                                                  f'(see bot/store/migrations/versions/__init__.py)."""\n')
    revisions.cache_clear()
    config = alembic_config()
    # splice: the core revision a branch starts on may already have other branches on it.
    script = command.revision(config, message, head=head, branch_label=label, version_path=str(location),
                              depends_on=depends_on, splice=not head.endswith("@head"))
    revisions.cache_clear()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def alembic_config() -> Config:
    """alembic's configuration of our migrations: env.py here, every location's versions."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _escaped(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(_escaped(p) for p in locations()))
    return config


def _escaped(path: Path) -> str:
    return str(path).replace("%", "%%")


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
