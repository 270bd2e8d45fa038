"""The points feature in the console: its rows and its ledger on the member page, its CSV columns,
and 调积分 from a member's page (admins): the same ledger call as /points @成员 +20 原因."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.feature import CsvColumn, MemberSection, MemberView, WebPart
from bot.core.pipeline import Batch, enqueue
from bot.features.points.announce import announce_level_ups
from bot.features.points.models import PointsEntry
from bot.features.points.service import Award, Ledger
from bot.web.shell import (
    CONSOLE,
    BadRequest,
    back_to,
    form_text,
    member_in_scope,
    person_of,
    redirect_with,
    require_manager,
)
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
    ledger = view.deps.service(Ledger)
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


MAX_DELTA = 100_000
MAX_REASON = 100


async def act_points(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    member, raw = form_text(form, "member"), form_text(form, "delta").replace("＋", "+")
    reason = form_text(form, "reason")[:MAX_REASON]
    back = back_to(form, f"/members/{quote(member, safe='')}")
    if not member:
        raise BadRequest("请在成员页上调积分")
    digits = raw.lstrip("+-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 6 or int(raw) == 0 \
            or abs(int(raw)) > MAX_DELTA:
        return redirect_with(request, back, f"没有改动：分数应为不为 0 的整数（-{MAX_DELTA}–{MAX_DELTA}），"
                             "例如 +20 或 -5。", error=True)
    if not reason:
        return redirect_with(request, back, "没有改动：请写上原因（会记入积分流水）。", error=True)
    delta = int(raw)
    who = person_of(request)

    def act(conn: Connection) -> str:
        name = member_in_scope(conn, who, member)
        require_manager(conn, who, member)
        now = console.now(conn)
        batch = Batch(conn, console.settings, silent=False)
        change = console.deps.service(Ledger).award(batch, [Award(
            member, delta, "manual", int(now.timestamp()), now.date(), None, reason=reason, by=who.member)])[member]
        announce_level_ups(batch, [change])
        if batch.replies:  # a level reached: the congratulation
            enqueue(conn, batch.replies, now)
        return (f"已为 {name} {'加' if delta > 0 else '扣'} {abs(delta)} 分（{reason}），"
                f"{change.before} → {change.after} 分。")
    return redirect_with(request, back, await console.write(act))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/act/points", act_points)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, member=MEMBER, csv=CSV)
