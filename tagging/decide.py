"""Pure tag decisions: hit windows, expiry, count rules, manual tags and exclusive groups."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tagging.rules import CountRule, KeywordRule

SOURCES = ("rule", "manual")


def hit_window_start(now: datetime, days: int) -> datetime:
    """Exclusive start of a keyword rule's window: a hit counts when start < t <= now."""
    return now - timedelta(days=days)


def hits_reached(hit_times: Sequence[datetime], now: datetime, rule: KeywordRule) -> bool:
    """True when at least `rule.hits` hits fall in the window now - rule.days×24h < t <= now.

    `hit_times` are the member's hits on this rule (include the one being processed). The
    window is rolling hours, not calendar days: days=1 means the last 24 hours. A hit exactly
    rule.days×24h old is already out; hits after `now` (a replay delivering events out of
    order) are not counted yet. All datetimes must be alike: all aware, or all naive.
    """
    start = hit_window_start(now, rule.days)
    return sum(1 for t in hit_times if start < t <= now) >= rule.hits


class HitWindow:
    """One member's hits of one rule, fed in time order: says at which hit the rule first
    fires (as `hits_reached` would say at that hit), over a whole history in one pass."""

    def __init__(self, rule: KeywordRule) -> None:
        self.rule = rule
        self._times: deque[datetime] = deque()

    def add(self, now: datetime) -> bool:
        """Record a hit at `now` (not before the previous one); True when the window then
        holds `rule.hits` hits."""
        times = self._times
        times.append(now)
        start = hit_window_start(now, self.rule.days)
        while times[0] <= start:
            times.popleft()
        return len(times) >= self.rule.hits


def count_window(today: date, days: int) -> tuple[date, date]:
    """First and last local day (both included) a count rule of `days` days sums over.

    The bot keeps message counts per local day, so "the last 7 days" is today and the six
    days before it.
    """
    if days < 1:
        raise ValueError("days must be positive")
    return today - timedelta(days=days - 1), today


def count_rule_holds(messages_in_window: int, rule: CountRule) -> bool:
    """True while the member's messages in the rule's window reach its threshold.

    The same answer adds the tag and, once False, removes a tag the rule gave; a manual tag
    of the same name stays (see `can_rule_remove`).
    """
    return messages_in_window >= rule.threshold


@dataclass(frozen=True)
class CountOutcome:
    """Where a count rule stands for one member after a run of their messages."""

    holds: bool
    count: int  # messages in the window at the last message
    at: int  # the last message's time (epoch): when the rule was last judged
    since: int | None  # when it started to hold, if that was during the run (None: held before it)


def count_run(rule: CountRule, days: dict[date, int], talk: Sequence[tuple[int, date, int]],
              held: bool) -> CountOutcome:
    """Judge a count rule at each of a member's messages in turn, as if each were its own batch:
    `days` are the member's counted messages per local day before the first of them, `talk` is
    (epoch, local day, 1 if it counted as speaking else 0) per message in order, and `held` says
    whether the member held the rule's tag before. So where a batch ends never changes when a
    tag was given."""
    days = dict(days)
    since: int | None = None
    n, at = 0, 0
    summed: date | None = None  # the day whose window n is the sum over
    for at, day, counted in talk:
        if counted:
            days[day] = days.get(day, 0) + 1
        if day == summed:
            n += counted  # the same window, where only this day's count moved
        else:
            start, end = count_window(day, rule.days)
            n = sum(v for d, v in days.items() if start <= d <= end)
            summed = day
        now = count_rule_holds(n, rule)
        if now and not held:
            since = at
        elif not now:
            since = None
        held = now
    return CountOutcome(held, n, at, since)


@dataclass(frozen=True)
class HeldTag:
    """A tag a member holds now, where it came from, and since when."""

    tag: str
    source: str  # "rule" | "manual"
    rule_id: int | None
    group: str | None
    since: datetime

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown tag source {self.source!r}")


@dataclass(frozen=True)
class GroupDecision:
    """Whether to give the new tag, and which held tags to take away for it.

    `blocked_by` names the manual tag that stopped a rule (only when `apply` is False).
    """

    apply: bool
    remove: tuple[str, ...] = ()
    blocked_by: str | None = None


def can_rule_remove(tag: HeldTag) -> bool:
    """Rules take away only what rules gave: a manager's tag stays until a manager removes it."""
    return tag.source == "rule"


def exclusive_displaced(
    held: Sequence[HeldTag],
    new_tag: str,
    new_group: str | None,
    exclusive_groups: Collection[str],
    *,
    source: str = "rule",
) -> GroupDecision:
    """Decide a member gaining `new_tag` (of `new_group`) from a rule or a manager.

    In an exclusive group a member holds at most one tag and the newest wins, with one
    exception: a rule never removes a manual tag. So:

    - a manager's tag (source="manual") always applies and displaces every other tag of
      its exclusive group, manual or not;
    - a rule's tag displaces the other rule tags of its exclusive group, but is not applied
      at all while the member holds a manual tag of that group (`blocked_by` names it);
    - a rule's tag is also not applied when the member already holds the same tag by hand,
      so the manual tag keeps its provenance and never expires.

    Returns a GroupDecision rather than the bare list of displaced tags, because "apply
    nothing" is a possible answer.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown tag source {source!r}")
    if source == "rule" and any(h.tag == new_tag and h.source == "manual" for h in held):
        return GroupDecision(apply=False, blocked_by=new_tag)
    if new_group is None or new_group not in exclusive_groups:
        return GroupDecision(apply=True)
    rivals = [h for h in held if h.group == new_group and h.tag != new_tag]
    if source == "rule":
        for rival in rivals:
            if not can_rule_remove(rival):
                return GroupDecision(apply=False, blocked_by=rival.tag)
    # dict.fromkeys: the same tag held twice is removed once, in the order it was held.
    return GroupDecision(apply=True, remove=tuple(dict.fromkeys(h.tag for h in rivals)))
