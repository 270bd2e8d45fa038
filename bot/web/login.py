"""Logging in and out of the console: the login form, its CSRF nonce, the session cookie."""

from __future__ import annotations

import asyncio
import secrets
import time

from aiohttp import web

from bot.web.auth import LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL, Signer, same_secret
from bot.web.shell import CONSOLE, BadRequest, Console, cookie_kwargs, form_text, read_form, render, see_other

LOGIN_FAIL_DELAY = 0.5  # seconds; slows down password guessing


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this site, never another host."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _login_page(request: web.Request, console: Console, nonce: str, next_: str,
                message: str | None, status: int = 200):
    configured = bool(console.password or console.settings.api_token)
    return render(request, "login.html", {
        "configured": configured, "login_csrf": console.signer.login_csrf(nonce),
        "next": next_, "message": message}, status=status)


async def login_form(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    if console.signer.verify(request.cookies.get(SESSION_COOKIE), int(time.time())):
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    resp = await _login_page(request, console, nonce, safe_next(request.query.get("next")), None)
    resp.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, **cookie_kwargs())
    return resp


async def login(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not Signer.check_csrf(form_text(form, "csrf"), console.signer.login_csrf(nonce)):
        raise BadRequest("登录表单已失效（CSRF 校验失败），请刷新登录页后重试", 403)
    password = form_text(form, "password")
    next_ = safe_next(form_text(form, "next") or "/")
    ok = same_secret(password, console.password) | same_secret(password, console.settings.api_token)
    if not ok:
        await asyncio.sleep(LOGIN_FAIL_DELAY)
        return await _login_page(request, console, nonce, next_, "密码或令牌不对。", status=401)
    resp = see_other(next_)
    resp.set_cookie(SESSION_COOKIE, console.signer.issue(int(time.time())), max_age=SESSION_TTL,
                    **cookie_kwargs())
    resp.del_cookie(LOGIN_COOKIE, path="/")
    return resp


async def logout(request: web.Request) -> web.Response:
    resp = see_other("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/login", login_form)
    router.add_post("/login", login)
    router.add_post("/logout", logout)
