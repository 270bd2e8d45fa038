"""What other features may use of referrals: counts per inviter and the texts 我的等级 shows about them."""

from __future__ import annotations

from bot.features.referrals.commands import invite_text, my_referrals
from bot.features.referrals.service import referral_counts
from bot.features.referrals.settings import ReferralSettings

__all__ = ["ReferralSettings", "invite_text", "my_referrals", "referral_counts"]
