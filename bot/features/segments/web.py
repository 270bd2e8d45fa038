"""The console's playbook pages: the RFM grid (eight segments, click through to members) and
the lifecycle funnel (members per stage, transitions this week)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.core.directory import room_names
from bot.core.feature import CsvColumn, MemberSection, MemberView, NavEntry, WebPart
from bot.features.followup.api import StageChange
from bot.features.segments.orders import orders_of, yuan
from bot.features.segments.report import assess_scope
from bot.features.segments.service import Playbook, pin_grade, unpin_grade
from bot.store.models import table_of
from bot.web.shell import (
    CONSOLE,
    BadRequest,
    Console,
    back_to,
    check_params,
    form_text,
    member_in_scope,
    page,
    person_of,
    redirect_with,
    require_manager,
)
from tiers import grades as grading
from tiers import lifecycle, rfm
from tiers.lifecycle import STAGE_ACTIONS, STAGE_LABELS, Stage
from tiers.rfm import SEGMENT_LABELS, SEGMENT_STRATEGIES, Segment

TEMPLATES = Path(__file__).parent / "templates"

# The grid: rows M high / low, columns (R, F) high-high, high-low, low-high, low-low.
GRID = (
    (Segment.IMPORTANT_VALUE, Segment.IMPORTANT_DEVELOP, Segment.IMPORTANT_KEEP, Segment.IMPORTANT_RETAIN),
    (Segment.GENERAL_VALUE, Segment.GENERAL_DEVELOP, Segment.GENERAL_KEEP, Segment.GENERAL_RETAIN),
)


@dataclass(frozen=True)
class Cell:
    segment: str  # the value, for the members filter
    label: str
    count: int
    share: float
    strategy: str


@dataclass(frozen=True)
class Step:
    stage: str
    label: str
    count: int
    width: int  # percent of the biggest stage
    action: str
    rule: str  # what puts a member in this stage


@dataclass(frozen=True)
class Transition:
    before: str
    after: str
    count: int


def _room(conn: Connection, params: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    check_params(params, ("room",))
    names = room_names(conn)
    room = params.get("room") or None
    if room is not None and room not in names:
        raise BadRequest(f"没有这个群：{room[:60]}", 404)
    return room, names


def _rfm(conn: Connection, console: Console, params: dict[str, str]) -> dict[str, Any]:
    room, names = _room(conn, params)
    at = console.now(conn)
    found = assess_scope(conn, console.deps, at, room, cache=console.cache)
    counts = rfm.distribution(found.rfm.values())
    total = max(1, len(found.rfm))
    grid = [[Cell(s.value, SEGMENT_LABELS[s], counts[s], counts[s] / total, SEGMENT_STRATEGIES[s]) for s in row]
            for row in GRID]
    return {"title": "RFM 分层", "at": at, "room": room, "names": names, "grid": grid, "total": len(found.rfm),
            "window_days": console.deps.service(Playbook).rfm.window_days, "by_points": found.monetary_is_points,
            "room_choices": [("", "全部群"), *sorted(names.items(), key=lambda x: x[1])]}


def week_start(at: datetime) -> datetime:
    return datetime.combine(at.date() - timedelta(days=at.weekday()), time(), tzinfo=at.tzinfo)


def transitions_since(conn: Connection, since: datetime, members: set[str] | None) -> list[Transition]:
    t = table_of(StageChange).c
    rows = conn.execute(select(t.member, t.before, t.after).where(t.at >= int(since.timestamp()),
                                                                   t.before.is_not(None)))
    counted = Counter((b, a) for m, b, a in rows if members is None or m in members)
    return [Transition(STAGE_LABELS[Stage(b)], STAGE_LABELS[Stage(a)], n)
            for (b, a), n in sorted(counted.items(), key=lambda x: -x[1])]


def _lifecycle(conn: Connection, console: Console, params: dict[str, str]) -> dict[str, Any]:
    room, names = _room(conn, params)
    at = console.now(conn)
    found = assess_scope(conn, console.deps, at, room, cache=console.cache)
    counts = lifecycle.distribution(found.stages.values())
    top = max(1, *counts.values())
    rules = lifecycle.stage_rules_text(console.deps.service(Playbook).lifecycle)
    steps = [Step(s.value, STAGE_LABELS[s], n, round(100 * n / top), STAGE_ACTIONS[s], rules[s])
             for s, n in counts.items()]
    since = week_start(at)
    return {"title": "生命周期", "at": at, "room": room, "names": names, "steps": steps,
            "total": len(found.stages), "since": since,
            "transitions": transitions_since(conn, since, set(found.stages) if room else None),
            "room_choices": [("", "全部群"), *sorted(names.items(), key=lambda x: x[1])]}


async def rfm_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    context = await console.read(_rfm, console, dict(request.query))
    return await page(request, "segments/rfm.html", context, nav="rfm")


async def lifecycle_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    context = await console.read(_lifecycle, console, dict(request.query))
    return await page(request, "segments/lifecycle.html", context, nav="lifecycle")


async def act_grade(request: web.Request) -> web.Response:
    """设等级 / 取消 from a member's page: the same calls as /grade @成员 A 原因 and /grade @成员 取消."""
    console = request.app[CONSOLE]
    form = await request.post()
    member, word = form_text(form, "member"), form_text(form, "grade")
    reason = form_text(form, "reason")[:100] or None
    back = back_to(form, f"/members/{quote(member, safe='')}")
    if not member:
        raise BadRequest("请在成员页上设等级")
    unpin = word == "auto"
    try:
        grade = "" if unpin else grading.parse_grade(word)
    except ValueError as exc:
        return redirect_with(request, back, f"没有改动：{exc}。", error=True)
    who = person_of(request)

    def act(conn: Connection) -> tuple[bool, str]:
        name = member_in_scope(conn, who, member)
        require_manager(conn, who, member)
        if unpin:
            if not unpin_grade(conn, member):
                return False, f"{name} 没有手动设定的等级，本来就是自动评级。"
            return True, f"已取消 {name} 的手动等级，恢复按条件自动评级。"
        pin_grade(conn, member, grade, reason, who.member, int(console.now(conn).timestamp()))
        return True, f"已把 {name} 设为 {grade} 级" + (f"（{reason}）" if reason else "") + "。"
    done, notice = await console.write(act)
    return redirect_with(request, back, notice, error=not done)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/act/grade", act_grade)
    router.add_get("/rfm", rfm_page)
    router.add_get("/lifecycle", lifecycle_page)


# ---- what the shell shows of the playbook -------------------------------------------------------

def _orders(conn: Connection, view: MemberView) -> dict[str, Any]:
    return {"orders": orders_of(conn, view.member), "yuan": yuan}


NAV = (NavEntry("RFM", "/rfm", "rfm", 30), NavEntry("生命周期", "/lifecycle", "lifecycle", 31))
MEMBER = (MemberSection("segments/member_playbook.html", 20, _orders),)
CSV = (CsvColumn("RFM 分层", lambda r: r["segment"], 50), CsvColumn("生命周期", lambda r: r["stage"], 51),
       CsvColumn("客户等级", lambda r: r["grade"], 52))


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV, member=MEMBER, csv=CSV)
