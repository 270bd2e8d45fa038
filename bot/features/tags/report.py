"""The report's tags field: each tag held at the report's time, with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.deps import Deps
from bot.core.report import ReportExtra, ReportScope
from bot.features.tags.models import MemberTag
from bot.features.tags.service import active_rules, held_now, provenance_of
from tagging.reasons import format_reason


def tag_fields(deps: Deps) -> ReportExtra:
    tz = deps.settings.tz

    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict[str, Any]]:
        at = int(scope.at.timestamp())
        # Read here, not from the pipeline's cached rule set: the console calls this from
        # its own threads.
        rules = active_rules(conn)
        out: dict[str, dict[str, Any]] = {m: {"tags": []} for m in ids}
        for i in range(0, len(ids), 900):
            q = select(MemberTag).where(col(MemberTag.member).in_(ids[i : i + 900]), held_now(at))
            # Ties broken by name: PostgreSQL returns equal `since`s in no fixed order.
            for r in conn.execute(q.order_by(col(MemberTag.since), col(MemberTag.tag))):
                row = MemberTag.model_validate(r._mapping)
                out[row.member]["tags"].append(
                    {"name": row.tag, "reason": format_reason(provenance_of(row, tz, rules)),
                     "source": row.source})
        return out

    return extra
