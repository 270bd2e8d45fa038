"""The hot paths' statements (bulk_rows, first_row) fail as SQLAlchemy's own path does. On
SQLite, inside a begun transaction, they go straight to the sqlite3 connection; a constraint
error there must still be SQLAlchemy's IntegrityError (what callers and the pipeline catch),
the driver's error kept as `orig`, and a savepoint (a command's) must still undo it alone.
The big reads in steps in the background (rows_in_background) give what one read gives."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from bot.features.tags.models import MemberTag
from bot.store import db
from bot.store.db import bulk_rows, first_row, open_engine, rows_in_background
from bot.store.models import table_of

_TAGS = table_of(MemberTag)
_COLUMNS = tuple(c.name for c in _TAGS.c)
_INSERT = _TAGS.insert()
_RENAME = (update(_TAGS).where(_TAGS.c.member == bindparam("m"), _TAGS.c.tag == bindparam("t"))
           .values(tag=bindparam("to")).returning(_TAGS.c.tag))


def _tag(member: str, tag: str) -> tuple[object, ...]:
    values = {c: None for c in _COLUMNS} | {"member": member, "tag": tag, "source": "count", "at": 10,
                                             "since": 10, "lead": False}
    return tuple(values[c] for c in _COLUMNS)


def test_a_constraint_error_is_sqlalchemys_and_a_savepoint_undoes_it_alone(db_url: str):
    engine = open_engine(db_url)
    with engine.begin() as conn:
        bulk_rows(conn, _INSERT, _COLUMNS, [_tag("x", "A"), _tag("x", "B")])
        savepoint = conn.begin_nested()
        with pytest.raises(IntegrityError) as twice:  # the same (member, tag) again
            bulk_rows(conn, _INSERT, _COLUMNS, [_tag("y", "A"), _tag("x", "A")])
        assert twice.value.orig is not None
        savepoint.rollback()
        savepoint = conn.begin_nested()
        with pytest.raises(IntegrityError):  # renamed onto a tag the member holds
            first_row(conn, _RENAME, {"m": "x", "t": "B", "to": "A"})
        savepoint.rollback()
        assert first_row(conn, _RENAME, {"m": "x", "t": "B", "to": "C"}) == ("C",)
        bulk_rows(conn, _INSERT, _COLUMNS, [_tag("z", "A")])
    with engine.connect() as conn:
        held = set(conn.execute(select(_TAGS.c.member, _TAGS.c.tag)).all())
    assert held == {("x", "A"), ("x", "C"), ("z", "A")}


def test_reads_in_steps_give_every_row_once_in_the_tables_order(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """Reads in steps of three rows give the table's rows as one
    read gives them (hostile text, NULLs and booleans as the driver has them); inline when the
    caller must see its own rows. A read that fails gives its error to whoever takes its rows."""
    engine = open_engine(db_url)
    names = [f"m{i:02d}'\"\\ 名字 ,]}}" for i in range(10)]
    with engine.begin() as conn:
        bulk_rows(conn, _INSERT, _COLUMNS, [_tag(m, f"T{i % 3}") for i, m in enumerate(reversed(names))])
    t = _TAGS.c
    tags = select(t.member, t.tag, t.rule_id, t.at, t.lead)
    sqlite = db_url.startswith("sqlite")
    monkeypatch.setattr(db, "CHUNK_ROWS", 3)
    with engine.connect() as conn:
        whole = [tuple(r) for r in conn.execute(tags).all()]
        assert [r[0] for r in whole] == names[::-1]  # the table's order: as inserted
        for background in (True, False):
            by_key = rows_in_background(conn, tags, t.member, background=background)
            by_rowid = rows_in_background(conn, tags, literal_column("rowid"), background=background)
            stepped = background and sqlite
            assert [tuple(r) for r in by_key()] == (sorted(whole) if stepped else whole)
            assert [tuple(r) for r in by_rowid()] == whole
        bad = rows_in_background(conn, select(t.member, func.json(t.tag)), t.member)
        with pytest.raises(Exception, match=r"(?i)json"):  # 'T0' is no JSON: SQLite fails in a step
            list(bad())
