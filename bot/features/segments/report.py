"""The report's playbook fields: RFM and segment, lifecycle stage, grade, orders — each with its reason."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from bot.core.report import ReportExtra, ReportScope
from bot.deps import Deps
from bot.features.segments.service import assess
from tiers.rfm import SEGMENT_STRATEGIES


def playbook_fields(deps: Deps) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict]:
        found = assess(conn, scope.at, scope.room, deps.playbook, deps.ledger.levels,
                       type_window=deps.settings.window_days, members=ids,
                       unranked=deps.settings.admin_ids)
        window = deps.playbook.rfm.window_days
        out = {}
        for m in ids:
            score, stage, grade = found.rfm[m], found.stages[m], found.grades[m]
            o = found.orders.get(m)
            out[m] = {
                "rfm": score.as_report(),
                "segment": score.label,
                "segment_strategy": SEGMENT_STRATEGIES[score.segment],
                "rfm_explain": score.explain(),
                "stage": stage.label,
                "stage_reason": stage.reason,
                "grade": grade.grade,
                "grade_reason": grade.reason,
                "orders": {"window_days": window, "count": o.window_orders if o else 0,
                           "amount": o.window_amount if o else 0.0, "total": o.orders if o else 0},
            }
        return out

    return extra
