"""The trends page (趋势): each chart drawn on the server as SVG, with its numbers as a table and
as CSV (`/export/trends/<chart>.csv`), for the last 30 or 90 days, for every room or one."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.directory import room_names
from bot.core.feature import OPERATOR, NavEntry, OverviewSection, OverviewView, WebPart
from bot.features.trends import charts
from bot.features.trends.service import (
    COHORT_WEEKS,
    DAILY_LABELS,
    DAILY_SERIES,
    FUNNEL,
    PERIODS,
    TYPE_ORDER,
    Period,
    channel_funnel,
    cohorts,
    daily,
    lifecycle_funnel,
    period,
    types_by_week,
)
from bot.web.shell import CONSOLE, BadRequest, Console, check_params, csv_cell, page, person_of, require_room
from tiers.lifecycle import STAGE_LABELS
from tiers.types import TYPE_LABELS

TEMPLATES = Path(__file__).parent / "templates"
CHARTS = ("daily", "types", "lifecycle", "channels", "cohorts")
NAV = (NavEntry("趋势", "/trends", "trends", 5, OPERATOR),)
OVERVIEW_DAYS = 30


def _overview(conn: Connection, view: OverviewView) -> dict[str, Any]:
    """The overview's trend: the daily chart of the last 30 days, for every room (an admin) or
    the operator's first room, as the 趋势 page shows it."""
    room = None if view.within is None else min(view.within, default=None)
    if view.within is not None and room is None:
        return {"figure": None}
    p = period(view.at, OVERVIEW_DAYS, room, view.deps.settings.tz)
    return {"figure": daily_figure(conn, p), "days": OVERVIEW_DAYS, "room": room,
            "room_name": room_names(conn).get(room, room) if room else None}


OVERVIEW = (OverviewSection("trends/overview.html", 10, _overview),)


@dataclass(frozen=True)
class Table:
    """A chart's numbers: what the table shows and the CSV holds."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Figure:
    table: Table
    charts: tuple[tuple[str, charts.Chart], ...]  # (subtitle, chart)
    note: str = ""


def _pct(n: int, of: int) -> str:
    return f"{n / of:.0%}" if of else "—"


def daily_figure(conn: Connection, p: Period) -> Figure:
    found = daily(conn, p)
    days = p.days
    rows = tuple((d.isoformat(), *(found[s][d] for s in DAILY_SERIES)) for d in days)
    labels = [d.strftime("%m-%d") for d in days]

    def series(*names: str) -> list[tuple[str, list[int]]]:
        return [(DAILY_LABELS[n], [found[n][d] for d in days]) for n in names]
    return Figure(Table("daily", "每日活跃、消息、打卡、入群退群、新线索",
                        ("日期", *(DAILY_LABELS[s] for s in DAILY_SERIES)), rows),
                  (("活跃成员与打卡", charts.line_chart(labels, series("active", "checkins"))),
                   ("消息", charts.line_chart(labels, series("messages"), first_series=2)),
                   ("入群、退群、新线索",
                    charts.line_chart(labels, series("joins", "leaves", "leads"), first_series=3))),
                  "活跃：当天发过言、打过卡、用过命令或访问过的成员。")


def types_figure(conn: Connection, console: Console, p: Period) -> Figure:
    weeks = types_by_week(conn, console.deps, p)
    rows = tuple((d.isoformat(), *(c.get(t, 0) for t in TYPE_ORDER), sum(c.values())) for d, c in weeks.items())
    chart = charts.stacked_bars([d.strftime("%m-%d") for d in weeks],
                                [(TYPE_LABELS[t], [c.get(t, 0) for c in weeks.values()]) for t in TYPE_ORDER])
    return Figure(Table("types", "成员类型（每周）", ("截至", *(TYPE_LABELS[t] for t in TYPE_ORDER), "合计"), rows),
                  (("", chart),), f"每 7 天一次，按当时近 {console.settings.window_days} 天的登录和发言分类。")


def lifecycle_figure(conn: Connection, console: Console, p: Period, at: datetime) -> Figure:
    funnel = lifecycle_funnel(conn, console.deps, at, p.room)
    total = sum(funnel.values())
    rows = tuple((STAGE_LABELS[s], n, _pct(n, total)) for s, n in funnel.items())
    chart = charts.horizontal_bars([(STAGE_LABELS[s], n) for s, n in funnel.items()],
                                   series=[0, 1, 5, 0, 2, 3][:len(FUNNEL)])
    return Figure(Table("lifecycle", "生命周期漏斗（现在）", ("阶段", "人数", "占比"), rows), (("", chart),))


def channels_figure(conn: Connection, p: Period) -> Figure:
    found = channel_funnel(conn, p)
    rows = tuple((f.channel, f.friends, f.joined, f.checked_in, f.ordered) for f in found)
    bars: list[tuple[str, int]] = []
    series: list[int] = []
    for f in found:
        for k, (label, n) in enumerate((("加好友", f.friends), ("进群", f.joined), ("打卡", f.checked_in),
                                        ("下单", f.ordered))):
            bars.append((f"{f.channel[:6]}·{label}", n))
            series.append(k)
    chart = charts.horizontal_bars(bars, series=series)
    return Figure(Table("channels", "个人号漏斗：加好友 → 进群 → 打卡 → 下单（按首个渠道）",
                        ("渠道", "加好友", "进群", "打卡", "下单"), rows), (("", chart),) if found else (),
                  "本期通过的好友（不含机器人之前就有的好友），之后是否进群、打过卡、下过单。")


def cohorts_figure(conn: Connection, p: Period) -> Figure:
    found = cohorts(conn, p)
    weeks = [f"W+{k}" for k in range(1, COHORT_WEEKS + 1)]
    rows = tuple((c.week.isoformat(), c.size, *("" if n is None else f"{n}（{_pct(n, c.size)}）" for n in c.retained))
                 for c in found)
    chart = charts.heat_grid([f"{c.week:%m-%d} {c.size}人" for c in found], weeks,
                             [[c.share(k) for k in range(COHORT_WEEKS)] for c in found])
    return Figure(Table("cohorts", "按入群周的留存", ("入群周（周一）", "人数", *weeks), rows),
                  (("", chart),) if found else (),
                  "某周入群的成员里，之后第 1…8 周有活跃的比例；还没过完的周留空。")


def figures(conn: Connection, console: Console, days: int, room: str | None) -> dict[str, Figure]:
    at = console.now(conn)
    p = period(at, days, room, console.settings.tz)
    out = {"daily": daily_figure(conn, p), "types": types_figure(conn, console, p),
           "lifecycle": lifecycle_figure(conn, console, p, at)}
    if room is None:  # friends belong to the account, not to a room
        out["channels"] = channels_figure(conn, p)
    out["cohorts"] = cohorts_figure(conn, p)
    return out


def _params(request: web.Request) -> tuple[int, str | None]:
    check_params(request.query, ("days", "room"))
    raw = request.query.get("days", "30")
    if raw not in {str(d) for d in PERIODS}:
        raise BadRequest(f"days 只能是 {'、'.join(map(str, PERIODS))} 之一")
    room = request.query.get("room") or None
    who = person_of(request)
    if room is None and not who.is_admin:
        room = min(who.rooms) if who.rooms else None  # an operator's trends are of their rooms
        if room is None:
            raise BadRequest("你还没有负责的群。", 403)
    require_room(request, room)
    return int(raw), room


def _page(conn: Connection, console: Console, days: int, room: str | None,
          rooms: Sequence[str] | None) -> dict[str, Any]:
    names = room_names(conn)
    if room is not None and room not in names:
        raise BadRequest("没有这个群", 404)
    return {"title": "趋势", "figures": figures(conn, console, days, room), "days": days, "room": room,
            "periods": PERIODS, "at": console.now(conn), "room_name": names.get(room, "") if room else "全部群",
            "room_choices": [(r, n) for r, n in sorted(names.items(), key=lambda x: x[1])
                             if rooms is None or r in rooms]}


async def trends_page(request: web.Request) -> web.Response:
    days, room = _params(request)
    console = request.app[CONSOLE]
    who = person_of(request)
    context = await console.read(_page, console, days, room, None if who.is_admin else sorted(who.rooms))
    return await page(request, "trends/trends.html", context, nav="trends")


def _csv(conn: Connection, console: Console, name: str, days: int, room: str | None) -> str:
    found = figures(conn, console, days, room)
    if name not in found:
        raise BadRequest(f"没有这张图：{name}（可用的有：{'、'.join(found)}）", 404)
    table = found[name].table
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads the file as UTF-8
    writer = csv.writer(out)
    writer.writerow(table.headers)
    writer.writerows([csv_cell(v) for v in row] for row in table.rows)
    return out.getvalue()


async def trends_csv(request: web.Request) -> web.Response:
    days, room = _params(request)
    name = request.match_info["chart"]
    console = request.app[CONSOLE]
    text = await console.read(_csv, console, name, days, room)
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="trends-{name}-{days}d.csv"'})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/trends", trends_page)
    router.add_get(r"/export/trends/{chart:[a-z]{1,20}}.csv", trends_csv)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV, overview=OVERVIEW)
