"""What every console handler shares: the `Console` state and its app keys, reads and writes in
the thread pool, responses (pages through the jinja2 layout, JSON, redirects with a one-time
notice) and the client-error type. Feature web modules import this, never `bot.web.app`.
"""

from __future__ import annotations

import asyncio
import json
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import Any, TypeVar

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.engine import Connection

from bot.core.cache import SlowCache
from bot.core.deps import Deps
from bot.core.directory import member_names, rooms_of
from bot.core.events import Event
from bot.core.feature import (
    ADMIN,
    OPERATOR,
    CsvColumn,
    Feature,
    MemberSection,
    NavEntry,
    OverviewSection,
    WebPart,
)
from bot.core.pipeline import Pipeline
from bot.core.report import ReportExtra
from bot.core.settings import Settings
from bot.features.people.service import Person
from bot.web.auth import Session, Signer
from bot.web.data import as_of

T = TypeVar("T")

MAX_BODY = 20 * 1024 * 1024  # a batch of 1000 events with long Chinese texts fits
MAX_FORM = 64 * 1024
MAX_NEXT = 2000
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
FLASH_COOKIE = "qg_flash"
WEB_ACTOR = "网页控制台"  # who changed a rule or task, as the audit fields record it


class BadRequest(Exception):
    """Input the client must fix; the message says what, in Chinese."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# The shell's own pages in the nav bar; each feature declares its own (WebPart.nav).
SHELL_NAV = (NavEntry("概览", "/", "overview", 0, OPERATOR), NavEntry("成员", "/members", "members", 10, OPERATOR))
# The shell's own columns of the member CSV after id, name and rooms: the core counts.
SHELL_CSV = (CsvColumn("登录天数", lambda r: r["login_days"], 20), CsvColumn("发言", lambda r: r["speaking"], 21),
             CsvColumn("消息", lambda r: r["messages"], 22))
# The request key under which the auth middleware may put the viewer's role (ADMIN if unset).
ROLE = web.RequestKey("role", str)


def web_part(feature: Feature) -> WebPart:
    """The feature's part of the console: its web module's `WEB`, loaded on first use (only the
    console asks for it), or an empty part for a feature without pages."""
    if feature.web is None:
        return WebPart()
    part = import_module(feature.web).WEB
    if not isinstance(part, WebPart):
        raise TypeError(f"{feature.web}.WEB should be a WebPart, not {type(part).__name__}")
    return part


@dataclass(frozen=True)
class Slots:
    """What the features declare for the shell, in order: nav entries, member-page parts, CSV
    columns, overview parts."""

    nav: tuple[NavEntry, ...] = SHELL_NAV
    member: tuple[MemberSection, ...] = ()
    csv: tuple[CsvColumn, ...] = SHELL_CSV
    overview: tuple[OverviewSection, ...] = ()

    @classmethod
    def of(cls, features: Sequence[Feature]) -> Slots:
        def ordered(items: list[Any]) -> tuple[Any, ...]:
            return tuple(sorted(items, key=lambda x: x.order))
        parts = [web_part(f) for f in features]
        return cls(ordered([*SHELL_NAV, *(e for p in parts for e in p.nav)]),
                   ordered([s for p in parts for s in p.member]),
                   ordered([*SHELL_CSV, *(c for p in parts for c in p.csv)]),
                   ordered([s for p in parts for s in p.overview]))


@dataclass
class Console:
    """What every handler needs, built once per app."""

    pipeline: Pipeline
    deps: Deps
    signer: Signer
    report: Sequence[ReportExtra] = ()  # the features' report fields, for member rows
    slots: Slots = field(default_factory=Slots)
    cache: SlowCache = field(default_factory=SlowCache)
    executor: ThreadPoolExecutor | None = None
    clock: Callable[[Connection], datetime] | None = None
    wall: Callable[[], float] = time.time  # the wall clock of sessions, links and the login throttle

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def password(self) -> str:
        return getattr(self.settings, "web_password", "") or ""

    def now(self, conn: Connection) -> datetime:
        return self.clock(conn) if self.clock else as_of(conn, self.settings)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in the app's pool (CPU work such as rendering a big page)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` in the pool on a read connection."""
        def call() -> T:
            with self.deps.engine.connect() as conn:
                return fn(conn, *args)
        return await self.run(call)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` in the pool inside one transaction."""
        def call() -> T:
            with self.deps.engine.begin() as conn:
                return fn(conn, *args)
        return await self.run(call)

    async def ingest(self, events: list[Event]) -> tuple[int, int, list[tuple[str, str]]]:
        """Events through the real pipeline, silently; returns (stored, duplicates, refused),
        refused being the (id, reason) of events the store contradicts (a refund of an
        unknown order)."""
        def call() -> tuple[int, int, list[tuple[str, str]]]:
            refused: list[tuple[str, str]] = []
            # commands=False: a message pushed through the API is never a chat command.
            stored, _ = (self.pipeline.ingest(events, silent=True, commands=False, refused=refused) if events
                         else (0, []))
            return stored, len(events) - stored - len(refused), refused
        return await self.run(call)


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("session", Session)
PERSON = web.RequestKey("person", Person)  # who is logged in, with their role and rooms


def person_of(request: web.Request) -> Person:
    """Who sent this (logged-in) request."""
    return request[PERSON]


def actor_of(request: web.Request) -> str:
    """Who did a console action, as the stores' `by` fields record it: the person's member id."""
    who = request.get(PERSON)
    return who.member if who is not None else WEB_ACTOR


def require_room(request: web.Request, room: str | None) -> None:
    """403 with a plain sentence when the person may not see `room`."""
    who = request.get(PERSON)
    if who is not None and not who.sees(room):
        raise BadRequest("这个群不在你负责的范围内：运营和群管理员只能查看和操作自己负责的群。"
                         "如需查看，请联系管理员把你设为这个群的运营。", 403)


def require_admin(request: web.Request) -> None:
    """403 for everyone but a global admin."""
    who = request.get(PERSON)
    if who is not None and not who.is_admin:
        raise BadRequest("这个页面只有管理员能用：运营和群管理员只能查看自己负责的群。", 403)


# ---- responses -----------------------------------------------------------------------------

def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), status=status,
                        content_type="application/json", charset="utf-8", headers=headers)


def html_response(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def cookie_kwargs(request: web.Request) -> dict[str, Any]:
    """HttpOnly, SameSite=Lax, and Secure when the console's address (QUNGUAN_WEB_URL) is https."""
    secure = request.app[CONSOLE].settings.secure_cookies
    return {"httponly": True, "samesite": "Lax", "path": "/", **({"secure": True} if secure else {})}


async def render(request: web.Request, template: str, context: Mapping[str, Any], *,
                 status: int = 200) -> web.Response:
    """A template rendered in the pool (a room's chart is hundreds of elements), as HTML.
    The layout learns the session's CSRF token from the request, if logged in."""
    console = request.app[CONSOLE]
    session = request.get(SESSION)
    env = aiohttp_jinja2.get_env(request.app)
    ctx = {"csrf": session.csrf if session else None, "me": request.get(PERSON), **context}
    body = await console.run(env.get_template(template).render, ctx)
    return html_response(body, status)


async def page(request: web.Request, template: str, context: Mapping[str, Any], *, nav: str,
               status: int = 200, notice: str | None = None, error: bool = False) -> web.Response:
    """A logged-in page: the template in the layout with `nav` marked, and a one-time notice
    (given, or carried over a redirect in a signed cookie)."""
    console = request.app[CONSOLE]
    carried = console.signer.unseal("flash", request.cookies.get(FLASH_COOKIE))
    if notice is None and carried:
        error, notice = carried[0] == "E", carried[1:]
    role = request.get(ROLE, ADMIN)
    entries = [e for e in console.slots.nav if e.visible_to(role)]
    resp = await render(request, template, {**context, "nav": nav, "nav_entries": entries, "notice": notice,
                                            "notice_error": error}, status=status)
    if FLASH_COOKIE in request.cookies:
        resp.del_cookie(FLASH_COOKIE, path="/")
    return resp


async def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return await render(request, "error.html", {"status": status, "message": message}, status=status)


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def redirect_with(request: web.Request, location: str, notice: str, *,
                  error: bool = False) -> web.Response:
    """A redirect after a POST, with a notice shown once on the next page."""
    console = request.app[CONSOLE]
    resp = see_other(location)
    resp.set_cookie(FLASH_COOKIE, console.signer.seal("flash", ("E" if error else "N") + notice),
                    max_age=60, **cookie_kwargs(request))
    return resp


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The posted form, after checking its type and size."""
    if request.content_type not in FORM_TYPES:
        raise BadRequest("表单的 Content-Type 应为 application/x-www-form-urlencoded", 415)
    if request.content_length is None:
        raise BadRequest("请求缺少 Content-Length", 411)
    if request.content_length > MAX_FORM:
        raise BadRequest(f"表单太大（上限 {MAX_FORM // 1024} KiB）", 413)
    return await request.post()


def form_text(form: Mapping[str, object], key: str) -> str:
    """A text field of a posted form, stripped ('' when missing or a file)."""
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: one starting with = + - @ is a formula there,
    and nicknames and notes are attacker-controlled."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def check_params(params: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(f"不认识的参数：{'、'.join(unknown)}。可用的有：{'、'.join(allowed)}")


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a local path only. One leading `/` and never a second
    one or a backslash after it (`//host`, `/\\host`), no scheme, and no control, format or
    whitespace character anywhere: browsers drop a tab or newline, so `/\\t/evil.example`
    would become `//evil.example`."""
    if (not value or len(value) > MAX_NEXT or not value.startswith("/")
            or value[1:2] in ("/", "\\") or "\\" in value):
        return "/"
    if any(c.isspace() or unicodedata.category(c)[0] in "CZ" for c in value):
        return "/"
    return value



def back_to(form: Mapping[str, object], default: str) -> str:
    """Where an action form goes back to: its `back` field when that is a local path."""
    back = form_text(form, "back")
    return safe_next(back) if back else default


def member_in_scope(conn: Connection, who: Person | None, member: str) -> str:
    """The member's name, when they exist and `who` may act on them (a member of one of their
    rooms; anyone for a global admin); else a 404 or 403 with a plain sentence."""
    name = member_names(conn, [member], raw=True)
    if not member or member not in name:
        raise BadRequest("没有这位成员", 404)
    if who is not None and not who.is_admin:
        rooms = rooms_of(conn, [member]).get(member, [])
        if not any(who.sees(r) for r in rooms):
            raise BadRequest("这位成员不在你负责的群里：运营和群管理员只能查看和操作自己负责的群的成员。", 403)
    return name[member] or member


def require_manager(conn: Connection, who: Person | None, member: str) -> None:
    """403 unless `who` is a global admin or an admin of one of the member's rooms (the admin
    actions of a member's page: points, grades)."""
    if who is None or who.is_admin:
        return
    rooms = rooms_of(conn, [member]).get(member, [])
    if not any(who.may_manage(r) for r in rooms):
        raise BadRequest("只有管理员（或这位成员所在群的群管理员）能调积分和设等级。", 403)
