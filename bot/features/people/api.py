"""What other features may use of people: a one-time console login link."""

from __future__ import annotations

from bot.features.people.service import LIST_LINK_HOURS, new_link

__all__ = ["LIST_LINK_HOURS", "new_link"]
