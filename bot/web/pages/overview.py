"""The overview: members, rooms, today's check-ins, this week's new tags and leads."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.features.tags.service import active_rules
from bot.web.data import (
    checkins_on,
    leads_since,
    new_tags_since,
    room_counts,
    scope_view,
    week_start,
)
from bot.web.shell import CONSOLE, Console, check_params, page
from tiers.types import distribution


def _overview(conn: Connection, console: Console) -> dict[str, Any]:
    at = console.now(conn)
    view = scope_view(conn, console.settings, console.deps.ledger.levels, at, None, console.cache)
    checkins, checkers = checkins_on(conn, at.date())
    since = week_start(at)
    new_tags = new_tags_since(conn, since, at)
    lead_total, leads = leads_since(conn, since, at, active_rules(conn))
    rooms = room_counts(conn)
    return {
        "at": at, "window_days": view.scope.window.days,
        "typed_at": None if view.at == at else view.at,
        "cards": [(len(view.lines), "成员"), (len(rooms), "群"),
                  (f"{checkins} 次", f"今日打卡（{checkers} 人）"),
                  (sum(n for _, n in new_tags), "本周新标签"), (lead_total, "本周新线索")],
        "rooms": rooms, "types": distribution(x.typing for x in view.lines),
        "new_tags": new_tags, "leads": leads,
    }


async def overview(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    return await page(request, "overview.html", await console.read(_overview, console), nav="overview")
