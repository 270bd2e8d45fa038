"""Today's follow-up lists in the console and the API: reading them never stores anything
(a list not issued yet is shown as a preview); `POST /followup/issue` issues them now (admins),
and an item of an issued list is marked done, snoozed or handed to someone else with the same
calls as 已跟进, 稍后 and 转给 in chat; a member's page writes a note (备注). An operator sees
and works their own list only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.adapters.base import Outgoing
from bot.core.directory import member_names
from bot.core.errors import UsageError
from bot.core.feature import OPERATOR, MemberSection, MemberView, NavEntry, WebPart
from bot.core.pipeline import enqueue
from bot.features.followup import service as followup
from bot.features.followup.commands import MAX_NOTE as MAX_MEMBER_NOTE
from bot.features.followup.commands import hand_over, snooze_items
from bot.features.followup.service import OperatorList
from bot.features.followup.texts import done_text
from bot.web.shell import (
    CONSOLE,
    BadRequest,
    Console,
    back_to,
    check_params,
    form_text,
    json_response,
    member_in_scope,
    page,
    person_of,
    redirect_with,
    require_admin,
)
from tiers.followup import KIND_TITLES, MAX_SNOOZE, queued_line

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


def _own_list(request: web.Request, operator: str | None) -> str | None:
    """The list a request may see: anyone's for a global admin; only their own for an operator."""
    who = person_of(request)
    if who.is_admin:
        return operator
    if operator and operator != who.member:
        raise BadRequest("这是别的运营的清单：运营只能查看和处理自己的跟进清单。", 403)
    return who.member


async def followup_page(request: web.Request) -> web.Response:
    check_params(request.query, ("operator",))
    console = request.app[CONSOLE]
    operator = _own_list(request, request.query.get("operator") or None)
    t = await console.read(today, console)
    lists = [ol for ol in t.lists if not operator or ol.operator == operator]
    if operator and not lists:
        raise BadRequest(f"{operator} 不是运营，没有跟进清单", 404)
    context: dict[str, Any] = {"at": t.at, "lists": lists, "done": t.done, "kinds": KIND_TITLES,
                               "previews": any(ol.list_id is None for ol in lists), "operator": operator,
                               "max_snooze": MAX_SNOOZE, "back": request.path_qs, "queued_line": queued_line,
                               "others": [(ol.operator, ol.operator_name or ol.operator) for ol in t.lists]}
    return await page(request, "followup/followup.html", context, nav="followup")


async def get_followup(request: web.Request) -> web.Response:
    check_params(request.query, ("operator",))
    console = request.app[CONSOLE]
    operator = _own_list(request, request.query.get("operator") or None)
    t = await console.read(today, console)
    out = [{"operator": ol.operator, "operator_name": ol.operator_name,
            "issued": ol.list_id is not None, "list_id": ol.list_id, "queued": ol.queued,
            "items": [{"n": it.n, "kind": it.kind, "member": it.member,
                       "member_name": it.member_name, "room": it.room, "room_name": it.room_name,
                       "reason": it.reason, "action": it.action, "age": it.age,
                       "escalated_from": it.escalated_from or None,
                       "done": it.n in t.done.get(ol.list_id, ()) if ol.list_id is not None else False}
                      for it in ol.items]}
           for ol in t.lists if not operator or ol.operator == operator]
    return json_response({"at": t.at.isoformat(), "operators": out})


async def followup_issue(request: web.Request) -> web.Response:
    require_admin(request)
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
    _own_list(request, operator)

    def done(conn: Connection) -> tuple[bool, str]:
        return done_text(followup.mark_done(conn, operator, [int(raw_n)], note, console.now(conn)), note)
    recorded, summary = await console.write(done)
    return redirect_with(request, back_to(form, "/followup"), summary, error=not recorded)


def _item(form: Any) -> tuple[str, int]:
    operator, raw_n = form_text(form, "operator"), form_text(form, "n")
    if not operator or not raw_n.isdigit() or len(raw_n) > 6:
        raise BadRequest("请选择清单上的一项")
    return operator, int(raw_n)


async def _done_or_refused(request: web.Request, back: str, act: Callable[[Connection], str]) -> web.Response:
    """Run a list action (the chat command's call) and go back with its answer, or with the
    reason it was refused (nothing written)."""
    try:
        notice = await request.app[CONSOLE].write(act)
    except UsageError as exc:
        return redirect_with(request, back, str(exc), error=True)
    return redirect_with(request, back, notice)


async def followup_snooze(request: web.Request) -> web.Response:
    """稍后: the same call as the chat's 稍后 编号 天数."""
    console = request.app[CONSOLE]
    form = await request.post()
    operator, n = _item(form)
    _own_list(request, operator)
    back = back_to(form, "/followup")
    raw_days = form_text(form, "days") or "1"
    if not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_SNOOZE:
        return redirect_with(request, back, f"没有改动：天数应为 1–{MAX_SNOOZE} 的整数。", error=True)

    def act(conn: Connection) -> str:
        return snooze_items(conn, operator, n, int(raw_days), console.now(conn))
    return await _done_or_refused(request, back, act)


async def followup_reassign(request: web.Request) -> web.Response:
    """转给: the same call as the chat's 转给 @成员 编号, with the same DM to the new owner."""
    console = request.app[CONSOLE]
    form = await request.post()
    operator, n = _item(form)
    _own_list(request, operator)
    back = back_to(form, "/followup")
    to = form_text(form, "to")
    if not to:
        return redirect_with(request, back, "没有改动：请选择要转给谁。", error=True)

    def act(conn: Connection) -> str:
        name = member_names(conn, [to]).get(to, to)
        text, dm = hand_over(conn, console.deps, operator, [n], to, name)
        if dm:
            enqueue(conn, [Outgoing(text=dm, to=to)], console.now(conn))
        return text
    return await _done_or_refused(request, back, act)


async def act_note(request: web.Request) -> web.Response:
    """备注 from a member's page: the same call as 备注 @成员 文字."""
    console = request.app[CONSOLE]
    form = await request.post()
    member, text = form_text(form, "member"), form_text(form, "text")
    back = back_to(form, f"/members/{quote(member, safe='')}")
    if not member:
        raise BadRequest("请在成员页上写备注")
    if not text:
        return redirect_with(request, back, "没有记下：备注是空的。", error=True)
    if len(text) > MAX_MEMBER_NOTE:
        return redirect_with(request, back, f"没有记下：备注最多 {MAX_MEMBER_NOTE} 个字，这条有 {len(text)} 个字。",
                             error=True)
    who = person_of(request)

    def act(conn: Connection) -> str:
        name = member_in_scope(conn, who, member)
        followup.add_note(conn, member, who.member, text, console.now(conn))
        return f"已记下对 {name} 的备注。"
    return redirect_with(request, back, await console.write(act))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/followup", followup_page)
    router.add_post("/followup/issue", followup_issue)
    router.add_post("/followup/done", followup_done)
    router.add_post("/followup/snooze", followup_snooze)
    router.add_post("/followup/reassign", followup_reassign)
    router.add_post("/act/note", act_note)
    router.add_get("/api/followup", get_followup)


# ---- what the shell shows of follow-ups ---------------------------------------------------------

def _followups(conn: Connection, view: MemberView) -> dict[str, Any]:
    return {"history": followup.history(conn, view.member),
            "open": followup.member_cases(conn, view.member, view.at.date()), "kinds": KIND_TITLES}


NAV = (NavEntry("跟进", "/followup", "followup", 20, OPERATOR),)
MEMBER = (MemberSection("followup/member_followups.html", 50, _followups),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV, member=MEMBER)
