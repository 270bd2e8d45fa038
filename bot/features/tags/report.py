"""The report's tags field: each tag held at the report's time, with its reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.report import ReportExtra, ReportScope
from bot.deps import Deps
from bot.features.tags.service import held_now, provenance_of
from bot.store.models import MemberTag
from tagging.reasons import format_reason


def tag_fields(deps: Deps) -> ReportExtra:
    tagging, tz = deps.tagging, deps.settings.tz

    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict]:
        at = int(scope.at.timestamp())
        rules = tagging.current(conn).rules
        out: dict[str, dict] = {m: {"tags": []} for m in ids}
        rows = conn.execute(select(MemberTag).where(held_now(at)).order_by(col(MemberTag.since))).all()
        for r in rows:
            row = MemberTag.model_validate(r._mapping)
            if row.member in out:
                out[row.member]["tags"].append(
                    {"name": row.tag, "reason": format_reason(provenance_of(row, tz, rules)),
                     "source": row.source})
        return out

    return extra
