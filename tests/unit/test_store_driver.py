"""The hot paths' statements (bulk_rows, first_row, read_rows) give and fail as SQLAlchemy's own
path does. On SQLite, inside a begun transaction, they go straight to the sqlite3 connection; a
constraint error there must still be SQLAlchemy's IntegrityError (what callers and the pipeline
catch), the driver's error kept as `orig`, and a savepoint (a command's) must still undo it alone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import bindparam, event, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.features.tags.models import MemberTag
from bot.store.db import as_date, bulk_rows, first_row, open_engine, read_rows
from bot.store.models import DailyActivity, table_of

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


_DAY = table_of(DailyActivity).c
# IN lists bound per call, one of them twice, a list of the statement's own values, and dates
# alone and in a list, in that order among the other parameters.
_READ = select(_DAY.member, _DAY.room, _DAY.day, _DAY.counted).where(
    _DAY.day >= bindparam("since"),
    or_(_DAY.member.in_(bindparam("ms", expanding=True)), _DAY.counted == bindparam("n")),
    _DAY.room.in_(("r1", "r'3?")), _DAY.day.in_(bindparam("days", expanding=True)),
    _DAY.member.in_(bindparam("ms", expanding=True))).order_by(_DAY.member, _DAY.room, _DAY.day)


def test_a_read_with_in_lists_gives_the_rows_sqlalchemy_gives(db_url: str):
    engine = open_engine(db_url)
    first = date(2026, 11, 1)
    names = [f"m{i}" for i in range(40)] + ["x'y", "a?b", "__[POSTCOMPILE_ms]"]
    rows = [(m, room, first + timedelta(days=d), i % 7, 0, 0, 0, 0)
            for i, m in enumerate(names) for room in ("r1", "r2", "r'3?") for d in range(5)]
    with engine.begin() as conn:
        bulk_rows(conn, table_of(DailyActivity).insert(), tuple(_DAY.keys()), rows)
        asked = [
            {"since": first, "ms": names[:3], "n": 99, "days": [first, first + timedelta(days=2)]},
            {"since": first + timedelta(days=1), "ms": names[::-3], "n": 4,
             "days": [first + timedelta(days=d) for d in (4, 1, 3)]},
            {"since": first, "ms": ["a?b", "__[POSTCOMPILE_ms]", "nobody"], "n": 0, "days": [first]},
            {"since": first, "ms": [], "n": 1, "days": [first]},  # an empty list: SQLAlchemy's path
        ]
        for watched in (False, True):  # a listener on the statements (a command's audit): through SQLAlchemy
            if watched:
                event.listen(conn, "before_cursor_execute", lambda *_: None)
            for params in asked:
                got = [(m, r, as_date(d), n) for m, r, d, n in read_rows(conn, _READ, params)]
                want = [(m, r, as_date(d), n) for m, r, d, n in conn.execute(_READ, params)]
                assert got == want, params
        assert [r[0] for r in read_rows(conn, _READ, asked[2])] == ["__[POSTCOMPILE_ms]"] * 2 + ["a?b"] * 2
