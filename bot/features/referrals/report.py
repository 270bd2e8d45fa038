"""The report's referrals field: members brought in who are still in the room, and how many
of them spoke."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from bot.core.deps import Deps
from bot.core.report import ReportExtra, ReportScope
from bot.features.referrals.service import referrals_of


def referral_fields(deps: Deps) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict[str, Any]]:
        found = referrals_of(conn, ids, scope.room)
        return {m: {"referrals": {"stayed": found[m].stayed if m in found else 0,
                                  "spoke": found[m].spoke if m in found else 0}} for m in ids}

    return extra
