"""The report's points fields: level, its name and the points total."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from bot.core.report import ReportExtra, ReportScope
from bot.deps import Deps
from tiers.levels import level_for


def points_fields(deps: Deps) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict[str, Any]]:
        points = deps.ledger.points_of(conn, ids)
        out = {}
        for m in ids:
            p = points.get(m) or 0
            lv = level_for(p, deps.ledger.levels)
            out[m] = {"level": lv.n, "level_name": lv.name, "points": p}
        return out

    return extra
