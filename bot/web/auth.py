"""Who may use the console and the API: signed session cookies, CSRF tokens, bearer tokens.

Secrets are compared in constant time (on SHA-256 digests, so not even their length leaks).
A session cookie is `payload.signature` with an HMAC-SHA256 signature; the CSRF token of
a session is derived from it, so forms need no server-side state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.store.models import WebSession, table_of

log = logging.getLogger(__name__)

SESSION_COOKIE = "qg_session"
LOGIN_COOKIE = "qg_login"  # a nonce that ties the login form's CSRF token to this browser
SESSION_TTL = 12 * 3600


def same_secret(given: str, expected: str) -> bool:
    """True when `expected` is set and `given` equals it; constant time."""
    if not expected:
        return False
    a = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    b = hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(a, b)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True)
class Session:
    nonce: str
    expires: int
    csrf: str


class Signer:
    """Signs session cookies and derives CSRF tokens with one process-wide secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, purpose: str, data: bytes) -> str:
        mac = hmac.new(self._secret, purpose.encode() + b"\0" + data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def issue(self, now: int, nonce: str | None = None) -> str:
        payload = json.dumps({"n": nonce or new_nonce(), "e": now + SESSION_TTL},
                             separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        return f"{body}.{self._sign('session', body.encode())}"

    def verify(self, cookie: str | None, now: int) -> Session | None:
        if not cookie or cookie.count(".") != 1 or len(cookie) > 512:
            return None
        body, sig = cookie.split(".")
        if not hmac.compare_digest(sig.encode(), self._sign("session", body.encode()).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            nonce, expires = str(data["n"]), int(data["e"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires <= now:
            return None
        return Session(nonce, expires, self._sign("csrf", nonce.encode()))

    def seal(self, purpose: str, text: str) -> str:
        """`text` signed for `purpose` (e.g. a one-time notice carried in a cookie)."""
        body = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
        return f"{body}.{self._sign(purpose, body.encode())}"

    def unseal(self, purpose: str, value: str | None) -> str | None:
        if not value or value.count(".") != 1 or len(value) > 4096:
            return None
        body, sig = value.split(".")
        if not hmac.compare_digest(sig.encode(), self._sign(purpose, body.encode()).encode()):
            return None
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except ValueError:
            return None

    def login_csrf(self, nonce: str) -> str:
        return self._sign("login", nonce.encode())

    @staticmethod
    def check_csrf(given: str | None, expected: str) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


# ---- server-side sessions ----------------------------------------------------------------------

TOUCH_EVERY = 60  # seconds: how stale a session's "last seen" may get before it is written


def open_session(conn: Connection, nonce: str, now: int, member: str) -> None:
    """Record a login of `member` (and forget sessions past their lifetime)."""
    conn.execute(delete(WebSession).where(col(WebSession.created_at) < now - SESSION_TTL))
    conn.execute(table_of(WebSession).insert().values(nonce=nonce, created_at=now, seen_at=now, member=member))


def session_seen(conn: Connection, nonce: str) -> tuple[int, str] | None:
    """When the session was last used and whose it is; None when it was logged out (or never
    existed)."""
    row = conn.execute(select(col(WebSession.seen_at), col(WebSession.member)).where(
        col(WebSession.nonce) == nonce)).first()
    return (row[0], row[1]) if row else None


def touch_session(conn: Connection, nonce: str, now: int) -> None:
    conn.execute(update(WebSession).where(col(WebSession.nonce) == nonce).values(seen_at=now))


def close_session(conn: Connection, nonce: str) -> None:
    conn.execute(delete(WebSession).where(col(WebSession.nonce) == nonce))
