"""Check-in tasks: trigger matching, time windows, streaks, streak rewards and make-up cards."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

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
    min_note: int | None = None  # 作业打卡: the note must have at least this many characters
    reply: str = "auto"  # each | summary | auto: how accepted check-ins are answered
    media: str | None = None  # image | voice | any: a photo (or voice message) is a check-in too
    public_missing: bool = False  # 未打卡 answers in the group, not only to the asker
    remind_missing: time | None = None  # when the day's reminder @-mentions who hasn't checked in
    excellent_points: int = 20  # points an operator's 优秀 adds
    roundup: bool = False  # a weekly 优秀打卡 roundup in each group


def _norm(text: str) -> str:
    # casefold only changes Latin letters: lets "/Checkin" match a "/checkin" trigger.
    return text.strip().casefold()


@lru_cache(maxsize=256)
def _normed(triggers: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_norm(t) for t in triggers)


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
        if said not in _normed(task.triggers):
            continue
        key = (0 if task.room is not None else 1, task.id)
        if best_key is None or key < best_key:
            best, best_key = task, key
    return best


# ---- recognising a check-in in what members write ------------------------------------

# A day count, written every way people write one: 第3天, 第三天, 第二十一天, 第3/21天, 14天,
# Day 12, D12, 本月第一天, 连续5天 (a keycap digit, 第4⃣️天, is read as its digit first).
_NUM = "0-9一二三四五六七八九十百零两〇"
_DAY_COUNT = (rf"(?:(?:本月|本周|这个月|这周|今年)?第\s*[{_NUM}]{{1,6}}\s*(?:/\s*[{_NUM}]{{1,4}}\s*)?[天日次]"
              rf"|(?:累计|连续|坚持)第?\s*[{_NUM}]{{1,6}}\s*天"
              r"|day\s*\d{1,4}|d\d{1,4}(?![0-9a-z])|\d{1,4}\s*天)")
_PUNCT = (r"\s!-/:-@\[-`{-~\u00a0-\u00bf\u2000-\u206f\u3000-\u303f\ufe10-\ufe6f"
          r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65")
_EMOJI = r"\u2190-\u21ff\u2300-\u27bf\u2b00-\u2bff\ufe00-\ufe0f\U0001f000-\U0001faff"
_MARK = rf"[#＃{_PUNCT}{_EMOJI}]"
# Words that may open a check-in: a greeting before a mark (「早上好，打卡」), 来/我来/继续
# (「来打卡啦」), 今天/今日; and a name-and-goal tag (「小舟-减脂 打卡」), anyone's, since the
# hyphen makes it a tag and not a sentence.
_GREETING = rf"(?:早上好|早安|早|上午好|中午好|下午好|晚上好|晚安|大家好|哈喽|hello|hi|嗨)(?={_MARK})"
_OPENER = r"(?:我来|来来来|来啦|来|继续|坚持|日常|每日|今天|今日)"
_TAG = rf"[^\s@#＃{_PUNCT}{_EMOJI}]{{1,8}}[-—–_·][^\s{_PUNCT}{_EMOJI}]{{1,10}}(?={_MARK})"
_LEAD = re.compile(rf"(?:{_DAY_COUNT}|{_GREETING}|{_OPENER}|{_MARK})*", re.IGNORECASE)
_SEPARATOR = re.compile(rf"[{_PUNCT}{_EMOJI}]")
_ONLY_MARKS = re.compile(rf"[{_PUNCT}{_EMOJI}]*")
_STARTS_WITH_DAY = re.compile(_DAY_COUNT, re.IGNORECASE)
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3\ufe0f?")
# A template someone posts for others to copy: 「例 打卡第X天 内容」, 「格式：打卡第n天」.
_TEMPLATE = re.compile(r"第\s*[xXnN＿_?？]+\s*[天日]|^\W*(?:例|例如|格式|模板|示例|范例)(?![a-z])")
# A particle right after the trigger still makes a bare check-in: 「打卡啦！」, 「打卡了～」.
_PARTICLES = frozenset("了啦咯喽哦呀啊✌")
_QUESTION = frozenset("?？吗么嘛")
MAX_NOTE = 500
SHORT_QUESTION = 8  # a note this short ending in a question mark is a question, not a note


@dataclass(frozen=True, slots=True)
class Recognised:
    trigger: str  # as the task declares it
    note: str | None  # what the member wrote after it (心得), None when nothing
    makeup: bool = False  # 「补打卡」: a make-up of yesterday, not today's check-in


@lru_cache(maxsize=64)
def _spelled(triggers: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    """(trigger, spelling, spelling casefolded) of every spelling of these triggers, the
    longest trigger first: worked out once per set of triggers, not at every message."""
    ordered = sorted({t.strip() for t in triggers if t.strip()}, key=len, reverse=True)
    return tuple((t, spelled, spelled.casefold()) for t in ordered for spelled in spellings(t))


def spellings(trigger: str) -> tuple[str, ...]:
    """How a trigger is written: itself, and a two-character one with 个 inside (打个卡, 签个到)."""
    if len(trigger) == 2 and all("\u4e00" <= c <= "\u9fff" for c in trigger):
        return (trigger, trigger[0] + "个" + trigger[1])
    return (trigger,)


def _names_lead(said: str, names: Iterable[str]) -> int | None:
    """Where the member's own name (nickname or group alias) at the start ends, with an
    optional goal tag: 「小舟 打卡」, 「小舟-减脂 打卡」, 「【小舟】打卡」. None: no name there.

    What `{_MARK}*(?:name|…)(?:goal)?` would match, longest name first, without compiling a
    pattern for every member's names: the marks are tried greedily, then backing off."""
    own = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    if not own:
        return None
    marks = _MARKS.match(said)
    for at in range(marks.end() if marks else 0, -1, -1):
        for name in own:
            found = _name_pattern(name).match(said, at)
            if found:
                goal = _GOAL.match(said, found.end())
                return goal.end() if goal else found.end()
    return None


_MARKS = re.compile(f"{_MARK}*")
_GOAL = re.compile(rf"[-—–_·][^\s{_PUNCT}{_EMOJI}]{{1,10}}")


@lru_cache(maxsize=16384)
def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(name), re.IGNORECASE)


_TAG_LEAD = re.compile(rf"{_MARK}*{_TAG}", re.IGNORECASE)


def recognise(text: str, triggers: Iterable[str], names: Iterable[str] = ()) -> Recognised | None:
    """Whether a message is a check-in, and its note.

    A check-in is a trigger word at the start of the message. Before it may stand the
    member's own name (nickname or group alias) or a name-and-goal tag (「小舟-减脂」), a
    hashtag, a day count in any form (Day3, D3, 第3天, 第二十一天, 14天, 第4⃣️天, 本月第一天),
    今天/今日, 来/我来/继续, a greeting before a mark (「早上好，打卡」), brackets, emoji,
    spaces and punctuation; 补 right before it makes it a make-up (「补打卡」). A two-character
    trigger may have 个 inside (「打个卡」). What follows the trigger must be nothing,
    punctuation or emoji, a particle (「打卡啦！」), or a separator or a day count and then
    the note. So 「打卡 今天读了20页」, 「小舟 打卡第18天 跑步5公里」, 「打卡✅」 and 「来打卡啦」
    are check-ins, while 「我今天忘了打卡了」 (the trigger is not at the start), 「打卡了吗？」
    (a question), 「例 打卡第X天 内容」 (a template), 「@小王 还没打卡」 (someone else) and
    「打卡群在哪」 (the trigger runs on into a word) are chat. The longest trigger wins, so
    「早起打卡」 is not read as 「早起」 + note.
    """
    said = _KEYCAP.sub(r"\1", text).strip()
    if not said or _TEMPLATE.search(said):
        return None
    spelled_triggers = _spelled(tuple(triggers))
    starts = [0]
    named = _names_lead(said, names)
    if named is None:
        tagged = _TAG_LEAD.match(said)
        named = tagged.end() if tagged else None
    if named is not None:
        starts.append(named)
    for begin in list(starts):
        end = _LEAD.match(said, begin)
        starts.append(end.end() if end else begin)
    # A trigger may itself start with a mark (/checkin, #打卡): try it where the message starts too.
    for at in dict.fromkeys(starts):
        makeup = said.startswith("补", at)
        if makeup:
            at += 1
        folded = said[at:].casefold()
        for trigger, spelled, word in spelled_triggers:
            if not folded.startswith(word):
                continue
            rest = said[at + len(spelled):]
            while rest.casefold().startswith(word):  # 「打卡打卡打卡」
                rest = rest[len(spelled):]
            is_checkin, note = _note(rest)
            return Recognised(trigger, note, makeup) if is_checkin else None
        if makeup:
            return None
    return None


def _note(rest: str) -> tuple[bool, str | None]:
    """Whether what follows the trigger makes a check-in, and the note it carries."""
    if not rest or _ONLY_MARKS.fullmatch(rest) or (rest[0] in _PARTICLES and _ONLY_MARKS.fullmatch(rest[1:])):
        return not any(c in _QUESTION for c in rest), None  # 「打卡！」 yes, 「打卡了吗？」 no
    if _SEPARATOR.match(rest[0]):
        note = _LEADING_MARKS.sub("", rest).strip()
        if note and note[-1] in _QUESTION and note_length(note) <= SHORT_QUESTION:
            return False, None  # 「打卡 怎么弄？」 asks about checking in
        return True, note[:MAX_NOTE] or None
    if _STARTS_WITH_DAY.match(rest):
        return True, rest.strip()[:MAX_NOTE]
    return False, None  # 「打卡群在哪里」: the trigger runs on into a word


# Stripped before a note: separators and emoji (「打卡🎉第9天」), not an opening bracket or quote.
_LEADING_MARKS = re.compile(rf"^(?:[\s:：,，.。!！~～\-—_|、;；】\]」』)）>》/]|[{_EMOJI}])+")


def note_length(note: str | None) -> int:
    """Characters of a note that say something: letters, digits and CJK, not spaces or marks."""
    if not note:
        return 0
    return len(_ONLY_MARKS_ANYWHERE.sub("", note))


_ONLY_MARKS_ANYWHERE = re.compile(rf"[{_PUNCT}{_EMOJI}]+")


# ---- days and windows ------------------------------------------------------------------


def checkin_day(task: CheckinTask, local: datetime) -> date:
    """The day a check-in at this local time counts for: its own date, except in the small
    hours of a window that crosses midnight (22:00–02:00), which belong to the night that
    started the evening before: 23:00 on the 1st and 01:00 on the 2nd are both the 1st."""
    if task.window is not None:
        start, end = task.window
        if start > end and local.time() < end:
            return local.date() - _ONE_DAY
    return local.date()


def window_end(task: CheckinTask, day: date) -> datetime | None:
    """When the window of `day`'s check-ins closes (naive local time; None without a window)."""
    if task.window is None or task.window[0] == task.window[1]:
        return None
    start, end = task.window
    return datetime.combine(day + _ONE_DAY if start > end else day, end)


def match_task_by_name(name: str, tasks: Sequence[CheckinTask], room: str | None) -> CheckinTask | None:
    """The active task of this room (or of every room) called exactly `name`."""
    said = _norm(name)
    found = [t for t in tasks if t.active and t.room in (None, room) and _norm(t.name) == said]
    return min(found, key=lambda t: (0 if t.room is not None else 1, t.id)) if found else None


def in_window(task: CheckinTask, local_time: time) -> bool:
    """Whether a check-in at this local time is inside the task's window.

    The start is inclusive and the end exclusive: for 05:00–09:00, 05:00:00 counts and
    09:00:00 does not, so back-to-back windows (05:00–09:00, 09:00–12:00) never overlap.
    A window whose start is after its end wraps past midnight: 22:00–02:00 accepts
    23:30 and 01:59, and the check-in counts for the night it belongs to (checkin_day).
    Start equal to end means the whole day.
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
    reason: str | None  # None when accepted; "already", "window" or "note"

    @property
    def total(self) -> int:
        return self.points + self.bonus


def check_in(
    task: CheckinTask,
    days: frozenset[date],
    today: date,
    local_time: time,
    cards: int,
    note: str | None = None,
    *,
    any_time: bool = False,
) -> CheckinOutcome:
    """One check-in for `task` at `today`/`local_time`, given the days already checked in.

    "already" is tested before the window, so a member who checked in this morning and
    tries again at night is told about their streak, not about the window. `today` is the
    day the check-in counts for (checkin_day). A task with `min_note` refuses a check-in
    whose note is shorter ("note"), so the member can send it again with one. `any_time`
    skips the window: an entry added late to a 接龙 an operator started counts for the day
    the list was started. Whether the
    task is active is match_task's concern: an inactive task never gets here.
    """
    if today in days:
        return CheckinOutcome(False, streak_at(days, today), 0, 0, False, False, "already")
    if not any_time and not in_window(task, local_time):
        return CheckinOutcome(False, streak_at(days, today), 0, 0, False, False, "window")
    if task.min_note and note_length(note) < task.min_note:
        return CheckinOutcome(False, streak_at(days, today), 0, 0, False, False, "note")
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


# ---- a period's numbers (打卡统计) -------------------------------------------------------

STREAK_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (1, 2, "1–2 天"), (3, 6, "3–6 天"), (7, 13, "7–13 天"), (14, 29, "14–29 天"), (30, None, "30 天以上"))


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    done: int  # members of the scope who checked in that day


@dataclass(frozen=True, slots=True)
class PeriodStats:
    start: date
    end: date
    members: int  # the scope's members (the denominator)
    days: tuple[DayCount, ...]
    checked: int  # members who checked in at least once in the period
    rate: float | None  # check-ins / (members × days), None without members
    streaks: tuple[tuple[str, int], ...]  # (bucket, members on such a streak as of the period's end)
    started: int  # members whose current streak began in the period
    broken: int  # streaks that ended in the period: a check-in on one day and none the next (days over)


def period_stats(days_of: Mapping[str, Collection[date]], members: Collection[str], start: date, end: date,
                 today: date) -> PeriodStats:
    """Counts, rate, streak distribution, new and broken streaks of `members` from `start` to
    `end` (inclusive; days after `today` are not counted)."""
    last = min(end, today)
    span = [start + timedelta(days=i) for i in range((last - start).days + 1)] if last >= start else []
    scope = set(members)
    days = {m: _as_set(days_of.get(m, ())) for m in scope}
    counts = tuple(DayCount(d, sum(1 for m in scope if d in days[m])) for d in span)
    checked = sum(1 for m in scope if any(d in days[m] for d in span))
    rate = sum(c.done for c in counts) / (len(scope) * len(span)) if scope and span else None
    buckets = dict.fromkeys((label for _, _, label in STREAK_BUCKETS), 0)
    started = broken = 0
    for m in scope:
        # As of a day that is over, a streak without a check-in that day has ended.
        n = streak_at(days[m], last) if last >= today else _run_back(days[m], last)
        for low, high, label in STREAK_BUCKETS:
            if n >= low and (high is None or n <= high):
                buckets[label] += 1
        if n:
            began = (last if last in days[m] else last - _ONE_DAY) - timedelta(days=n - 1)
            started += began >= start
        broken += sum(1 for d in span if d < today and d - _ONE_DAY in days[m] and d not in days[m])
    return PeriodStats(start, end, len(scope), counts, checked, rate, tuple(buckets.items()), started, broken)
