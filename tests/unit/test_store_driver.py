"""The hot paths' statements (bulk_rows, first_row) fail as SQLAlchemy's own path does. On
SQLite, inside a begun transaction, they go straight to the sqlite3 connection; a constraint
error there must still be SQLAlchemy's IntegrityError (what callers and the pipeline catch),
the driver's error kept as `orig`, and a savepoint (a command's) must still undo it alone."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from bot.features.tags.models import MemberTag
from bot.store.db import bulk_rows, first_row, open_engine
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
