"""The follow-up feature's settings: QUNGUAN_FOLLOWUP_* and the config file's [[operators]]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from bot.core.config import ConfigKey, Reader
from bot.core.settings import FeatureSettings, clock_time


class FollowupSettings(FeatureSettings):
    followup_time: str = "09:00"
    """Local time at which each operator gets the daily follow-up list."""

    followup_cap: int = Field(default=20, ge=1)
    """Items an operator gets in the daily list in chat; the rest wait in the console. An
    operator's own cap (/operator @成员 cap=30) wins."""

    followup_escalate_days: int = Field(default=3, ge=1)
    """An item on the lists this many days without being done goes to the admins' list (once)."""

    _time = field_validator("followup_time")(clock_time)


def _operators(r: Reader, value: object, data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((r.text(o, "room", f"operators[{i}]"), r.text(o, "member", f"operators[{i}]"))
                 for i, o in enumerate(r.tables(value, "operators", 'room = "r1@chatroom" member = "wxid_a"'), 1))


OPERATORS = ConfigKey("operators", _operators)  # (room id, member id)
