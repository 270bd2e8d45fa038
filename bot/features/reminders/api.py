"""What other features may use of reminders: how the reminders did (for the 群发 page)."""

from __future__ import annotations

from bot.features.reminders.commands import rate_text
from bot.features.reminders.service import reminder_stats

__all__ = ["rate_text", "reminder_stats"]
