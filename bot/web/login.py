"""Logging in and out of the console: the one-time links sent by DM (each person as themselves),
the bootstrap password form with its CSRF nonce and the throttle kept in the store, the session
cookie and the server-side session it names."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time

from aiohttp import web
from sqlalchemy.engine import Connection

from bot.core import audit
from bot.features.people.service import (
    CONSOLE_WORD,
    LinkRefused,
    Person,
    bootstrap_admin,
    login_failed,
    login_succeeded,
    login_wait,
    person,
    redeem_link,
)
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
    safe_next,
    see_other,
)

log = logging.getLogger(__name__)

LOGIN_FAIL_DELAY = 0.5  # seconds; slows down password guessing


def client_of(request: web.Request) -> str:
    return request.remote or "?"


async def _login_page(request: web.Request, console: Console, nonce: str, next_: str,
                      message: str | None, status: int = 200) -> web.Response:
    return await render(request, "login.html", {
        "configured": bool(console.password), "login_csrf": console.signer.login_csrf(nonce),
        "next": next_, "message": message}, status=status)


async def login_form(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    if request.get(SESSION):
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    resp = await _login_page(request, console, nonce, safe_next(request.query.get("next")), None)
    resp.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, **cookie_kwargs(request))
    return resp


def _too_many(wait: float) -> str:
    return (f"密码错误次数太多，请 {math.ceil(wait)} 秒后再试。管理员和运营也可以在微信里私聊机器人发"
            f"「{CONSOLE_WORD}」，用收到的一次性链接直接登录。")


def _start_session(request: web.Request, console: Console, session: str, next_: str) -> web.Response:
    """The response that carries a new server-side session's cookie, then goes to `next_`."""
    resp = see_other(next_)
    resp.set_cookie(SESSION_COOKIE, console.signer.issue(int(time.time()), session), max_age=SESSION_TTL,
                    **cookie_kwargs(request))
    resp.del_cookie(LOGIN_COOKIE, path="/")
    return resp


def _open(conn: Connection, who: Person, client: str, how: str) -> str:
    now = int(time.time())
    session = new_nonce()
    open_session(conn, session, now, who.member)
    audit.record(conn, at=now, actor=who.member, where=audit.CONSOLE, action="login",
                 detail=client, result=f"{who.label}登录成功（{how}）")
    return session


async def login(request: web.Request) -> web.Response:
    """The shared password: only the first global admin's bootstrap (QUNGUAN_WEB_PASSWORD)."""
    console = request.app[CONSOLE]
    form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not Signer.check_csrf(form_text(form, "csrf"), console.signer.login_csrf(nonce)):
        raise BadRequest("登录表单已失效（CSRF 校验失败），请刷新登录页后重试", 403)
    next_ = safe_next(form_text(form, "next") or "/")
    client = client_of(request)
    now = int(console.wall())
    wait = await console.read(login_wait, client, now)
    if wait > 0:
        log.warning("console login from %s refused: locked out for %.0f s more", client, wait)
        await console.write(lambda conn: login_failed(conn, client, now, locked=True))
        return await _login_page(request, console, nonce, next_, _too_many(wait), status=429)
    # Only the console password logs in: the API token is for pushing events, nothing else.
    if not same_secret(form_text(form, "password"), console.password):
        wait = await console.write(lambda conn: login_failed(conn, client, now, locked=False))
        log.warning("console login from %s: wrong password", client)
        if wait:
            log.warning("console login: %s locked out for %.0f s", client, wait)
        await asyncio.sleep(LOGIN_FAIL_DELAY)
        message = _too_many(wait) if wait > 0 else "密码不对。"
        return await _login_page(request, console, nonce, next_, message, status=429 if wait else 401)
    admin = bootstrap_admin(console.settings)
    who = await console.read(person, console.settings, admin) if admin else None
    if who is None:
        return await _login_page(request, console, nonce, next_,
                                 "密码只用于第一位管理员的首次登录：请先设置 QUNGUAN_ADMINS（管理员的微信 id）。",
                                 status=403)

    def open_(conn: Connection) -> str:
        login_succeeded(conn, client)
        return _open(conn, who, client, "密码")
    session = await console.write(open_)
    log.info("console login of %s from %s (password)", who.member, client)
    return _start_session(request, console, session, next_)


async def link_login(request: web.Request) -> web.Response:
    """A one-time link from a DM: logs its member in directly (never throttled: a link is 192
    random bits, and an admin locked out by someone else's guessing must still get in)."""
    console = request.app[CONSOLE]
    token = request.match_info["token"]
    client = client_of(request)
    now = int(console.wall())

    def redeem(conn: Connection) -> tuple[Person, str, str]:
        who, next_ = redeem_link(conn, console.settings, token, now)
        return who, safe_next(next_), _open(conn, who, client, "私信链接")
    try:
        who, next_, session = await console.write(redeem)
    except LinkRefused as exc:
        current = request.get(SESSION)
        if current is not None:  # already logged in here: a used link just opens the console
            raise web.HTTPSeeOther("/") from None
        return await render(request, "link.html", {"message": str(exc)}, status=410)
    log.info("console login of %s from %s (link)", who.member, client)
    return _start_session(request, console, session, next_)


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
    router.add_get("/login/link/{token}", link_login)
