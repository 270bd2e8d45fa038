"""The TOML config file: default tag rules and groups, check-in tasks, levels, operators."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


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


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是合法的 TOML：{exc}") from None
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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"配置文件 {path} 有误：{exc!r}") from None
