"""Logging in and out of the console: the login form, its CSRF nonce, password throttling, the
session cookie and the server-side session it names."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
import unicodedata
from collections.abc import Callable

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core import audit
from bot.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_TTL,
    Signer,
    close_session,
    new_nonce,
    open_session,
    same_secret,
)
from bot.web.shell import (
    CONSOLE,
    SESSION,
    BadRequest,
    Console,
    cookie_kwargs,
    form_text,
    read_form,
    render,
    see_other,
)

log = logging.getLogger(__name__)

LOGIN_FAIL_DELAY = 0.5  # seconds; slows down password guessing
MAX_NEXT = 2000


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


def client_of(request: web.Request) -> str:
    return request.remote or "?"


def _login_page(request: web.Request, console: Console, nonce: str, next_: str,
                message: str | None, status: int = 200):
    return render(request, "login.html", {
        "configured": bool(console.password), "login_csrf": console.signer.login_csrf(nonce),
        "next": next_, "message": message}, status=status)


async def login_form(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    if request.get(SESSION):
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    resp = await _login_page(request, console, nonce, safe_next(request.query.get("next")), None)
    resp.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, **cookie_kwargs())
    return resp


def _audit(action: str, client: str, result: str) -> Callable[[Connection], None]:
    def write(conn: Connection) -> None:
        audit.record(conn, at=int(time.time()), actor=audit.CONSOLE_ACTOR, where=audit.CONSOLE,
                     action=action, detail=client, result=result)
    return write


def _too_many(wait: float) -> str:
    return f"密码错误次数太多，请 {math.ceil(wait)} 秒后再试。"


async def login(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not Signer.check_csrf(form_text(form, "csrf"), console.signer.login_csrf(nonce)):
        raise BadRequest("登录表单已失效（CSRF 校验失败），请刷新登录页后重试", 403)
    next_ = safe_next(form_text(form, "next") or "/")
    client = client_of(request)
    wait = console.throttle.wait(client)
    if wait > 0:
        log.warning("console login from %s refused: locked out for %.0f s more", client, wait)
        await console.write(_audit("login_failed", client, f"登录已锁定，还要等 {math.ceil(wait)} 秒"))
        return await _login_page(request, console, nonce, next_, _too_many(wait), status=429)
    # Only the console password logs in: the API token is for pushing events, nothing else.
    if not same_secret(form_text(form, "password"), console.password):
        wait = console.throttle.failed(client)
        log.warning("console login from %s: wrong password", client)
        await console.write(_audit("login_failed", client, "密码错误"))
        await asyncio.sleep(LOGIN_FAIL_DELAY)
        message = _too_many(wait) if wait > 0 else "密码不对。"
        return await _login_page(request, console, nonce, next_, message, status=429 if wait else 401)
    console.throttle.succeeded(client)
    now = int(time.time())
    session = new_nonce()
    await console.write(open_session, session, now)
    await console.write(_audit("login", client, "登录成功"))
    log.info("console login from %s", client)
    resp = see_other(next_)
    resp.set_cookie(SESSION_COOKIE, console.signer.issue(now, session), max_age=SESSION_TTL,
                    **cookie_kwargs())
    resp.del_cookie(LOGIN_COOKIE, path="/")
    return resp


async def logout(request: web.Request) -> web.Response:
    """Ends the session on the server too: the old cookie no longer works anywhere."""
    session = request.get(SESSION)
    if session is not None:
        await request.app[CONSOLE].write(close_session, session.nonce)
    resp = see_other("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/login", login_form)
    router.add_post("/login", login)
    router.add_post("/logout", logout)
