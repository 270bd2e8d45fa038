"""Times of day, time windows and placeholders as people type them, checked in one place."""

# The chat commands, the console, the config file and the environment all call these. Each
# parser returns the value or raises ValueError with one Chinese line naming what is wrong and
# how to write it right.

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time

_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")
_WINDOW_SEPARATORS = ("-", "–", "—", "~", "～", "至", "到")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def parse_clock(spec: str, what: str = "时间") -> time:
    """「09:00」 (or 9:00, 09：00) to a time of day; ValueError (Chinese) otherwise."""
    found = _CLOCK.fullmatch(str(spec).strip())
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise ValueError(f"{what}「{spec}」应写成 HH:MM（24 小时制），例如 09:00")
    return time(int(found[1]), int(found[2]))


def parse_window(spec: str, what: str = "时间段", example: str = "05:00-09:00") -> tuple[time, time]:
    """「05:00-09:00」 (or with –/～/~/至/到) to (start, end); a start after its end wraps past
    midnight (22:00-02:00). A window that starts where it ends is refused: it would silently be
    either nothing or the whole day."""
    text = str(spec).strip()
    for sep in _WINDOW_SEPARATORS:
        if sep in text:
            a, b = text.split(sep, 1)
            break
    else:
        raise ValueError(f"{what}「{spec}」应写成 {example}（24 小时制）")
    try:
        start, end = parse_clock(a), parse_clock(b)
    except ValueError:
        raise ValueError(f"{what}「{spec}」应写成 {example}（24 小时制）") from None
    if start == end:
        raise ValueError(f"{what}「{spec}」开始和结束是同一时刻：请写出不同的两个时间，例如 {example}；"
                         "全天有效就不要写时间段")
    return start, end


def check_placeholders(text: str, allowed: Mapping[str, str], what: str = "文字") -> str:
    """`text` unchanged when every {placeholder} in it is one of `allowed` (name → what it
    becomes); ValueError (Chinese) naming the first unknown one and the known ones."""
    for found in _PLACEHOLDER.finditer(text):
        if found[1] not in allowed:
            known = "、".join(f"{{{k}}}（{v}）" for k, v in allowed.items())
            raise ValueError(f"{what}里的「{found[0]}」不认识：可用的只有 {known}")
    return text
