"""Settings: derived values follow the fields, also on a copy."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.core.settings import Settings


def test_a_copy_derives_admins_and_zone_from_its_own_fields():
    settings = Settings(admins="a,b", timezone="Asia/Shanghai")
    assert settings.admin_ids == {"a", "b"} and settings.tz == ZoneInfo("Asia/Shanghai")
    copy = settings.model_copy(update={"admins": " c ,", "timezone": "Europe/Berlin"})
    assert copy.admin_ids == {"c"}
    assert copy.tz == ZoneInfo("Europe/Berlin")
    assert settings.admin_ids == {"a", "b"} and settings.tz == ZoneInfo("Asia/Shanghai")


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValidationError):
        Settings(timezone="Asia/Nowhere")
