"""Outreach timing (quiet hours, pacing, the daily cap) and the reminders' back-off, as tables."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tiers.outreach import Pacing, QuietHours, next_reminder, parse_quiet_hours, plan_sends, reminder_outcome

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours(time(22), time(8))


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-{text}").replace(tzinfo=TZ)


@pytest.mark.parametrize(("when", "quiet"), [
    ("02T21:59:59", False), ("02T22:00:00", True), ("03T00:30:00", True), ("03T07:59:59", True),
    ("03T08:00:00", False), ("03T12:00:00", False)])
def test_quiet_hours_wrap_past_midnight(when: str, quiet: bool):
    assert NIGHT.contains(at(when)) is quiet


@pytest.mark.parametrize(("spec", "expected"), [
    ("22:00-08:00", NIGHT), ("22:00–8:00", NIGHT), ("off", None), ("", None),
    ("13:00-14:30", QuietHours(time(13), time(14, 30)))])
def test_quiet_hours_spec(spec: str, expected):
    assert parse_quiet_hours(spec) == expected


@pytest.mark.parametrize("spec", ["22-8", "25:00-08:00", "晚上"])
def test_bad_quiet_hours_say_how_to_write_them(spec: str):
    with pytest.raises(ValueError, match="应写成 22:00-08:00"):
        parse_quiet_hours(spec)


@pytest.mark.parametrize(("now", "n", "used", "after", "expected"), [
    ("02T10:00:00", 3, {}, None, ["02T10:00:00", "02T10:01:00", "03T08:00:00"]),  # the cap is 2
    ("02T21:59:30", 2, {}, None, ["02T21:59:30", "03T08:00:00"]),
    ("02T23:00:00", 1, {}, None, ["03T08:00:00"]),
    ("02T10:00:00", 2, {date(2026, 11, 2): 2}, None, ["03T08:00:00", "03T08:01:00"]),
    ("02T10:00:00", 2, {date(2026, 11, 2): 1}, None, ["02T10:00:00", "03T08:00:00"]),
    ("02T10:00:00", 1, {}, "02T10:30:00", ["02T10:31:00"]),
])
def test_plan_sends(now: str, n: int, used: dict, after: str | None, expected: list[str]):
    pacing = Pacing(NIGHT, 60, 2)
    got = plan_sends(n, at(now), pacing, used, at(after) if after else None)
    assert got == [at(e) for e in expected]


D = date(2026, 11, 10)


def days(*offsets: int) -> set[date]:
    return {D + timedelta(days=o) for o in offsets}


@pytest.mark.parametrize(("checked", "sent", "expected"), [
    (days(-4, -3, -2), {}, (1, -1)),  # a 3-day streak broke yesterday
    (days(-2), {}, None),  # one day is no streak
    (days(-4, -3, -2, 0), {}, None),  # already back today
    (days(-4, -3), {}, None),  # broke the day before yesterday: too late for the first
    (days(-7, -6, -5), {(-4, 1): -3}, (2, -4)),  # 3 days after the first, still away
    (days(-7, -6, -5), {(-4, 1): -2}, None),  # only 2 days after
    (days(-8, -7, -6), {(-5, 1): -4, (-5, 2): -1}, None),  # both sent: nothing more
])
def test_next_reminder(checked, sent, expected):
    got = next_reminder(checked, D, {(D + timedelta(days=b), n): D + timedelta(days=s) for (b, n), s in sent.items()})
    assert (None if got is None else (got.n, (got.broke_on - D).days)) == expected


@pytest.mark.parametrize(("checked", "today", "expected"), [
    (days(-3, -2), 0, None), (days(-3, -2, 0), 0, "back"), (days(-3, -2, 1), 2, "back"),
    (days(-3, -2, -1), 2, "back"),  # the missed day made up with 补签
    (days(-3, -2), 2, "gone"), (days(-3, -2, 2), 2, "gone")])
def test_reminder_outcome(checked, today, expected):
    assert reminder_outcome(checked, D - timedelta(days=1), D, D + timedelta(days=today)) == expected
