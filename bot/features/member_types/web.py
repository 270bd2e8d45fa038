"""The room page of the console: the quadrant chart of a room (login days × speaking, one dot
per member) with its legend. Coordinates are computed here; the SVG elements are drawn by
"member_types/chart.svg" (no script, no external library: the browser's own tooltips)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.directory import room_names
from bot.core.feature import CsvColumn, MemberSection, MemberView, WebPart
from bot.features.member_types.service import scope_for, type_floor, type_some
from bot.features.points.api import Ledger
from bot.web.data import MemberLine, scope_view
from bot.web.shell import CONSOLE, BadRequest, Console, check_params, page
from tiers.types import TYPE_LABELS, MemberType, Typing, distribution

TEMPLATES = Path(__file__).parent / "templates"

WIDTH, HEIGHT = 760, 480
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 24, 48
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

TYPE_COLORS: dict[MemberType, str] = {
    MemberType.CORE: "#d92d20",
    MemberType.LURKER: "#1570ef",
    MemberType.BURST: "#dc6803",
    MemberType.DORMANT: "#98a2b3",
    MemberType.NEW: "#079455",
}


@dataclass(frozen=True, slots=True)
class Tick:
    at: str  # the coordinate, formatted
    label: int


@dataclass(frozen=True, slots=True)
class Dot:
    """One member's dot, every attribute ready to print: a room draws hundreds of them."""

    member: str
    href: str  # the member's page
    kind: str  # the type's value, for the CSS class
    color: str
    cx: str
    cy: str
    title: str  # the tooltip (plain text)


@dataclass(frozen=True, slots=True)
class Corner:
    kind: MemberType
    x: int
    y: int
    anchor: str
    color: str


@dataclass(frozen=True, slots=True)
class Thresholds:
    x: float
    y: float
    login: float
    speaking: float
    word: str  # 中位数 or 阈值


@dataclass(frozen=True)
class Chart:
    window_days: int
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    dots: list[Dot]
    thresholds: Thresholds | None
    corners: list[Corner]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_w: int = PLOT_W
    plot_h: int = PLOT_H


def _jitter(member: str) -> tuple[float, float]:
    """A small fixed offset per member, so members with equal numbers do not hide each other."""
    h = hashlib.blake2s(member.encode(), digest_size=4).digest()
    return (h[0] / 255 - 0.5), (h[1] / 255 - 0.5)


def _ticks(top: float, count: int = 5) -> list[int]:
    if top <= 0:
        return [0]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return list(range(0, int(top) + 1, int(step)))


def quadrant_chart(lines: Sequence[MemberLine], window_days: int,
                   thresholds: tuple[float, float, str] | None) -> Chart:
    """The chart's geometry. Speaking is drawn on a square-root scale: a few very talkative
    members would otherwise squeeze everybody else onto the bottom line."""
    # A little headroom, so the most talkative member's dot is not cut by the frame.
    top_speaking = 1.05 * max([x.typing.speaking for x in lines] + [thresholds[1] if thresholds else 0, 4])

    def sx(days: float) -> float:
        return LEFT + PLOT_W * min(days, window_days) / max(window_days, 1)

    def sy(speaking: float) -> float:
        return TOP + PLOT_H * (1 - math.sqrt(max(speaking, 0)) / math.sqrt(top_speaking))

    th = corners = None
    if thresholds:
        login_t, speaking_t, source = thresholds
        th = Thresholds(sx(login_t), sy(speaking_t), login_t, speaking_t,
                        "中位数" if source == "median" else "阈值")
        corners = [Corner(kind, x, y, anchor, TYPE_COLORS[kind]) for kind, x, y, anchor in (
            (MemberType.BURST, LEFT + 6, TOP + 28, "start"),
            (MemberType.CORE, LEFT + PLOT_W - 6, TOP + 28, "end"),
            (MemberType.DORMANT, LEFT + 6, TOP + PLOT_H - 8, "start"),
            (MemberType.LURKER, LEFT + PLOT_W - 6, TOP + PLOT_H - 8, "end"))]
    dots = []
    for x in sorted(lines, key=lambda m: m.id):
        t = x.typing
        jx, jy = _jitter(x.id)
        cx = sx(t.login_days) + jx * PLOT_W / max(window_days, 1) * 0.6
        cy = sy(t.speaking) + jy * 6
        dots.append(Dot(x.id, f"/members/{quote(x.id, safe='')}", t.type.value, TYPE_COLORS[t.type],
                        f"{cx:.1f}", f"{cy:.1f}", f"{x.label}：登录 {t.login_days} 天，发言 {t.speaking} 条"
                        f"（{TYPE_LABELS[t.type]}）"))
    return Chart(window_days,
                 [Tick(f"{sx(d):.1f}", d) for d in _ticks(window_days, 6)],
                 [Tick(f"{sy(s):.1f}", s) for s in _ticks(top_speaking, 6)],
                 dots, th, corners or [])


def _room(conn: Connection, console: Console, room: str) -> dict[str, Any]:
    names = room_names(conn, [room])
    if room not in names:
        raise BadRequest("没有这个群", 404)
    at = console.now(conn)
    view = scope_view(conn, console.settings, console.deps.service(Ledger).levels, at, room)
    return {"title": names[room], "room": room, "at": at, "window_days": view.scope.window.days,
            "members": len(view.lines), "thresholds": view.thresholds(),
            "counts": distribution(x.typing for x in view.lines),
            "chart": quadrant_chart(view.lines, view.scope.window.days, view.thresholds()),
            "TYPE_LABELS": TYPE_LABELS}


async def room_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    console = request.app[CONSOLE]
    context = await console.read(_room, console, request.match_info["room"])
    return await page(request, "member_types/room.html", context, nav="overview")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(r"/rooms/{room:.+}", room_page)


# ---- what the shell shows of types --------------------------------------------------------------

def _typings(conn: Connection, view: MemberView) -> dict[str, Any]:
    """The member's type in each of their rooms (no room: among all members)."""
    settings = view.deps.settings
    typings: list[tuple[str | None, Typing]] = []
    scopes: list[str | None] = [*view.rooms] or [None]
    for room in scopes:
        scope = scope_for(conn, view.at, room, settings.window_days, floor=type_floor(settings))
        typing = type_some(conn, view.at, scope, [view.member]).get(view.member)
        if typing:
            typings.append((room, typing))
    return {"typings": typings}


MEMBER = (MemberSection("member_types/member_types.html", 10, _typings),)
CSV = (CsvColumn("类型", lambda r: TYPE_LABELS[MemberType(r["type"])], 10),
       CsvColumn("类型说明", lambda r: r["type_explain"], 11))


WEB = WebPart(routes=add_routes, templates=TEMPLATES, member=MEMBER, csv=CSV)
