"""What other features may read of follow-up: its tables of operators, of what was followed up and of
stage changes, as read models."""

from __future__ import annotations

from bot.features.followup.models import FollowUpRecord, RoomOperator, StageChange

__all__ = ["FollowUpRecord", "RoomOperator", "StageChange"]
