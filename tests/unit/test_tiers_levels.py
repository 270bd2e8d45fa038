"""Levels: parsing the ladder, level for points, progress, level-ups and the bar."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiers.levels import (
    DEFAULT_LEVELS,
    Level,
    days_to_next,
    level_for,
    levels_crossed,
    parse_levels,
    progress,
    progress_bar,
)

PROPERTY = settings(database=None, deadline=None, max_examples=300)
CJK = re.compile(r"[\u4e00-\u9fff]")
LADDER = parse_levels("新芽:0,青苗:50,茁壮:150,栋梁:400,传奇:1000")


def test_default_levels_are_a_valid_ladder() -> None:
    spec = ",".join(f"{level.name}:{level.min_points}" for level in DEFAULT_LEVELS)
    assert parse_levels(spec) == DEFAULT_LEVELS


# --- parse_levels -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("新芽:0,青苗:50,成长:150", (("新芽", 0), ("青苗", 50), ("成长", 150))),
        ("新芽：0，青苗：50", (("新芽", 0), ("青苗", 50))),  # Chinese keyboard punctuation
        (" 新芽 : 0 , 青苗:50 ,", (("新芽", 0), ("青苗", 50))),
        ("只有一级:0", (("只有一级", 0),)),
        ("Lv1:0\nLv2:10", (("Lv1", 0), ("Lv2", 10))),
    ],
)
def test_parse_levels(spec: str, expected: tuple[tuple[str, int], ...]) -> None:
    levels = parse_levels(spec)
    assert tuple((level.name, level.min_points) for level in levels) == expected
    assert [level.n for level in levels] == list(range(1, len(expected) + 1))


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "空"),
        (" , ", "空"),
        ("新芽:10,青苗:50", "应为0"),  # first level must start at 0
        ("新芽:0,青苗:50,成长:50", "递增"),
        ("新芽:0,青苗:50,成长:40", "递增"),
        ("新芽:0,:50", "缺少等级名称"),
        ("新芽:0,青苗:abc", "整数"),
        ("新芽:0,青苗:-5", "整数"),
        ("新芽:0,青苗:1.5", "整数"),
        ("新芽:0,青苗:", "整数"),
        ("新芽:0,青苗:５０", "整数"),  # full-width digits are not silently accepted
        ("新芽", "名称:积分"),
        ("新芽:0:1", "名称:积分"),
        ("新芽:0,新芽:5", "重复"),
    ],
)
def test_parse_levels_rejects_bad_specs_in_chinese(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as info:
        parse_levels(spec)
    assert CJK.search(str(info.value))


ladders = st.lists(st.integers(1, 10_000), min_size=0, max_size=8, unique=True).map(
    lambda xs: [0, *sorted(xs)]
)


@PROPERTY
@given(ladders)
def test_parse_levels_round_trip(thresholds: list[int]) -> None:
    spec = "，".join(f"级{i}：{p}" for i, p in enumerate(thresholds))
    levels = parse_levels(spec)
    assert levels == tuple(Level(i + 1, f"级{i}", p) for i, p in enumerate(thresholds))


# --- level_for / progress -----------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "n"),
    [
        (0, 1),
        (49, 1),
        (50, 2),
        (149, 2),
        (150, 3),
        (399, 3),
        (400, 4),
        (999, 4),
        (1000, 5),
        (10**9, 5),
        (-30, 1),
    ],
)
def test_level_for(points: int, n: int) -> None:
    assert level_for(points, LADDER).n == n


@pytest.mark.parametrize(
    ("points", "level", "next_level", "to_next", "ratio"),
    [
        (0, 1, 2, 50, 0.0),
        (25, 1, 2, 25, 0.5),
        (100, 2, 3, 50, 0.5),
        (150, 3, 4, 250, 0.0),
        (399, 3, 4, 1, 249 / 250),
        (1000, 5, None, 0, 1.0),
        (5000, 5, None, 0, 1.0),
        (-10, 1, 2, 60, 0.0),
    ],
)
def test_progress(
    points: int, level: int, next_level: int | None, to_next: int, ratio: float
) -> None:
    p = progress(points, LADDER)
    assert p.level.n == level
    assert (p.next.n if p.next else None) == next_level
    assert p.points == points
    assert p.to_next == to_next
    assert math.isclose(p.ratio, ratio)


def test_single_level_ladder_is_always_at_the_top() -> None:
    ladder = parse_levels("成员:0")
    p = progress(7, ladder)
    assert (p.level.name, p.next, p.to_next, p.ratio) == ("成员", None, 0, 1.0)


# --- levels_crossed -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "names"),
    [
        (40, 60, ["青苗"]),
        (49, 50, ["青苗"]),
        (40, 160, ["青苗", "茁壮"]),  # several levels at once, lowest first
        (0, 1000, ["青苗", "茁壮", "栋梁", "传奇"]),
        (50, 50, []),
        (50, 149, []),
        (160, 40, []),  # losing points never crosses down
        (-20, 10, []),
        (-20, 50, ["青苗"]),
        (1000, 5000, []),
    ],
)
def test_levels_crossed(before: int, after: int, names: list[str]) -> None:
    assert [level.name for level in levels_crossed(before, after, LADDER)] == names


@PROPERTY
@given(ladders, st.integers(-100, 20_000), st.integers(-100, 20_000))
def test_levels_are_monotonic(thresholds: list[int], a: int, b: int) -> None:
    ladder = tuple(Level(i + 1, f"L{i}", p) for i, p in enumerate(thresholds))
    low, high = min(a, b), max(a, b)
    assert level_for(low, ladder).n <= level_for(high, ladder).n
    assert level_for(high, ladder).min_points <= max(high, 0)
    crossed = levels_crossed(low, high, ladder)
    assert len(crossed) == level_for(high, ladder).n - level_for(low, ladder).n
    assert all(low < level.min_points <= high for level in crossed)
    p = progress(a, ladder)
    assert 0.0 <= p.ratio <= 1.0
    assert p.to_next >= 0
    if p.next is not None:
        assert p.to_next == p.next.min_points - a


# --- progress_bar -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "width", "bar"),
    [
        (0.6, 10, "▓▓▓▓▓▓░░░░"),
        (0.0, 10, "░░░░░░░░░░"),
        (1.0, 10, "▓▓▓▓▓▓▓▓▓▓"),
        (0.3, 10, "▓▓▓░░░░░░░"),
        (0.7, 10, "▓▓▓▓▓▓▓░░░"),
        (0.99, 10, "▓▓▓▓▓▓▓▓▓░"),  # full only when the level is reached
        (0.05, 10, "░░░░░░░░░░"),
        (1.5, 10, "▓▓▓▓▓▓▓▓▓▓"),
        (-0.5, 10, "░░░░░░░░░░"),
        (float("nan"), 4, "░░░░"),
        (0.5, 4, "▓▓░░"),
        (0.5, 0, ""),
    ],
)
def test_progress_bar(ratio: float, width: int, bar: str) -> None:
    assert progress_bar(ratio, width) == bar


def test_progress_bar_of_real_progress() -> None:
    assert progress_bar(progress(100, LADDER).ratio) == "▓▓▓▓▓░░░░░"


@PROPERTY
@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(0, 40))
def test_progress_bar_has_its_width(ratio: float, width: int) -> None:
    bar = progress_bar(ratio, width)
    assert len(bar) == width
    assert set(bar) <= {"▓", "░"}


@pytest.mark.parametrize(("to_next", "earned", "days"), [
    (29, 21, 20),  # 29 × 14 / 21 = 19.3: rounded up
    (28, 28, 14), (1, 140, 1), (0, 0, 0), (50, 0, None), (50, -5, None),
])
def test_days_to_the_next_level_at_the_pace_of_the_last_14_days(to_next, earned, days) -> None:
    assert days_to_next(to_next, earned) == days
