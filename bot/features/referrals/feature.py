"""The referrals feature (转介绍), as the wiring sees it."""

from __future__ import annotations

from bot.core.feature import Feature
from bot.features.referrals.commands import COMMANDS
from bot.features.referrals.hook import ReferralHook
from bot.features.referrals.report import referral_fields
from bot.features.referrals.settings import ReferralSettings

FEATURE = Feature(
    name="referrals",
    web="bot.features.referrals.web",
    commands=tuple(COMMANDS),
    hooks=lambda deps: [ReferralHook(deps)],
    report=referral_fields, settings=ReferralSettings)
