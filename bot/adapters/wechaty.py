"""The WeChat adapter: a wechaty-puppet-service gateway, through Python Wechaty, as events."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import re
import socket
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from xml.etree import ElementTree

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.adapters import qr
from bot.adapters import wechaty_compat as wc
from bot.adapters import wechaty_friends as friends
from bot.adapters.base import EventSink, MaybeDelivered, Outgoing
from bot.core.events import MAX_TEXT, Event, Join, Leave, Message, Recall, Roster, RosterMember, clean_name

log = logging.getLogger(__name__)

AT_SEPARATOR = "\u2005"  # WeChat ends each "@name" with a four-per-em space
MAX_MENTIONS = 50  # the event contract keeps at most 50 mention ids
_SEEN_IDS = 20_000  # message ids remembered to drop a redelivery after a reconnect
# Member payloads fetched at once for a roster: Wechaty's own Room.member_list() asks for
# every member at the same time, which real puppet services rate-limit.
ROSTER_CONCURRENCY = 8

# The puppet events that become canonical events; everything else is connection state.
_EVENT_NAMES = ("message", "room-join", "room-leave", "room-topic", "friendship")
_STATE_NAMES = ("login", "logout", "scan", "heartbeat", "dong", "ready", "error")


class WechatyError(Exception):
    """Base of the adapter's errors; messages are in Chinese, then English."""


class WechatyConnectError(WechatyError, ConnectionError):
    """The gateway can't be reached, refused the token, or the account did not log in."""


class WechatySendError(WechatyError):
    """A text was not sent: the outbox keeps it and may retry."""



class WechatySendUncertain(WechatySendError, MaybeDelivered):
    """The connection died while the gateway had the request: the text may have gone out.

    WeChat has no idempotent send and a crashed gateway forgets what it sent, so nothing
    here can tell; a retry may send the text twice.
    """


async def _first_of(*events: asyncio.Event, timeout: float | None = None) -> bool:
    """Wait until any of `events` is set; False on timeout."""
    if any(e.is_set() for e in events):
        return True
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
    return bool(done)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(
            f"endpoint 应为 主机:端口，例如 127.0.0.1:8788"
            f" / endpoint must be host:port, got {endpoint!r}"
        )
    return host.strip("[]"), int(port)


class _SessionGone(Exception):
    """The session an RPC was meant for has been torn down."""


def _is_connection_error(exc: BaseException) -> bool:
    """True when retrying through a new connection may help (as opposed to a bad payload id)."""
    if isinstance(exc, wc.GRPCError):
        return exc.status.name in ("UNAVAILABLE", "CANCELLED", "DEADLINE_EXCEEDED")
    # TimeoutError is an OSError; so are ConnectionRefusedError and ConnectionResetError.
    return isinstance(
        exc, wc.StreamTerminatedError | OSError | _SessionGone | wc.WechatyPuppetError
    )


def _describe_connect_failure(endpoint: str, exc: BaseException | None) -> str:
    if isinstance(exc, wc.GRPCError) and exc.status.name == "UNAUTHENTICATED":
        return (
            f"Wechaty 服务 {endpoint} 拒绝了令牌（UNAUTHENTICATED），请检查 token。"
            f" / The Wechaty puppet service at {endpoint} rejected the token"
            f" (UNAUTHENTICATED): check the token. ({exc.message})"
        )
    detail = f"{type(exc).__name__}: {exc}" if exc is not None else "stream closed"
    return (
        f"无法连接 Wechaty 服务 {endpoint}（{detail}），请确认服务已启动、地址正确。"
        f" / Cannot connect to the Wechaty puppet service at {endpoint} ({detail}):"
        " check that it is running and the endpoint is right."
    )


def _ts(raw: float | None) -> datetime:
    seconds = wc.timestamp_seconds(raw)
    return datetime.fromtimestamp(seconds, UTC) if seconds else datetime.now(UTC)


JIELONG_APPMSG = 53  # WeChat's app message type of a 接龙 (group solitaire)
QUOTE_APPMSG = 57  # … and of a quote (引用) with the member's new words
_APPMSG_TYPE = re.compile(r"<appmsg\b.*?<type>\s*(\d+)\s*</type>", re.DOTALL)


@dataclass(frozen=True)
class AppMessage:
    kind: str  # jielong | quote
    text: str  # the list as shown, or the quote's new words
    quote_of: str | None = None
    quote_sender: str | None = None


def app_message(kind: str, text: str) -> AppMessage | None:
    """A 接龙 (the list as members see it, from the app message's title) or a quote (its new
    words, and which message it quotes), or None. Puppets hand a 接龙 over as a GroupNote, or
    as the app message's XML (type 49 with appmsg type 53) under another type."""
    if "<appmsg" not in text:
        return AppMessage("jielong", text) if kind == "group_note" and text.strip() else None
    found = _APPMSG_TYPE.search(text)
    appmsg = int(found.group(1)) if found else None
    if appmsg not in (JIELONG_APPMSG, QUOTE_APPMSG) and kind != "group_note":
        return None
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError:
        return None
    node = root if root.tag == "appmsg" else root.find(".//appmsg")
    title = (node.findtext("title") or "").strip() if node is not None else ""
    if appmsg == QUOTE_APPMSG and node is not None:
        ref = node.find("refermsg")
        quoted = (ref.findtext("svrid") or "").strip() if ref is not None else ""
        who = ((ref.findtext("chatusr") or ref.findtext("fromusr") or "").strip() if ref is not None else "")
        return AppMessage("quote", title, quoted or None, who if who and "@chatroom" not in who else None)
    return AppMessage("jielong", title) if title else None


def _clip(name: str | None) -> str | None:
    """A name as the event contract takes it (bot.core.events.clean_name: never refused)."""
    return clean_name(name)


class _Session:
    """One connection: a Wechaty instance and its PuppetService, always torn down whole.

    Python Wechaty restarts itself 60 s after a dropped stream and its `start()` swallows
    errors, so the adapter never calls `Wechaty.start()`: it starts the puppet itself, sees
    the event stream end, throws the whole instance away and builds a new one.
    """

    def __init__(self, token: str, endpoint: str, plugin_port: int, push: Any) -> None:
        options = wc.WechatyOptions(
            # A fresh PuppetOptions every time: the dataclass default instance is shared.
            puppet_options=wc.PuppetOptions(end_point=endpoint),
            # The plugin web server (0.0.0.0:5000 by default) stays on loopback, on a free port.
            host="127.0.0.1",
            port=plugin_port,
            # Without a scheduler of its own Wechaty opens an SQLite job store in its cache dir.
            scheduler=AsyncIOScheduler(),
        )
        self.endpoint = endpoint
        with warnings.catch_warnings():
            # Every pyee AsyncIOEventEmitter() warns that it moved to pyee.asyncio.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.wechaty = wc.Wechaty(options)
        self.puppet: wc.PuppetService = self.wechaty.puppet
        # Set after construction: PuppetService logs the token at WARNING when given both.
        self.puppet.options.token = token
        self.self_id: str | None = None
        self.logged_in = asyncio.Event()
        self.dropped = asyncio.Event()
        self.last_seen = time.monotonic()
        self._push = push
        self._task: asyncio.Task[None] | None = None
        self.on_login_change: Callable[[bool], None] | None = None  # set once adopted
        # Wechaty's own event bridge is not wired: it runs each listener as a separate task
        # (so events can overtake each other), starts the plugin manager's scheduler and
        # signal handlers, and resolves payloads through pools shared by every instance.
        # Plain listeners on the puppet run synchronously, in stream order.
        for name in _EVENT_NAMES + _STATE_NAMES:
            self.puppet.on(name, partial(self._on_puppet_event, name))

    def _on_puppet_event(self, name: str, payload: Any) -> None:
        self.last_seen = time.monotonic()
        if name in _EVENT_NAMES:
            self._push(name, payload)
        elif name == "login":
            self.self_id = payload.contact_id
            self.logged_in.set()
            if self.on_login_change:
                self.on_login_change(True)
            log.info("微信已登录 / logged in as %s", payload.contact_id)
        elif name == "logout":
            # Sends wait (up to send_timeout) until the account logs in again.
            self.logged_in.clear()
            if self.on_login_change:
                self.on_login_change(False)
            log.warning("微信账号已登出 / the account logged out (%s)", payload.contact_id)
        elif name == "scan":
            log.warning(
                "请用微信扫码登录 / scan to log in: status=%s qrcode=%s",
                payload.status,
                payload.qrcode,
            )
        elif name == "error":
            log.warning("Wechaty 服务报告错误 / the puppet service reported an error: %s", payload)

    async def open(self, login_timeout: float) -> None:
        """Connect and wait for the login; raise WechatyConnectError with the reason."""
        host, port = _split_endpoint(self.endpoint)
        # PuppetService checks the endpoint with a blocking telnet; fail fast without it.
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), timeout=min(login_timeout, 5.0)
            )
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        except (TimeoutError, OSError) as exc:
            raise WechatyConnectError(_describe_connect_failure(self.endpoint, exc)) from exc

        self._task = asyncio.create_task(
            self.puppet.start(), name=f"wechaty-stream-{self.endpoint}"
        )
        login = asyncio.create_task(self.logged_in.wait())
        try:
            await asyncio.wait(
                {self._task, login}, timeout=login_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            login.cancel()
        if self.logged_in.is_set() and not self._task.done():
            return
        if self._task.done():
            failure = None if self._task.cancelled() else self._task.exception()
            raise WechatyConnectError(_describe_connect_failure(self.endpoint, failure)) from failure
        raise WechatyConnectError(
            f"连上了 Wechaty 服务 {self.endpoint}，"
            f"但 {login_timeout:g} 秒内账号没有登录，请确认已扫码登录。"
            f" / Connected to {self.endpoint}, but the account did not log in within"
            f" {login_timeout:g} s: make sure it has scanned the QR code and logged in."
        )

    async def wait_dropped(self, ping_interval: float, ping_timeout: float) -> str:
        """Return why the connection ended: the event stream closed, or a ding got no answer."""
        assert self._task is not None
        while True:
            done, _ = await asyncio.wait({self._task}, timeout=ping_interval)
            if done:
                exc = None if self._task.cancelled() else self._task.exception()
                return f"{type(exc).__name__}: {exc}" if exc else "event stream ended"
            if time.monotonic() - self.last_seen < ping_interval:
                continue
            # A silent half-open TCP connection never ends the stream: probe it.
            try:
                await asyncio.wait_for(self.puppet.ding("qunguan"), timeout=ping_timeout)
                self.last_seen = time.monotonic()
            except Exception as exc:  # any failure means the link is gone
                return f"ding failed: {type(exc).__name__}: {exc}"

    async def close(self) -> None:
        self.on_login_change = None
        self.dropped.set()
        self.logged_in.clear()
        self.puppet._event_stream.remove_all_listeners()
        # Not puppet.stop(): its stop() RPC stops the puppet on the server, which logs the
        # account out for every client. Closing the channel ends the stream.
        channel = self.puppet.channel
        if channel is not None:
            channel.close()
        task = self._task
        if task is None:
            return
        # grpclib can swallow a single cancel(): keep cancelling until the task is done.
        for _ in range(50):
            if task.done():
                break
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        if not task.done():
            log.warning("Wechaty 连接任务无法结束 / the Wechaty stream task did not stop")
        elif not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved


@dataclass(frozen=True, slots=True)
class _Raw:
    name: str
    payload: Any


_STOP = _Raw("stop", None)


class WechatyAdapter:
    """Events from a wechaty-puppet-service gateway, replies sent back through it.

    `run(sink)` connects (raising WechatyConnectError when the gateway is unreachable, refuses
    the token, or the account does not log in within `login_timeout`), then delivers every
    room message, 1:1 message, room join and room leave to `sink` in arrival order, and keeps
    reconnecting with backoff (`reconnect_min`..`reconnect_max` seconds) after the connection
    drops, until `close()`.
    """

    paced = True

    def __init__(
        self,
        token: str,
        endpoint: str,
        *,
        plugin_port: int | None = None,
        login_timeout: float = 30.0,
        reconnect_min: float = 0.5,
        reconnect_max: float = 5.0,
        send_timeout: float = 10.0,
        rpc_timeout: float = 10.0,
        ping_interval: float = 30.0,
        ping_timeout: float = 10.0,
    ) -> None:
        if not token:
            raise ValueError("需要 Wechaty token / a Wechaty token is required")
        if not endpoint:
            # Without an endpoint PuppetService asks a public discovery service for one.
            raise ValueError(
                "需要 Wechaty 服务地址 主机:端口 / a Wechaty endpoint host:port is required"
            )
        _split_endpoint(endpoint)
        self.token = token
        self.endpoint = endpoint
        self.plugin_port = plugin_port
        self.login_timeout = login_timeout
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.send_timeout = send_timeout
        self.rpc_timeout = rpc_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout

        self.self_id: str | None = None
        """The logged-in bot's contact id, once logged in."""
        self.connections = 0
        """How many times a connection has logged in (1 + reconnects)."""

        self._session: _Session | None = None
        self._ready = asyncio.Event()
        self._queue: asyncio.Queue[_Raw] = asyncio.Queue()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._names: dict[str, str] = {}
        self._topics: dict[str, str] = {}
        self._room_members: dict[tuple[str, str], tuple[str, str]] = {}  # → (name, group alias)
        self._closing = asyncio.Event()
        self._running = False

    # ---- public API ----

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until a connection is logged in; TimeoutError after `timeout` seconds."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def run(self, sink: EventSink) -> None:
        if self._running:
            raise RuntimeError("WechatyAdapter.run() is already running")
        self._closing.clear()
        self._running = True
        try:
            await self._run(sink)
        finally:
            self._running = False

    async def _run(self, sink: EventSink) -> None:
        session = await self._open_session()
        self._adopt(session)
        supervisor = asyncio.create_task(self._supervise(), name="wechaty-supervisor")
        consumer = asyncio.create_task(self._consume(sink), name="wechaty-consumer")
        try:
            done, _ = await asyncio.wait(
                {supervisor, consumer}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                task.result()
        finally:
            for task in (supervisor, consumer):
                task.cancel()
            await asyncio.gather(supervisor, consumer, return_exceptions=True)
            current, self._session = self._session, None
            self._ready.clear()
            if current is not None:
                await current.close()

    def request_rosters(self, room: str | None = None) -> None:
        """Emit a roster of `room` (of every room when None) after the events already queued.
        Done by itself at every login, when the bot is added to a room and when a room's
        topic changes; the 6-hourly roster job asks for it too, to catch the leaves WeChat
        never announces. With every room, the account's friend list (a `contacts` event) too."""
        self._queue.put_nowait(_Raw("roster", room))

    async def close(self) -> None:
        """Stop `run()` after the events already received have been delivered (those that
        can't be resolved because the connection is down are dropped)."""
        self._closing.set()
        self._queue.put_nowait(_STOP)

    async def send(self, out: Outgoing) -> None:
        """Hand one text to the gateway; an @mention needs `out.room`.

        Raises WechatySendError when the text was certainly not sent (not connected within
        `send_timeout`, or the gateway refused it), and its subclass WechatySendUncertain
        (a MaybeDelivered) when the connection died while the gateway had the request:
        WeChat may have delivered it, so retrying it may send it twice.
        """
        conversation = out.room or out.to
        if not conversation:
            raise ValueError("Outgoing 需要 room 或 to / an Outgoing needs room or to")
        if not self._running:
            # Nothing would ever reconnect: fail now rather than after send_timeout.
            raise WechatySendError(
                f"微信适配器未运行，无法发送到 {conversation} / the adapter is not running"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.send_timeout
        while True:
            try:
                await asyncio.wait_for(self._ready.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise WechatySendError(
                    f"微信未连接，{self.send_timeout:g} 秒内无法发送到 {conversation}"
                    f" / not connected: could not send to {conversation}"
                    f" within {self.send_timeout:g} s"
                ) from None
            session = self._session
            if session is not None and not session.dropped.is_set():
                break
            await asyncio.sleep(0.01)  # the supervisor is swapping sessions

        def failed(
            exc: BaseException, cls: type[WechatySendError] = WechatySendError
        ) -> WechatySendError:
            return cls(
                f"发送到 {conversation} 失败（{type(exc).__name__}: {exc}）"
                f" / sending to {conversation} failed ({type(exc).__name__}: {exc})"
            )

        if out.action:  # an account action (accept a friend, add one to a group): wechaty_friends
            try:
                events = await asyncio.wait_for(friends.act(session.puppet.puppet_stub, out, session.self_id),
                                                max(0.1, deadline - loop.time()))
            except (wc.GRPCError, ConnectionRefusedError, wc.WechatyPuppetError, ValueError) as exc:
                raise failed(exc) from exc
            except Exception as exc:
                raise failed(exc, WechatySendUncertain) from exc
            for event in events:
                self._queue.put_nowait(_Raw("event", event))
            return
        mention_ids = list(out.mentions) if out.room else []
        text = out.text
        try:
            if mention_ids:
                names = [await self._mention_name(session, out.room, m) for m in mention_ids]
                text = "".join(f"@{name}{AT_SEPARATOR}" for name in names) + text
        except Exception as exc:
            raise failed(exc) from exc  # nothing was sent yet
        try:
            await asyncio.wait_for(
                session.puppet.message_send_text(conversation, text, mention_ids),
                max(0.1, deadline - loop.time()),
            )
        except (wc.GRPCError, ConnectionRefusedError, wc.WechatyPuppetError) as exc:
            # The gateway answered with an error, or was never reached: not sent.
            raise failed(exc) from exc
        except Exception as exc:
            # The connection died or timed out with the request out: maybe delivered.
            raise failed(exc, WechatySendUncertain) from exc

    # ---- connection ----

    def _push(self, name: str, payload: Any) -> None:
        self._queue.put_nowait(_Raw(name, payload))

    def _new_session(self) -> _Session:
        return _Session(
            self.token, self.endpoint, self.plugin_port or _free_loopback_port(), self._push
        )

    async def _open_session(self) -> _Session:
        session = self._new_session()
        try:
            await session.open(self.login_timeout)
        except BaseException:
            await session.close()
            raise
        return session

    def _adopt(self, session: _Session) -> None:
        if self.self_id is not None and session.self_id != self.self_id:
            log.warning("登录的账号变了 / logged in as %s, was %s", session.self_id, self.self_id)
        self.self_id = session.self_id
        self._names.clear()
        self._topics.clear()
        self._room_members.clear()
        self._session = session
        self.connections += 1
        session.on_login_change = lambda logged_in: (
            self._ready.set() if logged_in else self._ready.clear()
        )
        self._ready.set()
        self.request_rosters()  # who is in each room right now, as of this login

    async def _supervise(self) -> None:
        while True:
            session = self._session
            assert session is not None
            reason = await session.wait_dropped(self.ping_interval, self.ping_timeout)
            self._ready.clear()
            self._session = None
            await session.close()
            if self._closing.is_set():
                return
            log.warning(
                "微信连接断开（%s），正在重连 / connection lost (%s), reconnecting", reason, reason
            )
            delay = self.reconnect_min
            while True:
                await asyncio.sleep(delay)
                try:
                    session = await self._open_session()
                    break
                except WechatyConnectError as exc:
                    delay = min(delay * 2, self.reconnect_max)
                    log.warning(
                        "重连失败，%.1f 秒后再试 / reconnect failed, retrying in %.1f s: %s",
                        delay,
                        delay,
                        exc,
                    )
            self._adopt(session)
            log.info("已重连 / reconnected (connection %d)", self.connections)

    # ---- events ----

    async def _consume(self, sink: EventSink) -> None:
        while True:
            raw = await self._queue.get()
            if raw is _STOP:
                return
            for event in await self._resolve_with_retry(raw):
                try:
                    await sink(event)
                except Exception:
                    log.exception("处理事件出错 / the sink failed on %s", event)

    async def _resolve_with_retry(self, raw: _Raw) -> list[Event]:
        for _ in range(3):
            if not await _first_of(self._ready, self._closing) or not self._ready.is_set():
                break  # closing while disconnected: nothing can resolve it any more
            session = self._session
            if session is None:
                continue
            try:
                return await asyncio.wait_for(self._resolve(session, raw), self.rpc_timeout)
            except Exception as exc:  # classified below: one bad event must not stop the bot
                if not _is_connection_error(exc):
                    log.warning(
                        "无法解析事件，已丢弃 / dropped a %s event: %r (%s)",
                        raw.name,
                        raw.payload,
                        exc,
                    )
                    return []
                # Let the supervisor notice the drop, then resolve through the new connection.
                await _first_of(session.dropped, self._closing, timeout=self.ping_timeout)
        log.warning(
            "重连后仍无法解析事件，已丢弃 / dropped a %s event after retries: %r",
            raw.name,
            raw.payload,
        )
        return []

    async def _resolve(self, session: _Session, raw: _Raw) -> list[Event]:
        if session.dropped.is_set():
            raise _SessionGone
        payload = raw.payload
        if raw.name == "message":
            event = await self._message(session, payload.message_id)
            return [event] if event is not None else []
        if raw.name == "room-join":
            return await self._joins(session, payload)
        if raw.name == "room-leave":
            return self._leaves(session, payload)
        if raw.name == "room-topic":
            if payload.room_id and payload.new_topic is not None:
                self._topics[payload.room_id] = payload.new_topic
                self.request_rosters(payload.room_id)
            return []
        if raw.name == "friendship":
            return await friends.friendship_events(session.puppet.puppet_stub, payload.friendship_id,
                                                   session.self_id, partial(self._contact_name, session))
        if raw.name == "event":  # an event an account action brought about
            return [payload]
        if raw.name == "contacts":
            contacts = await friends.contacts_event(session.puppet.puppet_stub, session.self_id)
            return [contacts] if contacts is not None else []
        if raw.name == "roster":
            if payload is None:
                for room in (await session.puppet.puppet_stub.room_list()).ids:
                    if room:
                        self.request_rosters(room)  # one room at a time, each within rpc_timeout
                self._queue.put_nowait(_Raw("contacts", None))  # and the account's friend list
                return []
            roster = await self._roster(session, payload)
            return [roster] if roster is not None else []
        return []

    async def _roster(self, session: _Session, room: str) -> Roster | None:
        """The room's members now: ids in one call, then each member's name and group alias
        (once per connection) with bounded concurrency."""
        stub = session.puppet.puppet_stub
        ids = [m for m in (await stub.room_member_list(id=room)).member_ids if m and m != session.self_id]
        if not ids:
            log.info("群 %s 里只有机器人自己，不发名单 / room %s has no members but the bot", room, room)
            return None
        limit = asyncio.Semaphore(ROSTER_CONCURRENCY)

        async def fetch(member: str) -> None:
            async with limit:
                p = await stub.room_member_payload(id=room, member_id=member)
            self._room_members[(room, member)] = (p.name or "", p.room_alias or "")
            if p.name:
                self._names[member] = p.name

        await asyncio.gather(*(fetch(m) for m in ids if (room, m) not in self._room_members))
        # Who owns and administers the group: the guard removes people only as one of them.
        info = await stub.room_payload(id=room)
        now = datetime.now(UTC)
        return Roster(
            id=f"roster:{room}:{time.time_ns()}",
            ts=now,
            room=room,
            room_name=await self._room_topic(session, room),
            members=tuple(RosterMember(m, _clip(self._room_members[(room, m)][0]),
                                       _clip(self._room_members[(room, m)][1])) for m in ids),
            account=session.self_id,
            owner=info.owner_id or None,
            admins=tuple(a for a in info.admin_ids if a)[:50],
        )

    async def _message(self, session: _Session, message_id: str) -> Message | Recall | None:
        if message_id in self._seen:
            return None
        # The raw payload, not PuppetService.message_payload(): see wechaty_compat.MESSAGE_KINDS.
        payload = await session.puppet.puppet_stub.message_payload(id=message_id)
        self._remember(message_id)
        talker = payload.from_id
        if not talker or talker == session.self_id:
            return None  # the bot's own messages come back as events too
        room = payload.room_id or None
        if room is None and payload.to_id and payload.to_id != session.self_id:
            return None  # a 1:1 message not addressed to the bot
        kind = wc.message_kind(payload.type)
        if kind == "recalled":
            # A recall: the puppet puts the recalled message's id in the text (Wechaty's
            # Message.toRecalled reads it there). That message stops counting.
            return Recall(id=message_id, ts=_ts(payload.timestamp), member=talker, room=room,
                          message=(payload.text or "").strip() or None, account=session.self_id)
        text = (payload.text or "") if kind == "text" else ""
        app = app_message(kind, payload.text or "")
        if app is not None:
            kind, text = app.kind, app.text
        return Message(
            id=message_id,
            ts=_ts(payload.timestamp),
            sender=talker,
            sender_name=await self._contact_name(session, talker),
            text=text[:MAX_TEXT],
            room=room,
            room_name=await self._room_topic(session, room) if room else None,
            mentions=tuple(m for m in payload.mention_ids if m)[:MAX_MENTIONS],
            kind=kind,
            account=session.self_id,
            quote_of=app.quote_of if app else None,
            quote_sender=app.quote_sender if app else None,
            qr=await self._image_codes(session, message_id) if kind == "image" and room else (),
        )

    async def _image_codes(self, session: _Session, message_id: str) -> tuple[str, ...]:
        """The QR codes in a group image (for the guard). An image the gateway cannot give, or
        one behind a URL (nothing but loopback is fetched), is left unread."""
        try:
            response = await session.puppet.puppet_stub.message_image(id=message_id, type=3)
            box = json.loads(response.filebox or "{}")
        except (wc.GRPCError, ValueError) as exc:
            log.info("image %s not read for QR codes: %s", message_id, exc)
            return ()
        if box.get("qrCode"):  # a FileBox made from a QR code's text: nothing to decode
            return (str(box["qrCode"])[: qr.MAX_CODE_TEXT],)
        if not box.get("base64"):
            return ()
        try:
            data = base64.b64decode(box["base64"])
        except (binascii.Error, ValueError):
            return ()
        return await asyncio.to_thread(qr.decode, data)

    async def _joins(self, session: _Session, payload: Any) -> list[Event]:
        room = payload.room_id
        if not room:
            return []
        stamp = payload.timestamp or time.time_ns()
        room_name = await self._room_topic(session, room)
        events: list[Event] = []
        for member in payload.invited_ids or []:
            if member == session.self_id:
                self.request_rosters(room)  # the bot was added: everyone already there
                continue
            events.append(
                Join(
                    id=f"join:{room}:{member}:{stamp}",
                    ts=_ts(payload.timestamp),
                    room=room,
                    member=member,
                    member_name=await self._contact_name(session, member),
                    room_name=room_name,
                    inviter=payload.inviter_id or None,
                    account=session.self_id,
                )
            )
        return events

    def _leaves(self, session: _Session, payload: Any) -> list[Event]:
        room = payload.room_id
        if not room:
            return []
        stamp = payload.timestamp or time.time_ns()
        return [
            Leave(
                id=f"leave:{room}:{member}:{stamp}",
                ts=_ts(payload.timestamp),
                room=room,
                member=member,
                account=session.self_id,
            )
            for member in payload.removed_ids or []
            if member != session.self_id
        ]

    def _remember(self, message_id: str) -> None:
        self._seen[message_id] = None
        if len(self._seen) > _SEEN_IDS:
            self._seen.popitem(last=False)

    async def _contact_name(self, session: _Session, contact_id: str) -> str | None:
        if contact_id not in self._names:
            payload = await session.puppet.puppet_stub.contact_payload(id=contact_id)
            self._names[contact_id] = payload.name or ""
        return _clip(self._names[contact_id])

    async def _room_topic(self, session: _Session, room_id: str) -> str | None:
        if room_id not in self._topics:
            payload = await session.puppet.puppet_stub.room_payload(id=room_id)
            self._topics[room_id] = payload.topic or ""
        return _clip(self._topics[room_id])

    async def _mention_name(self, session: _Session, room_id: str | None, contact_id: str) -> str:
        """The name WeChat shows for an @: the member's group nickname, else their name."""
        if room_id:
            with contextlib.suppress(wc.GRPCError):
                member = await session.puppet.puppet_stub.room_member_payload(
                    id=room_id, member_id=contact_id
                )
                shown: str = member.room_alias or member.name
                if shown:
                    return shown
        return await self._contact_name(session, contact_id) or contact_id
