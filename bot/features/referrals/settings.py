"""The referrals feature's settings (QUNGUAN_REFERRAL_POINTS)."""

from __future__ import annotations

from pydantic import Field

from bot.core.settings import FeatureSettings


class ReferralSettings(FeatureSettings):
    referral_points: int = Field(default=20, ge=0)
    """Points for each member someone brought in who stays a week and speaks (0: none)."""
