"""The privacy feature (rank opt-out, 删除我的数据, retention of message texts), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.privacy.commands import COMMANDS
from bot.features.privacy.jobs import RETENTION
from bot.features.privacy.settings import PrivacySettings

FEATURE = Feature(name="privacy", commands=tuple(COMMANDS), jobs=(RETENTION,), settings=PrivacySettings)
