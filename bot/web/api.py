"""The JSON API of the shell: events in (logins from outside systems above all), members out.
Features add their own endpoints (`GET /api/followup`: bot/features/followup/web.py)."""

from __future__ import annotations

import json

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.events import EventError, parse_event
from bot.web.data import member_dicts
from bot.web.filters import page_of
from bot.web.pages.members import select_members
from bot.web.shell import CONSOLE, BadRequest, Console, json_response

MAX_EVENTS = 1000


def _decode(body: bytes):
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadRequest("请求体应为 UTF-8 编码的 JSON") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}") from None
    except RecursionError:
        raise BadRequest("JSON 嵌套太深") from None


async def post_events(request: web.Request) -> web.Response:
    """One canonical event or an array of up to 1000. Valid events are stored even when others
    in the batch are rejected; the answer is 400 then, listing each rejected index and why."""
    console = request.app[CONSOLE]
    if request.content_type != "application/json":
        raise BadRequest("Content-Type 应为 application/json", 415)
    data = _decode(await request.read())
    if isinstance(data, list):
        if len(data) > MAX_EVENTS:
            raise BadRequest(f"一次最多 {MAX_EVENTS} 个事件，收到 {len(data)} 个，请分批发送", 413)
        items = data
    elif isinstance(data, dict):
        items = [data]
    else:
        raise BadRequest("请求体应为一个事件对象，或事件对象的数组")
    events, rejected = [], []
    for i, raw in enumerate(items):
        try:
            events.append(parse_event(raw))
        except EventError as exc:
            rejected.append({"index": i, "reason": str(exc)})
    stored, duplicates = await console.ingest(events)
    return json_response({"received": len(items), "stored": stored, "duplicates": duplicates,
                          "rejected": rejected}, 400 if rejected else 200)


def _members(conn: Connection, console: Console, params: dict[str, str]) -> dict:
    s = select_members(conn, console, params)
    query = s.query
    shown, pages = page_of(s.lines, query)
    return {"at": s.at.isoformat(), "window_days": s.window_days, "room": query.room,
            "total": len(s.lines), "page": query.page, "per_page": query.per_page, "pages": pages,
            "members": member_dicts(conn, s.view, shown, console.report)}


async def get_members(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    return json_response(await console.read(_members, console, dict(request.query)))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/events", post_events)
    router.add_get("/api/members", get_members)
