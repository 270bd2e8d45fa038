"""Settings from the environment (QUNGUAN_*) and the command line."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tiers.outreach import parse_quiet_hours
from tiers.spec import parse_clock


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

    referral_points: int = Field(default=20, ge=0)
    """Points for each member someone brought in who stays a week and speaks (0: none)."""

    followup_cap: int = Field(default=20, ge=1)
    """Items an operator gets in the daily list in chat; the rest wait in the console. An
    operator's own cap (/operator @成员 cap=30) wins."""

    followup_escalate_days: int = Field(default=3, ge=1)
    """An item on the lists this many days without being done goes to the admins' list (once)."""

    web_url: str = ""
    """The console's address as operators open it (the link under a capped list); empty:
    http://127.0.0.1:<web_port>."""

    type_floor_login: int = 3
    """A median split calls login days "high" only from this many days on (quiet groups)."""

    type_floor_speaking: int = 5
    """A median split calls speaking "high" only from this many counted messages on."""

    leader_poll_seconds: float = Field(default=15, gt=0, le=30)
    health_disconnected_seconds: int = Field(default=300, gt=0)  # /healthz: 503 past this long offline
    """How often each `qunguan run` on PostgreSQL tries to take, or checks it still holds, the
    scheduler leadership: a leader that dies is replaced within this (plus up to 25 s when its
    host vanished without closing the connection)."""

    web_port: int = 8080
    """Port of the web console (127.0.0.1)."""

    api_token: str = ""
    """Bearer token of the event API: it may post events (POST /api/events) and nothing else;
    empty disables the API."""

    web_password: str = ""
    """Password of the web console; empty: nobody can log in (the API token never does)."""

    web_secret: str = ""
    """Secret that signs console session cookies; empty: a random one per process (a restart
    logs everyone out)."""

    web_idle_minutes: float = 120
    """A console session unused for this long is logged out."""

    future_slack_hours: float = 24
    """How far past the wall clock an incoming event's time may be (clock skew); later events
    are rejected, so one far-future event cannot move "now" for everyone."""

    outreach_quiet_hours: str = "22:00-08:00"
    """Local hours in which no outreach (群发, reminders) is sent: it waits until they end;
    "off" for none."""

    outreach_reach_days: int = 7
    """A member gets at most one outreach message (群发 or reminder) in this many days."""

    outreach_daily_cap: int = 200
    """Outreach messages one account sends per local day at most; the rest wait for the next day."""

    outreach_gap_seconds: int = 30
    """Seconds between two outreach messages of one account."""

    reminder_time: str = "10:00"
    """Local time of the daily check-in reminders (tasks with reminders on)."""

    retention_days: int = 180
    """Message texts older than this are erased by a daily job (counts are kept); 0 keeps them."""

    audit_retention_days: int = 365
    """Audit log entries older than this are deleted by a daily job; 0 keeps them."""

    weekly_report: str = "mon 09:00"
    """When the admins get the weekly report by DM: a weekday (mon…sun) and a local HH:MM, or off."""

    backup_dir: str = ""
    """Folder of the nightly backups (made by the run that leads the daily jobs); empty: none."""

    backup_keep: int = Field(default=7, ge=1)
    """Nightly backups kept in `backup_dir`: older ones are deleted after each new one."""

    backup_time: str = "03:30"
    """Local time of the nightly backup."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            _zone(value)
        except (ZoneInfoNotFoundError, ValueError):
            # ZoneInfoNotFoundError is a KeyError, which pydantic would not turn into a
            # ValidationError naming the field.
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("outreach_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("outreach_daily_cap")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("weekly_report")
    @classmethod
    def _weekly(cls, value: str) -> str:
        weekly_schedule(value)
        return value

    @field_validator("outreach_reach_days", "outreach_gap_seconds", "retention_days", "audit_retention_days")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    @field_validator("reminder_time", "followup_time", "backup_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        return parse_clock(value).strftime("%H:%M")

    # Plain properties over caches keyed by the field's value, not cached_property: a
    # cached value lives in the instance and `model_copy(update=...)` would carry it over.
    @property
    def console_url(self) -> str:
        return (self.web_url or f"http://127.0.0.1:{self.web_port}").rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Cookies get `Secure` when operators open the console over HTTPS."""
        return self.console_url.lower().startswith("https://")

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.timezone)

    @property
    def admin_ids(self) -> frozenset[str]:
        return _admin_ids(self.admins)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _admin_ids(admins: str) -> frozenset[str]:
    return frozenset(a.strip() for a in admins.split(",") if a.strip())


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly_schedule(value: str) -> tuple[int, int, int] | None:
    """`mon 09:00` as (weekday 0–6, hour, minute); None for `off`. A wrong value raises a
    ValueError saying what is expected."""
    text = value.strip().lower()
    if text in ("off", "none", ""):
        return None
    day, _, clock = text.partition(" ")
    hour, _, minute = clock.strip().partition(":")
    if day not in WEEKDAYS or not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError("should be a weekday and a local time, e.g. 'mon 09:00', or 'off'")
    return WEEKDAYS.index(day), int(hour), int(minute)
