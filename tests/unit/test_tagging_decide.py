"""Tag decisions: hit windows, expiry, count rules, manual tags, exclusive groups (tagging/decide.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagging.decide import (
    GroupDecision,
    HeldTag,
    HitWindow,
    can_rule_remove,
    count_rule_holds,
    count_run,
    count_window,
    exclusive_displaced,
    hit_window_start,
    hits_reached,
)
from tagging.rules import CountRule, KeywordRule

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 10, 2, tzinfo=CST)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def _rule(hits: int, days: int) -> KeywordRule:
    return KeywordRule(id=3, tag="意向", keywords=("多少钱",), hits=hits, days=days)


# --- hit windows -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hits", "days", "ages", "reached"),
    [
        (1, 1, [timedelta(0)], True),  # the hit being processed, at now
        (1, 1, [], False),
        (1, 1, [DAY - SECOND], True),  # still inside the last 24 hours
        (1, 1, [DAY], False),  # exactly 24 hours old: out (start < t)
        (1, 1, [-SECOND], False),  # after now: not counted yet
        (2, 7, [timedelta(0), 3 * DAY], True),
        (2, 7, [timedelta(0), 7 * DAY], False),
        (2, 7, [timedelta(0), 7 * DAY - SECOND], True),
        (2, 7, [timedelta(0)], False),
        (3, 7, [timedelta(0), DAY, 2 * DAY, 8 * DAY], True),
        (3, 7, [timedelta(0), DAY, 8 * DAY, 9 * DAY], False),
        (
            2,
            1,
            [timedelta(hours=1), timedelta(hours=1)],
            True,
        ),  # two hits in one minute count twice
    ],
)
def test_hits_reached(hits: int, days: int, ages: list[timedelta], reached: bool) -> None:
    times = [NOW - age for age in ages]
    assert hits_reached(times, NOW, _rule(hits, days)) is reached


def test_hit_window_start_is_days_times_24_hours() -> None:
    assert hit_window_start(NOW, 7) == datetime(2026, 11, 13, 10, 2, tzinfo=CST)


@pytest.mark.parametrize(
    ("hits", "days", "ages", "first"),
    [
        (1, 1, [], None),
        (1, 1, [3 * DAY, DAY], 3 * DAY),  # the earliest hit
        (2, 7, [20 * DAY, 10 * DAY, DAY], None),  # never two within a week
        (2, 7, [20 * DAY, 14 * DAY, DAY], 14 * DAY),
        (2, 7, [14 * DAY, 21 * DAY - SECOND], 14 * DAY),  # in any order
        (2, 7, [14 * DAY, 21 * DAY], None),  # exactly 7 days apart: out
        (3, 2, [9 * DAY, 8 * DAY, 5 * DAY, 4 * DAY, 3 * DAY + SECOND], 3 * DAY + SECOND),
    ],
)
def test_a_hit_window_fires_where_hits_reached_first_says_so(hits, days, ages, first) -> None:
    times = sorted(NOW - age for age in ages)
    rule = _rule(hits, days)
    window = HitWindow(rule)
    fired = next((t for t in times if window.add(t)), None)
    assert fired == (None if first is None else NOW - first)
    assert fired == min((t for t in times if hits_reached(times, t, rule)), default=None)


def test_hits_reached_works_across_time_zones() -> None:
    # Aware datetimes compare as instants, whatever offset the store gave them back in.
    utc_hit = (NOW - timedelta(hours=23)).astimezone(UTC)
    assert hits_reached([utc_hit], NOW, _rule(1, 1))


# --- count rules -------------------------------------------------------------------------

ACTIVE = CountRule(id=5, tag="活跃", threshold=20, days=7)


@pytest.mark.parametrize(("messages", "holds"), [(0, False), (19, False), (20, True), (23, True)])
def test_count_rule_holds(messages: int, holds: bool) -> None:
    assert count_rule_holds(messages, ACTIVE) is holds


@pytest.mark.parametrize(
    ("days", "first"),
    [(1, date(2026, 11, 20)), (7, date(2026, 11, 14)), (30, date(2026, 10, 22))],
)
def test_count_window_is_today_and_the_days_before(days: int, first: date) -> None:
    assert count_window(date(2026, 11, 20), days) == (first, date(2026, 11, 20))


# A member's messages: (day offset, counted), in order; days may go back (a replay out of order).
_talks = st.lists(st.tuples(st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=1)),
                  max_size=60)


@settings(database=None, deadline=None, max_examples=400)
@given(_talks, st.dictionaries(st.integers(min_value=-10, max_value=12), st.integers(min_value=0, max_value=3),
                               max_size=8),
       st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=8), st.booleans())
def test_count_run_judges_each_message_on_its_whole_window(talk: list[tuple[int, int]], before: dict[int, int],
                                                          days: int, threshold: int, held: bool) -> None:
    # count_run adds to its window's sum while the day stays; judged here from scratch at
    # every message (the window summed anew), the outcome must be the same.
    rule = CountRule(id=5, tag="活跃", threshold=threshold, days=days)
    first = date(2026, 11, 1)
    stored = {first + timedelta(days=d): n for d, n in before.items()}
    run = [(1000 + i, first + timedelta(days=d), counted) for i, (d, counted) in enumerate(talk)]
    counts, since, n, at, was = dict(stored), None, 0, 0, held
    for at, day, counted in run:
        counts[day] = counts.get(day, 0) + counted
        start, end = count_window(day, days)
        n = sum(v for d, v in counts.items() if start <= d <= end)
        now = n >= threshold
        since = at if now and not was else (since if now else None)
        was = now
    found = count_run(rule, stored, run, held)
    assert (found.holds, found.count, found.at, found.since) == (was, n, at, since)


def test_count_window_rejects_zero_days() -> None:
    with pytest.raises(ValueError):
        count_window(date(2026, 11, 20), 0)


# --- manual tags and exclusive groups ----------------------------------------------------


def _held(tag: str, source: str = "rule", group: str | None = "阶段", days_ago: int = 1) -> HeldTag:
    rule_id = 1 if source == "rule" else None
    return HeldTag(tag=tag, source=source, rule_id=rule_id, group=group, since=NOW - days_ago * DAY)


@pytest.mark.parametrize(("source", "removable"), [("rule", True), ("manual", False)])
def test_can_rule_remove(source: str, removable: bool) -> None:
    assert can_rule_remove(_held("意向", source)) is removable


def test_held_tag_rejects_an_unknown_source() -> None:
    with pytest.raises(ValueError):
        _held("意向", "import")


EXCLUSIVE = {"阶段"}

_GROUP_CASES = [
    # (held, new tag, its group, source, decision)
    ([], "意向", "阶段", "rule", GroupDecision(True)),
    ([_held("潜客")], "意向", "阶段", "rule", GroupDecision(True, ("潜客",))),
    ([_held("潜客"), _held("成交")], "意向", "阶段", "rule", GroupDecision(True, ("潜客", "成交"))),
    # the same tag again: a refresh, nothing to displace
    ([_held("意向")], "意向", "阶段", "rule", GroupDecision(True)),
    # other groups and tags without a group are untouched
    ([_held("活跃", group="活跃度")], "意向", "阶段", "rule", GroupDecision(True)),
    ([_held("老客", group=None)], "意向", "阶段", "rule", GroupDecision(True)),
    # a group that is not exclusive lets tags pile up
    ([_held("兴趣A", group="兴趣")], "兴趣B", "兴趣", "rule", GroupDecision(True)),
    ([_held("潜客")], "意向", None, "rule", GroupDecision(True)),
    # a rule never removes a manual tag: the rule tag is not applied instead
    ([_held("成交", "manual")], "意向", "阶段", "rule", GroupDecision(False, blocked_by="成交")),
    (
        [_held("潜客"), _held("成交", "manual")],
        "意向",
        "阶段",
        "rule",
        GroupDecision(False, blocked_by="成交"),
    ),
    # nor takes over a tag a manager gave by hand, in a group or not
    ([_held("意向", "manual")], "意向", "阶段", "rule", GroupDecision(False, blocked_by="意向")),
    (
        [_held("意向", "manual", None)],
        "意向",
        None,
        "rule",
        GroupDecision(False, blocked_by="意向"),
    ),
    # a manager's tag is the newest and wins over everything in its group
    ([_held("潜客")], "成交", "阶段", "manual", GroupDecision(True, ("潜客",))),
    ([_held("意向", "manual")], "成交", "阶段", "manual", GroupDecision(True, ("意向",))),
    ([_held("意向", "manual")], "意向", "阶段", "manual", GroupDecision(True)),
    ([_held("潜客"), _held("潜客")], "成交", "阶段", "manual", GroupDecision(True, ("潜客",))),
]


@pytest.mark.parametrize(("held", "new_tag", "new_group", "source", "decision"), _GROUP_CASES)
def test_exclusive_displaced(
    held: list[HeldTag],
    new_tag: str,
    new_group: str | None,
    source: str,
    decision: GroupDecision,
) -> None:
    got = exclusive_displaced(held, new_tag, new_group, EXCLUSIVE, source=source)
    assert got == decision


def test_exclusive_displaced_defaults_to_a_rule() -> None:
    # The safe default: called without a source, it never removes a manual tag.
    decision = exclusive_displaced([_held("成交", "manual")], "意向", "阶段", EXCLUSIVE)
    assert decision == GroupDecision(False, blocked_by="成交")


def test_exclusive_displaced_rejects_an_unknown_source() -> None:
    with pytest.raises(ValueError):
        exclusive_displaced([], "意向", "阶段", EXCLUSIVE, source="import")
