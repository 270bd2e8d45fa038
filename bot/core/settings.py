"""Settings from the environment (QUNGUAN_*) and the command line."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUNGUAN_", extra="ignore")

    database_url: str = "sqlite:///qunguan.db"
    """Any SQLAlchemy URL; PostgreSQL when several bot processes share one community."""

    timezone: str = "Asia/Shanghai"
    """The community's time zone: every local day (check-ins, streaks, login days) is in it."""

    admins: str = ""
    """Comma-separated member ids allowed to run manager commands."""

    config: Path | None = None
    """A TOML file with default tag rules, tag groups, check-in tasks, levels and operators."""

    window_days: int = 30
    """Default rolling window of the activity types."""

    followup_time: str = "09:00"
    """Local time at which each operator gets the daily follow-up list."""

    web_port: int = 8080
    """Port of the web console (127.0.0.1)."""

    api_token: str = ""
    """Bearer token of the event API; empty disables the API."""

    web_password: str = ""
    """Password of the web console. Empty: the API token logs in too; neither set: no login."""

    web_secret: str = ""
    """Secret that signs console session cookies; empty: a random one per process (a restart
    logs everyone out)."""

    future_slack_hours: float = 24
    """How far past the wall clock an incoming event's time may be (clock skew); later events
    are rejected, so one far-future event cannot move "now" for everyone."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"未知的时区 {value!r}，例如 Asia/Shanghai") from None
        return value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.admins.split(",") if a.strip())
