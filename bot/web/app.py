"""The aiohttp application: middlewares (errors, login, CSRF), security headers, the thread
pool, the templates and static files, the shell's routes and every feature's, and start-up.

Handlers never touch SQLite on the event loop: reads and writes run in a small thread pool
owned by the app (created and shut down in `cleanup_ctx`). Every error a client can cause
gets a 4xx with a Chinese reason; anything else is logged with its traceback and answered
with a plain 500, never the traceback.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core import audit
from bot.core.deps import Deps
from bot.core.directory import rooms_of
from bot.core.feature import ADMIN, OPERATOR, Feature, report_fields
from bot.core.pipeline import Pipeline
from bot.features.people.service import Person, person
from bot.web import api, health, login, templating
from bot.web.auth import (
    SESSION_COOKIE,
    TOUCH_EVERY,
    Session,
    Signer,
    bearer_token,
    close_session,
    same_secret,
    session_seen,
    touch_session,
)
from bot.web.pages import members, overview
from bot.web.shell import (
    CONSOLE,
    FLASH_COOKIE,
    MAX_BODY,
    PERSON,
    ROLE,
    SESSION,
    BadRequest,
    Console,
    Slots,
    actor_of,
    error_page,
    form_text,
    is_api,
    json_response,
    read_form,
    require_admin,
    require_room,
    web_part,
)

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STYLESHEET = "/static/app.css"
PUBLIC_PATHS = frozenset({"/login", STYLESHEET, "/healthz"})
LINK_PATH = "/login/link/"  # a one-time link from a DM: it logs in, so it needs no session
EVENTS_PATH = "/api/events"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def error_response(request: web.Request, status: int, message: str) -> web.Response:
    if is_api(request):
        resp = json_response({"error": message}, status)
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="qunguan"'
        return resp
    return await error_page(request, status, message)


_AIOHTTP_REASONS = {
    404: "没有这个页面",
    405: "不支持这个请求方法",
    413: f"请求体太大（上限 {MAX_BODY // 1024 // 1024} MiB）",
}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as exc:
        return await error_response(request, exc.status, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reason = _AIOHTTP_REASONS.get(exc.status, exc.reason)
        resp = await error_response(request, exc.status, reason)
        if "Allow" in exc.headers:
            resp.headers["Allow"] = exc.headers["Allow"]
        return resp
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return await error_response(request, 500, "服务器内部错误，已记录日志。")


class NoLongerAllowed(Exception):
    """The session's member is no longer an admin or operator."""


async def live_session(request: web.Request) -> tuple[Session, Person] | None:
    """The request's console session and whose it is: a validly signed cookie whose session was
    not logged out and has not been idle too long (then it is ended). A session whose member
    is no longer an admin or operator is ended and refused (NoLongerAllowed)."""
    console = request.app[CONSOLE]
    now = int(time.time())
    session = console.signer.verify(request.cookies.get(SESSION_COOKIE), now)
    if session is None:
        return None
    seen = await console.read(session_seen, session.nonce)
    if seen is None:
        return None  # logged out
    seen_at, member = seen
    if not member:  # a session of 0.2.0's shared password names nobody: log in again
        await console.write(close_session, session.nonce)
        return None
    if now - seen_at > console.settings.web_idle_minutes * 60:
        await console.write(close_session, session.nonce)
        return None
    who = await console.read(person, console.settings, member)
    if who is None:
        await console.write(close_session, session.nonce)
        raise NoLongerAllowed
    if now - seen_at >= TOUCH_EVERY:
        await console.write(touch_session, session.nonce, now)
    return session, who


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pages need a session (else a redirect to the login page). The API token may only post
    events; reading the API takes a session. Every form POST needs a valid CSRF token."""
    console = request.app[CONSOLE]
    path = request.path
    if path in (STYLESHEET, "/healthz"):
        return await handler(request)
    if is_api(request):
        token = bearer_token(request.headers.get("Authorization"))
        if token is not None:
            if not console.settings.api_token:
                raise BadRequest("事件接口未开启：请设置 QUNGUAN_API_TOKEN", 401)
            if not same_secret(token, console.settings.api_token):
                raise BadRequest("令牌无效", 401)
            if not (path == EVENTS_PATH and request.method == "POST"):
                raise BadRequest(f"API 令牌只能用来推送事件（POST {EVENTS_PATH}）；"
                                 "读取数据请登录控制台", 403)
            return await handler(request)
        found = await _session(request)
        if found is not None and request.method == "GET":
            return await handler(request)
        raise BadRequest("需要 Authorization: Bearer <令牌>（或登录后的会话）", 401)
    found = await _session(request)
    session = found[0] if found else None
    if path in PUBLIC_PATHS or path.startswith(LINK_PATH):
        return await handler(request)
    if session is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
        raise BadRequest("未登录或登录已过期，请重新登录", 401)
    if request.method == "POST":
        form = await read_form(request)
        if not Signer.check_csrf(form_text(form, "csrf"), session.csrf):
            raise BadRequest("表单已失效（CSRF 校验失败），请刷新页面后重试", 403)
    return await handler(request)


async def _session(request: web.Request) -> tuple[Session, Person] | None:
    try:
        found = await live_session(request)
    except NoLongerAllowed:
        raise BadRequest("你现在不是管理员或运营，不能再使用控制台。如有需要，请联系管理员。", 403) from None
    if found is not None:
        request[SESSION], request[PERSON] = found
        request[ROLE] = ADMIN if found[1].is_admin else OPERATOR  # what the nav shows them
    return found


# What an operator or room admin may open: their rooms' views and their own work. Every other
# page (rules, tasks, welcome, 群发, outbox, audit, shop, RFM…) is a global admin's.
OPERATOR_PATHS = frozenset({"/", "/members", "/export/members.csv", "/followup", "/api/members",
                            "/api/followup", "/logout", "/friends", "/friends/accept"})
OPERATOR_PREFIXES = ("/members/", "/rooms/", "/followup/", "/trends", "/export/trends/", "/act/")


@web.middleware
async def scope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An operator or room admin sees and acts on their own rooms only: other pages and other
    rooms answer 403 with a plain sentence (a member page: when the member is in none of them)."""
    who = request.get(PERSON)
    path = request.path
    if who is None or who.is_admin or path in PUBLIC_PATHS or path == STYLESHEET or path.startswith(LINK_PATH):
        return await handler(request)
    if path not in OPERATOR_PATHS and not path.startswith(OPERATOR_PREFIXES):
        require_admin(request)
    room = request.query.get("room")
    if room:
        require_room(request, room)
    if path.startswith("/rooms/"):
        require_room(request, request.match_info.get("room"))
    if path.startswith("/members/"):
        member = request.match_info.get("member", "")
        console = request.app[CONSOLE]
        rooms = (await console.read(lambda conn: rooms_of(conn, [member]))).get(member, [])
        if not any(who.sees(r) for r in rooms):
            raise BadRequest("这位成员不在你负责的群里：运营和群管理员只能查看自己负责的群的成员。", 403)
    return await handler(request)


# Not console actions: logging in and out are audited by the login module, events by nobody.
UNAUDITED = frozenset({"/login", "/logout", "/outreach/preview"})


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every console action (a form POST that went through) goes to the audit log, with the
    form as asked and the notice the console showed as what changed. A POST refused as bad
    input raises before this records anything; one answered with an error notice is no action."""
    response = await handler(request)
    if request.method != "POST" or is_api(request) or request.path in UNAUDITED or response.status >= 400:
        return response
    console = request.app[CONSOLE]
    flash = response.cookies.get(FLASH_COOKIE)
    notice = console.signer.unseal("flash", flash.value) if flash is not None else None
    if notice and notice.startswith("E"):
        return response
    form = await request.post()
    detail = "；".join(f"{k}={v}" for k, v in form.items() if k != "csrf" and isinstance(v, str))
    await console.write(lambda conn: audit.record(
        conn, at=int(time.time()), actor=actor_of(request), where=audit.CONSOLE,
        action=request.path, detail=f"{detail}（{login.client_of(request)}）" if detail else login.client_of(request),
        result=notice[1:] if notice else ""))
    return response


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("Content-Security-Policy", CSP)
    if request.path != STYLESHEET:
        h.setdefault("Cache-Control", "no-store")


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "app.css", headers={"Cache-Control": "max-age=3600",
                                                         "Content-Type": "text/css; charset=utf-8"})


class PortInUse(OSError):
    """The console's port is taken; the message says which and how to pick another."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"端口 {host}:{port} 已被占用（可能另一个群管或其他程序在用）："
                         f"用 --port 换一个端口，或设置环境变量 QUNGUAN_WEB_PORT")
        self.host, self.port = host, port

    def __str__(self) -> str:
        return str(self.strerror)


# ---- the app -----------------------------------------------------------------------------

def create_app(pipeline: Pipeline, deps: Deps, features: Sequence[Feature], *,
               clock: Callable[[Connection], datetime] | None = None) -> web.Application:
    """The console and API over the pipeline and services built by `bot.wiring.build`, with
    the routes and templates of `features` (the wiring's FEATURES).

    `clock` gives the console's "now" from a connection; by default the latest event's time
    (as `qunguan report` does), so a replayed community shows as it was."""
    secret = getattr(deps.settings, "web_secret", "") or ""
    # Without a configured secret each process signs with its own: a restart logs everyone out.
    signer = Signer(secret.encode() if secret else secrets.token_bytes(32))
    app = web.Application(middlewares=[errors_middleware, auth_middleware, scope_middleware, audit_middleware],
                          client_max_size=MAX_BODY)
    app[CONSOLE] = Console(pipeline, deps, signer, report_fields(features, deps), Slots.of(features), clock=clock)
    templating.setup(app, features)
    app.cleanup_ctx.append(_thread_pool)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get(STYLESHEET, stylesheet)
    app.router.add_get("/healthz", health.healthz)
    login.add_routes(app.router)
    app.router.add_get("/", overview.overview)
    members.add_routes(app.router)
    api.add_routes(app.router)
    for feature in features:
        routes = web_part(feature).routes
        if routes:
            routes(app.router)
    return app


async def _thread_pool(app: web.Application) -> AsyncIterator[None]:
    console = app[CONSOLE]
    console.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qunguan-web")
    yield
    console.executor.shutdown(wait=True, cancel_futures=True)
    console.executor = None
    console.cache.clear()


async def start_server(pipeline: Pipeline, deps: Deps, features: Sequence[Feature], *,
                       host: str = "127.0.0.1", port: int | None = None) -> web.AppRunner:
    """Start the console on host:port (default: settings.web_port); returns the started runner:
    `runner.addresses` has the bound address, `await runner.cleanup()` stops it."""
    warn_plain_http(deps.settings.web_url)
    app = create_app(pipeline, deps, features)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    # What start-up built (jieba's dictionary, SQLAlchemy's metadata, the templates) lives as
    # long as the process. Freezing it keeps the full collections that a page's many small
    # objects trigger from rescanning all of it: without this, one room page in twenty took
    # 50+ ms instead of 12 (scripts/bench_web.py).
    gc.collect()
    gc.freeze()
    port = deps.settings.web_port if port is None else port
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from None
        raise
    except BaseException:
        await runner.cleanup()
        raise
    log.info("web console on %s", ", ".join(f"http://{a[0]}:{a[1]}/" for a in runner.addresses))
    return runner


def warn_plain_http(web_url: str) -> bool:
    """Warn (once, at start) when operators are sent to the console over plain http on another
    host: login links and session cookies would cross the network unencrypted, and cookies get
    `Secure` only behind https. Returns whether it warned."""
    host = urlsplit(web_url).hostname or ""
    if web_url.lower().startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("QUNGUAN_WEB_URL is %s: login links and session cookies would travel unencrypted; "
                    "serve the console behind https (cookies then get the Secure flag)", web_url)
        return True
    return False


async def serve_forever(pipeline: Pipeline, deps: Deps, features: Sequence[Feature], *,
                        host: str = "127.0.0.1", port: int | None = None, note: str = "") -> None:
    """Serve the console until cancelled (Ctrl-C), printing its address for the person at the
    terminal."""
    runner = await start_server(pipeline, deps, features, host=host, port=port)
    print(f"群管控制台：{address(runner)}{note}（Ctrl-C 退出）", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def address(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}/"
