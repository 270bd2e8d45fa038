"""The JSON API: events in (logins from outside systems above all), members and follow-up out."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.events import EventError, latest_ts, load_json, parse_event
from bot.features.followup import service as followup
from bot.web.app import CONSOLE, MAX_BODY, Console, json_response
from bot.web.data import active_rules, holders_of, member_dicts, room_names, scope_view
from bot.web.filters import (
    BadRequest,
    MemberQuery,
    check_params,
    page_of,
    parse_member_query,
    select_lines,
)

MAX_EVENTS = 1000


def _decode(body: bytes):
    try:
        return load_json(body, limit=MAX_BODY)
    except EventError as exc:
        raise BadRequest(f"请求体有误：{exc}") from None


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
    not_after = latest_ts(slack_hours=console.settings.future_slack_hours)
    for i, raw in enumerate(items):
        try:
            events.append(parse_event(raw, not_after=not_after))
        except EventError as exc:
            rejected.append({"index": i, "reason": str(exc)})
    stored, duplicates = await console.ingest(events)
    return json_response({"received": len(items), "stored": stored, "duplicates": duplicates,
                          "rejected": rejected}, 400 if rejected else 200)


def _members(conn: Connection, console: Console, params: dict[str, str]) -> dict:
    deps = console.deps
    query: MemberQuery = parse_member_query(params, deps.ledger.levels, room_names(conn))
    at = console.now(conn)
    view = scope_view(conn, deps.settings, deps.ledger.levels, at, query.room, console.cache)
    holders = holders_of(conn, query.tag, at) if query.tag else None
    lines = select_lines(view.lines, query, holders)
    shown, pages = page_of(lines, query)
    rules = active_rules(conn)
    return {"at": at.isoformat(), "window_days": view.scope.window.days, "room": query.room,
            "total": len(lines), "page": query.page, "per_page": query.per_page, "pages": pages,
            "members": member_dicts(conn, shown, at, rules)}


async def get_members(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    return json_response(await console.read(_members, console, dict(request.query)))


def followup_lists(conn: Connection, console: Console):
    """Today's list of every operator. Writes: a list not issued yet today is issued now, so
    its numbers can be marked done; run it in a write transaction."""
    at = console.now(conn)
    return at, followup.current_lists(conn, console.deps, at)


def _followup(conn: Connection, console: Console, operator: str | None) -> dict:
    at, lists = followup_lists(conn, console)
    out = []
    for ol in lists:
        if operator and ol.operator != operator:
            continue
        out.append({"operator": ol.operator, "operator_name": ol.operator_name, "items": [
            {"n": it.n, "kind": it.kind, "member": it.member, "member_name": it.member_name,
             "room": it.room, "room_name": it.room_name, "reason": it.reason,
             "action": it.action} for it in ol.items]})
    return {"at": at.isoformat(), "operators": out}


async def get_followup(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    check_params(request.query, ("operator",))
    operator = request.query.get("operator") or None
    return json_response(await console.write(_followup, console, operator))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/events", post_events)
    router.add_get("/api/members", get_members)
    router.add_get("/api/followup", get_followup)
