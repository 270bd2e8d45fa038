"""What other features may use of member types: the scope of a question, the typing floor, the typed
members (all of a scope, or some, at the scope's split values of the day), the type fields of the
report, and the first day whose counters a batch's events change."""

from __future__ import annotations

from bot.features.member_types.hook import changed_from
from bot.features.member_types.report import type_fields
from bot.features.member_types.service import (
    DEFAULT_FLOOR,
    NEW_DAYS,
    scope_for,
    split_values,
    type_floor,
    type_members,
    type_some,
)

__all__ = ["DEFAULT_FLOOR", "NEW_DAYS", "changed_from", "scope_for", "split_values", "type_fields", "type_floor",
           "type_members", "type_some"]
