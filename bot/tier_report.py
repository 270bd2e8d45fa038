"""The report's tier fields: type with its detail, level, points and streak per member."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.checkins import DEFAULT_TASK
from bot.member_types import scope_for, type_members
from bot.points import Ledger
from bot.report import ReportExtra, ReportScope
from bot.settings import Settings
from bot.store.models import Checkin, CheckinTask, Member
from tiers.checkin import streak_at
from tiers.levels import level_for


def tier_fields(settings: Settings, ledger: Ledger) -> ReportExtra:
    def extra(conn: Connection, scope: ReportScope, ids: list[str]) -> dict[str, dict]:
        ts = scope_for(conn, scope.at, scope.room, settings.window_days, scope.window.days)
        typed = type_members(conn, scope.at, ts)
        points = dict(conn.execute(select(Member.id, Member.points)).all())
        task_id = conn.execute(select(CheckinTask.id).where(
            CheckinTask.name == DEFAULT_TASK.name)).scalar()
        days: dict[str, set[date]] = defaultdict(set)
        if task_id is not None:
            q = select(Checkin.member, Checkin.day).where(Checkin.task_id == task_id,
                                                          Checkin.day <= scope.at.date())
            for m, d in conn.execute(q):
                days[m].add(d)
        out = {}
        for m in ids:
            t = typed.get(m)
            p = points.get(m) or 0
            lv = level_for(p, ledger.levels)
            out[m] = {
                "type": t.type.value if t else None,
                "type_detail": t.as_detail() if t else None,
                "type_explain": t.explain() if t else None,
                "level": lv.n,
                "level_name": lv.name,
                "points": p,
                "streak": streak_at(days[m], scope.at.date()) if m in days else 0,
            }
        return out

    return extra
