"""The private account's section of the config file ([friends]), read by tiers.friends."""

from __future__ import annotations

from bot.core.config import ConfigKey, section
from tiers.friends import FriendSettings, parse_friend_settings

FRIENDS_CONFIG: ConfigKey[FriendSettings] = section("friends", parse_friend_settings)
