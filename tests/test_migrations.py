"""Schema migrations: a 0.1.0 store upgraded in place, fresh stores, two processes at once, `qunguan db`."""

from __future__ import annotations

import asyncio
import pickle
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, create_engine, inspect, text
from sqlmodel import Session, SQLModel

from bot.cli import main
from bot.store import migrate
from bot.store.db import make_engine, open_engine
from bot.store.models import Outbox

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
BIG = 4_102_444_800  # 2100-01-01: past 2**31, so it needs the BIGINT columns

@pytest.fixture
def url(db_url: str) -> str:
    return db_url


def build_0_1_0(url: str) -> None:
    """A store as release 0.1.0 left it: its DDL (frozen in tests/fixtures) and some rows in
    most tables, written with plain SQL as 0.1.0 wrote them, through an engine of no release."""
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    fixture = FIXTURES / ("store_0_1_0.sql" if sqlite else "store_0_1_0.postgresql.sql")
    ddl = "\n".join(line for line in fixture.read_text().splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        for statement in filter(str.strip, ddl.split(";")):
            conn.exec_driver_sql(statement)
        for sql in [
            "INSERT INTO room (id, name, name_at, first_at) VALUES ('r1@chatroom', '读书群', 1793498400, 1793498400)",
            "INSERT INTO member (id, name, name_at, first_at, last_counted_at, points) VALUES"
            " ('wxid_a', 'Alice', 1793498400, 1793498400, 1793498490, 25),"
            " ('wxid_b', 'Bob', 1793498500, 1793498500, NULL, 0)",
            "INSERT INTO membership (room, member, joined_at, first_at, left_at, active) VALUES"
            " ('r1@chatroom', 'wxid_a', NULL, 1793498400, NULL, TRUE),"
            " ('r1@chatroom', 'wxid_b', 1793498500, 1793498500, 1793584900, FALSE)",
            "INSERT INTO eventlog (id, type, ts, room, member, text, kind) VALUES"
            " ('m1', 'message', 1793498400, 'r1@chatroom', 'wxid_a', '打卡', 'checkin'),"
            " ('v1', 'visit', 1793498600, '', 'wxid_a', NULL, NULL)",
            "INSERT INTO dailyactivity (member, room, day, messages, counted, checkins, commands, visits) VALUES"
            " ('wxid_a', 'r1@chatroom', '2026-11-01', 12, 9, 1, 2, 0),"
            " ('wxid_a', '', '2026-11-01', 0, 0, 0, 0, 1)",
            "INSERT INTO taggroup (name, \"exclusive\") VALUES ('阶段', TRUE)",
            "INSERT INTO tagrule (kind, tag, args, active, created_by, created_at) VALUES"
            " ('keyword', '价格敏感', '价格敏感 多少钱,贵', TRUE, 'wxid_admin', 1793498000)",
            "INSERT INTO membertag (member, tag, source, rule_id, grp, keyword, message_id, excerpt, \"by\", count,"
            " days, at, since, expires_at, lead) VALUES ('wxid_a', '价格敏感', 'keyword', 1, NULL, '多少钱', 'm1',"
            f" '这个多少钱', NULL, NULL, NULL, 1793498400, 1793498400, {BIG}, TRUE)",
            "INSERT INTO checkintask (name, triggers, points, window_start, window_end, challenge_days, room, active)"
            " VALUES ('读书', '打卡,读书打卡', 10, '06:00', '23:00', 21, NULL, TRUE)",
            "INSERT INTO checkin (member, task_id, day, room, ts, made_up) VALUES"
            " ('wxid_a', 1, '2026-11-01', 'r1@chatroom', 1793498400, FALSE)",
            "INSERT INTO pointsentry (member, ts, day, delta, kind, reason, room, ref, \"by\") VALUES"
            " ('wxid_a', 1793498400, '2026-11-01', 10, 'checkin', '读书打卡', 'r1@chatroom', 'm1', NULL),"
            " ('wxid_a', 1793498450, '2026-11-01', 15, 'manual', '分享', 'r1@chatroom', NULL, 'wxid_admin')",
            "INSERT INTO outbox (created_at, room, \"to\", text, mentions, reply_to, status, attempts, next_at,"
            " sent_at, error) VALUES (1793498400, 'r1@chatroom', NULL, '打卡成功 +10', 'wxid_a', 'm1', 'sent', 1,"
            f" 0, 1793498401, NULL), ({BIG}, NULL, 'wxid_admin', '跟进清单', '', NULL, 'pending', 0, {BIG}, NULL,"
            " NULL)",
            "INSERT INTO followuplist (operator, at, day, scheduled) VALUES ('wxid_admin', 1793498400, '2026-11-01',"
            " TRUE)",
            "INSERT INTO scheduledlist (operator, day, list_id) VALUES ('wxid_admin', '2026-11-01', 1)",
        ]:
            conn.execute(text(sql))
    engine.dispose()


_WIDTHS: dict[str, int] = {}


def rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every 0.1.0 table, in a stable order (0.1.0's columns: later releases add
    columns at the end)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {}
        for t in sorted(migrate.TABLES_0_1_0):
            result = conn.execute(text(f'SELECT * FROM "{t}"'))
            width = _WIDTHS.setdefault(t, len(result.keys()))
            out[t] = sorted(tuple(map(str, r))[:width] for r in result)
    engine.dispose()
    return out


def schema_differences(engine: Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_a_0_1_0_store_is_upgraded_in_place_keeping_every_row(url):
    build_0_1_0(url)
    before = rows(url)
    assert sum(map(len, before.values())) >= 18 and all(before[t] for t in ("member", "outbox", "dailyactivity"))

    engine = open_engine(url)
    assert migrate.current(engine) == migrate.head()
    assert rows(url) == before
    assert schema_differences(engine) == []
    with engine.connect() as conn:  # 0006 fills the member days from the counters kept so far
        filled = conn.execute(text("SELECT member, day, messages, counted, checkins, commands, visits "
                                   "FROM memberday")).all()
    assert [tuple(map(str, r)) for r in filled] == [("wxid_a", "2026-11-01", "12", "9", "1", "2", "1")]
    # The store goes on working: autoincrement ids continue after 0.1.0's rows.
    with Session(engine) as session:
        row = Outbox(created_at=BIG, to="wxid_a", text="欢迎回来")
        session.add(row)
        session.commit()
        assert row.id == 3
    engine.dispose()


def build_0_2_0(url: str) -> dict[str, list[tuple]]:
    """A store as release 0.2.0 left it: the schema of revision 0011 (the frozen history) and
    two rows in every table (tests/fixtures/store_0_2_0.sql); returns every row."""
    engine = create_engine(url)
    with engine.begin() as conn:
        config = migrate.alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, migrate.RELEASE_0_2_0)
        for line in (FIXTURES / "store_0_2_0.sql").read_text().splitlines():
            if line.startswith("INSERT"):
                conn.exec_driver_sql(line.rstrip(";"))
    engine.dispose()
    return every_row(url)


def every_row(url: str, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table but the version table (of 0.2.0's columns, when given)."""
    engine = create_engine(url)
    out = {}
    with engine.connect() as conn:
        names = columns or {t: [c["name"] for c in inspect(conn).get_columns(t)]
                            for t in inspect(conn).get_table_names() if t != migrate.VERSION_TABLE}
        for t, cols in names.items():
            quoted = ", ".join(f'"{c}"' for c in cols)
            result = conn.execute(text(f'SELECT {quoted} FROM "{t}"'))
            out[t] = sorted(tuple(map(str, r)) for r in result)
    engine.dispose()
    return out


def test_a_0_2_0_store_is_upgraded_in_place_keeping_every_row(url):
    before = build_0_2_0(url)
    assert len(before) == 48 and all(len(rows) == 2 for rows in before.values())
    engine = make_engine(url)
    assert migrate.current(engine) == "0011"
    engine.dispose()
    columns = {t: [c["name"] for c in inspect(create_engine(url)).get_columns(t)] for t in before}

    engine = open_engine(url)
    assert migrate.current(engine) == migrate.head()
    assert every_row(url, columns) == before
    assert schema_differences(engine) == []
    engine.dispose()


def test_a_fresh_store_is_created_through_the_migrations(url):
    engine = open_engine(url)
    assert tables(engine) == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert migrate.current(engine) == migrate.head()
    assert migrate.upgrade(engine) == migrate.Upgrade(migrate.head(), migrate.head())  # nothing left to do
    engine.dispose()


def test_models_and_migrations_agree():
    """A column or index added to the models without a migration fails here."""
    engine = open_engine("sqlite://")
    assert schema_differences(engine) == []
    engine.dispose()


def test_the_0_1_0_fixture_is_release_0_1_0s_table_list():
    assert tables_in_fixture(FIXTURES / "store_0_1_0.sql") == migrate.TABLES_0_1_0
    assert tables_in_fixture(FIXTURES / "store_0_1_0.postgresql.sql") == migrate.TABLES_0_1_0


def tables_in_fixture(path: Path) -> set[str]:
    return {line.split()[2] for line in path.read_text().splitlines() if line.startswith("CREATE TABLE")}


def layout_problems() -> list[str]:
    """What is wrong with the version locations: each must be one line (one head); the core
    chain builds only on itself and carries no branch label; a feature's folder is one branch
    labelled with the feature's name whose first revision builds on a core revision."""
    revs = migrate.revisions()
    problems = []
    for location in migrate.locations():
        here = {r.id: r for r in revs.values() if r.path.parent == location}
        tips = set(here) - {d for r in here.values() for d in r.down}
        if len(tips) != 1:
            problems.append(f"{location}: {len(tips)} heads {sorted(tips)}")
        roots = [r for r in here.values() if not set(r.down) & set(here)]
        for r in here.values():
            if not set(r.depends_on) <= set(revs):
                problems.append(f"{r.path.name}: depends on an unknown revision {r.depends_on}")
        if location == migrate.CORE:
            problems += [f"{r.path.name}: a core revision with branch labels" for r in here.values() if r.branch_labels]
            problems += [f"{r.path.name}: the core builds on {r.down}" for r in roots if r.id != migrate.FIRST]
            continue
        feature = location.parent.name
        for r in roots:
            if r.branch_labels != (feature,) or len(r.down) != 1 or revs[r.down[0]].path.parent != migrate.CORE:
                problems.append(f"{r.path.name}: a feature's first revision must build on a core revision "
                                f"with branch_labels = ({feature!r},)")
        problems += [f"{r.path.name}: labelled {r.branch_labels} in {feature}'s branch"
                     for r in here.values() if r.branch_labels and r not in roots]
    return problems


def test_each_version_location_is_one_line_in_its_place():
    assert layout_problems() == []
    # 0.1.0 and 0.2.0 stores are stamped with the hand-numbered ids: they stay as they are.
    core = sorted(r.path.name[:4] for r in migrate.revisions().values() if r.path.parent == migrate.CORE)
    assert core[:11] == [f"{n:04d}" for n in range(1, 12)]


def test_the_fast_read_of_the_revisions_agrees_with_alembic():
    """bot.store.migrate reads the graph from the files without loading alembic on every start."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    by_alembic = {s.revision: (s.down_revision, s.dependencies) for s in scripts.walk_revisions()}
    ours = migrate.revisions()
    assert set(by_alembic) == set(ours)
    for rev, (down, depends) in by_alembic.items():
        assert migrate._names(down) == ours[rev].down and migrate._names(depends) == ours[rev].depends_on
    assert migrate.heads() <= set(scripts.get_heads())


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The real migrations copied to a scratch tree with two features, for writing new ones."""
    core = tmp_path / "versions"
    shutil.copytree(migrate.CORE, core)
    for name in ("shop", "tags"):
        (tmp_path / "features" / name).mkdir(parents=True)
        (tmp_path / "features" / name / "__init__.py").write_text("")
    monkeypatch.setattr(migrate, "CORE", core)
    monkeypatch.setattr(migrate, "FEATURES", tmp_path / "features")
    migrate.revisions.cache_clear()
    yield tmp_path
    migrate.revisions.cache_clear()


def test_qunguan_db_revision_writes_a_generated_id_in_the_right_branch(scratch, capsys):
    def new(*args: str) -> migrate.Revision:
        assert main(["db", "revision", *args]) == 0
        out = capsys.readouterr().out
        (path,) = [word for word in out.split() if word.endswith(".py")]
        return migrate.read_revision(Path(path.split("已新建迁移：")[-1].split("（")[0]))

    base = migrate.core_head()  # where the core chain ends now: new branches start there
    shop1 = new("--feature", "shop", "-m", "shop gifts")
    shop2 = new("--feature", "shop", "-m", "gift stock")
    tags = new("--feature", "tags", "-m", "tag colours", "--depends-on", shop2.id)
    core = new("-m", "member timezone")
    assert all(re.fullmatch(r"[0-9a-f]{12}", r.id) for r in (shop1, shop2, core, tags))
    assert (shop1.down, shop1.branch_labels) == ((base,), ("shop",))
    assert (shop2.down, shop2.branch_labels) == ((shop1.id,), ())
    assert (core.down, core.branch_labels, core.path.parent) == ((base,), (), migrate.CORE)
    assert (tags.down, tags.branch_labels, tags.depends_on) == ((base,), ("tags",), (shop2.id,))
    assert layout_problems() == []
    assert migrate.heads() == {core.id, tags.id}  # tags depends on shop's head: alembic keeps tags' alone

    # A store (fresh, and one at 0.2.0's revision) goes to every head; the fast check agrees.
    engine = open_engine("sqlite://")
    assert migrate.current(engine) == migrate.head() == ", ".join(sorted([core.id, tags.id]))
    assert migrate.upgrade(engine).changed is False
    engine.dispose()

    # A second head in one location, or a revision in the wrong place, is found.
    text_of = shop2.path.read_text()
    (shop2.path.parent / "0badbad0_twin.py").write_text(text_of.replace(shop2.id, "0badbad0"))
    migrate.revisions.cache_clear()
    assert any("2 heads" in p for p in layout_problems())
    (shop2.path.parent / "0badbad0_twin.py").unlink()
    core.path.rename(scratch / "features" / "shop" / "migrations" / core.path.name)
    migrate.revisions.cache_clear()
    assert any("must build on a core revision" in p for p in layout_problems())


def test_qunguan_db_revision_names_what_is_wrong(scratch, capsys):
    assert main(["db", "revision", "--feature", "nosuch", "-m", "x"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert main(["db", "revision", "--feature", "shop"]) == 2
    assert "-m" in capsys.readouterr().err
    assert not (scratch / "features" / "shop" / "migrations").exists()


def test_in_memory_sqlite_is_migrated():
    engine = open_engine("sqlite://")
    assert migrate.current(engine) == migrate.head()
    assert tables(engine) == set(SQLModel.metadata.tables) | {"alembic_version"}
    engine.dispose()


def test_a_store_from_a_newer_release_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    open_engine(url).dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        # One of the heads' rows (a store has one per head) becomes a revision this release lacks.
        conn.execute(text("UPDATE alembic_version SET version_num = '9999' "
                          "WHERE version_num = (SELECT MIN(version_num) FROM alembic_version)"))
    with pytest.raises(migrate.StoreError, match="9999"):
        migrate.upgrade(engine)
    engine.dispose()


def test_a_database_with_only_some_of_the_tables_is_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE member (id VARCHAR(200) PRIMARY KEY)")
    with pytest.raises(migrate.StoreError, match="missing: checkin"):
        migrate.upgrade(engine)
    assert tables(engine) == {"member"}
    engine.dispose()


def test_a_migration_that_fails_changes_nothing(url):
    """The whole upgrade is one transaction: on SQLite too, through the engine's BEGIN IMMEDIATE."""
    engine = make_engine(url)
    with engine.begin() as conn:  # an unrelated table holding an index name 0001 creates after most of its tables
        conn.exec_driver_sql("CREATE TABLE notes (day DATE)")
        conn.exec_driver_sql("CREATE INDEX ix_points_member_day ON notes (day)")
    with pytest.raises(Exception, match="ix_points_member_day"):
        migrate.upgrade(engine)
    assert tables(engine) == {"notes"}
    engine.dispose()


# Each child imports first, then waits for the same instant, so the two open_engine calls race.
CHILD = """
import logging, sys, time
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from bot.store.db import open_engine
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
open_engine(sys.argv[1]).dispose()
"""


@pytest.mark.parametrize("old", [False, True], ids=["fresh", "0.1.0"])
def test_two_processes_starting_at_once_migrate_once(url, old):
    if old:
        build_0_1_0(url)
    before = rows(url) if old else None
    start = f"{time.time() + 3:.3f}"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, url, start], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "ERROR" not in err, err
    # Exactly one of them migrated; the other waited for it and found nothing to do.
    assert sum("store upgraded from" in err for _, err in outs) == 1, outs
    engine = make_engine(url)
    assert migrate.current(engine) == migrate.head()
    assert schema_differences(engine) == []
    engine.dispose()
    if old:
        assert rows(url) == before


def test_qunguan_db_current_and_upgrade_on_a_0_1_0_store(tmp_path, capsys):
    db = tmp_path / "q.db"
    build_0_1_0(f"sqlite:///{db}")
    before = rows(f"sqlite:///{db}")

    assert main(["db", "current", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "0.1.0 版的库（没有版本表）" in out and "qunguan db upgrade" in out
    assert rows(f"sqlite:///{db}") == before  # looking changes nothing

    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == f"已升级：0.1.0 版的库（没有版本表） → {migrate.head()}"
    assert rows(f"sqlite:///{db}") == before

    assert main(["db", "current", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == f"{migrate.head()}（最新）"
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert "无需升级" in capsys.readouterr().out


def test_qunguan_db_current_does_not_create_a_missing_file(tmp_path, capsys):
    db = tmp_path / "typo.db"
    assert main(["db", "current", "--db", str(db)]) == 2
    assert "没有这个数据库文件" in capsys.readouterr().err
    assert not db.exists()


def test_qunguan_db_current_on_an_empty_database(tmp_path, capsys):
    db = tmp_path / "empty.db"
    db.touch()
    assert main(["db", "current", "--db", str(db)]) == 0
    assert "空库" in capsys.readouterr().out


def test_a_0_1_0_schedule_points_at_the_new_scheduler_and_keeps_its_next_run(url):
    """0.1.0 stored its jobs as `bot.scheduler:daily_*` references; after the upgrade the
    bot starts its scheduler on the same store and the missed run is still due."""
    build_0_1_0(url)
    engine = create_engine(url)
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    async def as_0_1_0_left_it() -> None:
        store = SQLAlchemyJobStore(engine=engine, tablename="scheduled_jobs")
        scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone=UTC)
        scheduler.start(paused=True)
        for job_id in ("daily_tags", "daily_followup"):
            scheduler.add_job(print, CronTrigger(hour=9), id=job_id, next_run_time=due)
        scheduler.shutdown(wait=False)
    asyncio.run(as_0_1_0_left_it())
    with engine.begin() as conn:  # the references 0.1.0 wrote (its bot.scheduler module is gone)
        for job_id, blob in conn.execute(text("SELECT id, job_state FROM scheduled_jobs")).all():
            state = pickle.loads(blob) | {"func": f"bot.scheduler:{job_id}", "args": ()}
            conn.execute(text("UPDATE scheduled_jobs SET job_state = :s WHERE id = :i"),
                         {"s": pickle.dumps(state), "i": job_id})
    engine.dispose()

    upgraded = open_engine(url)
    assert migrate.current(upgraded) == migrate.head()

    async def the_bot_starts() -> dict[str, tuple[str, tuple, datetime]]:
        # paused: the job must not fire while we look at it
        store = SQLAlchemyJobStore(engine=upgraded, tablename="scheduled_jobs")
        scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone=UTC)
        scheduler.start(paused=True)
        jobs = {j.id: (j.func_ref, j.args, j.next_run_time) for j in scheduler.get_jobs()}
        scheduler.shutdown(wait=False)
        return jobs
    jobs = asyncio.run(the_bot_starts())
    assert jobs == {job_id: ("bot.core.scheduler:run_job", (job_id,), due)
                    for job_id in ("daily_tags", "daily_followup")}
    upgraded.dispose()
