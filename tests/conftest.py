"""Shared fixtures: a network guard (loopback only) and a bot harness over a real SQLite file."""

from __future__ import annotations

import ipaddress
import socket
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from tests import pg
from tests.harness import Bot

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check(sock: socket.socket, address) -> None:
    if sock.family == socket.AF_UNIX:
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost":
            return
        raise RuntimeError(f"test tried to reach {host!r}: only loopback is allowed") from None
    if not ip.is_loopback:
        raise RuntimeError(f"test tried to reach {host!r}: only loopback is allowed")


def _guarded_connect(self, address):
    _check(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def loopback_only():
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture
def bot(tmp_path, db_url) -> Bot:
    """The bot on an empty store: every test that takes it runs on SQLite and on PostgreSQL."""
    return Bot(tmp_path, database_url=db_url)


# ---- PostgreSQL ---------------------------------------------------------------------------
_PG_UNAVAILABLE: list[str] = []


@pytest.fixture(scope="session")
def pg_url():
    """The URL of a throwaway PostgreSQL server started for this test run (tests/pg.py), or of
    the server in QUNGUAN_TEST_PG_URL; tests that need it are skipped, loudly, without one."""
    try:
        server = pg.start()
    except pg.Unavailable as exc:
        _PG_UNAVAILABLE.append(str(exc))
        pytest.skip(f"!!! PostgreSQL unavailable, test SKIPPED: {exc}")
    yield server.url
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests are slow tests: `scripts/test --quick` (-m "not slow") leaves them out."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    if _PG_UNAVAILABLE:
        terminalreporter.write_sep("!", "PostgreSQL tests were SKIPPED", red=True)
        terminalreporter.write_line(f"!!! {_PG_UNAVAILABLE[0]}", red=True)


@pytest.fixture
def pg_schemas(pg_url):
    """A function giving the URL of a fresh, empty schema on the test PostgreSQL server
    (`name` only labels it); every schema made is dropped after the test."""
    admin = create_engine(pg_url)
    made: list[str] = []

    def make(name: str = "qunguan") -> str:
        schema = f"{name}_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        return make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)

    yield make
    with admin.begin() as conn:
        for schema in made:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty store's URL: a new SQLite file, or a new schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'q.db'}"
    return request.getfixturevalue("pg_schemas")()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A function giving the URL of a fresh, empty store per name (several stores in one test):
    SQLite files, or schemas on the test PostgreSQL server."""
    if request.param == "sqlite":
        return lambda name: f"sqlite:///{tmp_path / f'{name}.db'}"
    return request.getfixturevalue("pg_schemas")
