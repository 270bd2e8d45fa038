"""The points feature's sections of the config file: the levels (`levels = "新芽:0,青苗:50"`) and
what each brings ([benefits]), checked against each other when the file is read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.config import ConfigKey, Reader
from tiers.levels import DEFAULT_LEVELS, Benefits, Level, parse_benefits, parse_levels


def _levels(r: Reader, value: object, data: Mapping[str, Any]) -> tuple[Level, ...]:
    if value is None:
        return DEFAULT_LEVELS
    if not isinstance(value, str):
        raise r.fail("levels", '应为字符串，例如 levels = "新芽:0,青苗:50,茁壮:150"')
    return r.checked("levels", parse_levels, value)


def _benefits(r: Reader, value: object, data: Mapping[str, Any]) -> Benefits:
    table = r.table(value, "benefits", '"茁壮" = ["专属资料包"]')
    levels = _levels(r, data.get("levels"), data)
    return r.checked("benefits", lambda t: parse_benefits(t, levels), table)


LEVELS = ConfigKey("levels", _levels)
BENEFITS = ConfigKey("benefits", _benefits)
