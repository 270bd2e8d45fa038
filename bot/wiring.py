"""Wiring: the features, the services built once from them, and one bot process on an adapter."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.adapters.base import Adapter, Outgoing
from bot.core.alerts import AlertHandler
from bot.core.commands import CommandHook, Registry
from bot.core.config import ConfigError, load_config
from bot.core.events import Event, EventError, latest_ts, validate
from bot.core.feature import Feature
from bot.core.outbox import OutboxSender
from bot.core.pipeline import Hook, Pipeline, enqueue
from bot.core.scheduler import start_scheduler
from bot.core.settings import Settings
from bot.deps import Deps
from bot.features.checkins.feature import FEATURE as CHECKINS
from bot.features.checkins.service import Checkins
from bot.features.followup.feature import FEATURE as FOLLOWUP
from bot.features.friends.feature import FEATURE as FRIENDS
from bot.features.friends.service import action_caps
from bot.features.help.feature import FEATURE as HELP
from bot.features.member_types.feature import FEATURE as MEMBER_TYPES
from bot.features.outbox.feature import FEATURE as OUTBOX
from bot.features.points.feature import FEATURE as POINTS
from bot.features.points.service import Ledger
from bot.features.rosters.feature import FEATURE as ROSTERS
from bot.features.segments.feature import FEATURE as SEGMENTS
from bot.features.segments.service import Playbook, check_criteria_tags
from bot.features.shop.feature import FEATURE as SHOP
from bot.features.tags.feature import FEATURE as TAGS
from bot.features.tags.service import Tagging
from bot.store.db import open_engine
from bot.web.app import address, start_server
from tagging.matcher import get_tokenizer
from tiers.levels import DEFAULT_LEVELS, parse_benefits, parse_levels

log = logging.getLogger(__name__)

SEED_LOCK = 0x71756E67756164  # any constant every qunguan process agrees on ("qunguad")

# Order matters twice: hooks take a message in this order (a check-in before a command),
# and report fields and `/help` follow it.
FEATURES: tuple[Feature, ...] = (CHECKINS, POINTS, MEMBER_TYPES, TAGS, SEGMENTS, SHOP, FOLLOWUP, ROSTERS, FRIENDS,
                                 HELP, OUTBOX)
TICK_SECONDS = 0.5  # how often time alone is let act (welcomes of a burst, check-in summaries)


def build(settings: Settings, engine: Engine | None = None) -> tuple[Pipeline, Deps]:
    """The store, the services and the pipeline with every feature's hooks, seeded once."""
    engine = engine or open_engine(settings.database_url)
    config = load_config(settings.config)
    levels = parse_levels(config.levels) if config.levels else DEFAULT_LEVELS
    try:
        benefits = parse_benefits(config.benefits, levels)
    except ValueError as exc:
        raise ConfigError(f"配置文件 {settings.config} 有误：{exc}") from None
    ledger = Ledger(levels, benefits)
    # jieba resets its logger to DEBUG when imported; its dictionary chatter is noise here.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    deps = Deps(settings=settings, engine=engine, ledger=ledger, checkins=Checkins(ledger),
                tagging=Tagging(get_tokenizer()),
                playbook=Playbook(config.rfm, config.lifecycle, config.grades), friends=config.friends)
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
        unknown = check_criteria_tags(conn, config.grades.tags())
        if unknown:
            raise ConfigError(f"配置文件 {settings.config} 有误：[grades] 评级条件里的标签"
                              f"「{'」「'.join(unknown)}」不存在：先用规则或 /tag 打上这个标签，或改正标签名")
        deps.tagging.current(conn)  # loads jieba and adds rule words once, before any message
    registry = Registry(cmd for f in FEATURES for cmd in f.commands)
    hooks: list[Hook] = [h for f in FEATURES if f.hooks for h in f.hooks(deps)]
    hooks.append(CommandHook(registry, deps))
    return Pipeline(engine, settings, hooks), deps


class App:
    """One bot process: events in through the adapter, replies out through the outbox."""

    def __init__(self, settings: Settings, adapter: Adapter, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self.adapter = adapter
        self.pipeline, self.deps = build(settings, engine)
        self.sender = OutboxSender(self.pipeline.engine, adapter,
                                   action_caps=action_caps(self.deps.friends))
        self.alerts = AlertHandler()

    def bot_ids(self) -> frozenset[str]:
        """The account the adapter is logged in as (none before the login)."""
        return frozenset({self.adapter.self_id}) if self.adapter.self_id else frozenset()

    async def handle(self, event: Event) -> None:
        try:
            event = validate(event, not_after=latest_ts(slack_hours=self.settings.future_slack_hours))
        except EventError as exc:
            log.warning("event %r rejected: %s", event.id[:80], exc)
            refused = getattr(self.adapter, "refused", None)
            if refused:
                refused(str(exc))
            return
        try:
            replies = await asyncio.to_thread(self.pipeline.process_batch, [event],
                                              bot_ids=self.bot_ids())
        except Exception:
            # One bad event must not stop the bot; it is not marked seen, so a redelivery retries.
            log.exception("processing event %s failed", event.id)
            replies = []
        alerted = await asyncio.to_thread(self.queue_alerts)
        if replies or alerted:
            await self._deliver()

    async def _deliver(self) -> None:
        if self.adapter.paced:
            self.sender.wake.set()
        else:
            await self.sender.drain()

    async def tick(self, now: datetime | None = None) -> None:
        """Let time act once (at `now`, else the wall clock): due welcomes and summaries."""
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

    def schedule(self) -> AsyncIOScheduler:
        """Start every feature's daily jobs (inside the event loop)."""
        loop = asyncio.get_running_loop()
        request = getattr(self.adapter, "request_rosters", None)

        def refresh_rosters() -> None:  # called from a job's worker thread
            if request is not None:
                loop.call_soon_threadsafe(request)

        return start_scheduler(self.deps, [j for f in FEATURES for j in f.jobs],
                               bot_ids=self.bot_ids, wake=self.sender.wake.set,
                               refresh_rosters=refresh_rosters)

    async def run(self, *, schedule: bool = False, web: bool = False) -> None:
        """Process events until the adapter stops; with `schedule`, run the daily jobs too,
        with `web`, serve the console and the event API in the same process."""
        sender = asyncio.create_task(self.sender.run()) if self.adapter.paced else None
        alerting = asyncio.create_task(self._alert_loop()) if self.adapter.paced else None
        ticker = asyncio.create_task(self._tick_forever())
        logging.getLogger().addHandler(self.alerts)
        scheduler = runner = None
        if schedule:
            scheduler = self.schedule()
        if web:
            runner = await start_server(self.pipeline, self.deps, FEATURES)
            log.info("web console at %s", address(runner))
        try:
            await self.sender.drain()  # whatever a previous run queued and did not send
            await self.adapter.run(self.handle)
            await self.sender.drain()
        finally:
            logging.getLogger().removeHandler(self.alerts)
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            if alerting:
                alerting.cancel()
                await asyncio.gather(alerting, return_exceptions=True)
            if runner:
                await runner.cleanup()
            if scheduler:
                scheduler.shutdown(wait=False)
            if sender:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
