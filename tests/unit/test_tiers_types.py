"""Member types: parsing type words, median thresholds, classify and classify_all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiers.types import (
    TYPE_LABELS,
    Activity,
    MemberType,
    Thresholds,
    Typing,
    classify,
    classify_all,
    distribution,
    median_thresholds,
    parse_type,
)

TODAY = date(2026, 11, 30)
LONG_AGO = TODAY - timedelta(days=100)
PROPERTY = settings(database=None, deadline=None, max_examples=200)


def act(member: str, login: int, speaking: int, joined: date | None = LONG_AGO) -> Activity:
    return Activity(member, login, speaking, joined)


# --- parse_type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("core", MemberType.CORE),
        ("CORE", MemberType.CORE),
        (" lurker ", MemberType.LURKER),
        ("Burst", MemberType.BURST),
        ("dormant", MemberType.DORMANT),
        ("new", MemberType.NEW),
        ("核心成员", MemberType.CORE),
        ("潜水成员", MemberType.LURKER),
        ("间歇活跃", MemberType.BURST),
        ("沉默成员", MemberType.DORMANT),
        ("新成员", MemberType.NEW),
        ("核心", MemberType.CORE),
        ("潜水", MemberType.LURKER),
        ("间歇", MemberType.BURST),
        ("沉默", MemberType.DORMANT),
        ("新", MemberType.NEW),
    ],
)
def test_parse_type_accepts_english_labels_and_short_forms(word: str, expected: MemberType) -> None:
    assert parse_type(word) is expected


@pytest.mark.parametrize("word", ["活跃", "", "vip", "核", "新人", "core member"])
def test_parse_type_rejects_unknown_words_listing_the_valid_ones(word: str) -> None:
    with pytest.raises(ValueError, match="成员类型") as info:
        parse_type(word)
    message = str(info.value)
    for short in ("核心", "潜水", "间歇", "沉默", "新"):
        assert short in message
    assert "core" in message


def test_every_type_has_a_label_that_parses_back() -> None:
    assert set(TYPE_LABELS) == set(MemberType)
    for member_type, label in TYPE_LABELS.items():
        assert parse_type(label) is member_type


# --- median_thresholds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "login", "speaking"),
    [
        ([(1, 9), (5, 1), (3, 4)], 3.0, 4.0),  # odd count: the middle value
        ([(1, 1), (2, 3), (4, 5), (10, 20)], 3.0, 4.0),  # even count: mean of the middle two
        ([(2, 0), (0, 6)], 1.0, 3.0),  # one dimension alone makes a member present
        ([(0, 0), (0, 0), (4, 2)], 4.0, 2.0),  # absent members are left out
        ([(0, 0), (0, 0)], 0.0, 0.0),  # nobody present
        ([], 0.0, 0.0),  # empty scope
    ],
)
def test_median_thresholds(pairs: list[tuple[int, int]], login: float, speaking: float) -> None:
    result = median_thresholds(act(f"m{i}", lo, sp) for i, (lo, sp) in enumerate(pairs))
    assert result == Thresholds(login, speaking, "median")


# --- classify -----------------------------------------------------------------------

MEDIAN_8_5 = Thresholds(8, 5, "median")
ZERO = Thresholds(0, 0, "median")


@pytest.mark.parametrize(
    ("login", "speaking", "thresholds", "expected"),
    [
        (12, 9, MEDIAN_8_5, MemberType.CORE),
        (12, 2, MEDIAN_8_5, MemberType.LURKER),
        (3, 9, MEDIAN_8_5, MemberType.BURST),
        (3, 2, MEDIAN_8_5, MemberType.DORMANT),
        # ties at the median are high
        (8, 5, MEDIAN_8_5, MemberType.CORE),
        (7, 5, MEDIAN_8_5, MemberType.BURST),
        (8, 4, MEDIAN_8_5, MemberType.LURKER),
        # high needs a value above 0, even when the threshold is 0
        (0, 0, ZERO, MemberType.DORMANT),
        (3, 0, ZERO, MemberType.LURKER),
        (0, 3, ZERO, MemberType.BURST),
        (1, 1, ZERO, MemberType.CORE),
        # absolute thresholds follow the same rule
        (10, 0, Thresholds(10, 3, "absolute"), MemberType.LURKER),
        (9, 30, Thresholds(10, 3, "absolute"), MemberType.BURST),
    ],
)
def test_classify_four_types(
    login: int, speaking: int, thresholds: Thresholds, expected: MemberType
) -> None:
    typing = classify(act("m", login, speaking), thresholds, today=TODAY, window_days=30)
    assert typing.type is expected
    assert (typing.login_days, typing.speaking) == (login, speaking)
    assert (typing.login_threshold, typing.speaking_threshold) == (
        thresholds.login_days,
        thresholds.speaking,
    )
    assert typing.source == thresholds.source
    assert typing.window_days == 30


@pytest.mark.parametrize(
    ("days_ago", "new_days", "expected"),
    [
        (0, 7, MemberType.NEW),
        (6, 7, MemberType.NEW),
        (7, 7, MemberType.CORE),  # a full week in: classified
        (30, 7, MemberType.CORE),
        (-1, 7, MemberType.NEW),  # joined "tomorrow" (clock skew in the source): still new
        (2, 3, MemberType.NEW),
        (3, 3, MemberType.CORE),
        (0, 0, MemberType.CORE),  # new_days=0 turns NEW off
    ],
)
def test_classify_new_members(days_ago: int, new_days: int, expected: MemberType) -> None:
    activity = act("m", 20, 20, TODAY - timedelta(days=days_ago))
    typing = classify(activity, MEDIAN_8_5, today=TODAY, window_days=30, new_days=new_days)
    assert typing.type is expected


def test_unknown_join_date_is_never_new() -> None:
    typing = classify(act("m", 0, 0, None), MEDIAN_8_5, today=TODAY, window_days=30)
    assert typing.type is MemberType.DORMANT


# --- explain / as_detail ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typing", "text"),
    [
        (
            Typing(MemberType.LURKER, 12, 2, 8, 5, 30, "median"),
            "潜水成员：近30天登录12天（≥中位数8，高），发言2条（<中位数5，低）；发言含带心得的打卡",
        ),
        (
            Typing(MemberType.BURST, 3, 40, 7.5, 12.5, 14, "median"),
            "间歇活跃：近14天登录3天（<中位数7.5，低），发言40条（≥中位数12.5，高）；发言含带心得的打卡",
        ),
        (
            Typing(MemberType.CORE, 20, 10, 15, 10, 30, "absolute"),
            "核心成员：近30天登录20天（≥阈值15，高），发言10条（≥阈值10，高）；发言含带心得的打卡",
        ),
        (
            Typing(MemberType.DORMANT, 0, 0, 0, 0, 30, "median"),
            "沉默成员：近30天登录0天（中位数0，为0算低），发言0条（中位数0，为0算低）；发言含带心得的打卡",
        ),
        (Typing(MemberType.NEW, 1, 3, 8, 5, 30, "median"), "新成员：入群不足7天，暂不分类"),
        (Typing(MemberType.NEW, 1, 3, 8, 5, 30, "median", 3), "新成员：入群不足3天，暂不分类"),
    ],
)
def test_explain(typing: Typing, text: str) -> None:
    assert typing.explain() == text


def test_explain_of_classified_member_names_its_numbers() -> None:
    typing = classify(act("m", 12, 2), Thresholds(8, 5, "median"), today=TODAY, window_days=30)
    assert typing.explain() == "潜水成员：近30天登录12天（≥中位数8，高），发言2条（<中位数5，低）；发言含带心得的打卡"
    new = classify(act("m", 1, 1, TODAY), MEDIAN_8_5, today=TODAY, window_days=30, new_days=5)
    assert new.explain() == "新成员：入群不足5天，暂不分类"


def test_as_detail() -> None:
    typing = Typing(MemberType.LURKER, 12, 2, 8.5, 5, 30, "median")
    assert typing.as_detail() == {
        "login_days": 12,
        "speaking": 2,
        "login_threshold": 8.5,
        "speaking_threshold": 5,
        "window_days": 30,
    }


# --- classify_all -------------------------------------------------------------------


def test_classify_all_with_medians_leaves_new_members_out_of_the_median() -> None:
    recent = TODAY - timedelta(days=2)
    scope = [
        act("x", 4, 4),
        act("y", 2, 2),
        act("gone", 0, 0),
        act("n1", 1, 1, recent),
        act("n2", 1, 1, recent),
    ]
    result = classify_all(scope, today=TODAY, window_days=30)
    # Over x and y only: medians 3 and 3. Counting n1 and n2 would give 1.5 and make y core.
    assert result["x"].login_threshold == 3.0
    assert result["x"].speaking_threshold == 3.0
    assert {m: t.type for m, t in result.items()} == {
        "x": MemberType.CORE,
        "y": MemberType.DORMANT,
        "gone": MemberType.DORMANT,
        "n1": MemberType.NEW,
        "n2": MemberType.NEW,
    }
    assert all(t.source == "median" for t in result.values())


def test_classify_all_four_types_by_median() -> None:
    scope = [act("core", 20, 30), act("lurk", 20, 1), act("burst", 2, 30), act("dorm", 2, 1)]
    result = classify_all(scope, today=TODAY, window_days=30)
    assert {m: t.type.value for m, t in result.items()} == {
        "core": "core",
        "lurk": "lurker",
        "burst": "burst",
        "dorm": "dormant",
    }
    assert result["core"].login_threshold == 11.0
    assert result["core"].speaking_threshold == 15.5


def test_classify_all_with_absolute_thresholds_ignores_the_median() -> None:
    scope = [act("a", 5, 5), act("b", 6, 6), act("c", 30, 30)]
    absolute = Thresholds(6, 100, "absolute")
    result = classify_all(scope, today=TODAY, window_days=30, absolute=absolute)
    assert {m: t.type for m, t in result.items()} == {
        "a": MemberType.DORMANT,
        "b": MemberType.LURKER,
        "c": MemberType.LURKER,
    }
    assert result["a"].source == "absolute"
    assert "阈值6" in result["b"].explain()


def test_classify_all_on_a_silent_scope_makes_nobody_high() -> None:
    scope = [act("a", 0, 0), act("b", 0, 0), act("n", 0, 0, TODAY)]
    result = classify_all(scope, today=TODAY, window_days=30)
    assert result["a"].type is MemberType.DORMANT
    assert result["b"].type is MemberType.DORMANT
    assert result["n"].type is MemberType.NEW
    assert result["a"].login_threshold == 0


def test_classify_all_of_nobody() -> None:
    assert classify_all([], today=TODAY, window_days=30) == {}


def test_classify_all_keeps_the_last_entry_of_a_member_listed_twice() -> None:
    result = classify_all(
        [act("a", 0, 0), act("a", 9, 9), act("b", 1, 1)], today=TODAY, window_days=30
    )
    assert result["a"].login_days == 9
    assert len(result) == 2


activities = st.lists(
    st.builds(
        Activity,
        member=st.sampled_from([f"m{i}" for i in range(30)]),
        login_days=st.integers(0, 30),
        speaking=st.integers(0, 50),
        joined_on=st.one_of(st.none(), st.integers(-3, 60).map(lambda d: TODAY - timedelta(d))),
    ),
    max_size=40,
)


@PROPERTY
@given(activities, st.booleans())
def test_classify_all_agrees_with_classify(scope: list[Activity], use_absolute: bool) -> None:
    absolute = Thresholds(10, 5, "absolute") if use_absolute else None
    result = classify_all(scope, today=TODAY, window_days=30, absolute=absolute)
    old = [a for a in scope if a.joined_on is None or (TODAY - a.joined_on).days >= 7]
    thresholds = absolute or median_thresholds(old)
    expected = {a.member: classify(a, thresholds, today=TODAY, window_days=30) for a in scope}
    assert result == expected
    assert sum(distribution(result.values()).values()) == len(result)


# --- distribution -------------------------------------------------------------------


def test_distribution_counts_every_type_including_zeros() -> None:
    scope = [act("a", 20, 30), act("b", 20, 30), act("c", 20, 0), act("n", 0, 0, TODAY)]
    result = classify_all(scope, today=TODAY, window_days=30, absolute=Thresholds(5, 5, "absolute"))
    assert distribution(result.values()) == {
        MemberType.CORE: 2,
        MemberType.LURKER: 1,
        MemberType.BURST: 0,
        MemberType.DORMANT: 0,
        MemberType.NEW: 1,
    }
    assert list(distribution([])) == list(MemberType)
