"""The JSON API of the shell: events in (logins from outside systems above all), members out.
Features add their own endpoints (`GET /api/followup`: bot/features/followup/web.py)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from bot.core.events import (
    MAX_DEPTH,
    Event,
    EventError,
    Unreadable,
    depth_of,
    latest_ts,
    load_batch,
    parse_event,
)
from bot.store.db import storage_problem
from bot.web.data import member_dicts
from bot.web.filters import page_of
from bot.web.pages.members import scope_of, select_members
from bot.web.shell import CONSOLE, MAX_BODY, BadRequest, Console, json_response

log = logging.getLogger(__name__)

MAX_EVENTS = 1000
RETRY_AFTER = 60  # seconds a sender waits when the store cannot be written (disk full, read-only)


def _decode(body: bytes) -> list[Any] | dict[str, Any]:
    try:
        return load_batch(body, limit=MAX_BODY)
    except EventError as exc:
        raise BadRequest(f"请求体有误：{exc}") from None


def _event(raw: Any, not_after: datetime) -> Event:
    """One element of a batch; EventError when it is unreadable, too deep or not an event."""
    if isinstance(raw, Unreadable):
        raise EventError(raw.reason)
    if depth_of(raw) > MAX_DEPTH:
        raise EventError(f"JSON 嵌套太深（上限 {MAX_DEPTH} 层）")
    return parse_event(raw, not_after=not_after)


async def post_events(request: web.Request) -> web.Response:
    """One canonical event or an array of up to 1000. Valid events are stored even when others
    in the batch are rejected; the answer is 400 then, listing each rejected index and why."""
    console = request.app[CONSOLE]
    if request.content_type != "application/json":
        raise BadRequest("Content-Type 应为 application/json", 415)
    data = _decode(await request.read())
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_EVENTS:
        raise BadRequest(f"一次最多 {MAX_EVENTS} 个事件，收到 {len(items)} 个，请分批发送", 413)
    events: list[Event] = []
    rejected: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    not_after = latest_ts(slack_hours=console.settings.future_slack_hours)
    for i, raw in enumerate(items):
        try:
            events.append(_event(raw, not_after))
            index.setdefault(events[-1].id, i)
        except EventError as exc:
            rejected.append({"index": i, "reason": str(exc)})
    try:
        stored, duplicates, refused = await console.ingest(events)
    except OperationalError as exc:
        problem = storage_problem(exc, console.settings.database_url)
        if problem is None:
            raise
        # Nothing of the batch was stored (one transaction): the sender retries later.
        log.error("event API: the store cannot be written: %s", exc)
        return json_response({"error": problem}, 503, headers={"Retry-After": str(RETRY_AFTER)})
    rejected += [{"index": index[eid], "reason": reason} for eid, reason in refused]
    rejected.sort(key=lambda r: int(r["index"]))
    return json_response({"received": len(items), "stored": stored, "duplicates": duplicates,
                          "rejected": rejected}, 400 if rejected else 200)


def _members(conn: Connection, console: Console, params: dict[str, str], within: frozenset[str] | None
             ) -> dict[str, Any]:
    s = select_members(conn, console, params, within)
    query = s.query
    shown, pages = page_of(s.lines, query)
    return {"at": s.at.isoformat(), "window_days": s.window_days, "room": query.room,
            "total": len(s.lines), "page": query.page, "per_page": query.per_page, "pages": pages,
            "members": member_dicts(conn, s.view, shown, console.report, console.cache)}


async def get_members(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    return json_response(await console.read(_members, console, dict(request.query), scope_of(request)))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/events", post_events)
    router.add_get("/api/members", get_members)
