"""The people page (管理员与运营): global admins, per-room admins (removable here, as with
`/admin del @成员`) and operators, and whom each console session belongs to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.directory import member_names, room_names
from bot.core.feature import NavEntry, WebPart
from bot.features.followup.api import RoomOperator
from bot.features.people.service import remove_room_admin, room_admins
from bot.web.shell import CONSOLE, Console, check_params, form_text, page, redirect_with, require_admin

TEMPLATES = Path(__file__).parent / "templates"
NAV = (NavEntry("管理员与运营", "/people", "people", 120),)


def _people(conn: Connection, console: Console) -> dict[str, Any]:
    admins = sorted(console.settings.admin_ids)
    room_admin_rows = room_admins(conn)
    operators = list(conn.execute(select(col(RoomOperator.room), col(RoomOperator.member))
                                  .order_by(col(RoomOperator.room), col(RoomOperator.member))))
    names = member_names(conn, [*admins, *(r.member for r in room_admin_rows), *(m for _, m in operators)])
    return {"title": "管理员与运营", "admins": admins, "room_admins": room_admin_rows,
            "operators": operators, "names": names, "rooms": room_names(conn)}


async def people_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    require_admin(request)
    console = request.app[CONSOLE]
    return await page(request, "people/people.html", await console.read(_people, console), nav="people")


async def people_remove(request: web.Request) -> web.Response:
    require_admin(request)
    console = request.app[CONSOLE]
    form = await request.post()
    room, member = form_text(form, "room"), form_text(form, "member")
    if not room or not member:
        return redirect_with(request, "/people", "请选择要移除的群管理员。", error=True)

    def remove(conn: Connection) -> tuple[bool, str]:
        name = member_names(conn, [member]).get(member, member)
        where = room_names(conn, [room]).get(room, room)
        return remove_room_admin(conn, room, member), f"{name}（{where}）"
    removed, who = await console.write(remove)
    if not removed:
        return redirect_with(request, "/people", f"{who} 不是群管理员，没有改动。", error=True)
    return redirect_with(request, "/people", f"已移除群管理员 {who}。")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/people", people_page)
    router.add_post("/people/remove", people_remove)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
