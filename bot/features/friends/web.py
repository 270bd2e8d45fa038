"""The friends page of the console: requests waiting for an operator (通过 with one click) and,
per first channel, friends added and how far they went over a chosen period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.feature import NavEntry, WebPart
from bot.core.pipeline import enqueue
from bot.features.friends.service import ApproveError, approve, channel_stats, pending_requests
from bot.web.shell import CONSOLE, BadRequest, Console, actor_of, check_params, form_text, page, redirect_with

TEMPLATES = Path(__file__).parent / "templates"
PERIODS = (7, 30, 90, 365)


def _context(conn: Connection, console: Console, days: int) -> dict[str, Any]:
    now = console.now(conn)
    since = now - timedelta(days=days)
    return {"requests": pending_requests(conn), "stats": channel_stats(conn, int(since.timestamp()),
                                                                       int(now.timestamp())),
            "days": days, "periods": PERIODS, "tz": console.settings.tz}


async def friends_page(request: web.Request) -> web.Response:
    check_params(request.query, ("days",))
    raw = request.query.get("days", "30")
    if not raw.isdigit() or int(raw) not in PERIODS:
        raise BadRequest(f"days 只能是 {'、'.join(map(str, PERIODS))} 之一")
    console = request.app[CONSOLE]
    context = await console.read(_context, console, int(raw))
    return await page(request, "friends/friends.html", context, nav="friends")


def _accept(conn: Connection, console: Console, n: int, by: str) -> str:
    _, action = approve(conn, n, by)
    enqueue(conn, [action], console.now(conn))
    return f"已通过 {n} 号的好友申请，会按节奏通过，然后发欢迎语并邀请进群。"


async def friends_accept(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    raw = form_text(form, "n")
    if not raw.isdigit():
        return redirect_with(request, "/friends", "申请编号应为正整数", error=True)
    try:
        notice = await console.write(_accept, console, int(raw), actor_of(request))
    except ApproveError as exc:
        return redirect_with(request, "/friends", str(exc), error=True)
    return redirect_with(request, "/friends", notice)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/friends", friends_page)
    router.add_post("/friends/accept", friends_accept)


NAV = (NavEntry("好友", "/friends", "friends", 80),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
