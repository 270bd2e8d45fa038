"""What other features may use of member types: the scope of a question, the typing floor and the typed
members, and the type fields of the report."""

from __future__ import annotations

from bot.features.member_types.report import type_fields
from bot.features.member_types.service import DEFAULT_FLOOR, NEW_DAYS, scope_for, type_floor, type_members

__all__ = ["DEFAULT_FLOOR", "NEW_DAYS", "scope_for", "type_fields", "type_floor", "type_members"]
