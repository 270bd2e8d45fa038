"""The check-ins feature's section of the config file: default tasks ([[checkin_tasks]]), each
checked when the file is read (the window with tiers.spec)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.config import ConfigKey, Reader
from tiers.spec import parse_window


@dataclass(frozen=True)
class TaskSpec:
    name: str
    triggers: tuple[str, ...]
    points: int = 10
    window: str | None = None  # "05:00-09:00"
    challenge_days: int | None = None


def _tasks(r: Reader, value: object, data: Mapping[str, Any]) -> tuple[TaskSpec, ...]:
    tasks = []
    for i, t in enumerate(r.tables(value, "checkin_tasks", 'name = "早起打卡" triggers = ["早起打卡", "早起"]'), 1):
        where = f"checkin_tasks[{i}]"
        name = r.text(t, "name", where)
        triggers = t.get("triggers", [name])
        if (not isinstance(triggers, list) or not triggers
                or not all(isinstance(x, str) and x.strip() for x in triggers)):
            raise r.fail(f"{where}.triggers", '应为非空的字符串列表，例如 ["早起打卡", "早起"]')
        window = r.optional_text(t, "window", where)
        if window is not None:
            r.checked(f"{where}.window", parse_window, window)
        tasks.append(TaskSpec(name=name, triggers=tuple(triggers), points=r.integer(t, "points", where, 10, 0) or 0,
                              window=window, challenge_days=r.integer(t, "challenge_days", where, None, 1)))
    return tuple(tasks)


CHECKIN_TASKS = ConfigKey("checkin_tasks", _tasks)
