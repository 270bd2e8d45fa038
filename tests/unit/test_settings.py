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


@pytest.mark.parametrize("field", ["followup_time", "reminder_time"])
def test_a_bad_time_of_day_is_refused_naming_the_setting(field, monkeypatch):
    """QUNGUAN_FOLLOWUP_TIME=9am used to start a bot whose daily jobs were never scheduled."""
    monkeypatch.setenv(f"QUNGUAN_{field.upper()}", "9am")
    with pytest.raises(ValidationError, match=f"(?s){field}.*「9am」应写成 HH:MM"):
        Settings()
    monkeypatch.setenv(f"QUNGUAN_{field.upper()}", "9:05")
    assert getattr(Settings(), field) == "09:05"


def test_a_config_files_task_window_is_checked_when_the_file_is_read(tmp_path):
    from bot.core.config import ConfigError, load_config

    path = tmp_path / "q.toml"
    path.write_text('[[checkin_tasks]]\nname = "午休"\nwindow = "12:00-12:00"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"checkin_tasks\[1\]\.window 有误：时间段「12:00-12:00」开始和结束是同一"):
        load_config(path)
