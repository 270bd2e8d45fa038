"""The aiohttp application: typed state, login and CSRF middleware, error handling, start-up.

Handlers never touch SQLite on the event loop: reads and writes run in a small thread pool
owned by the app (created and shut down in `cleanup_ctx`). Every error a client can cause
gets a 4xx with a Chinese reason; anything else is logged with its traceback and answered
with a plain 500, never the traceback.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core.events import Event
from bot.core.pipeline import Pipeline
from bot.deps import Deps
from bot.web.auth import SESSION_COOKIE, Session, Signer, bearer_token, same_secret
from bot.web.data import ScopeCache, as_of
from bot.web.filters import BadRequest
from bot.web.render import STYLESHEET, esc, fmt, page

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BODY = 20 * 1024 * 1024  # a batch of 1000 events with long Chinese texts fits
MAX_FORM = 64 * 1024
PUBLIC_PATHS = frozenset({"/login", "/static/app.css", "/healthz"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


@dataclass
class Console:
    """What every handler needs, built once per app."""

    pipeline: Pipeline
    deps: Deps
    signer: Signer
    cache: ScopeCache = field(default_factory=ScopeCache)
    executor: ThreadPoolExecutor | None = None
    clock: Callable[[Connection], datetime] | None = None

    @property
    def settings(self):
        return self.deps.settings

    @property
    def password(self) -> str:
        return getattr(self.settings, "web_password", "") or ""

    def now(self, conn: Connection) -> datetime:
        return self.clock(conn) if self.clock else as_of(conn, self.settings)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` in the pool on a read connection."""
        def call() -> T:
            with self.deps.engine.connect() as conn:
                return fn(conn, *args)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` in the pool inside one transaction."""
        def call() -> T:
            with self.deps.engine.begin() as conn:
                return fn(conn, *args)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def ingest(self, events: list[Event]) -> tuple[int, int]:
        """Events through the real pipeline, silently; returns (stored, duplicates)."""
        def call() -> tuple[int, int]:
            stored, _ = (self.pipeline.ingest(events, silent=True, commands=False) if events
                         else (0, []))
            return stored, len(events) - stored
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("session", Session)


# ---- responses -----------------------------------------------------------------------------

def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), status=status,
                        content_type="application/json", charset="utf-8")


def html_response(body: str, status: int = 200, **kwargs: Any) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        **kwargs)


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    if is_api(request):
        resp = json_response({"error": message}, status)
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="qunguan"'
        return resp
    session = request.get(SESSION)
    body = fmt('<p class="error">{}</p><p><a href="/">返回概览</a></p>', message)
    return html_response(page(f"出错了（{status}）", body,
                              csrf=session.csrf if session else None), status)


_AIOHTTP_REASONS = {
    404: "没有这个页面",
    405: "不支持这个请求方法",
    413: f"请求体太大（上限 {MAX_BODY // 1024 // 1024} MiB）",
}


@web.middleware
async def errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as exc:
        return error_response(request, exc.status, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reason = _AIOHTTP_REASONS.get(exc.status, exc.reason)
        resp = error_response(request, exc.status, reason)
        if "Allow" in exc.headers:
            resp.headers["Allow"] = exc.headers["Allow"]
        return resp
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(request, 500, "服务器内部错误，已记录日志。")


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Pages need a session (else a redirect to the login page); the API a bearer token,
    or a session for reading; every form POST a valid CSRF token."""
    console = request.app[CONSOLE]
    path = request.path
    if path in PUBLIC_PATHS:
        return await handler(request)
    session = console.signer.verify(request.cookies.get(SESSION_COOKIE), int(time.time()))
    if is_api(request):
        token = bearer_token(request.headers.get("Authorization"))
        if token is not None:
            if not console.settings.api_token:
                raise BadRequest("事件接口未开启：请设置 QUNGUAN_API_TOKEN", 401)
            if not same_secret(token, console.settings.api_token):
                raise BadRequest("令牌无效", 401)
            return await handler(request)
        if session is not None and request.method == "GET":
            request[SESSION] = session
            return await handler(request)
        raise BadRequest("需要 Authorization: Bearer <令牌>（或登录后的会话）", 401)
    if session is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
        raise BadRequest("未登录或登录已过期，请重新登录", 401)
    request[SESSION] = session
    if request.method == "POST":
        await read_form(request)
        form = await request.post()
        if not Signer.check_csrf(form.get("csrf"), session.csrf):  # type: ignore[arg-type]
            raise BadRequest("表单已失效（CSRF 校验失败），请刷新页面后重试", 403)
    return await handler(request)


async def read_form(request: web.Request):
    """The posted form, after checking its type and size."""
    if request.content_type not in FORM_TYPES:
        raise BadRequest("表单的 Content-Type 应为 application/x-www-form-urlencoded", 415)
    if request.content_length is None:
        raise BadRequest("请求缺少 Content-Length", 411)
    if request.content_length > MAX_FORM:
        raise BadRequest(f"表单太大（上限 {MAX_FORM // 1024} KiB）", 413)
    return await request.post()


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("Content-Security-Policy", CSP)
    if request.path != "/static/app.css":
        h.setdefault("Cache-Control", "no-store")


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(text=STYLESHEET, content_type="text/css", charset="utf-8",
                        headers={"Cache-Control": "max-age=3600"})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


class PortInUse(OSError):
    """The console's port is taken; the message says which and how to pick another."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"端口 {host}:{port} 已被占用（可能另一个群管或其他程序在用）："
                         f"用 --port 换一个端口，或设置环境变量 QUNGUAN_WEB_PORT")
        self.host, self.port = host, port

    def __str__(self) -> str:
        return str(self.strerror)


# ---- the app -----------------------------------------------------------------------------

def create_app(pipeline: Pipeline, deps: Deps, *,
               clock: Callable[[Connection], datetime] | None = None) -> web.Application:
    """The console and API over the pipeline and services built by `bot.wiring.build`.

    `clock` gives the console's "now" from a connection; by default the latest event's time
    (as `qunguan report` does), so a replayed community shows as it was."""
    from bot.web import api, pages

    secret = getattr(deps.settings, "web_secret", "") or ""
    # Without a configured secret each process signs with its own: a restart logs everyone out.
    signer = Signer(secret.encode() if secret else secrets.token_bytes(32))
    app = web.Application(middlewares=[errors_middleware, auth_middleware],
                          client_max_size=MAX_BODY)
    app[CONSOLE] = Console(pipeline, deps, signer, clock=clock)
    app.cleanup_ctx.append(_thread_pool)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/static/app.css", stylesheet)
    app.router.add_get("/healthz", healthz)
    api.add_routes(app.router)
    pages.add_routes(app.router)
    return app


async def _thread_pool(app: web.Application) -> AsyncIterator[None]:
    console = app[CONSOLE]
    console.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qunguan-web")
    yield
    console.executor.shutdown(wait=True, cancel_futures=True)
    console.executor = None
    console.cache.clear()


async def start_server(pipeline: Pipeline, deps: Deps, *, host: str = "127.0.0.1",
                       port: int | None = None) -> web.AppRunner:
    """Start the console on host:port (default: settings.web_port); returns the started runner:
    `runner.addresses` has the bound address, `await runner.cleanup()` stops it."""
    app = create_app(pipeline, deps)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
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


async def serve_forever(pipeline: Pipeline, deps: Deps, *, host: str = "127.0.0.1",
                        port: int | None = None, note: str = "") -> None:
    """Serve the console until cancelled (Ctrl-C), printing its address for the person at the
    terminal."""
    runner = await start_server(pipeline, deps, host=host, port=port)
    print(f"群管控制台：{address(runner)}{note}（Ctrl-C 退出）", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def address(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}/"


__all__ = ["CONSOLE", "SESSION", "Console", "address", "create_app", "esc", "start_server"]
