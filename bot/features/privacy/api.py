"""What other features may ask privacy: who is left out of rankings, and whether an id is an erased member's."""

from __future__ import annotations

from bot.features.privacy.service import is_anonymous, rank_hidden

__all__ = ["is_anonymous", "rank_hidden"]
