"""The TOML config file: default tag rules and groups, check-in tasks, levels, operators."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiers.friends import FriendSettings, parse_friend_settings
from tiers.grades import GradeSettings, parse_grade_settings
from tiers.levels import DEFAULT_LEVELS, parse_benefits, parse_levels
from tiers.lifecycle import StageRules, parse_stage_rules
from tiers.rfm import RfmSettings, parse_rfm_settings
from tiers.spec import parse_window

log = logging.getLogger(__name__)

KNOWN_KEYS = ("tag_rules", "tag_groups", "checkin_tasks", "levels", "operators", "rfm", "lifecycle", "grades",
              "benefits", "friends")


class ConfigError(ValueError):
    """A config file a person has to fix: the message names the file, the key and what is expected."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    triggers: tuple[str, ...]
    points: int = 10
    window: str | None = None  # "05:00-09:00"
    challenge_days: int | None = None


@dataclass(frozen=True)
class Config:
    tag_rules: tuple[str, ...] = ()  # each in `/rule add` argument form
    tag_groups: tuple[tuple[str, bool], ...] = ()
    checkin_tasks: tuple[TaskSpec, ...] = ()
    levels: str | None = None
    operators: tuple[tuple[str, str], ...] = ()  # (room id, member id)
    rfm: RfmSettings = field(default_factory=RfmSettings)
    lifecycle: StageRules = field(default_factory=StageRules)
    grades: GradeSettings = field(default_factory=GradeSettings)
    benefits: dict[str, object] = field(default_factory=dict)  # level → benefits (tiers.levels.parse_benefits)
    friends: FriendSettings = field(default_factory=FriendSettings)  # the private account


class _Reader:
    """Typed access to the parsed TOML, each failure naming the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"配置文件 {self.path} 的 {key} 有误：{expected}")

    def tables(self, data: dict[str, Any], key: str, example: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise self.fail(key, f"应为表数组，每项写成 [[{key}]]，例如\n[[{key}]]\n{example}")
        return value

    def text(self, table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "应为非空的字符串（用英文双引号括起来）")
        return value

    def integer(self, table: dict[str, Any], key: str, where: str, default: int | None, low: int) -> int | None:
        value = table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(f"{where}.{key}", f"应为不小于 {low} 的整数")
        return value


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"读不了配置文件 {path}：{exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是合法的 TOML：{exc}") from None
    r = _Reader(Path(path))
    for key in data:
        if key not in KNOWN_KEYS:
            log.warning("config %s: unknown key %r ignored (known: %s)", path, key, ", ".join(KNOWN_KEYS))

    levels = data.get("levels")
    if levels is not None:
        if not isinstance(levels, str):
            raise r.fail("levels", '应为字符串，例如 levels = "新芽:0,青苗:50,茁壮:150"')
        try:
            parse_levels(levels)
        except ValueError as exc:
            raise r.fail("levels", str(exc)) from None

    rules = tuple(str(r.text(t, "rule", f"tag_rules[{i}]"))
                  for i, t in enumerate(r.tables(data, "tag_rules", 'rule = "keyword 意向 多少钱,价格"'), 1))
    groups = []
    for i, g in enumerate(r.tables(data, "tag_groups", 'name = "客户阶段"\nexclusive = true'), 1):
        exclusive = g.get("exclusive", False)
        if not isinstance(exclusive, bool):
            raise r.fail(f"tag_groups[{i}].exclusive", "应为 true 或 false")
        groups.append((str(r.text(g, "name", f"tag_groups[{i}]")), exclusive))
    tasks = []
    for i, t in enumerate(r.tables(data, "checkin_tasks", 'name = "早起打卡"\ntriggers = ["早起打卡", "早起"]'), 1):
        where = f"checkin_tasks[{i}]"
        name = str(r.text(t, "name", where))
        triggers = t.get("triggers", [name])
        if (not isinstance(triggers, list) or not triggers
                or not all(isinstance(x, str) and x.strip() for x in triggers)):
            raise r.fail(f"{where}.triggers", '应为非空的字符串列表，例如 ["早起打卡", "早起"]')
        window = r.text(t, "window", where, required=False)
        if window is not None:
            try:
                parse_window(window)
            except ValueError as exc:
                raise r.fail(f"{where}.window", str(exc)) from None
        tasks.append(TaskSpec(
            name=name, triggers=tuple(triggers),
            points=int(r.integer(t, "points", where, 10, 0) or 0),
            window=window,
            challenge_days=r.integer(t, "challenge_days", where, None, 1)))
    operators = tuple((str(r.text(o, "room", f"operators[{i}]")), str(r.text(o, "member", f"operators[{i}]")))
                      for i, o in enumerate(r.tables(data, "operators", 'room = "r1@chatroom"\nmember = "wxid_a"'), 1))
    playbook: dict[str, object] = {}
    for key, parse in (("rfm", parse_rfm_settings), ("lifecycle", parse_stage_rules), ("grades", parse_grade_settings),
                         ("friends", parse_friend_settings)):
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise r.fail(key, f"应为一个表，写成 [{key}]")
        try:  # these parsers word their errors in Chinese already
            playbook[key] = parse(table)
        except ValueError as exc:
            raise r.fail(key, str(exc)) from None
    benefits = data.get("benefits", {})
    if not isinstance(benefits, dict):
        raise r.fail("benefits", '应为一个表，写成 [benefits]，例如 "茁壮" = ["专属资料包"]')
    try:
        parse_benefits(benefits, parse_levels(levels) if levels else DEFAULT_LEVELS)
    except ValueError as exc:
        raise r.fail("benefits", str(exc)) from None
    return Config(tag_rules=rules, tag_groups=tuple(groups), checkin_tasks=tuple(tasks), levels=levels,
                  operators=operators, rfm=playbook["rfm"], lifecycle=playbook["lifecycle"],  # type: ignore[arg-type]
                  grades=playbook["grades"], benefits=benefits,  # type: ignore[arg-type]
                  friends=playbook["friends"])  # type: ignore[arg-type]
