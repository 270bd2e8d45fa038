"""Rankings: competition ranks, zero points left out, stable order, the limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiers.ranking import RankEntry, rank

PROPERTY = settings(database=None, deadline=None, max_examples=300)


def board(
    points: dict[str, int], names: dict[str, str] | None = None, **kw: int
) -> list[tuple[int, str, int]]:
    return [(e.rank, e.member, e.points) for e in rank(points, names or {}, **kw)]


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    points = {"a": 100, "b": 90, "c": 90, "d": 80, "e": 80, "f": 80, "g": 10}
    assert board(points) == [
        (1, "a", 100),
        (2, "b", 90),
        (2, "c", 90),
        (4, "d", 80),
        (4, "e", 80),
        (4, "f", 80),
        (7, "g", 10),
    ]


def test_zero_and_negative_points_are_left_out() -> None:
    assert board({"a": 0, "b": 5, "c": -3}) == [(1, "b", 5)]
    assert rank({"a": 0}, {}) == []
    assert rank({}, {}) == []


def test_entries_carry_names_and_fall_back_to_the_member_id() -> None:
    entries = rank({"wxid_a": 30, "wxid_b": 20}, {"wxid_a": "Alice"})
    assert entries == [
        RankEntry("wxid_a", "Alice", 30, 1),
        RankEntry("wxid_b", "wxid_b", 20, 2),
    ]


def test_within_a_tie_the_order_is_by_name_then_member() -> None:
    points = {"m1": 50, "m2": 50, "m3": 50, "m4": 60}
    names = {"m1": "Zoe", "m2": "Amy", "m3": "Amy", "m4": "Bob"}
    assert [(e.rank, e.name, e.member) for e in rank(points, names)] == [
        (1, "Bob", "m4"),
        (2, "Amy", "m2"),
        (2, "Amy", "m3"),
        (2, "Zoe", "m1"),
    ]


@pytest.mark.parametrize(
    ("limit", "members"),
    [
        (1, ["a"]),
        (2, ["a", "b"]),  # the cut may fall inside a tie
        (3, ["a", "b", "c"]),
        (10, ["a", "b", "c", "d"]),
        (0, []),
        (-1, []),
    ],
)
def test_limit(limit: int, members: list[str]) -> None:
    points = {"d": 1, "c": 5, "b": 5, "a": 9}
    assert [e.member for e in rank(points, {}, limit=limit)] == members


def test_default_limit_is_ten() -> None:
    points = {f"m{i:02}": 100 - i for i in range(25)}
    entries = rank(points, {})
    assert [e.member for e in entries] == [f"m{i:02}" for i in range(10)]
    assert [e.rank for e in entries] == list(range(1, 11))


@PROPERTY
@given(
    st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.integers(-5, 20), max_size=30),
    st.integers(1, 40),
)
def test_rank_properties(points: dict[str, int], limit: int) -> None:
    entries = rank(points, {}, limit=limit)
    positive = {m: p for m, p in points.items() if p > 0}
    assert len(entries) == min(limit, len(positive))
    assert [e.points for e in entries] == sorted((e.points for e in entries), reverse=True)
    for e in entries:
        assert e.points == positive[e.member]
        assert e.rank == 1 + sum(1 for p in positive.values() if p > e.points)
    # the board is the head of the unlimited board
    assert entries == rank(points, {}, limit=len(points) + 1)[:limit]
