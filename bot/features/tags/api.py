"""What other features may use of tags: the Tagging service, the active rules, the tag tables as read
models, and the tag fields of the report."""

from __future__ import annotations

from bot.features.tags.models import KeywordHit, MemberTag, TagRule
from bot.features.tags.report import tag_fields
from bot.features.tags.service import DAY, Tagging, active_rules

__all__ = ["DAY", "KeywordHit", "MemberTag", "TagRule", "Tagging", "active_rules", "tag_fields"]
