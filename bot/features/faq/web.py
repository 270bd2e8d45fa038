"""The 问答 page of the console: the answers, adding and deleting one, and the backtest."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.feature import NavEntry, WebPart
from bot.features.faq import service
from bot.features.tags.api import Tagging
from bot.web.shell import CONSOLE, WEB_ACTOR, Console, check_params, form_text, page, redirect_with
from tagging.faq import COOLDOWN, MAX_ANSWER, FaqSyntaxError, parse_faq
from tagging.guard import too_broad


def _context(conn: Connection, console: Console) -> dict[str, Any]:
    now = int(console.now(conn).timestamp())
    tz = console.settings.tz
    hits = service.preview(conn, console.deps.service(Tagging).tokenizer, now, console.settings.admin_ids)
    return {"entries": service.entries(conn), "max_answer": MAX_ANSWER, "days": service.BACKTEST_DAYS,
            "cooldown": int(COOLDOWN.total_seconds() // 60),
            "hits": [(h, datetime.fromtimestamp(h.at, tz)) for h in hits]}


async def faq_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    return await page(request, "faq/faq.html", await console.read(_context, console), nav="faq")


def _save(conn: Connection, console: Console, action: str, form: dict[str, str]) -> str:
    at = int(console.now(conn).timestamp())
    if action == "del":
        try:
            n = int(form["entry"])
        except ValueError:
            raise ValueError("问答编号应为数字") from None
        if not service.remove(conn, n):
            raise ValueError(f"没有编号为 {n} 的问答")
        return f"已删除问答 {n}。"
    try:
        keywords, answer = parse_faq(f"{form['keywords'].replace(' ', '')} {form['answer']}")
    except FaqSyntaxError as exc:
        raise ValueError(str(exc)) from None
    hits, total = service.reach(conn, keywords, console.deps.service(Tagging).tokenizer, at)
    if too_broad(hits, total):
        raise ValueError(f"关键词太宽了：最近 {service.BACKTEST_DAYS} 天 {total} 条消息里有 {hits} 条含有它，"
                         "请换更具体的词")
    return f"已添加问答 {service.add(conn, keywords, answer, WEB_ACTOR, at)}。"


async def faq_save(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    action = form_text(form, "action")
    if action not in ("add", "del"):
        return redirect_with(request, "/faq", "不认识的操作", error=True)
    values = {k: form_text(form, k) for k in ("entry", "keywords", "answer")}
    try:
        notice = await console.write(_save, console, action, values)
    except ValueError as exc:
        return redirect_with(request, "/faq", str(exc), error=True)
    return redirect_with(request, "/faq", notice)


TEMPLATES = Path(__file__).parent / "templates"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/faq", faq_page)
    router.add_post("/faq", faq_save)


NAV = (NavEntry("问答", "/faq", "faq", 75),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
