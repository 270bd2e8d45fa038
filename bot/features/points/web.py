"""The points feature in the console: its rows and its ledger on the member page, its CSV columns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.feature import CsvColumn, MemberSection, MemberView
from bot.features.points.models import PointsEntry
from tiers.levels import benefits_upto, progress

TEMPLATES = Path(__file__).parent / "templates"
KIND_LABELS = {"checkin": "打卡", "streak_bonus": "连续奖励", "speaking": "发言", "manual": "手动", "referral": "邀请",
               "makeup": "补签", "redeem": "兑换", "refund": "退回兑换"}
LEDGER_ROWS = 50


@dataclass(frozen=True)
class LedgerLine:
    ts: int
    delta: int
    kind: str
    reason: str | None
    room: str
    by: str | None


def ledger_of(conn: Connection, member: str, limit: int = 100) -> list[LedgerLine]:
    q = select(col(PointsEntry.ts), col(PointsEntry.delta), col(PointsEntry.kind), col(PointsEntry.reason),
               col(PointsEntry.room), col(PointsEntry.by)).where(col(PointsEntry.member) == member).order_by(
        col(PointsEntry.ts).desc(), col(PointsEntry.id).desc()).limit(limit)
    return [LedgerLine(*r) for r in conn.execute(q)]


def _facts(conn: Connection, view: MemberView) -> dict[str, Any]:
    ledger = view.deps.ledger
    points = view.report["points"]
    p = progress(points, ledger.levels)
    level = f"Lv{p.level.n}「{p.level.name}」"
    if p.next:
        level += f"，距 Lv{p.next.n}「{p.next.name}」还差 {p.to_next} 分"
    return {"points": points, "level": level, "benefits": benefits_upto(p.level.n, ledger.benefits)}


def _ledger(conn: Connection, view: MemberView) -> dict[str, Any]:
    return {"ledger": ledger_of(conn, view.member, LEDGER_ROWS), "rows": LEDGER_ROWS, "kinds": KIND_LABELS}


MEMBER = (MemberSection("points/member_facts.html", 10, _facts, place="facts"),
          MemberSection("points/member_ledger.html", 70, _ledger))
CSV = (CsvColumn("积分", lambda r: r["points"], 30),
       CsvColumn("等级", lambda r: f"Lv{r['level']} {r['level_name']}", 31))
