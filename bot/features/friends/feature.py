"""The friends feature (the private account's friend requests, channels, welcome and 拉群), as the wiring sees it."""

from __future__ import annotations

from bot.core.deps import Provide
from bot.core.feature import Feature
from bot.features.friends.commands import COMMANDS
from bot.features.friends.hook import FriendsHook
from bot.features.friends.settings import FRIENDS_CONFIG
from tiers.friends import FriendSettings

FEATURE = Feature(
    name="friends",
    web="bot.features.friends.web",
    services=(Provide(FriendSettings, lambda config, need: config[FRIENDS_CONFIG]),),  # the private account's rules
    commands=tuple(COMMANDS),
    hooks=lambda deps: [FriendsHook(deps)], config=(FRIENDS_CONFIG,))
