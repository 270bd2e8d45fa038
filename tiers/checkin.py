"""Check-in tasks: trigger matching, time windows, streaks, streak rewards and make-up cards."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

MAX_CARDS = 3  # make-up cards a member can hold at once
CARD_EVERY = 7  # a card is earned on every CARD_EVERY-th consecutive day
STREAK_BONUS = 20  # extra points on every 7th consecutive day

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CheckinTask:
    id: int
    name: str
    triggers: tuple[str, ...]
    points: int = 10
    # [start, end): start inclusive, end exclusive; start > end wraps past midnight
    # (22:00–02:00), start == end means the whole day. None: any time.
    window: tuple[time, time] | None = None
    challenge_days: int | None = None  # a 21-day challenge is done on the 21st consecutive day
    room: str | None = None  # None: the task works in every room and in 1:1 chats
    active: bool = True


def _norm(text: str) -> str:
    # casefold only changes Latin letters: lets "/Checkin" match a "/checkin" trigger.
    return text.strip().casefold()


def match_task(text: str, tasks: Sequence[CheckinTask], room: str | None) -> CheckinTask | None:
    """The task whose trigger the whole message is, or None.

    The text must equal a trigger exactly (after stripping surrounding whitespace and
    folding Latin case); a trigger merely contained in a longer message never fires, so
    「今天忘了打卡」 is chat, not a check-in. Since only exact matches count, every matching
    trigger has the same length; "most specific" therefore means a task bound to this
    room beats a task for every room, and the lowest task id breaks the remaining ties so
    the answer never depends on the order tasks were loaded in.
    """
    said = _norm(text)
    if not said:
        return None
    best: CheckinTask | None = None
    best_key: tuple[int, int] | None = None
    for task in tasks:
        if not task.active:
            continue
        if task.room is not None and task.room != room:
            continue
        if not any(_norm(t) == said for t in task.triggers):
            continue
        key = (0 if task.room is not None else 1, task.id)
        if best_key is None or key < best_key:
            best, best_key = task, key
    return best


def in_window(task: CheckinTask, local_time: time) -> bool:
    """Whether a check-in at this local time is inside the task's window.

    The start is inclusive and the end exclusive: for 05:00–09:00, 05:00:00 counts and
    09:00:00 does not, so back-to-back windows (05:00–09:00, 09:00–12:00) never overlap.
    A window whose start is after its end wraps past midnight: 22:00–02:00 accepts
    23:30 and 01:59 and the check-in counts for the local day it happens on. Start equal
    to end means the whole day.
    """
    if task.window is None:
        return True
    start, end = task.window
    if start == end:
        return True
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def window_text(task: CheckinTask) -> str:
    """The window as members read it: 「05:00–09:00」, 「22:00–次日02:00」 or 「全天」."""
    if task.window is None or task.window[0] == task.window[1]:
        return "全天"
    start, end = task.window
    next_day = "次日" if start > end else ""
    return f"{start:%H:%M}–{next_day}{end:%H:%M}"


def _run_back(days: Collection[date], last: date) -> int:
    """Consecutive days in `days` ending at `last` (0 if `last` is not in it)."""
    n = 0
    day = last
    while day in days:
        n += 1
        day -= _ONE_DAY
    return n


def _as_set(days: Collection[date]) -> Collection[date]:
    return days if isinstance(days, (set, frozenset)) else set(days)


def streak_at(days: Collection[date], today: date) -> int:
    """The streak as of today: ending today if checked in today, else ending yesterday.

    A streak that ends yesterday is still alive (today's check-in may come later), so
    the member sees it instead of 0 until the day passes.
    """
    days = _as_set(days)
    if today in days:
        return _run_back(days, today)
    return _run_back(days, today - _ONE_DAY)


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    accepted: bool
    streak: int  # accepted: the new streak including today; rejected: the current streak
    points: int  # base points (task.points), 0 when rejected
    bonus: int  # STREAK_BONUS on every 7th consecutive day, else 0
    card_earned: bool
    challenge_done: bool
    reason: str | None  # None when accepted; "already" or "window"

    @property
    def total(self) -> int:
        return self.points + self.bonus


def check_in(
    task: CheckinTask,
    days: frozenset[date],
    today: date,
    local_time: time,
    cards: int,
) -> CheckinOutcome:
    """One check-in for `task` at `today`/`local_time`, given the days already checked in.

    "already" is tested before the window, so a member who checked in this morning and
    tries again at night is told about their streak, not about the window. Whether the
    task is active is match_task's concern: an inactive task never gets here.
    """
    if today in days:
        return CheckinOutcome(False, streak_at(days, today), 0, 0, False, False, "already")
    if not in_window(task, local_time):
        return CheckinOutcome(False, streak_at(days, today), 0, 0, False, False, "window")
    streak = 1 + _run_back(days, today - _ONE_DAY)
    milestone = streak % CARD_EVERY == 0
    return CheckinOutcome(
        accepted=True,
        streak=streak,
        points=task.points,
        bonus=STREAK_BONUS if milestone else 0,
        card_earned=milestone and cards < MAX_CARDS,
        challenge_done=task.challenge_days is not None and streak == task.challenge_days,
        reason=None,
    )


@dataclass(frozen=True, slots=True)
class MakeUpOutcome:
    accepted: bool
    filled: date | None  # the day filled in (yesterday), None when rejected
    streak_after: int  # the streak as of today after the make-up (unchanged when rejected)
    reason: str | None  # None when accepted; "nothing_to_fill" or "no_card"


def make_up(days: frozenset[date], today: date, cards: int) -> MakeUpOutcome:
    """Spend one make-up card to fill yesterday.

    "nothing_to_fill" is tested before "no_card": when yesterday is already there the
    member has nothing to buy, whatever their cards. A member with no check-in before
    yesterday may still fill it: the card is theirs, and it simply starts a streak of 1
    (2 once they check in today). Only yesterday can be filled, so a card repairs a
    streak broken by one missed day, never resurrects an older one.
    """
    yesterday = today - _ONE_DAY
    if yesterday in days:
        return MakeUpOutcome(False, None, streak_at(days, today), "nothing_to_fill")
    if cards <= 0:
        return MakeUpOutcome(False, None, streak_at(days, today), "no_card")
    return MakeUpOutcome(True, yesterday, streak_at(days | {yesterday}, today), None)
