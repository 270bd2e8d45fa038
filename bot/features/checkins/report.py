"""The report's check-in field: each member's streak of the default 打卡 task."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from bot.core.deps import Deps
from bot.core.report import ReportExtra, ReportScope
from bot.features.checkins.service import default_task_id, streaks


def streak_field(deps: Deps) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict[str, Any]]:
        task_id = default_task_id(conn)
        found = streaks(conn, task_id, ids, scope.at.date()) if task_id is not None else {}
        return {m: {"streak": found.get(m, 0)} for m in ids}

    return extra
