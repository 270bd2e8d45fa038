"""The TOML config file: default tag rules and groups, check-in tasks, levels, operators."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tiers.grades import GradeSettings, parse_grade_settings
from tiers.lifecycle import StageRules, parse_stage_rules
from tiers.rfm import RfmSettings, parse_rfm_settings


class ConfigError(ValueError):
    pass


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
    benefits: dict[str, object] = field(default_factory=dict)  # level → benefits, read with the levels


def _table(data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f"[{name}] 应为一个表")
    return value


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是合法的 TOML：{exc}") from None
    try:  # these parsers word their errors in Chinese already
        rfm = parse_rfm_settings(_table(data, "rfm"))
        lifecycle = parse_stage_rules(_table(data, "lifecycle"))
        grades = parse_grade_settings(_table(data, "grades"))
        benefits = _table(data, "benefits")
    except ValueError as exc:
        raise ConfigError(f"配置文件 {path} 有误：{exc}") from None
    try:
        return Config(
            tag_rules=tuple(str(r["rule"]) for r in data.get("tag_rules", [])),
            tag_groups=tuple((str(g["name"]), bool(g.get("exclusive", False)))
                             for g in data.get("tag_groups", [])),
            checkin_tasks=tuple(
                TaskSpec(name=str(t["name"]), triggers=tuple(t.get("triggers", [t["name"]])),
                         points=int(t.get("points", 10)), window=t.get("window"),
                         challenge_days=t.get("challenge_days"))
                for t in data.get("checkin_tasks", [])
            ),
            levels=data.get("levels"),
            operators=tuple((str(o["room"]), str(o["member"])) for o in data.get("operators", [])),
            rfm=rfm, lifecycle=lifecycle, grades=grades, benefits=benefits,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"配置文件 {path} 有误：{exc!r}") from None
