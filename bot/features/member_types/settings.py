"""The member types' settings (QUNGUAN_TYPE_FLOOR_*)."""

from __future__ import annotations

from pydantic import Field

from bot.core.settings import FeatureSettings


class TypeSettings(FeatureSettings):
    type_floor_login: int = Field(default=3, ge=0)
    """A median split calls login days "high" only from this many days on (quiet groups)."""

    type_floor_speaking: int = Field(default=5, ge=0)
    """A median split calls speaking "high" only from this many counted messages on."""
