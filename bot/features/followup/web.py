"""Today's follow-up lists in the console and the API: reading them never stores anything
(a list not issued yet is shown as a preview); `POST /followup/issue` issues them now, and
`POST /followup/done` marks an item of an issued list done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.feature import OPERATOR, MemberSection, MemberView, NavEntry
from bot.features.followup import service as followup
from bot.features.followup.service import OperatorList
from bot.features.followup.texts import done_text
from bot.web.shell import (
    CONSOLE,
    BadRequest,
    Console,
    check_params,
    form_text,
    json_response,
    page,
    redirect_with,
)
from tiers.followup import KIND_TITLES

TEMPLATES = Path(__file__).parent / "templates"
MAX_NOTE = 200


@dataclass(frozen=True)
class Today:
    at: datetime
    lists: list[OperatorList]
    done: dict[int, set[int]]  # list id → numbers done


def today(conn: Connection, console: Console) -> Today:
    at = console.now(conn)
    lists = followup.current_lists(conn, console.deps, at)
    done = {ol.list_id: followup.done_numbers(conn, ol.list_id) for ol in lists
            if ol.list_id is not None}
    return Today(at, lists, done)


async def followup_page(request: web.Request) -> web.Response:
    check_params(request.query, ("operator",))
    console = request.app[CONSOLE]
    operator = request.query.get("operator") or None
    t = await console.read(today, console)
    lists = [ol for ol in t.lists if not operator or ol.operator == operator]
    if operator and not lists:
        raise BadRequest(f"{operator} 不是运营，没有跟进清单", 404)
    context: dict[str, Any] = {"at": t.at, "lists": lists, "done": t.done, "kinds": KIND_TITLES,
                               "previews": any(ol.list_id is None for ol in lists), "operator": operator}
    return await page(request, "followup/followup.html", context, nav="followup")


async def get_followup(request: web.Request) -> web.Response:
    check_params(request.query, ("operator",))
    console = request.app[CONSOLE]
    operator = request.query.get("operator") or None
    t = await console.read(today, console)
    out = [{"operator": ol.operator, "operator_name": ol.operator_name,
            "issued": ol.list_id is not None, "list_id": ol.list_id,
            "items": [{"n": it.n, "kind": it.kind, "member": it.member,
                       "member_name": it.member_name, "room": it.room, "room_name": it.room_name,
                       "reason": it.reason, "action": it.action, "age": it.age,
                       "escalated_from": it.escalated_from or None,
                       "done": it.n in t.done.get(ol.list_id, ()) if ol.list_id is not None else False}
                      for it in ol.items]}
           for ol in t.lists if not operator or ol.operator == operator]
    return json_response({"at": t.at.isoformat(), "operators": out})


async def followup_issue(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]

    def issue(conn: Connection) -> int:
        return len(followup.issue_today(conn, console.deps, console.now(conn)))
    issued = await console.write(issue)
    notice = f"已生成 {issued} 份今日跟进清单。" if issued else "今天的跟进清单都已生成过了。"
    return redirect_with(request, "/followup", notice)


async def followup_done(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    operator = form_text(form, "operator")
    raw_n = form_text(form, "n")
    note = form_text(form, "note")[:MAX_NOTE] or None
    if not operator or not raw_n.isdigit():
        raise BadRequest("请选择要完成的事项")

    def done(conn: Connection) -> tuple[bool, str]:
        return done_text(followup.mark_done(conn, operator, [int(raw_n)], note, console.now(conn)), note)
    recorded, summary = await console.write(done)
    return redirect_with(request, "/followup", summary, error=not recorded)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/followup", followup_page)
    router.add_post("/followup/issue", followup_issue)
    router.add_post("/followup/done", followup_done)
    router.add_get("/api/followup", get_followup)


# ---- what the shell shows of follow-ups ---------------------------------------------------------

def _followups(conn: Connection, view: MemberView) -> dict[str, Any]:
    return {"history": followup.history(conn, view.member),
            "open": followup.member_cases(conn, view.member, view.at.date()), "kinds": KIND_TITLES}


NAV = (NavEntry("跟进", "/followup", "followup", 20, OPERATOR),)
MEMBER = (MemberSection("followup/member_followups.html", 50, _followups),)
