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


STORES = ("sqlite", "postgresql")
# Tests left to the whole suite though not soak, kill -9, e2e or browser tests: each took over
# 10 s in `scripts/test --quick` (13:18, load 7-8), together half its time. Nearly all run whole
# `qunguan` processes (replay, import, report, chat, backup) or compare over a whole corpus;
# `scripts/test` and CI run them (README "Tests").
HEAVY = frozenset({
    "tests/test_backup.py::test_a_backup_while_a_replay_writes_is_the_store_as_of_one_batch",
    "tests/test_checkin_import.py::test_a_2024_export_of_a_checkin_day",
    "tests/test_checkin_import.py::test_a_2025_export_of_a_checkin_day",
    "tests/test_checkin_replay.py::test_a_day_of_a_checkin_group_replayed_twice",
    "tests/test_cli.py::test_bad_cli_arguments",
    "tests/test_cli.py::test_bad_lines_are_reported_and_the_rest_processed",
    "tests/test_cli.py::test_replay_twice_gives_the_same_counts",
    "tests/test_cli.py::test_replayed_orders_and_a_refund_of_an_unknown_order",
    "tests/test_cli.py::test_replies_go_to_the_replies_file_once",
    "tests/test_cli.py::test_report_window_and_room",
    "tests/test_cli.py::test_rosters_in_a_replay_and_a_bad_roster_line",
    "tests/test_cli.py::test_run_without_a_token_says_what_to_set",
    "tests/test_cli.py::test_silent_replay_sends_nothing",
    "tests/test_delivery.py::test_a_silent_replay_leaves_other_processes_rows_alone",
    "tests/test_delivery.py::test_replies_of_a_replay_are_claimed_and_marked_sent",
    "tests/test_delivery.py::test_rows_waiting_for_an_account_that_is_not_running_are_shown",
    "tests/test_events.py::test_the_validator_is_total",
    "tests/test_followup.py::test_followup_cli_json",
    "tests/test_followup_intake.py::test_a_freshly_graded_community_gets_a_list_it_can_finish",
    "tests/test_friends.py::test_a_friend_who_only_chats_one_to_one_is_typed_like_a_group_member",
    "tests/test_fuzz.py::test_ordinary_members_change_nothing_with_manager_commands",
    "tests/test_hostile_input.py::test_replay_of_every_hostile_category_names_each_line_and_keeps_the_good",
    "tests/test_import.py::test_the_demo_imports_a_generated_memotrace_export",
    "tests/test_migrations.py::test_two_processes_starting_at_once_migrate_once",
    "tests/test_mistakes.py::test_a_bad_setting_in_the_environment_says_which",
    "tests/test_mistakes.py::test_a_closed_pipe_ends_quietly",
    "tests/test_mistakes.py::test_a_port_in_use_says_which_and_how_to_pick_another",
    "tests/test_mistakes.py::test_chat_replays_no_backlog_keeps_names_and_plays_on_in_the_stores_time",
    "tests/test_mistakes.py::test_invalid_input_in_chat_gets_a_line_saying_so",
    "tests/test_names.py::test_qunguan_chat_as_a_member_with_a_zwj_name",
    "tests/test_natural_commands.py::test_the_replay_command_takes_every_form_and_leaves_the_chat",
    "tests/test_tags_stable.py::test_tags_are_the_same_in_two_clean_runs_and_in_any_batching",
    "tests/test_writers.py::test_a_writer_restarted_after_every_batch_gives_the_numbers_of_one",
    "tests/unit/test_tagging_engines.py::test_a_fork_of_the_rust_engine_cuts_like_a_fork_of_python",
    "tests/unit/test_tagging_engines.py::test_both_engines_cut_alike_with_no_words_added",
    "tests/unit/test_tagging_engines.py::test_both_engines_cut_and_match_alike",
    "tests/unit/test_tagging_perf.py::test_indexed_matcher_agrees_with_brute_force_on_the_corpus",
    "tests/web/test_phone.py::test_an_operator_works_their_list_on_the_phone",
    "tests/web/test_phone.py::test_every_page_fits_the_screen",
})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--stores", default=",".join(STORES),
                     help="the stores the store-level tests run on, comma-separated (default: both; "
                          "`scripts/test --quick` passes sqlite)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """End-to-end tests are slow tests: `scripts/test --quick` (-m "not slow") leaves them out.
    Tests on a store not in --stores are deselected: a `db_url`/`store` case of that store, and
    with postgresql left out, every test that needs the PostgreSQL server."""
    for item in items:
        if item.get_closest_marker("e2e") or item.nodeid.split("[")[0] in HEAVY:
            item.add_marker(pytest.mark.slow)
    wanted = set(config.getoption("stores").split(","))
    if not wanted <= set(STORES):
        raise pytest.UsageError(f"--stores takes {' and/or '.join(STORES)}, not {config.getoption('stores')}")
    if wanted == set(STORES):
        return
    keep, drop = [], []
    for item in items:
        params = item.callspec.params if isinstance(item, pytest.Function) and hasattr(item, "callspec") else {}
        on = params.get("db_url", params.get("store"))
        needs_pg = "pg_url" in getattr(item, "fixturenames", ())
        if (on is not None and on not in wanted) or (needs_pg and "postgresql" not in wanted):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
