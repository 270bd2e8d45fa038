"""What other features may ask the shop: the redemptions waiting to be handed over, and marking them handed over."""

from __future__ import annotations

from bot.features.shop.service import fulfil, pending

__all__ = ["fulfil", "pending"]
