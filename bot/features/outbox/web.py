"""The outbox page of the console: unknown and failed messages, each with resend and drop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core import outbox
from bot.core.directory import member_names, room_names
from bot.core.feature import NavEntry, WebPart
from bot.web.shell import CONSOLE, BadRequest, Console, check_params, page, redirect_with

TEMPLATES = Path(__file__).parent / "templates"
STATUS_LABELS = {"unknown": "不确定是否已发出", "failed": "发送失败"}


def _outbox(conn: Connection, console: Console) -> dict[str, Any]:
    rows = outbox.attention(conn)
    tz = console.settings.tz
    rooms = room_names(conn)
    people = member_names(conn, [r.to for r in rows if r.to])
    return {
        "rows": [{"id": r.id, "status": r.status, "label": STATUS_LABELS[r.status],
                  "at": datetime.fromtimestamp(r.created_at, tz).strftime("%Y-%m-%d %H:%M")
                  if r.created_at else "",
                  "room": rooms.get(r.room, r.room) if r.room else None,
                  "to": people.get(r.to, r.to) if r.to else None,
                  "text": r.text, "attempts": r.attempts, "error": r.error, "action": r.action} for r in rows],
        "counts": {STATUS_LABELS.get(k, k): v for k, v in outbox.counts(conn).items()
                   if k in STATUS_LABELS},
    }


async def outbox_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    context = await console.read(_outbox, console)
    return await page(request, "outbox/outbox.html", context, nav="outbox")


def _row_id(request: web.Request) -> int:
    return int(request.match_info["row_id"])


async def outbox_resend(request: web.Request) -> web.Response:
    return await _handle(request, outbox.resend, "已重新排队，机器人会尽快发出。")


async def outbox_drop(request: web.Request) -> web.Response:
    return await _handle(request, outbox.drop, "已放弃，不再发送。")


async def _handle(request: web.Request, action: Callable[[Connection, int], None], done: str) -> web.Response:
    console = request.app[CONSOLE]
    row_id = _row_id(request)
    try:
        await console.write(action, row_id)
    except outbox.NotHandled:
        raise BadRequest(f"消息 #{row_id} 不需要处理（可能已被重发或放弃）", 409) from None
    return redirect_with(request, "/outbox", f"消息 #{row_id} {done}")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/outbox", outbox_page)
    router.add_post(r"/outbox/{row_id:\d{1,12}}/resend", outbox_resend)
    router.add_post(r"/outbox/{row_id:\d{1,12}}/drop", outbox_drop)


NAV = (NavEntry("发件箱", "/outbox", "outbox", 100),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
