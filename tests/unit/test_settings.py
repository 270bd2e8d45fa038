"""Settings: derived values follow the fields, also on a copy."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.core.config import ConfigError, load_config
from bot.core.settings import Settings, UnknownSetting
from bot.features.backups.settings import BackupSettings
from bot.features.checkins.feature import FEATURE as CHECKINS
from bot.features.followup.settings import FollowupSettings
from bot.features.referrals.settings import ReferralSettings
from bot.features.reminders.settings import ReminderSettings
from bot.wiring import FEATURES


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


@pytest.mark.parametrize(("kind", "field"), [(FollowupSettings, "followup_time"), (ReminderSettings, "reminder_time"),
                                             (BackupSettings, "backup_time")])
def test_a_bad_time_of_day_is_refused_naming_the_setting(kind, field, monkeypatch):
    """QUNGUAN_FOLLOWUP_TIME=9am used to start a bot whose daily jobs were never scheduled. The
    setting is its feature's now: checked with the others when the process starts."""
    monkeypatch.setenv(f"QUNGUAN_{field.upper()}", "9am")
    with pytest.raises(ValidationError, match=f"(?s){field}.*「9am」应写成 HH:MM"):
        Settings().check([kind])
    monkeypatch.setenv(f"QUNGUAN_{field.upper()}", "9:05")
    assert getattr(Settings().of(kind), field) == "09:05"


def test_a_features_setting_given_in_code_is_checked_and_an_unknown_one_refused():
    settings = Settings(followup_cap=5, referral_points=0)
    settings.check(f.settings for f in FEATURES if f.settings)
    assert settings.of(FollowupSettings).followup_cap == 5 and settings.of(ReferralSettings).referral_points == 0
    assert settings.model_copy(update={"followup_cap": 7}).of(FollowupSettings).followup_cap == 7
    assert settings.of(FollowupSettings).followup_cap == 5
    with pytest.raises(ValidationError, match="followup_cap"):
        Settings(followup_cap=0).check([FollowupSettings])
    with pytest.raises(UnknownSetting, match=r"followup_tim$"):
        Settings(followup_tim="09:00").check(f.settings for f in FEATURES if f.settings)


def test_no_setting_is_declared_twice_and_the_core_keeps_only_its_own():
    declared = [name for f in FEATURES if f.settings for name in f.settings.model_fields]
    declared += [key.name for f in FEATURES for key in f.config]
    assert len(declared) == len(set(declared))
    assert not set(declared) & set(Settings.model_fields)
    assert {"followup_time", "referral_points", "backup_dir", "weekly_report", "checkin_tasks", "rfm"} <= set(declared)


def test_a_config_files_task_window_is_checked_when_the_file_is_read(tmp_path):
    path = tmp_path / "q.toml"
    path.write_text('[[checkin_tasks]]\nname = "午休"\nwindow = "12:00-12:00"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"checkin_tasks\[1\]\.window 有误：时间段「12:00-12:00」开始和结束是同一"):
        load_config(path, CHECKINS.config)
