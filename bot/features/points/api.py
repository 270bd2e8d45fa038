"""What other features may use of points: the Ledger service (awards, levels), the points entries as a
read model, level-up announcements and the points fields of the report."""

from __future__ import annotations

from bot.features.points.announce import announce_level_ups
from bot.features.points.models import PointsEntry
from bot.features.points.report import points_fields
from bot.features.points.service import Award, Ledger, PointsChange

__all__ = ["Award", "Ledger", "PointsChange", "PointsEntry", "announce_level_ups", "points_fields"]
