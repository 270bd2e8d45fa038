"""What other features may use of check-ins: the check-in rows and tasks as read models, the tasks, cards
and streaks of a member, and the Checkins service."""

from __future__ import annotations

from bot.features.checkins.models import Checkin, CheckinTask
from bot.features.checkins.service import Checkins, cards_of, load_tasks, streak_of

__all__ = ["Checkin", "CheckinTask", "Checkins", "cards_of", "load_tasks", "streak_of"]
