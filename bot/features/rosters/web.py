"""The welcome page of the console: each room's welcome, on or off, its text and a preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.directory import room_names
from bot.core.feature import NavEntry, WebPart
from bot.features.rosters.welcome import DEFAULT_TEXT, MAX_TEXT, render, save_setting, setting, task_names
from bot.web.shell import CONSOLE, WEB_ACTOR, Console, check_params, form_text, page, redirect_with

TEMPLATES = Path(__file__).parent / "templates"
ACTIONS = ("on", "off", "save", "reset")


@dataclass(frozen=True)
class RoomWelcomeLine:
    room: str
    name: str
    enabled: bool
    custom: bool
    text: str  # the template as it is used (the default when not customised)
    preview: str  # with a sample newcomer's name and the room's tasks


def _rooms(conn: Connection) -> dict[str, Any]:
    lines = []
    for room, name in sorted(room_names(conn).items(), key=lambda x: x[1]):
        s = setting(conn, room)
        lines.append(RoomWelcomeLine(room, name, s.enabled, s.text is not None, s.template,
                                     render(s.template, ["新朋友"], task_names(conn, room))))
    return {"rooms": lines, "max_text": MAX_TEXT, "default_text": DEFAULT_TEXT}


async def welcome_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    context = await request.app[CONSOLE].read(_rooms)
    return await page(request, "rosters/welcome.html", context, nav="welcome")


def _save(conn: Connection, console: Console, room: str, action: str, text: str) -> str:
    if room not in room_names(conn, [room]):
        raise ValueError("没有这个群")
    at = int(console.now(conn).timestamp())
    if action == "save":
        save_setting(conn, room, by=WEB_ACTOR, at=at, text=text, enabled=True)
        return "已保存欢迎语。"
    if action == "reset":
        save_setting(conn, room, by=WEB_ACTOR, at=at, reset=True)
        return "已恢复默认欢迎语。"
    save_setting(conn, room, by=WEB_ACTOR, at=at, enabled=action == "on")
    return "已开启欢迎语。" if action == "on" else "已关闭欢迎语，新人入群时不再发送。"


async def welcome_save(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    room, action, text = form_text(form, "room"), form_text(form, "action"), form_text(form, "text")
    if action not in ACTIONS:
        return redirect_with(request, "/welcome", "不认识的操作", error=True)
    try:
        notice = await console.write(_save, console, room, action, text)
    except ValueError as exc:
        return redirect_with(request, "/welcome", str(exc), error=True)
    return redirect_with(request, "/welcome", notice)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/welcome", welcome_page)
    router.add_post("/welcome", welcome_save)


NAV = (NavEntry("欢迎语", "/welcome", "welcome", 70),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
