"""The report's playbook fields: RFM and segment, lifecycle stage, grade, orders — each with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bot.core.cache import SlowCache
from bot.core.deps import Deps
from bot.core.report import ReportExtra, ReportScope
from bot.features.member_types.api import type_floor
from bot.features.points.api import Ledger
from bot.features.segments.service import Assessment, Playbook, assess, population
from tiers.rfm import SEGMENT_STRATEGIES


def playbook_row(found: Assessment, member: str, window_days: int) -> dict[str, Any]:
    """One member's playbook fields, as the report and the console's member rows give them."""
    score, stage, grade = found.rfm[member], found.stages[member], found.grades[member]
    o = found.orders.get(member)
    return {
        "rfm": score.as_report(),
        "segment": score.label,
        "segment_strategy": SEGMENT_STRATEGIES[score.segment],
        "rfm_explain": score.explain(),
        "stage": stage.label,
        "stage_reason": stage.reason,
        "grade": grade.grade,
        "grade_reason": grade.reason,
        "orders": {"window_days": window_days, "count": o.window_orders if o else 0,
                   "amount": o.window_amount if o else 0.0, "total": o.orders if o else 0},
    }


def assess_scope(conn: Connection, deps: Deps, at: datetime, room: str | None,
                 members: list[str] | None = None, cache: SlowCache | None = None) -> Assessment:
    """The playbook models of a scope as the report, the console and the API show them
    (a whole scope's from `cache` when it holds them)."""
    def compute() -> Assessment:
        return assess(conn, at, room, deps.service(Playbook), deps.service(Ledger).levels,
                      type_window=deps.settings.window_days,
                      members=members, unranked=deps.settings.admin_ids, floor=type_floor(deps.settings))
    if cache is None or members is not None:
        return compute()
    return cache.get_or_compute(("playbook", room, at.date(), at.hour), compute)


def playbook_fields(deps: Deps) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict[str, Any]]:
        # Ranked against the whole scope, whatever page of members is asked for.
        found = assess_scope(conn, deps, scope.at, scope.room, cache=scope.cache)
        if not set(ids) <= found.rfm.keys():  # asked for members outside the scope
            everyone = population(conn, scope.at, scope.room)
            found = assess_scope(conn, deps, scope.at, scope.room, sorted(set(everyone) | set(ids)))
        window = deps.service(Playbook).rfm.window_days
        return {m: playbook_row(found, m, window) for m in ids}

    return extra
