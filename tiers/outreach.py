"""Outreach timing and back-off: quiet hours, pacing, a daily cap, and when a check-in reminder is due."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tiers.checkin import streak_at
from tiers.spec import parse_window

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """[start, end) local times when no outreach goes out; start > end wraps past midnight."""

    start: time
    end: time

    def contains(self, at: datetime) -> bool:
        t = at.time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def ends_after(self, at: datetime) -> datetime:
        """The moment the quiet hours that hold `at` end (same zone as `at`)."""
        end = at.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > at else end + _ONE_DAY

    def text(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def parse_quiet_hours(spec: str) -> QuietHours | None:
    """「22:00-08:00」 to quiet hours; "" or "off" for none; ValueError (Chinese) otherwise."""
    spec = spec.strip()
    if spec.lower() in ("", "off", "none"):
        return None
    try:
        return QuietHours(*parse_window(spec, "免打扰时段", "22:00-08:00"))
    except ValueError as exc:
        raise ValueError(f"{exc}；不要免打扰写 off") from None


@dataclass(frozen=True, slots=True)
class Pacing:
    quiet: QuietHours | None
    gap_seconds: int  # between two outreach messages of one account
    daily_cap: int  # outreach messages per account per local day


def plan_sends(n: int, now: datetime, pacing: Pacing, used: Mapping[date, int],
               after: datetime | None = None) -> list[datetime]:
    """When each of `n` messages may go out, from `now` (local, aware): each at least the gap
    after the previous one (and after `after`, the account's latest queued one), never in
    the quiet hours, and at most the daily cap per local day counting what `used` already
    holds; a message that does not fit a day waits for the next one."""
    if pacing.daily_cap < 1:
        raise ValueError("daily cap must be at least 1")
    gap = timedelta(seconds=pacing.gap_seconds)
    counts: Counter[date] = Counter(used)
    at = max(now, after + gap) if after is not None else now
    out: list[datetime] = []
    for _ in range(n):
        while True:
            if pacing.quiet is not None and pacing.quiet.contains(at):
                at = pacing.quiet.ends_after(at)
            elif counts[at.date()] >= pacing.daily_cap:
                at = datetime.combine(at.date() + _ONE_DAY, time(0), tzinfo=at.tzinfo)
            else:
                break
        out.append(at)
        counts[at.date()] += 1
        at = at + gap
    return out


def per_day(times: Collection[datetime]) -> list[tuple[date, int]]:
    """How many of `times` fall on each local day, in order."""
    return sorted(Counter(t.date() for t in times).items())


# ---- reminders to members whose check-in streak broke ----------------------------------------

MIN_STREAK = 2  # a streak this long that breaks gets a reminder
SECOND_AFTER = 3  # days after the first reminder, if they did not come back
BACK_WITHIN = 2  # days after a reminder in which a check-in counts as coming back


@dataclass(frozen=True, slots=True)
class ReminderStep:
    n: int  # 1 or 2
    broke_on: date  # the first day missed
    streak: int  # the streak that broke


def next_reminder(days: Collection[date], today: date, sent: Mapping[tuple[date, int], date]) -> ReminderStep | None:
    """The reminder due today for one member and task, or None. `days`: their check-in days;
    `sent`: (broke_on, n) → the day each earlier reminder went out.

    A streak of at least MIN_STREAK days that broke yesterday gets reminder 1; a member
    still not back SECOND_AFTER days later gets reminder 2; then nothing until a new streak
    breaks."""
    if today in days:
        return None
    before = [d for d in days if d < today]
    if not before:
        return None
    last = max(before)
    broke_on = last + _ONE_DAY
    first = sent.get((broke_on, 1))
    if first is None:
        streak = streak_at(days, last)
        if broke_on == today - _ONE_DAY and streak >= MIN_STREAK:
            return ReminderStep(1, broke_on, streak)
        return None
    if (broke_on, 2) not in sent and today == first + timedelta(days=SECOND_AFTER):
        return ReminderStep(2, broke_on, streak_at(days, last))
    return None


def reminder_outcome(days: Collection[date], broke_on: date, sent_on: date, today: date) -> str | None:
    """"back" when the member checked in for a day from the break on, by the end of the
    BACK_WITHIN days from the reminder (a 补签 of the missed day counts); "gone" once those
    days are over without; None while they still may."""
    deadline = sent_on + timedelta(days=BACK_WITHIN - 1)
    if any(broke_on <= d <= deadline for d in days):
        return "back"
    return "gone" if today > deadline else None
