"""bulk(): the compiled plans it caches always belong to the statement being run."""

from __future__ import annotations

import gc

from sqlalchemy import Engine, bindparam, text, update

from bot.features.tags.models import MemberTag
from bot.store import db
from bot.store.db import bulk, open_engine
from bot.store.models import table_of


def _engine(url: str) -> Engine:
    engine = open_engine(url)
    with engine.begin() as conn:
        for tag in ("A", "B"):
            conn.execute(table_of(MemberTag).insert().values(
                member="x", tag=tag, source="count", at=0, since=0, count=0))
    return engine


def _refresh(tag: str):
    """A statement built per call with a literal in it, as count rules build theirs."""
    t = table_of(MemberTag)
    return update(t).where(t.c.member == bindparam("m"), t.c.tag == tag).values(count=bindparam("n"))


def test_a_statement_at_a_freed_statements_address_runs_its_own_plan(db_url: str):
    """Count rules build a statement per call; CPython soon puts a new one where a freed
    one was. Whether that happens in a given run depends on the allocator, so this runs
    the scenario many times and checks every run."""
    engine = _engine(db_url)
    with engine.begin() as conn:
        for n in range(1, 201):
            first = _refresh("A")
            bulk(conn, first, [{"m": "x", "n": n}])
            del first
            bulk(conn, _refresh("B"), [{"m": "x", "n": -n}])
            counts = dict(conn.execute(text("SELECT tag, count FROM membertag")).all())
            assert counts == {"A": n, "B": -n}, f"run {n}"


def test_statements_sharing_an_address_each_run_their_own_literals(db_url: str, monkeypatch):
    """The same, made certain: every object reports one address, as a freed statement's
    successor does. A cache keyed by address would run the first rule's plan for both."""
    monkeypatch.setattr(db, "id", lambda _obj: 1, raising=False)
    engine = _engine(db_url)
    with engine.begin() as conn:
        bulk(conn, _refresh("A"), [{"m": "x", "n": 1}])
        bulk(conn, _refresh("B"), [{"m": "x", "n": 2}])
        assert dict(conn.execute(text("SELECT tag, count FROM membertag")).all()) == {"A": 1, "B": 2}


def test_statements_built_per_call_do_not_grow_the_cache(db_url: str):
    engine = _engine(db_url)
    with engine.begin() as conn:
        bulk(conn, _refresh("A"), [{"m": "x", "n": 1}])
        gc.collect()
        before = len(db._COMPILED)
        for n in range(500):
            bulk(conn, _refresh("A" if n % 2 else "B"), [{"m": "x", "n": n}])
        gc.collect()
        assert len(db._COMPILED) <= before + 1
