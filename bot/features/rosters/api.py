"""What other features may ask rosters: who was in a room before the bot came."""

from __future__ import annotations

from bot.features.rosters.service import there_before_the_bot

__all__ = ["there_before_the_bot"]
