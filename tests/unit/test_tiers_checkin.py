"""Check-ins: trigger matching, windows, streaks, rewards and make-up cards."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.checkin_lines import LINES, NAMES, TRIGGERS
from tiers.checkin import (
    CheckinTask,
    check_in,
    checkin_day,
    in_window,
    make_up,
    match_task,
    note_length,
    period_stats,
    recognise,
    spellings,
    streak_at,
    window_end,
    window_text,
)

TODAY = date(2026, 11, 30)
PROPERTY = settings(database=None, deadline=None, max_examples=300)


def ago(*offsets: int) -> frozenset[date]:
    """Days relative to TODAY: ago(0, 1) is today and yesterday."""
    return frozenset(TODAY - timedelta(days=n) for n in offsets)


def run_of(length: int, ending_days_ago: int = 1) -> frozenset[date]:
    return ago(*range(ending_days_ago, ending_days_ago + length))


# --- match_task ---------------------------------------------------------------------

TASKS = (
    CheckinTask(1, "每日打卡", ("打卡", "签到")),
    CheckinTask(2, "早起", ("早起打卡",), window=(time(5), time(9))),
    CheckinTask(3, "读书群打卡", ("打卡",), room="r1"),
    CheckinTask(4, "停用的", ("读书打卡",), active=False),
    CheckinTask(5, "跑步", ("跑步打卡",), room="r2"),
    CheckinTask(6, "英文", ("/checkin",)),
)


@pytest.mark.parametrize(
    ("text", "room", "expected"),
    [
        ("打卡", None, 1),
        ("签到", "r9", 1),
        (" 签到 \n", None, 1),
        ("打卡", "r1", 3),  # the room's own task beats the global one
        ("打卡", "r2", 1),
        ("早起打卡", "r1", 2),
        ("今天打卡", None, None),  # not the whole message
        ("打卡了", None, None),
        ("打 卡", None, None),
        ("读书打卡", None, None),  # inactive
        ("跑步打卡", "r1", None),  # other room
        ("跑步打卡", None, None),  # 1:1 chat is no room
        ("跑步打卡", "r2", 5),
        ("/CheckIn", None, 6),
        ("", None, None),
        ("   ", "r1", None),
    ],
)
def test_match_task(text: str, room: str | None, expected: int | None) -> None:
    found = match_task(text, TASKS, room)
    assert (found.id if found else None) == expected
    # the answer never depends on the order tasks were loaded in
    found_reversed = match_task(text, tuple(reversed(TASKS)), room)
    assert (found_reversed.id if found_reversed else None) == expected


def test_match_task_tie_goes_to_the_lowest_id() -> None:
    tasks = [CheckinTask(9, "b", ("打卡",)), CheckinTask(4, "a", ("打卡",))]
    found = match_task("打卡", tasks, None)
    assert found is not None
    assert found.id == 4


# --- windows ------------------------------------------------------------------------

MORNING = CheckinTask(1, "早起", ("早起打卡",), window=(time(5), time(9)))
NIGHT = CheckinTask(2, "晚安", ("晚安打卡",), window=(time(22), time(2)))
ANYTIME = CheckinTask(3, "打卡", ("打卡",))
ALL_DAY = CheckinTask(4, "全天", ("打卡",), window=(time(6), time(6)))


@pytest.mark.parametrize(
    ("task", "at", "inside"),
    [
        (MORNING, time(4, 59, 59), False),
        (MORNING, time(5, 0), True),  # start inclusive
        (MORNING, time(8, 59, 59, 999999), True),
        (MORNING, time(9, 0), False),  # end exclusive
        (MORNING, time(23, 0), False),
        (NIGHT, time(21, 59, 59), False),
        (NIGHT, time(22, 0), True),
        (NIGHT, time(23, 59, 59), True),
        (NIGHT, time(0, 0), True),
        (NIGHT, time(1, 59, 59), True),
        (NIGHT, time(2, 0), False),
        (NIGHT, time(12, 0), False),
        (ANYTIME, time(0, 0), True),
        (ANYTIME, time(23, 59, 59), True),
        (ALL_DAY, time(5, 59), True),
        (ALL_DAY, time(6, 0), True),
    ],
)
def test_in_window(task: CheckinTask, at: time, inside: bool) -> None:
    assert in_window(task, at) is inside


@pytest.mark.parametrize(
    ("task", "text"),
    [
        (MORNING, "05:00–09:00"),
        (NIGHT, "22:00–次日02:00"),
        (ANYTIME, "全天"),
        (ALL_DAY, "全天"),
        (CheckinTask(5, "x", ("x",), window=(time(6, 30), time(7, 45))), "06:30–07:45"),
    ],
)
def test_window_text(task: CheckinTask, text: str) -> None:
    assert window_text(task) == text


# --- streaks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offsets", "streak"),
    [
        ((), 0),
        ((0,), 1),
        ((0, 1, 2), 3),
        ((1, 2), 2),  # not yet checked in today: yesterday's streak is still alive
        ((2, 3), 0),  # missed yesterday: broken
        ((0, 2, 3), 1),  # missed one day, started again today
        ((0, 1, 3, 4, 5), 2),
        ((1, 3, 4, 5), 1),
        ((-1,), 0),  # a day after today does not count
        ((-1, 0, 1), 2),
    ],
)
def test_streak_at(offsets: tuple[int, ...], streak: int) -> None:
    assert streak_at(ago(*offsets), TODAY) == streak
    assert streak_at(list(ago(*offsets)), TODAY) == streak  # any collection


day_sets = st.frozensets(st.integers(0, 40), max_size=30).map(lambda s: ago(*s))


def _reference_streak(days: frozenset[date], today: date) -> int:
    """Brute force: the longest k such that the k days ending at `end` are all in days."""
    for end in (today, today - timedelta(1)):
        if end in days:
            k = 0
            while end - timedelta(k) in days:
                k += 1
            return k
    return 0


@PROPERTY
@given(day_sets)
def test_streak_properties(days: frozenset[date]) -> None:
    streak = streak_at(days, TODAY)
    assert streak == _reference_streak(days, TODAY)
    assert 0 <= streak <= len(days)
    # checking in today extends the streak that ended yesterday by exactly one
    if TODAY not in days:
        alive = streak if TODAY - timedelta(1) in days else 0
        assert streak_at(days | {TODAY}, TODAY) == alive + 1
    # days before a gap never matter
    if streak:
        start = TODAY - timedelta(streak + (0 if TODAY in days else 1))
        recent = frozenset(d for d in days if d > start)
        assert streak_at(recent, TODAY) == streak


# --- check_in -----------------------------------------------------------------------


def test_first_check_in() -> None:
    outcome = check_in(ANYTIME, frozenset(), TODAY, time(12), cards=0)
    assert outcome.accepted
    assert outcome.reason is None
    assert (outcome.streak, outcome.points, outcome.bonus, outcome.total) == (1, 10, 0, 10)
    assert not outcome.card_earned
    assert not outcome.challenge_done


def test_check_in_continues_and_resets_streaks() -> None:
    assert check_in(ANYTIME, run_of(4), TODAY, time(12), 0).streak == 5
    assert check_in(ANYTIME, run_of(4, ending_days_ago=2), TODAY, time(12), 0).streak == 1


def test_double_check_in_is_rejected_with_the_current_streak() -> None:
    days = run_of(3)
    first = check_in(ANYTIME, days, TODAY, time(8), cards=0)
    assert first.accepted
    assert first.streak == 4
    second = check_in(ANYTIME, days | {TODAY}, TODAY, time(20), cards=0)
    assert not second.accepted
    assert second.reason == "already"
    assert (second.streak, second.points, second.bonus, second.total) == (4, 0, 0, 0)
    assert not second.card_earned


def test_already_is_reported_before_the_window() -> None:
    outcome = check_in(MORNING, ago(0, 1), TODAY, time(20), cards=0)
    assert outcome.reason == "already"
    assert outcome.streak == 2


@pytest.mark.parametrize(
    ("task", "at", "accepted"),
    [
        (MORNING, time(5, 0), True),
        (MORNING, time(4, 59), False),
        (MORNING, time(9, 0), False),
        (NIGHT, time(0, 30), True),
        (NIGHT, time(21, 0), False),
    ],
)
def test_check_in_window(task: CheckinTask, at: time, accepted: bool) -> None:
    outcome = check_in(task, run_of(2), TODAY, at, cards=0)
    assert outcome.accepted is accepted
    if accepted:
        assert outcome.streak == 3
        assert outcome.points == task.points
    else:
        assert outcome.reason == "window"
        assert outcome.streak == 2  # yesterday's streak, still alive
        assert outcome.points == 0


@pytest.mark.parametrize(
    ("streak", "cards", "card_earned", "bonus"),
    [
        (1, 0, False, 0),
        (6, 0, False, 0),
        (7, 0, True, 20),
        (8, 1, False, 0),
        (14, 1, True, 20),
        (14, 2, True, 20),
        (21, 2, True, 20),
        (21, 3, False, 20),  # at the cap: the bonus still comes, the card does not
        (28, 3, False, 20),
        (28, 0, True, 20),
        (70, 1, True, 20),
        (69, 0, False, 0),
    ],
)
def test_bonus_and_cards_every_seventh_day(
    streak: int, cards: int, card_earned: bool, bonus: int
) -> None:
    task = CheckinTask(1, "打卡", ("打卡",), points=5)
    outcome = check_in(task, run_of(streak - 1), TODAY, time(12), cards)
    assert outcome.streak == streak
    assert outcome.card_earned is card_earned
    assert outcome.bonus == bonus
    assert outcome.total == 5 + bonus


def test_thirty_days_in_a_row_earn_three_cards_and_four_bonuses() -> None:
    days: frozenset[date] = frozenset()
    cards = bonuses = total = 0
    start = TODAY - timedelta(days=29)
    for i in range(30):
        day = start + timedelta(days=i)
        outcome = check_in(ANYTIME, days, day, time(12), cards)
        assert outcome.accepted
        assert outcome.streak == i + 1
        days |= {day}
        cards += outcome.card_earned
        bonuses += outcome.bonus > 0
        total += outcome.total
    assert cards == 3  # days 7, 14, 21; day 28 hits the cap
    assert bonuses == 4
    assert total == 30 * 10 + 4 * 20


@pytest.mark.parametrize(
    ("challenge_days", "streak", "done"),
    [(21, 21, True), (21, 20, False), (21, 22, False), (None, 21, False), (1, 1, True)],
)
def test_challenge_done(challenge_days: int | None, streak: int, done: bool) -> None:
    task = CheckinTask(1, "21天挑战", ("打卡",), challenge_days=challenge_days)
    assert check_in(task, run_of(streak - 1), TODAY, time(12), 0).challenge_done is done


# --- make_up ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offsets", "cards", "accepted", "reason", "streak_after"),
    [
        ((2, 3, 4), 1, True, None, 4),  # missed yesterday: the card mends a streak of 3
        ((0, 2, 3), 2, True, None, 4),  # already checked in today: today joins it too
        ((0,), 1, True, None, 2),
        ((), 1, True, None, 1),  # never checked in: allowed, starts a streak of 1
        ((3, 4), 1, True, None, 1),  # only yesterday is filled; the older gap stays
        ((1, 2), 1, False, "nothing_to_fill", 2),
        ((0, 1), 0, False, "nothing_to_fill", 2),  # nothing to fill wins over no card
        ((2, 3), 0, False, "no_card", 0),
        ((0, 2), 0, False, "no_card", 1),
    ],
)
def test_make_up(
    offsets: tuple[int, ...],
    cards: int,
    accepted: bool,
    reason: str | None,
    streak_after: int,
) -> None:
    outcome = make_up(ago(*offsets), TODAY, cards)
    assert outcome.accepted is accepted
    assert outcome.reason == reason
    assert outcome.filled == (TODAY - timedelta(1) if accepted else None)
    assert outcome.streak_after == streak_after


@PROPERTY
@given(day_sets, st.integers(0, 3))
def test_make_up_never_shortens_a_streak(days: frozenset[date], cards: int) -> None:
    outcome = make_up(days, TODAY, cards)
    assert outcome.streak_after >= streak_at(days, TODAY)
    if outcome.accepted:
        assert outcome.streak_after == streak_at(days | {TODAY - timedelta(1)}, TODAY)
        assert outcome.streak_after > streak_at(days, TODAY)


# --- recognising check-ins as members write them ------------------------------------------



def test_the_table_is_big_enough() -> None:
    assert len(LINES) >= 80 and sum(1 for _, t, _ in LINES if t is None) >= 30


@pytest.mark.parametrize(("line", "trigger", "note"), LINES)
def test_recognise(line: str, trigger: str | None, note: str | None) -> None:
    found = recognise(line, TRIGGERS, NAMES)
    if trigger is None:
        assert found is None
    else:
        assert found is not None
        assert (("补" if found.makeup else "") + found.trigger, found.note) == (trigger, note)


@pytest.mark.parametrize("line", ["小舟 打卡", "舟舟 打卡第十天", "【小舟】打卡 读书30分钟"])
def test_a_name_first_is_only_the_writers_own(line: str) -> None:
    assert recognise(line, TRIGGERS, NAMES) is not None
    assert recognise(line, TRIGGERS, ("阿青",)) is None  # someone else's name: a reminder to them


def test_a_trigger_that_starts_with_a_mark() -> None:
    found = recognise("/checkin 早睡", ("/checkin",))
    assert found is not None and found.note == "早睡"


def test_note_length_counts_what_says_something() -> None:
    assert note_length("  读了 20 页！！😊") == 5
    assert note_length(None) == 0


@pytest.mark.parametrize(("at", "day"), [
    ("2026-11-01 23:00", "2026-11-01"),
    ("2026-11-02 01:00", "2026-11-01"),  # the same night as 23:00 the evening before
    ("2026-11-02 01:59", "2026-11-01"),
    ("2026-11-02 02:00", "2026-11-02"),  # outside the window: its own date
    ("2026-11-02 23:30", "2026-11-02"),  # the next night
])
def test_an_overnight_window_belongs_to_the_day_it_starts(at: str, day: str) -> None:
    assert checkin_day(NIGHT, datetime.fromisoformat(at)) == date.fromisoformat(day)
    assert checkin_day(ANYTIME, datetime.fromisoformat(at)) == datetime.fromisoformat(at).date()


def test_window_end() -> None:
    assert window_end(NIGHT, date(2026, 11, 1)) == datetime(2026, 11, 2, 2, 0)
    assert window_end(MORNING, date(2026, 11, 1)) == datetime(2026, 11, 1, 9, 0)
    assert window_end(ANYTIME, date(2026, 11, 1)) is None


def test_a_homework_task_wants_a_long_enough_note() -> None:
    homework = CheckinTask(7, "作业", ("交作业",), min_note=10)
    assert check_in(homework, frozenset(), TODAY, time(12), 0, note="读了").reason == "note"
    assert check_in(homework, frozenset(), TODAY, time(12), 0, note=None).reason == "note"
    assert check_in(homework, frozenset(), TODAY, time(12), 0, note="今天读完第三章，学到了课题分离").accepted


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_recognise_never_fails_and_needs_a_trigger(text: str) -> None:
    found = recognise(text, TRIGGERS)
    if found is None:
        return
    assert any(s.casefold() in text.casefold() for s in spellings(found.trigger))
    assert found.note is None or 0 < len(found.note) <= 500


@given(st.sampled_from(["我", "你", "他们", "记得", "不想"]), st.sampled_from(TRIGGERS), st.text(max_size=30))
def test_a_trigger_after_a_word_is_never_a_check_in(word: str, trigger: str, rest: str) -> None:
    assert recognise(word + trigger + rest, TRIGGERS) is None


def test_period_stats_counts_streaks_new_and_broken() -> None:
    start = date(2026, 12, 1)
    week = {start + timedelta(days=i) for i in range(7)}
    days = {"a": week, "b": {start, start + timedelta(days=1)}, "c": set(), "gone": week}
    s = period_stats(days, ["a", "b", "c"], start, start + timedelta(days=6), start + timedelta(days=6))
    assert [c.done for c in s.days] == [2, 2, 1, 1, 1, 1, 1]
    assert (s.members, s.checked, s.started, s.broken) == (3, 2, 1, 1)
    assert s.rate == 9 / 21
    assert dict(s.streaks) == {"1–2 天": 0, "3–6 天": 0, "7–13 天": 1, "14–29 天": 0, "30 天以上": 0}
    # today is not over: b's streak from yesterday is alive, and nothing broke today
    today = start + timedelta(days=2)
    s = period_stats(days, ["a", "b", "c"], today, today, today)
    assert (s.broken, dict(s.streaks)["1–2 天"], dict(s.streaks)["3–6 天"]) == (0, 1, 1)
    assert period_stats({}, [], start, start, start).rate is None
