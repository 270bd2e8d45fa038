"""What other features may use of the playbook (orders, RFM, lifecycle, grades): the Playbook service,
assessments of a scope, the purchases as a read model, and the playbook's words for /who."""

from __future__ import annotations

from bot.features.segments.commands import unknown_word, who_playbook
from bot.features.segments.models import Purchase
from bot.features.segments.report import assess_scope, playbook_fields
from bot.features.segments.service import (
    NO_ACTIVITY,
    ChurnWindows,
    InGroups,
    Playbook,
    assess,
    assess_since_kept,
    assessment_shape,
    check_criteria_tags,
    keep_activity,
    keep_assessment,
    members_with_kept,
    read_activity,
)

__all__ = [
    "NO_ACTIVITY", "ChurnWindows", "InGroups", "Playbook", "Purchase", "assess", "assess_scope", "assess_since_kept",
    "assessment_shape", "check_criteria_tags", "keep_activity", "keep_assessment", "members_with_kept",
    "playbook_fields", "read_activity", "unknown_word", "who_playbook",
]
