"""The 防广告 page of the console: each room's guard on or off, ad words, the blocklist, recent strikes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.accounts import bot_accounts
from bot.core.directory import member_names, room_names
from bot.core.feature import NavEntry, WebPart
from bot.features.guard import service
from bot.web.shell import CONSOLE, WEB_ACTOR, Console, check_params, form_text, page, redirect_with
from tagging import guard as rules

TEMPLATES = Path(__file__).parent / "templates"
ACTIONS = ("on", "off", "add", "del", "unblock")


def _context(conn: Connection, console: Console) -> dict[str, Any]:
    tz = console.settings.tz
    strikes = service.recent_strikes(conn, limit=50)
    blocked = service.blocklist(conn)
    names = member_names(conn, {s.member for s in strikes} | {b.member for b in blocked})
    rooms = room_names(conn)
    return {
        "rooms": service.room_guards(conn, bot_accounts(conn)),
        "patterns": [p for _, p in service.patterns(conn)],
        "blocked": [(b, names.get(b.member, b.member), datetime.fromtimestamp(b.at, tz)) for b in blocked],
        "strikes": [(s, names.get(s.member, s.member), rooms.get(s.room, s.room), datetime.fromtimestamp(s.at, tz),
                     rules.RULE_TITLES.get(s.rule, s.rule)) for s in strikes],
        "rule_titles": list(rules.RULE_TITLES.values()), "strikes_needed": rules.STRIKES, "days": rules.STRIKE_DAYS,
    }


async def guard_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    context = await console.read(_context, console)
    return await page(request, "guard/guard.html", context, nav="guard")


def _save(conn: Connection, console: Console, action: str, value: str) -> str:
    at = int(console.now(conn).timestamp())
    if action in ("on", "off"):
        if value not in room_names(conn, [value]):
            raise ValueError("没有这个群")
        service.set_enabled(conn, value, action == "on", WEB_ACTOR, at)
        return "已开启防广告。" if action == "on" else "已关闭防广告。"
    if action == "unblock":
        return "已移出黑名单。" if service.unblock(conn, value) else "不在黑名单上。"
    word = value.strip()
    if not word or len(word) > 30:
        raise ValueError("广告词应为 1 到 30 个字")
    if action == "del":
        return f"已删除广告词「{word}」。" if service.del_pattern(conn, word) else f"没有广告词「{word}」。"
    hits, total = service.pattern_reach(conn, word, at)
    if rules.too_broad(hits, total):
        raise ValueError(f"「{word}」太宽了：最近 7 天 {total} 条群消息里有 {hits} 条含有它，请换一个更具体的词")
    service.add_pattern(conn, word, WEB_ACTOR, at)
    return f"已添加广告词「{word}」（最近 7 天 {total} 条群消息里有 {hits} 条含有它）。"


async def guard_save(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    action, value = form_text(form, "action"), form_text(form, "value")
    if action not in ACTIONS:
        return redirect_with(request, "/guard", "不认识的操作", error=True)
    try:
        notice = await console.write(_save, console, action, value)
    except ValueError as exc:
        return redirect_with(request, "/guard", str(exc), error=True)
    return redirect_with(request, "/guard", notice)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/guard", guard_page)
    router.add_post("/guard", guard_save)


NAV = (NavEntry("防广告", "/guard", "guard", 85),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
