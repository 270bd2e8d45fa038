"""The 群发 page of the console: a form that selects members, a preview (who, when, the message),
then 确认发送; past campaigns with how many went out; the check-in reminders' return rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.directory import room_names
from bot.core.feature import NavEntry, WebPart
from bot.features.outreach.service import (
    SELECTION_KEYS,
    Selection,
    check_text,
    message_for,
    parse_selection,
    plan,
    select_members,
    send_campaign,
)
from bot.features.outreach.service import campaigns as campaign_lines
from bot.features.outreach.settings import OutreachSettings
from bot.features.outreach.texts import left_out_text, schedule_text
from bot.features.reminders.api import rate_text, reminder_stats
from bot.web.shell import CONSOLE, WEB_ACTOR, Console, check_params, form_text, page, read_form, redirect_with
from tiers.grades import GRADES
from tiers.lifecycle import STAGE_LABELS
from tiers.rfm import SEGMENT_LABELS
from tiers.types import TYPE_LABELS

TEMPLATES = Path(__file__).parent / "templates"
PREVIEW = "/outreach/preview"  # only shows who and when: not an action for the audit log
PREVIEW_NAMES = 30


@dataclass(frozen=True)
class Preview:
    description: str
    selected: int
    names: list[str]
    sending: int
    left_out: str
    schedule: str
    message: str


def _choices(conn: Connection) -> dict[str, Any]:
    return {
        "types": [("", "不限"), *((t.value, label) for t, label in TYPE_LABELS.items())],
        "segments": [("", "不限"), *((label, label) for label in SEGMENT_LABELS.values())],
        "stages": [("", "不限"), *((label, label) for label in STAGE_LABELS.values())],
        "grades": [("", "不限"), *((g, f"{g} 级") for g in GRADES)],
        "rooms": [("", "不限"), *sorted(room_names(conn).items(), key=lambda r: r[1])],
    }


def _context(conn: Connection, console: Console, form: dict[str, str], preview: Preview | None) -> dict[str, Any]:
    tz = console.settings.tz
    return {
        **_choices(conn), "form": form, "preview": preview,
        "campaigns": [(c, datetime.fromtimestamp(c.at, tz).strftime("%Y-%m-%d %H:%M"))
                      for c in campaign_lines(conn)],
        "reminders": [(s, rate_text(s.back, s.gone)) for s in reminder_stats(conn)],
        "settings": console.settings.of(OutreachSettings),
    }


def _form(source: Any) -> dict[str, str]:
    return {k: form_text(source, k) for k in (*SELECTION_KEYS, "text")}


def _selection(conn: Connection, form: dict[str, str]) -> tuple[Selection, str]:
    sel = parse_selection(conn, form)
    if sel.empty():
        raise ValueError("请至少选一个条件（发给一个群的全部成员：选这个群）。")
    return sel, check_text(form["text"])


def _preview(conn: Connection, console: Console, form: dict[str, str]) -> dict[str, Any]:
    sel, text = _selection(conn, form)
    now = console.now(conn)
    members = select_members(conn, console.deps, sel, now)
    p = plan(conn, console.settings, [m for m, _ in members], now)
    preview = Preview(sel.describe(conn), len(members), [n for _, n in members[:PREVIEW_NAMES]], len(p.times),
                      left_out_text(p, console.settings), schedule_text(p, now, console.settings), message_for(text))
    return _context(conn, console, form, preview)


def _send(conn: Connection, console: Console, form: dict[str, str]) -> str:
    sel, text = _selection(conn, form)
    now = console.now(conn)
    try:
        sent = send_campaign(conn, console.deps, by=WEB_ACTOR, via="console", sel=sel, text=text, now=now,
                             origin=console.pipeline.origin)
    except LookupError:
        raise ValueError(f"没有符合条件的成员（{sel.describe(conn)}），换个条件试试。") from None
    parts = [f"已安排群发 #{sent.campaign_id}：{len(sent.plan.times)} 人。",
             schedule_text(sent.plan, now, console.settings), left_out_text(sent.plan, console.settings)]
    return " ".join(p for p in parts if p)


async def outreach_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    context = await console.read(_context, console, _form({}), None)
    return await page(request, "outreach/outreach.html", context, nav="outreach")


async def outreach_preview(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = _form(await read_form(request))
    try:
        context = await console.read(_preview, console, form)
    except ValueError as exc:
        context = await console.read(_context, console, form, None)
        return await page(request, "outreach/outreach.html", context, nav="outreach", notice=str(exc), error=True,
                          status=400)
    return await page(request, "outreach/outreach.html", context, nav="outreach")


async def outreach_send(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = _form(await read_form(request))
    try:
        notice = await console.write(_send, console, form)
    except ValueError as exc:
        return redirect_with(request, "/outreach", str(exc), error=True)
    return redirect_with(request, "/outreach", notice)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/outreach", outreach_page)
    router.add_post(PREVIEW, outreach_preview)
    router.add_post("/outreach/send", outreach_send)


NAV = (NavEntry("群发", "/outreach", "outreach", 90),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV)
