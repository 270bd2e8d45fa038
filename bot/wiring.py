"""Wiring: the features, the services built once from them, and one bot process on an adapter."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.adapters.base import Adapter, Outgoing, RefusesEvents, ReportsConnection, RequestsRosters
from bot.core.accounts import HEARTBEAT_SECONDS, bot_accounts, heartbeat, register
from bot.core.alerts import AlertHandler
from bot.core.commands import CommandHook, Registry
from bot.core.config import Config, ConfigError, load_config
from bot.core.deps import Deps, build_services
from bot.core.events import Event, EventError, latest_ts, validate
from bot.core.feature import Feature
from bot.core.leader import Leadership
from bot.core.outbox import OutboxSender
from bot.core.pipeline import Hook, Pipeline, enqueue
from bot.core.scheduler import check_triggers, start_scheduler, watch
from bot.core.settings import Settings
from bot.features.audit.feature import FEATURE as AUDIT
from bot.features.backups.feature import FEATURE as BACKUPS
from bot.features.checkins.feature import FEATURE as CHECKINS
from bot.features.faq.feature import FEATURE as FAQ
from bot.features.followup.feature import FEATURE as FOLLOWUP
from bot.features.friends.api import action_caps
from bot.features.friends.feature import FEATURE as FRIENDS
from bot.features.guard.feature import FEATURE as GUARD
from bot.features.help.feature import FEATURE as HELP
from bot.features.member_types.feature import FEATURE as MEMBER_TYPES
from bot.features.outbox.feature import FEATURE as OUTBOX
from bot.features.outreach.feature import FEATURE as OUTREACH
from bot.features.people.feature import FEATURE as PEOPLE
from bot.features.points.feature import FEATURE as POINTS
from bot.features.privacy.feature import FEATURE as PRIVACY
from bot.features.recalls.feature import FEATURE as RECALLS
from bot.features.referrals.feature import FEATURE as REFERRALS
from bot.features.reminders.feature import FEATURE as REMINDERS
from bot.features.room_rules.feature import FEATURE as ROOM_RULES
from bot.features.rosters.feature import FEATURE as ROSTERS
from bot.features.segments.api import Playbook, check_criteria_tags
from bot.features.segments.feature import FEATURE as SEGMENTS
from bot.features.shop.feature import FEATURE as SHOP
from bot.features.tags.api import Tagging
from bot.features.tags.feature import FEATURE as TAGS
from bot.features.trends.feature import FEATURE as TRENDS
from bot.store.db import open_engine
from tiers.friends import FriendSettings

if TYPE_CHECKING:
    from aiohttp.web import AppRunner

    # The console's start (bot.web.app.start_server): `qunguan run` hands it in, so the wiring
    # itself loads no console for the commands that serve none.
    StartConsole = Callable[[Pipeline, Deps, Sequence[Feature]], Awaitable[AppRunner]]

log = logging.getLogger(__name__)

SEED_LOCK = 0x71756E67756164  # any constant every qunguan process agrees on ("qunguad")

# Report fields and `/help` follow this order. The hooks order themselves by what each declares
# (Hook.after, Hook.priority: the guard judges every message first, commands come last, tags after
# points); this order only settles what no declaration does.
FEATURES: tuple[Feature, ...] = (GUARD, CHECKINS, POINTS, MEMBER_TYPES, TAGS, SEGMENTS, REFERRALS, SHOP, FOLLOWUP,
                                 ROSTERS, ROOM_RULES, FRIENDS, FAQ, HELP, OUTBOX, OUTREACH, REMINDERS, PRIVACY, AUDIT,
                                 RECALLS, BACKUPS, PEOPLE, TRENDS)
ACCOUNTS_TTL = 60.0  # seconds between reads of the store's bot accounts
RETRY_MIN, RETRY_MAX = 0.5, 30.0  # back-off of a batch retried after the store was lost
TICK_SECONDS = 0.5  # how often time alone is let act (welcomes of a burst, check-in summaries)


def build(settings: Settings, engine: Engine | None = None) -> tuple[Pipeline, Deps]:
    """The store, the services and the pipeline with every feature's hooks, seeded once."""
    config = read_settings(settings)
    engine = engine or open_engine(settings.database_url)
    try:
        services = build_services((s for f in FEATURES for s in f.services), config)
    except ValueError as exc:  # a value a service refuses (levels, benefits...)
        raise ConfigError(f"配置文件 {settings.config} 有误：{exc}") from None
    deps = Deps(settings=settings, engine=engine, services=services,
                welcome_parts=tuple(f.welcome for f in FEATURES if f.welcome))
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            # Several processes starting at once on one store would each seed the defaults:
            # one at a time (SQLite's BEGIN IMMEDIATE already serializes them).
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK})
        for feature in FEATURES:
            if feature.seed:
                try:
                    feature.seed(session, config)
                except ValueError as exc:  # a value the feature refuses (a window, a rule...)
                    raise ConfigError(f"配置文件 {settings.config} 的 {feature.name} 部分有误：{exc}") from None
        session.commit()
    with engine.connect() as conn:
        unknown = check_criteria_tags(conn, deps.service(Playbook).grades.tags())
        if unknown:
            raise ConfigError(f"配置文件 {settings.config} 有误：[grades] 评级条件里的标签"
                              f"「{'」「'.join(unknown)}」不存在：先用规则或 /tag 打上这个标签，或改正标签名")
        deps.service(Tagging).current(conn)  # loads jieba and adds rule words once, before any message
    registry = Registry(cmd for f in FEATURES for cmd in f.commands)
    hooks: list[Hook] = [h for f in FEATURES if f.hooks for h in f.hooks(deps)]
    hooks.append(CommandHook(registry, deps))
    return Pipeline(engine, settings, hooks), deps


def read_settings(settings: Settings) -> Config:
    """Check every feature's QUNGUAN_* settings and read the config file for the keys the features
    declare: at start, before anything else, so a mistake stops the process with one line."""
    settings.check(f.settings for f in FEATURES if f.settings)
    return load_config(settings.config, (key for f in FEATURES for key in f.config))


class App:
    """One bot process: events in through the adapter, replies out through the outbox."""

    def __init__(self, settings: Settings, adapter: Adapter, *, engine: Engine | None = None,
                 label: str | None = None) -> None:
        self.settings = settings
        self.adapter = adapter
        self.label = label  # `qunguan run --account NAME`
        self.pipeline, self.deps = build(settings, engine)
        self.sender = OutboxSender(self.pipeline.engine, adapter,
                                   action_caps=action_caps(self.deps.service(FriendSettings)))
        self.alerts = AlertHandler()
        self._accounts: frozenset[str] = frozenset()  # every account on the store, re-read each minute
        self._accounts_at = -ACCOUNTS_TTL
        self._registered: str | None = None
        self._failed_at = -ACCOUNTS_TTL
        self.event_at = 0  # wall clock (epoch s) of the latest event from the adapter
        self._leadership: Leadership | None = None

    def bot_ids(self) -> frozenset[str]:
        """The accounts the bot speaks as: the adapter's (once logged in) and the other
        processes' on this store (an account in a group another one is in is not a member)."""
        own = self.adapter.self_id
        return (self._accounts | {own}) if own else self._accounts

    async def _know_accounts(self) -> None:
        """Note this process's account in the store at its login, and re-read the others'."""
        own, now = self.adapter.self_id, time.monotonic()
        if (own == self._registered and now - self._accounts_at < ACCOUNTS_TTL) or now - self._failed_at < 5:
            return

        def read() -> frozenset[str]:
            with self.pipeline.engine.begin() as conn:
                if own and own != self._registered:
                    register(conn, own, self.label, int(time.time()))
                return bot_accounts(conn)

        try:
            self._accounts = await asyncio.to_thread(read)
        except Exception as exc:  # the store is away: tried again in a few seconds
            self._failed_at = now
            log.warning("could not read the bot accounts: %s", str(exc).splitlines()[0])
            return
        self._registered, self._accounts_at = own, now

    async def handle(self, event: Event) -> None:
        self.event_at = int(time.time())
        try:
            event = validate(event, not_after=latest_ts(slack_hours=self.settings.future_slack_hours))
        except EventError as exc:
            log.warning("event %r rejected: %s", event.id[:80], exc)
            if isinstance(self.adapter, RefusesEvents):
                self.adapter.refused(str(exc))
            return
        await self._know_accounts()
        try:
            replies = await self._ingest(event)
        except Exception:
            # One bad event must not stop the bot; it is not marked seen, so a redelivery retries.
            log.exception("processing event %s failed", event.id)
            replies = []
        alerted = await asyncio.to_thread(self.queue_alerts)
        if replies or alerted:
            await self._deliver()

    async def _ingest(self, event: Event) -> list[Outgoing]:
        """One event in its own batch. A batch that lost the database (a dropped connection,
        a restarting server) was rolled back whole: it is retried with back-off until the
        store answers again, so nothing is lost or counted twice."""
        delay = RETRY_MIN
        while True:
            try:
                return await asyncio.to_thread(self.pipeline.process_batch, [event],
                                               bot_ids=self.bot_ids())
            except OperationalError as exc:
                if not self._transient(exc):
                    raise
                log.warning("数据库连接中断，这一批已回滚，%.1f 秒后重试 / the store was lost mid-batch "
                            "(rolled back), retrying in %.1f s: %s", delay, delay, str(exc).splitlines()[0])
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _transient(self, exc: OperationalError) -> bool:
        """A lost or restarting PostgreSQL (any OperationalError there: connection, shutdown,
        serialization), or a busy SQLite file; not a broken schema, which retrying cannot fix."""
        if self.pipeline.engine.dialect.name == "postgresql":
            return True
        reason = str(exc.orig).lower()
        return "locked" in reason or "busy" in reason

    async def _deliver(self) -> None:
        if self.adapter.paced:
            self.sender.wake.set()
        else:
            await self.sender.drain()

    async def tick(self, now: datetime | None = None) -> None:
        """Let time act once (at `now`, else the wall clock): due welcomes and summaries."""
        await self._know_accounts()
        try:
            replies = await asyncio.to_thread(
                self.pipeline.tick, now or datetime.now(self.settings.tz), bot_ids=self.bot_ids())
        except Exception:
            log.exception("tick failed")
            return
        if replies:
            await self._deliver()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            await self.tick()

    def queue_alerts(self) -> int:
        """DM the admins the error lines noted since the last call (their own transaction)."""
        lines = self.alerts.take()
        admins = sorted(self.settings.admin_ids)
        if not lines or not admins:
            return 0
        out = [Outgoing(text=line, to=admin) for line in lines for admin in admins]
        try:
            with self.pipeline.engine.begin() as conn:
                enqueue(conn, out, datetime.now(UTC), self.pipeline.origin)
        except Exception:
            log.warning("could not queue error alerts for the admins", exc_info=False)
            return 0
        return len(out)

    async def _alert_loop(self) -> None:
        while True:
            await asyncio.sleep(10)
            if await asyncio.to_thread(self.queue_alerts):
                self.sender.wake.set()

    async def _heartbeat_loop(self) -> None:
        """Note this account's state in the store for the health check: at once when its
        connection changes, else every HEARTBEAT_SECONDS; disconnected when the run stops."""
        noted: tuple[str, bool] | None = None
        last = 0.0
        try:
            while True:
                own = self.adapter.self_id
                if own and own == self._registered:
                    up = self.adapter.connected if isinstance(self.adapter, ReportsConnection) else True
                    state = (own, up)
                    now = time.monotonic()
                    if (state != noted or now - last >= HEARTBEAT_SECONDS) and await self._note(
                            *state, changed=state != noted):
                        noted, last = state, now
                await asyncio.sleep(1.0)
        finally:
            if noted and noted[1]:
                await self._note(noted[0], False, changed=True)

    async def _note(self, account: str, connected: bool, *, changed: bool) -> bool:
        leading = bool(self._leadership and self._leadership.leading)

        def write() -> None:
            with self.pipeline.engine.begin() as conn:
                heartbeat(conn, account, connected=connected, changed=changed, at=int(time.time()),
                          event_at=self.event_at, leading=leading)

        try:
            await asyncio.to_thread(write)
        except Exception as exc:  # the store is away: the health check will say so
            log.warning("could not note the account's state: %s", str(exc).splitlines()[0])
            return False
        return True

    def schedule(self, *, per_account: bool = False) -> AsyncIOScheduler:
        """Start the features' jobs of the store (inside the event loop; only in the process
        that leads the scheduler), or with `per_account` this process's own jobs."""
        loop = asyncio.get_running_loop()
        adapter = self.adapter

        def refresh_rosters() -> None:  # called from a job's worker thread
            if isinstance(adapter, RequestsRosters):
                loop.call_soon_threadsafe(adapter.request_rosters)

        return start_scheduler(self.deps, [j for f in FEATURES for j in f.jobs],
                               bot_ids=self.bot_ids, wake=self.sender.wake.set,
                               refresh_rosters=refresh_rosters, per_account=per_account)

    def leadership(self, poll: float | None = None) -> Leadership:
        """Runs the daily jobs while this process leads the store's scheduler (one process
        per store does, however many accounts run on it: bot.core.leader)."""
        scheduler: list[AsyncIOScheduler] = []

        def start() -> None:
            scheduler.append(self.schedule())

        def stop() -> None:
            while scheduler:
                scheduler.pop().shutdown(wait=False)

        self._leadership = Leadership(self.pipeline.engine, start, stop,
                                      poll=poll or self.settings.leader_poll_seconds)
        return self._leadership

    async def run(self, *, schedule: bool = False, console: StartConsole | None = None) -> None:
        """Process events until the adapter stops; with `schedule`, run the daily jobs too
        while this process leads the scheduler, with `console` (bot.web.app.start_server), serve
        the console and the event API in the same process."""
        if schedule:
            check_triggers(self.settings, [j for f in FEATURES for j in f.jobs])
        logging.getLogger().addHandler(self.alerts)
        # A background task that dies is logged with its traceback and told to the admins.
        sender = (watch(asyncio.create_task(self.sender.run(), name="outbox"), "bot.core.outbox")
                  if self.adapter.paced else None)
        alerting = (watch(asyncio.create_task(self._alert_loop(), name="alerts"), "bot.core.alerts")
                    if self.adapter.paced else None)
        ticker = watch(asyncio.create_task(self._tick_forever(), name="tick"), "bot.wiring")
        beating = (watch(asyncio.create_task(self._heartbeat_loop(), name="heartbeat"), "bot.wiring")
                   if self.adapter.paced else None)
        runner = None
        leading = (watch(asyncio.create_task(self.leadership().run(), name="scheduler"), "bot.core.scheduler")
                   if schedule else None)
        own = self.schedule(per_account=True) if schedule else None
        if console:
            runner = await console(self.pipeline, self.deps, FEATURES)  # it logs its address
        try:
            await self.sender.drain()  # whatever a previous run queued and did not send
            await self.adapter.run(self.handle)
            await self.sender.drain()
        finally:
            logging.getLogger().removeHandler(self.alerts)
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            if beating:
                beating.cancel()
                await asyncio.gather(beating, return_exceptions=True)
            if alerting:
                alerting.cancel()
                await asyncio.gather(alerting, return_exceptions=True)
            if runner:
                await runner.cleanup()
            if leading:
                leading.cancel()
                await asyncio.gather(leading, return_exceptions=True)
            if own:
                own.shutdown(wait=False)
            if sender:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
