"""What other features may use of points: the Ledger service (awards, levels), the points entries as a
read model, the batch's Speaking slot, level-up announcements and the points fields of the report."""

from __future__ import annotations

from bot.features.points.announce import announce_level_ups
from bot.features.points.models import PointsEntry
from bot.features.points.report import points_fields
from bot.features.points.service import Award, Ledger, PointsChange
from bot.features.points.speaking import Speaking

__all__ = ["Award", "Ledger", "PointsChange", "PointsEntry", "Speaking", "announce_level_ups", "points_fields"]
