"""The overview: members, rooms, today's check-ins, this week's new tags and leads."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.directory import rooms_of
from bot.core.feature import OverviewView
from bot.features.points.api import Ledger
from bot.features.tags.service import active_rules
from bot.web.data import (
    checkins_on,
    leads_since,
    new_tags_since,
    room_counts,
    scope_view,
    week_start,
)
from bot.web.pages.members import scope_of
from bot.web.shell import CONSOLE, Console, check_params, page
from tiers.types import distribution


def _overview(conn: Connection, console: Console, within: frozenset[str] | None) -> dict[str, Any]:
    at = console.now(conn)
    view = scope_view(conn, console.settings, console.deps.service(Ledger).levels, at, None, console.cache)
    rooms = room_counts(conn)
    lines = view.lines
    since = week_start(at)
    lead_total, leads = leads_since(conn, since, at, active_rules(conn))
    if within is None:
        checkins, checkers = checkins_on(conn, at.date())
        new_tags = new_tags_since(conn, since, at)
        cards = [(f"{checkins} 次", f"今日打卡（{checkers} 人）"), (sum(n for _, n in new_tags), "本周新标签"),
                 (lead_total, "本周新线索")]
    else:  # an operator: their rooms' members and leads only
        theirs = {m for m, rs in rooms_of(conn, None).items() if within.intersection(rs)}
        rooms = [r for r in rooms if r.id in within]
        lines = [x for x in lines if x.id in theirs]
        leads = [lead for lead in leads if lead[0] in theirs]
        new_tags = []
        cards = [(len(leads), "本周新线索")]
    part_view = OverviewView(at, within, console.deps)
    return {
        "sections": [(part, part.data(conn, part_view)) for part in console.slots.overview],
        "at": at, "window_days": view.scope.window.days,
        "typed_at": None if view.at == at else view.at,
        "cards": [(len(lines), "成员"), (len(rooms), "群"), *cards],
        "rooms": rooms, "types": distribution(x.typing for x in lines),
        "new_tags": new_tags, "leads": leads,
    }


async def overview(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    context = await console.read(_overview, console, scope_of(request))
    return await page(request, "overview.html", context, nav="overview")
