"""The member list (filters, sorting, pages), its CSV export, and one member's page."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.activity import Window
from bot.core.directory import room_names, rooms_of
from bot.core.feature import MemberView
from bot.core.report import ReportScope, member_rows
from bot.features.friends.service import who_filter
from bot.features.points.api import Ledger
from bot.features.segments.report import assess_scope
from bot.features.segments.service import Assessment
from bot.web.data import (
    MemberLine,
    ScopeView,
    holders_of,
    member_dicts,
    member_row,
    scope_view,
    tag_names,
)
from bot.web.filters import WHO, MemberQuery, page_of, parse_member_query, select_lines
from bot.web.shell import CONSOLE, PERSON, BadRequest, Console, check_params, csv_cell, page
from tiers.grades import GRADES
from tiers.lifecycle import STAGE_LABELS
from tiers.rfm import SEGMENT_LABELS
from tiers.types import TYPE_LABELS, MemberType

CSV_COLUMNS = ["微信ID", "昵称", "所在群"]  # then the declared columns (Feature.csv and the shell's counts)


@dataclass(frozen=True)
class Selection:
    query: MemberQuery
    at: datetime
    lines: list[MemberLine]
    window_days: int
    names: dict[str, str]  # room id → name
    view: ScopeView  # the whole scope, typed
    playbook: Assessment  # the whole scope's segments, stages and grades


def select_members(conn: Connection, console: Console, params: dict[str, str],
                   within: frozenset[str] | None = None) -> Selection:
    """The members a query string asks for, filtered and sorted (the page, CSV and API); with
    `within`, only members of those rooms (an operator's)."""
    deps = console.deps
    names = room_names(conn)
    query = parse_member_query(params, deps.service(Ledger).levels, names)
    at = console.now(conn)
    view = scope_view(conn, deps.settings, deps.service(Ledger).levels, at, query.room, console.cache)
    holders = holders_of(conn, query.tag, at) if query.tag else None
    found = assess_scope(conn, deps, at, query.room, cache=console.cache)
    allowed = who_filter(conn, query.who) if query.who else None
    lines = select_lines(view.lines, query, holders, found, allowed)
    if within is not None:
        theirs = {m for m, rooms in rooms_of(conn, None).items() if within.intersection(rooms)}
        lines = [x for x in lines if x.id in theirs]
        names = {r: n for r, n in names.items() if r in within}
    return Selection(query, at, lines, view.scope.window.days, names, view, found)


# ---- the list -------------------------------------------------------------------------------

def scope_of(request: web.Request) -> frozenset[str] | None:
    """The rooms a request may see: None (all) for a global admin."""
    who = request.get(PERSON)
    return None if who is None or who.is_admin else who.rooms


def _members(conn: Connection, console: Console, params: dict[str, str],
             within: frozenset[str] | None) -> dict[str, Any]:
    s = select_members(conn, console, params, within)
    query = s.query
    shown, pages = page_of(s.lines, query)
    tag_choices = [("", "全部标签"), *[(t, t) for t in tag_names(conn)]]
    if query.tag and (query.tag, query.tag) not in tag_choices:
        tag_choices.append((query.tag, query.tag))

    def head(key: str) -> dict[str, Any]:
        desc = not (query.sort == key and query.desc)
        return {"href": query.params(sort=key, desc=desc if key != "name" or query.sort == key else False,
                                     page=1),
                "arrow": ("↓" if query.desc else "↑") if query.sort == key else ""}

    return {
        "query": query, "at": s.at, "window_days": s.window_days, "total": len(s.lines),
        "where": s.names.get(query.room, query.room) if query.room else "全部群",
        "shown": shown, "pages": pages, "names": s.names,
        "rows": {r["id"]: r for r in member_dicts(conn, s.view, shown, console.report, console.cache)},
        "grade_choices": [("", "全部客户等级"), *[(g, f"{g} 级") for g in GRADES]],
        "segment_choices": [("", "全部 RFM 分层"), *[(k.value, v) for k, v in SEGMENT_LABELS.items()]],
        "stage_choices": [("", "全部生命周期"), *[(k.value, v) for k, v in STAGE_LABELS.items()]],
        "who_choices": [("", "好友和群成员"), *WHO.items()],
        "heads": {k: head(k) for k in ("name", "type", "login_days", "speaking", "points")},
        "room_choices": [("", "全部群"), *sorted(s.names.items(), key=lambda x: x[1])],
        "type_choices": [("", "全部类型"), *[(k.value, TYPE_LABELS[k]) for k in MemberType]],
        "tag_choices": tag_choices,
        "level_choices": [("", "全部等级"),
                          *[(str(lv.n), f"Lv{lv.n} {lv.name}") for lv in console.deps.service(Ledger).levels]],
    }


async def members_page(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    context = await console.read(_members, console, dict(request.query), scope_of(request))
    return await page(request, "members.html", context, nav="members")


def _members_csv(conn: Connection, console: Console, params: dict[str, str],
                 within: frozenset[str] | None) -> str:
    s = select_members(conn, console, params, within)
    out = io.StringIO()
    out.write("\ufeff")  # a BOM, so Excel reads the file as UTF-8 and Chinese stays readable
    writer = csv.writer(out)
    columns = console.slots.csv
    writer.writerow([*CSV_COLUMNS, *(c.title for c in columns)])
    for r in member_dicts(conn, s.view, s.lines, console.report, console.cache):
        writer.writerow([csv_cell(v) for v in (
            r["id"], r["name"] or "", "、".join(s.names.get(x, x) for x in r["rooms"]),
            *(c.value(r) for c in columns))])
    return out.getvalue()


async def members_csv(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    params = {k: v for k, v in request.query.items() if k not in ("page", "per_page")}
    text = await console.read(_members_csv, console, params, scope_of(request))
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="members.csv"'})


# ---- one member -----------------------------------------------------------------------------

def _member(conn: Connection, console: Console, member: str) -> dict[str, Any]:
    """The member's page: the shell's rows, then what each feature declares (Feature.member)."""
    deps = console.deps
    row = member_row(conn, member)
    if row is None:
        raise BadRequest("没有这位成员", 404)
    at = console.now(conn)
    names = room_names(conn)
    rooms = rooms_of(conn, [member]).get(member, [])
    # The member's report row with every feature's fields; no typing (typed={}): the types
    # section types the member in each of their rooms itself.
    report = member_rows(conn, ReportScope(at, Window.ending(at.date(), deps.settings.window_days), None, typed={}),
                         console.report, [member])[0]
    view = MemberView(member, at, rooms, names, report, deps)
    parts = [(part, part.data(conn, view)) for part in console.slots.member]
    return {
        "title": row.name or member, "member": member, "row": row, "at": at, "names": names, "rooms": rooms,
        "view": view, "facts": [(p, d) for p, d in parts if p.place == "facts"],
        "sections": [(p, d) for p, d in parts if p.place == "sections"],
    }


async def member_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    context = await console.read(_member, console, request.match_info["member"])
    who = request.get(PERSON)
    context["can_manage"] = who is None or who.is_admin or any(who.may_manage(r) for r in context["rooms"])
    return await page(request, "member.html", context, nav="members")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/members", members_page)
    router.add_get("/export/members.csv", members_csv)
    router.add_get(r"/members/{member:.+}", member_page)
