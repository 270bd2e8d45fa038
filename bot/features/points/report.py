"""The report's points fields: level, its name and the points total."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from bot.core.deps import Deps
from bot.core.report import ReportExtra, ReportScope
from bot.features.points.service import Ledger
from tiers.levels import level_for


def points_fields(deps: Deps) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict[str, Any]]:
        points = deps.service(Ledger).points_of(conn, ids)
        out = {}
        for m in ids:
            p = points.get(m) or 0
            lv = level_for(p, deps.service(Ledger).levels)
            out[m] = {"level": lv.n, "level_name": lv.name, "points": p}
        return out

    return extra
