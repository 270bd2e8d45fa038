"""The console's audit page (操作记录): filters by who, where, what and dates, pages, and CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core import audit
from bot.core.directory import member_names, room_names
from bot.core.feature import NavEntry, WebPart
from bot.features.audit.texts import what, where, who
from bot.web.shell import CONSOLE, BadRequest, Console, check_params, csv_cell, page

TEMPLATES = Path(__file__).parent / "templates"
PER_PAGE = 50
PARAMS = ("actor", "where", "action", "since", "until", "page")
CSV_COLUMNS = ("时间", "操作人", "操作人 id", "位置", "操作", "变化")


@dataclass(frozen=True)
class Filters:
    query: audit.AuditQuery
    params: dict[str, str]  # as given, for the form and the links
    page: int


def _day(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{what}应是 年-月-日 格式的日期，例如 2026-11-01，你写的是「{value[:20]}」") from None


def filters(console: Console, params: dict[str, str]) -> Filters:
    tz = console.settings.tz
    where_ = params.get("where") or None
    if where_ is not None and where_ not in audit.WHERE_LABELS:
        raise BadRequest(f"位置只能是 {'、'.join(audit.WHERE_LABELS)} 之一")
    since, until = _day(params.get("since", ""), "起始日期"), _day(params.get("until", ""), "截止日期")
    raw_page = params.get("page") or "1"
    if not raw_page.isdigit() or int(raw_page) < 1:
        raise BadRequest("页码应为正整数")
    query = audit.AuditQuery(
        actor=params.get("actor") or None, where=where_, action=params.get("action") or None,
        since=int(datetime.combine(since, time(), tz).timestamp()) if since else None,
        # The until day is included: entries before the next midnight.
        until=int(datetime.combine(until + timedelta(days=1), time(), tz).timestamp()) if until else None)
    return Filters(query, {k: v for k, v in params.items() if k != "page"}, int(raw_page))


def _rows(conn: Connection, entries: list[Any]) -> tuple[dict[str, str], dict[str, str]]:
    return (member_names(conn, [e.actor for e in entries]),
            room_names(conn, [e.room for e in entries if e.room]))


def _audit(conn: Connection, console: Console, params: dict[str, str]) -> dict[str, Any]:
    f = filters(console, params)
    shown = list(audit.entries(conn, f.query, limit=PER_PAGE + 1, offset=(f.page - 1) * PER_PAGE))
    more, shown = len(shown) > PER_PAGE, shown[:PER_PAGE]
    names, rooms = _rows(conn, shown)
    actors = audit.actors(conn)
    actor_names = member_names(conn, actors)
    return {
        "title": "操作记录", "at": console.now(conn), "params": f.params, "page_no": f.page,
        "pages": f.page + 1 if more else f.page,
        "rows": [{"entry": e, "who": who(e, names), "where": where(e, rooms), "what": what(e)} for e in shown],
        "actor_choices": [("", "全部"), *[(a, "控制台" if a == audit.CONSOLE_ACTOR else actor_names.get(a, a))
                                          for a in actors]],
        "where_choices": [("", "全部"), *audit.WHERE_LABELS.items()],
        "action_choices": [("", "全部"), *[(a, a) for a in audit.actions(conn)]],
    }


async def audit_page(request: web.Request) -> web.Response:
    check_params(request.query, PARAMS)
    console = request.app[CONSOLE]
    context = await console.read(_audit, console, dict(request.query))
    return await page(request, "audit/audit.html", context, nav="audit")


def _audit_csv(conn: Connection, console: Console, params: dict[str, str]) -> str:
    f = filters(console, params)
    entries = list(audit.entries(conn, f.query, limit=None))
    names, rooms = _rows(conn, entries)
    tz = console.settings.tz
    out = io.StringIO()
    out.write("\ufeff")  # a BOM, so Excel reads the file as UTF-8
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow([csv_cell(v) for v in (
            datetime.fromtimestamp(e.at, tz).strftime("%Y-%m-%d %H:%M:%S"), who(e, names), e.actor,
            where(e, rooms), what(e), e.result)])
    return out.getvalue()


async def audit_csv(request: web.Request) -> web.Response:
    check_params(request.query, PARAMS)
    console = request.app[CONSOLE]
    text = await console.read(_audit_csv, console, dict(request.query))
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/audit", audit_page)
    router.add_get("/export/audit.csv", audit_csv)


NAV = (NavEntry("操作记录", "/audit", "audit", 110),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
