"""What other features may ask the friends feature: the private account's channels and friendships, and
how many actions of each kind an account may take."""

from __future__ import annotations

from bot.features.friends.service import FRIENDS_NAME, action_caps, channel_stats, friend_facts, has_friendships

__all__ = ["FRIENDS_NAME", "action_caps", "channel_stats", "friend_facts", "has_friendships"]
