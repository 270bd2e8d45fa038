"""The TOML config file. Its keys are the features': each declares the ones it owns
(`Feature.config`, a `ConfigKey` each: a value, a [table] or an array of [[tables]]) with how to
read and check it, and the file is read and checked when the process starts; a mistake is one
line naming the file, the key and what is expected."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class ConfigError(ValueError):
    """A config file a person has to fix: the message names the file, the key and what is expected."""


class Reader:
    """Typed access to the parsed TOML for the features' keys, each failure naming the file
    and the key, on one line."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"配置文件 {self.path} 的 {key} 有误：{' '.join(expected.split())}")

    def tables(self, value: object, key: str, example: str) -> list[dict[str, Any]]:
        """An array of tables ([[key]]); none when absent."""
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise self.fail(key, f"应为表数组，每项写成 [[{key}]]，例如 [[{key}]] {example}")
        return value

    def table(self, value: object, key: str, example: str = "") -> dict[str, Any]:
        """A table ([key]); empty when absent."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"应为一个表，写成 [{key}]" + (f"，例如 {example}" if example else ""))
        return value

    def text(self, table: Mapping[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "应为非空的字符串（用英文双引号括起来）")
        return value

    def optional_text(self, table: Mapping[str, Any], key: str, where: str) -> str | None:
        return None if table.get(key) is None else self.text(table, key, where)

    def integer(self, table: Mapping[str, Any], key: str, where: str, default: int | None, low: int) -> int | None:
        value = table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(f"{where}.{key}", f"应为不小于 {low} 的整数")
        return value

    def checked(self, key: str, parse: Callable[[Any], T], value: Any) -> T:
        """`parse(value)` with its ValueError (worded in Chinese by tiers.spec and the other
        pure parsers) as this key's mistake."""
        try:
            return parse(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None


@dataclass(frozen=True)
class ConfigKey(Generic[T_co]):
    """A top-level key of the config file that a feature owns. `read` gets the reader, the key's
    value (None when the file lacks it) and the whole file (for a key checked against another
    of the same feature's, as benefits against levels), and returns the typed value or raises
    the reader's one-line mistake."""

    name: str
    read: Callable[[Reader, Any, Mapping[str, Any]], T_co]


def section(name: str, parse: Callable[[Mapping[str, Any]], T]) -> ConfigKey[T]:
    """A [name] table read by a pure parser (tiers), whose ValueErrors are worded in Chinese."""
    return ConfigKey(name, lambda r, value, data: r.checked(name, parse, r.table(value, name)))


class Config:
    """The config file as the features declared it: `config[KEY]` is KEY's typed value."""

    def __init__(self, values: Mapping[str, object] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, key: ConfigKey[T]) -> T:
        if key.name not in self._values:
            raise KeyError(f"no feature declares the config key {key.name!r}")
        return cast(T, self._values[key.name])


def load_config(path: Path | None, keys: Iterable[ConfigKey[Any]]) -> Config:
    """Read and check the file (None: no file, every key's default) for the declared keys; a key
    nobody declares is logged and ignored."""
    keys = list(keys)
    names = [k.name for k in keys]
    if len(set(names)) < len(names):
        raise ValueError(f"config keys declared twice: {sorted({n for n in names if names.count(n) > 1})}")
    data = _parse(path) if path is not None else {}
    for name in data:
        if name not in names:
            log.warning("config %s: unknown key %r ignored (known: %s)", path, name, ", ".join(names))
    reader = Reader(path)
    return Config({k.name: k.read(reader, data.get(k.name), data) for k in keys})


def _parse(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"读不了配置文件 {path}：{exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是合法的 TOML：{' '.join(str(exc).split())}") from None
