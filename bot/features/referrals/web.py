"""The referrals feature in the console: its row on the member page."""

from __future__ import annotations

from pathlib import Path

from bot.core.feature import MemberSection, WebPart

TEMPLATES = Path(__file__).parent / "templates"
MEMBER = (MemberSection("referrals/member_referrals.html", 30, place="facts"),)


WEB = WebPart(templates=TEMPLATES, member=MEMBER)
