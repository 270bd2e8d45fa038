"""The health check a monitor polls (`GET /healthz`, no login) and `qunguan status` prints: the
store, its schema, each WeChat account's connection and latest event, the outbox's queue, and
which run leads the daily jobs. No member data: ids of the bot's own accounts and counts only.

Each `qunguan run` notes its account's state in the store (bot.wiring.App._heartbeat_loop):
at once when the connection changes, else every HEARTBEAT_SECONDS. A run that stopped
heartbeating (killed, its host gone) counts as disconnected from its last heartbeat on.
Unhealthy (503): the store does not answer, or an account has been disconnected longer than
`QUNGUAN_HEALTH_DISCONNECTED_SECONDS`. Accounts silent for RETIRED_DAYS are listed, not judged:
an account taken out of service must not fail the check forever.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from bot.core import outbox
from bot.core.accounts import HEARTBEAT_SECONDS
from bot.core.settings import Settings
from bot.store import migrate
from bot.store.backup import shown
from bot.store.db import make_engine
from bot.store.models import BotAccount
from bot.web.shell import CONSOLE, json_response

STALE_SECONDS = 3 * HEARTBEAT_SECONDS  # no heartbeat for this long: the run is gone
RETIRED_DAYS = 7


@dataclass(frozen=True)
class Account:
    id: str
    label: str | None
    connected: bool
    state_seconds: int | None  # how long it has been connected / disconnected
    last_event_seconds: int | None  # age of its latest event
    process: str  # "running", "gone" (no heartbeat for STALE_SECONDS), "retired", "unknown" (never noted)


@dataclass(frozen=True)
class Health:
    ok: bool
    store: str  # the URL without its password
    reachable: bool
    schema: list[str] = field(default_factory=list)
    schema_current: bool = False
    accounts: list[Account] = field(default_factory=list)
    outbox_waiting: int = 0
    outbox_oldest_seconds: int | None = None
    leader: str | None = None
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def check(settings: Settings, engine: Engine | None = None, *, now: float | None = None) -> Health:
    """The store's health as of `now` (epoch seconds; the wall clock by default)."""
    at = int(time.time() if now is None else now)
    own = engine is None
    engine = engine or make_engine(settings.database_url)
    where = shown(settings.database_url)
    try:
        with engine.connect() as conn:
            schema = migrate.stored_on(conn)
            rows = conn.execute(select(BotAccount)).all() if conn.dialect.has_table(conn, "botaccount") else []
            waiting = outbox.waiting(conn) if conn.dialect.has_table(conn, "outbox") else []
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Health(False, where, False, problems=[f"数据库无法连接：{reason}"])
    finally:
        if own:
            engine.dispose()
    current = migrate.is_current(schema)
    problems = [] if current else [f"数据库结构不是最新（{', '.join(schema) or '空'}）：运行 qunguan db upgrade"]
    accounts = []
    for a in rows:
        account = _account(a, at)
        accounts.append(account)
        if (account.process in ("running", "gone") and not account.connected
                and (account.state_seconds or 0) > settings.health_disconnected_seconds):
            problems.append(f"微信账号 {a.label or a.id} 已断开 {account.state_seconds} 秒")
    leaders = [a.label or a.id for a, acc in zip(rows, accounts, strict=True)
               if a.leading and acc.process == "running"]
    oldest = min((w.oldest for w in waiting), default=None)
    unhealthy = any("已断开" in p for p in problems)
    return Health(not unhealthy, where, True, schema, current, accounts,
                  sum(w.rows for w in waiting), at - oldest if oldest is not None else None,
                  ", ".join(leaders) or None, problems)


def _account(a: Any, at: int) -> Account:  # a botaccount row
    if not a.alive_at:
        return Account(a.id, a.label, False, None, None, "unknown")
    silent = at - a.alive_at
    event = at - a.event_at if a.event_at else None
    if silent > RETIRED_DAYS * 86400:
        return Account(a.id, a.label, False, silent, event, "retired")
    if silent > STALE_SECONDS:  # killed or cut off: disconnected since its last word
        return Account(a.id, a.label, False, silent, event, "gone")
    return Account(a.id, a.label, a.connected, at - (a.state_at or a.alive_at), event, "running")


def _ago(seconds: int | None) -> str:
    if seconds is None:
        return "无"
    if seconds < 120:
        return f"{seconds} 秒前"
    if seconds < 7200:
        return f"{seconds // 60} 分钟前"
    return f"{seconds // 3600} 小时前"


def describe(h: Health) -> str:
    """`qunguan status`: the same facts as /healthz, one line each."""
    lines = [f"{'正常' if h.ok else '异常'}：{h.store}"]
    if not h.reachable:
        return "\n".join([*lines, *h.problems])
    lines.append(f"结构版本：{', '.join(h.schema) or '空库'}{'（最新）' if h.schema_current else '（需要升级）'}")
    for a in h.accounts:
        name = f"{a.label}（{a.id}）" if a.label else a.id
        if a.process == "unknown":
            state = "没有状态记录（它的 qunguan run 还没有运行过这一版）"
        elif a.process == "retired":
            state = f"已停用？最后一次运行在 {_ago(a.state_seconds)}"
        else:
            how = "已连接" if a.connected else "未连接"
            gone = "，qunguan run 没有在运行" if a.process == "gone" else ""
            state = f"{how} {a.state_seconds} 秒{gone}"
        lines.append(f"微信账号 {name}：{state}；最近事件 {_ago(a.last_event_seconds)}")
    if not h.accounts:
        lines.append("微信账号：还没有（qunguan run 登录后出现）")
    lines.append(f"发件箱待发送：{h.outbox_waiting} 条" + (f"，最早 {_ago(h.outbox_oldest_seconds)}"
                                                     if h.outbox_oldest_seconds is not None else ""))
    lines.append(f"定时任务由：{h.leader or '没有运行中的 qunguan run'}")
    lines += [f"问题：{p}" for p in h.problems]
    return "\n".join(lines)


async def healthz(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    health = await console.run(check, console.settings, console.deps.engine)
    return json_response(health.as_json(), status=200 if health.ok else 503)


__all__ = ["Health", "check", "describe", "healthz"]
