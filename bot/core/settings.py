"""Settings from the environment (QUNGUAN_*) and the command line: the core's own here (store,
zone, admins, console, event API), each feature's in its own package, a `FeatureSettings` its
`Feature.settings` names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tiers.spec import parse_clock


class FeatureSettings(BaseSettings):
    """A feature's QUNGUAN_* settings, typed and validated (times with tiers.spec, ranges with
    Field): declared by the feature (`Feature.settings`), read with `Settings.of` and checked
    when the process starts (`Settings.check`). A field `report_time` is QUNGUAN_REPORT_TIME."""

    model_config = SettingsConfigDict(env_prefix="QUNGUAN_", extra="ignore", frozen=True)


S = TypeVar("S", bound=FeatureSettings)


def clock_time(value: str) -> str:
    """A field validator of a local time of day: HH:MM (tiers.spec.parse_clock), normalised."""
    return parse_clock(value).strftime("%H:%M")


class UnknownSetting(TypeError):
    """A setting given in code (Settings(x=...)) that neither the core nor any feature declares."""


class Settings(BaseSettings):
    """The core's settings. Keywords that are not the core's are kept for the features'
    settings (`of`): `Settings(x=5)` sets the feature setting x."""

    model_config = SettingsConfigDict(env_prefix="QUNGUAN_", extra="allow")

    database_url: str = "sqlite:///qunguan.db"
    """Any SQLAlchemy URL; PostgreSQL when several bot processes share one community."""

    timezone: str = "Asia/Shanghai"
    """The community's time zone: every local day (check-ins, streaks, login days) is in it."""

    admins: str = ""
    """Comma-separated member ids allowed to run manager commands."""

    config: Path | None = None
    """A TOML file whose sections the features declare (tag rules and groups, check-in tasks,
    levels and benefits, operators, RFM, lifecycle, grades, the private account)."""

    window_days: int = 30
    """Default rolling window of the activity types (the report, the console, the types)."""

    web_url: str = ""
    """The console's address as operators open it (the link under a capped list); empty:
    http://127.0.0.1:<web_port>."""

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

    _features: dict[type, FeatureSettings] = PrivateAttr(default_factory=dict)

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

    def of(self, kind: type[S]) -> S:
        """The feature settings `kind`: from the environment and this object's keywords,
        validated when first asked for (the process's start asks for all: `check`)."""
        found = self._features.get(kind)
        if found is None:
            given = {k: v for k, v in (self.model_extra or {}).items() if k in kind.model_fields}
            found = self._features[kind] = kind(**given)
        assert isinstance(found, kind)
        return found

    def check(self, kinds: Iterable[type[FeatureSettings]]) -> None:
        """Validate the features' settings now (a mistake raises pydantic's ValidationError
        naming the field), and refuse a keyword neither the core nor a feature declares."""
        kinds = list(kinds)
        unknown = sorted(set(self.model_extra or {}) - {name for kind in kinds for name in kind.model_fields})
        if unknown:
            raise UnknownSetting(f"no core or feature setting is called {', '.join(unknown)}")
        for kind in kinds:
            self.of(kind)

    def using(self, *values: FeatureSettings) -> Settings:
        """A copy whose feature settings are these objects as they are (a test's unchecked value)."""
        copy = self.model_copy()
        copy._features.update({type(v): v for v in values})
        return copy

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        # The copy reads its feature settings afresh: the update may change them.
        copy = super().model_copy(update=update, deep=deep)
        copy._features = {}
        return copy

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
