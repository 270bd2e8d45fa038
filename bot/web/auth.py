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
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


def open_session(conn: Connection, nonce: str, now: int) -> None:
    """Record a login (and forget sessions past their lifetime)."""
    conn.execute(delete(WebSession).where(col(WebSession.created_at) < now - SESSION_TTL))
    conn.execute(table_of(WebSession).insert().values(nonce=nonce, created_at=now, seen_at=now))


def session_seen(conn: Connection, nonce: str) -> int | None:
    """When the session was last used; None when it was logged out (or never existed)."""
    return conn.execute(select(col(WebSession.seen_at)).where(col(WebSession.nonce) == nonce)).scalar()


def touch_session(conn: Connection, nonce: str, now: int) -> None:
    conn.execute(update(WebSession).where(col(WebSession.nonce) == nonce).values(seen_at=now))


def close_session(conn: Connection, nonce: str) -> None:
    conn.execute(delete(WebSession).where(col(WebSession.nonce) == nonce))


# ---- password guessing ----------------------------------------------------------------------

@dataclass
class _Guesses:
    failures: int = 0
    lockouts: int = 0
    until: float = 0.0
    last: float = 0.0


@dataclass
class Throttle:
    """Slows password guessing per client and for everyone together.

    `per_client` failures in a row lock that client out for `base` seconds; every further
    lockout doubles the wait, up to `longest`. `overall` failures from all clients together
    lock the login for everyone the same way (many clients guessing at once). A success
    clears its client; an hour without failures forgets a client."""

    per_client: int = 5
    overall: int = 50
    base: float = 60.0
    longest: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, _Guesses] = field(default_factory=dict)
    _all: _Guesses = field(default_factory=_Guesses)

    def wait(self, client: str) -> float:
        """Seconds until `client` may try again (0: now)."""
        now = self.clock()
        mine = self._clients.get(client)
        return max(0.0, (mine.until if mine else 0.0) - now, self._all.until - now)

    def failed(self, client: str) -> float:
        """Count a wrong password; returns the wait it caused (0: none yet)."""
        now = self.clock()
        if len(self._clients) > 10_000:  # many addresses: forget the stale ones
            self._clients = {k: v for k, v in self._clients.items() if now - v.last < 3600}
        mine = self._clients.get(client)
        if mine is None or now - mine.last > 3600:
            mine = self._clients[client] = _Guesses()
        waits = [self._count(mine, now, self.per_client), self._count(self._all, now, self.overall)]
        wait = max(waits)
        if waits[0]:
            log.warning("console login: %s failed %s times, locked out for %.0f s",
                        client, self.per_client, waits[0])
        if waits[1]:
            log.warning("console login: %s failures from all clients, login locked for %.0f s",
                        self.overall, waits[1])
        return wait

    def _count(self, g: _Guesses, now: float, limit: int) -> float:
        if now - g.last > 3600:
            g.failures = g.lockouts = 0
        g.last = now
        g.failures += 1
        if g.failures < limit:
            return 0.0
        g.failures = 0
        g.lockouts += 1
        wait = min(self.longest, self.base * 2 ** (g.lockouts - 1))
        g.until = now + wait
        return wait

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)
