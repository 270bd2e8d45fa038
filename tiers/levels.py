"""Levels: the ladder from points to a named level, progress to the next one, level-ups."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Level:
    n: int  # 1-based position on the ladder
    name: str
    min_points: int


DEFAULT_LEVELS: tuple[Level, ...] = (
    Level(1, "新芽", 0),
    Level(2, "青苗", 50),
    Level(3, "茁壮", 150),
    Level(4, "栋梁", 400),
    Level(5, "传奇", 1000),
)

_ITEM_SEP = re.compile(r"[,，、;；\n]")
_PAIR_SEP = re.compile(r"[:：]")
_USAGE = "格式如「新芽:0,青苗:50,茁壮:150」"


def parse_levels(spec: str) -> tuple[Level, ...]:
    """Levels from config such as "新芽:0,青苗:50,茁壮:150".

    Chinese commas and colons are accepted too, since that is what a manager types on a
    Chinese keyboard. The first level must start at 0 (every member has a level) and
    thresholds must strictly increase (two levels at one threshold could never both be
    reached).
    """
    items = [item.strip() for item in _ITEM_SEP.split(spec)]
    items = [item for item in items if item]
    if not items:
        raise ValueError(f"等级配置是空的，{_USAGE}")
    levels: list[Level] = []
    for item in items:
        parts = _PAIR_SEP.split(item)
        if len(parts) != 2:
            raise ValueError(f"「{item}」应写成「名称:积分」，{_USAGE}")
        name, raw = parts[0].strip(), parts[1].strip()
        if not name:
            raise ValueError(f"「{item}」缺少等级名称，{_USAGE}")
        if not raw.isascii() or not raw.isdigit():
            raise ValueError(f"「{item}」的积分应为不小于0的整数，{_USAGE}")
        points = int(raw)
        if any(level.name == name for level in levels):
            raise ValueError(f"等级名称「{name}」重复了")
        if not levels and points != 0:
            raise ValueError(f"第一个等级「{name}」的积分应为0，这样每位成员都有等级")
        if levels and points <= levels[-1].min_points:
            raise ValueError(
                f"等级积分要逐级递增：「{name}」的{points}不大于"
                f"「{levels[-1].name}」的{levels[-1].min_points}"
            )
        levels.append(Level(len(levels) + 1, name, points))
    return tuple(levels)


def _index(points: int, levels: Sequence[Level]) -> int:
    # Points below the first threshold (a negative balance after a correction) still
    # sit on the first level rather than on none. Ladders are short: a scan beats bisect's
    # list building when this runs for every member of a community.
    i = 0
    for j, level in enumerate(levels):
        if points < level.min_points:
            break
        i = j
    return i


def level_for(points: int, levels: Sequence[Level] = DEFAULT_LEVELS) -> Level:
    """The highest level whose threshold the points reach."""
    return levels[_index(points, levels)]


@dataclass(frozen=True, slots=True)
class Progress:
    level: Level
    next: Level | None  # None at the top level
    points: int
    to_next: int  # points still missing for the next level; 0 at the top
    ratio: float  # 0.0–1.0 of the way from this level's threshold to the next; 1.0 at the top


def progress(points: int, levels: Sequence[Level] = DEFAULT_LEVELS) -> Progress:
    i = _index(points, levels)
    level = levels[i]
    if i + 1 >= len(levels):
        return Progress(level, None, points, 0, 1.0)
    upcoming = levels[i + 1]
    span = upcoming.min_points - level.min_points
    ratio = min(max((points - level.min_points) / span, 0.0), 1.0)
    return Progress(level, upcoming, points, upcoming.min_points - points, ratio)


PACE_DAYS = 14  # the days whose points say a member's pace (我的等级)


def days_to_next(to_next: int, earned: int, days: int = PACE_DAYS) -> int | None:
    """Days to close `to_next` points at the pace of `earned` points over the last `days`
    days (rounded up); None without any points in them."""
    if to_next <= 0:
        return 0
    if earned <= 0:
        return None
    return -(-to_next * days // earned)


def levels_crossed(
    before: int, after: int, levels: Sequence[Level] = DEFAULT_LEVELS
) -> list[Level]:
    """Levels newly reached going from `before` to `after` points, lowest first.

    A big award can cross several levels at once; each one is listed so the bot can
    congratulate on the highest and log them all. Losing points never "crosses" down.
    """
    start = _index(before, levels)
    end = _index(after, levels)
    return list(levels[start + 1 : end + 1])


def progress_bar(ratio: float, width: int = 10) -> str:
    """A text bar like 「▓▓▓▓▓▓░░░░」.

    Rounds down, so the bar is full only when the level is actually reached.
    """
    if math.isnan(ratio):
        ratio = 0.0
    ratio = min(max(ratio, 0.0), 1.0)
    # The epsilon keeps 0.3 * 10 == 2.9999… from losing a block.
    filled = min(width, math.floor(ratio * width + 1e-9))
    return "▓" * filled + "░" * (width - filled)


Benefits = dict[int, tuple[str, ...]]  # level number → the benefits (权益) that level brings


def parse_benefits(raw: Mapping[str, object], levels: Sequence[Level]) -> Benefits:
    """The [benefits] table of the config: keys are level names, numbers or "Lv3", values
    lists of benefits, e.g. `茁壮 = ["每月一次 1 对 1 答疑", "专属资料包"]`."""
    by_name = {level.name: level.n for level in levels}
    out: Benefits = {}
    for key, value in raw.items():
        k = key.strip()
        digits = k[2:] if k.lower().startswith("lv") else k
        n = by_name.get(k) or (int(digits) if digits.isascii() and digits.isdigit() else None)
        if n is None or not 1 <= n <= len(levels):
            names = "、".join(f"Lv{lv.n} {lv.name}" for lv in levels)
            raise ValueError(f"[benefits] 没有等级「{k}」，现有等级：{names}")
        if not isinstance(value, list) or not all(isinstance(b, str) and b.strip() for b in value):
            raise ValueError(f"[benefits] 「{k}」的权益应为非空字符串列表")
        out[n] = tuple(b.strip() for b in value)
    return out


def benefits_upto(level: int, benefits: Benefits) -> list[str]:
    """Every benefit a member at `level` enjoys: their level's and all below, lowest first."""
    return [b for n in sorted(benefits) if n <= level for b in benefits[n]]
