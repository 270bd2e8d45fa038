"""The report's type fields: each member's type, with its numbers and a sentence on why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from bot.core.deps import Deps
from bot.core.report import ReportExtra, ReportScope
from bot.features.member_types.service import scope_for, type_floor, type_members


def type_fields(deps: Deps) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict[str, Any]]:
        typed = scope.typed
        if typed is None:
            ts = scope_for(conn, scope.at, scope.room, deps.settings.window_days, scope.window.days,
                           floor=type_floor(deps.settings))
            typed = type_members(conn, scope.at, ts)
        out = {}
        for m in ids:
            t = typed.get(m)
            out[m] = {"type": t.type.value if t else None,
                      "type_detail": t.as_detail() if t else None,
                      "type_explain": t.explain() if t else None}
        return out

    return extra
