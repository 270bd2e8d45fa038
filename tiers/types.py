"""Member types from two dimensions, login days × speaking, over a rolling window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from tiers.tally import median, tally

# What "speaking" counts, said with every type explanation: a check-in with a note is taking
# part, so a member who writes a 心得 every day is never "present but silent".
SPEAKING_COUNTS = "发言含带心得的打卡"


class MemberType(StrEnum):
    CORE = "core"
    LURKER = "lurker"
    BURST = "burst"
    DORMANT = "dormant"
    NEW = "new"


TYPE_LABELS: dict[MemberType, str] = {
    MemberType.CORE: "核心成员",
    MemberType.LURKER: "潜水成员",
    MemberType.BURST: "间歇活跃",
    MemberType.DORMANT: "沉默成员",
    MemberType.NEW: "新成员",
}

# Short forms managers type in commands (「查看 潜水」); the full labels are accepted too.
TYPE_SHORT: dict[MemberType, str] = {
    MemberType.CORE: "核心",
    MemberType.LURKER: "潜水",
    MemberType.BURST: "间歇",
    MemberType.DORMANT: "沉默",
    MemberType.NEW: "新",
}

_WORDS: dict[str, MemberType] = {
    **{t.value: t for t in MemberType},
    **{label: t for t, label in TYPE_LABELS.items()},
    **{short: t for t, short in TYPE_SHORT.items()},
}

SOURCE_MEDIAN = "median"
SOURCE_ABSOLUTE = "absolute"
_SOURCE_WORDS = {SOURCE_MEDIAN: "中位数", SOURCE_ABSOLUTE: "阈值"}


def parse_type(word: str) -> MemberType:
    """The member type a manager named, in English, as a full Chinese label or a short form."""
    key = word.strip()
    found = _WORDS.get(key) or _WORDS.get(key.lower())
    if found is None:
        valid = "、".join(TYPE_SHORT.values())
        english = "/".join(t.value for t in MemberType)
        raise ValueError(f"不认识的成员类型「{key}」，可以用：{valid}（或 {english}）")
    return found


@dataclass(slots=True)
class Activity:
    """One member's two numbers for typing. Not frozen: a community makes one per member (100k at a
    time), and a frozen dataclass's __init__ costs three times as much; nothing changes one once made."""

    member: str
    login_days: int
    speaking: int
    joined_on: date | None  # local date of the join event, or of the member's first event


@dataclass(frozen=True, slots=True)
class Thresholds:
    login_days: float
    speaking: float
    source: str  # "median" or "absolute"
    # Which side's bar is the floor rather than the median (quiet data: a median of 1).
    floored: tuple[bool, bool] = (False, False)


@dataclass(frozen=True, slots=True)
class Floor:
    """The least a median split may call "high": in a quiet group the median can be 1 login
    day or 2 messages, and 2 messages must not make anyone 核心成员."""

    login_days: int = 0
    speaking: int = 0


def floored(median: Thresholds, floor: Floor) -> Thresholds:
    """The median thresholds raised to the floor where the floor is higher."""
    login = floor.login_days > median.login_days
    speaking = floor.speaking > median.speaking
    return Thresholds(floor.login_days if login else median.login_days,
                      floor.speaking if speaking else median.speaking, median.source, (login, speaking))


def median_thresholds(activities: Iterable[Activity]) -> Thresholds:
    """Medians of login days and of speaking over the members present in the scope.

    Members with neither a login day nor a message are left out: a big group full of
    long-gone accounts would otherwise drag both medians to 0 and make every faint sign
    of life count as "high". With nobody present both medians are 0, and since HIGH also
    needs a value above 0, nobody is high.
    """
    logins: list[int] = []
    speaking: list[int] = []
    for a in activities:
        if a.login_days > 0 or a.speaking > 0:
            logins.append(a.login_days)
            speaking.append(a.speaking)
    logins.sort()
    speaking.sort()
    return Thresholds(median(logins), median(speaking), SOURCE_MEDIAN)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


@dataclass(frozen=True, slots=True)
class Typing:
    type: MemberType
    login_days: int
    speaking: int
    login_threshold: float
    speaking_threshold: float
    window_days: int
    source: str
    new_days: int = 7  # only read by explain() for NEW members
    floored: tuple[bool, bool] = (False, False)  # the bar is the floor, not the median

    def for_member(self) -> str:
        """What a member reads about their own activity: plain numbers and a friendly word,
        never the internal label or a median."""
        seen = f"最近 {self.window_days} 天来了 {self.login_days} 天，发言 {self.speaking} 条"
        return f"{seen}。{_MEMBER_WORDS[self.type]}"

    def explain(self) -> str:
        """Short Chinese reason for the type, with both numbers, both thresholds and the window."""
        label = TYPE_LABELS[self.type]
        if self.type is MemberType.NEW:
            return f"{label}：入群不足{self.new_days}天，暂不分类"
        word = _SOURCE_WORDS.get(self.source, "阈值")
        login = _side(self.login_days, self.login_threshold, "下限" if self.floored[0] else word)
        speaking = _side(self.speaking, self.speaking_threshold, "下限" if self.floored[1] else word)
        return (
            f"{label}：近{self.window_days}天登录{self.login_days}天（{login}），"
            f"发言{self.speaking}条（{speaking}）；{SPEAKING_COUNTS}"
        )

    def as_detail(self) -> dict[str, float | int]:
        return {
            "login_days": self.login_days,
            "speaking": self.speaking,
            "login_threshold": self.login_threshold,
            "speaking_threshold": self.speaking_threshold,
            "window_days": self.window_days,
        }


_MEMBER_WORDS: dict[MemberType, str] = {
    MemberType.CORE: "谢谢你一直这么活跃 💪",
    MemberType.LURKER: "常来看看真好，也欢迎多聊两句～",
    MemberType.BURST: "聊得很投入！有空常来看看～",
    MemberType.DORMANT: "好久不见，常回来看看呀～",
    MemberType.NEW: "欢迎新朋友，先随便逛逛～",
}


def _side(value: int, threshold: float, word: str) -> str:
    if value >= threshold and value > 0:
        return f"≥{word}{_number(threshold)}，高"
    if value >= threshold:
        # Threshold 0 and value 0: say why a value that "reaches" the threshold is still low.
        return f"{word}{_number(threshold)}，为0算低"
    return f"<{word}{_number(threshold)}，低"


_BY_HIGHS: dict[tuple[bool, bool], MemberType] = {
    (True, True): MemberType.CORE,
    (True, False): MemberType.LURKER,
    (False, True): MemberType.BURST,
    (False, False): MemberType.DORMANT,
}


def classify(
    activity: Activity,
    thresholds: Thresholds,
    *,
    today: date,
    window_days: int,
    new_days: int = 7,
) -> Typing:
    """Type one member: NEW if joined less than new_days ago, else by the two dimensions.

    A value is HIGH when it reaches the threshold AND is above 0, so a threshold of 0
    (an empty scope, or an absolute threshold of 0) never makes an absent member core.
    """
    if activity.joined_on is not None and (today - activity.joined_on).days < new_days:
        kind = MemberType.NEW
    else:
        high_login = activity.login_days >= thresholds.login_days and activity.login_days > 0
        high_speaking = activity.speaking >= thresholds.speaking and activity.speaking > 0
        kind = _BY_HIGHS[high_login, high_speaking]
    return Typing(
        kind,
        activity.login_days,
        activity.speaking,
        thresholds.login_days,
        thresholds.speaking,
        window_days,
        thresholds.source,
        new_days,
        thresholds.floored,
    )


def median_split(activities: Iterable[Activity], *, today: date, new_days: int = 7) -> Thresholds:
    """The scope's split values: the medians (`median_thresholds`) over its members that are
    NOT new on `today`: newcomers have had less than new_days of the window to log in or
    speak, so counting them would pull both medians down and flatter everybody else."""
    new_after = today - timedelta(days=new_days)
    return median_thresholds(a for a in activities if a.joined_on is None or a.joined_on <= new_after)


def classify_all(
    activities: Sequence[Activity],
    *,
    today: date,
    window_days: int,
    absolute: Thresholds | None = None,
    medians: Thresholds | None = None,
    new_days: int = 7,
    floor: Floor = Floor(),
) -> dict[str, Typing]:
    """Type every member of a scope, keyed by member; a member listed twice keeps the last.

    Without `absolute` thresholds (set by a manager, taken as they are) the split is at
    `medians`, raised to the `floor` where it is below it: the scope's split values as the
    caller keeps them (the community's are those of the complete days before `today`, see
    member_types.service), else `median_split` of these activities.

    Typing values carry no member, so members with equal numbers share one instance:
    building the frozen values is most of the cost, and a real community has far fewer
    distinct (login days, speaking) pairs than members. Each distinct one is typed by
    `classify`, so both give the same answer by construction.
    """
    # (today - joined_on).days < new_days  ⇔  joined_on > today - new_days
    new_after = today - timedelta(days=new_days)
    if absolute is not None:
        thresholds = absolute
    else:
        split = medians if medians is not None else median_split(activities, today=today, new_days=new_days)
        thresholds = floored(split, floor)
    shared: dict[tuple[bool, int, int], Typing] = {}
    result: dict[str, Typing] = {}
    for a in activities:
        is_new = a.joined_on is not None and a.joined_on > new_after
        key = (is_new, a.login_days, a.speaking)
        typing = shared.get(key)
        if typing is None:
            typing = classify(
                a, thresholds, today=today, window_days=window_days, new_days=new_days
            )
            shared[key] = typing
        result[a.member] = typing
    return result


def distribution(typings: Iterable[Typing]) -> dict[MemberType, int]:
    """How many members of each type; every type is present (0 when none), in enum order."""
    return tally(MemberType, (t.type for t in typings))
