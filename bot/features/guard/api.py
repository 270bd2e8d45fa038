"""What other features may ask the guard."""

from __future__ import annotations

from bot.features.guard.service import is_blocked

__all__ = ["is_blocked"]
