"""Wiring: build the pipeline and its services once, and run the bot on an adapter."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.adapters.base import Adapter
from bot.checkins import CheckinFeature, Checkins, seed_tasks
from bot.commands import checkin as checkin_cmds
from bot.commands import followup as followup_cmds
from bot.commands import help as help_cmds
from bot.commands import tags as tag_cmds
from bot.commands import tiers as tiers_cmds
from bot.commands.dispatch import CommandFeature
from bot.commands.registry import Registry
from bot.config import load_config
from bot.events import Event
from bot.followup import seed_operators
from bot.outbox import OutboxSender
from bot.pipeline import Pipeline
from bot.points import Ledger
from bot.report import ReportExtra
from bot.settings import Settings
from bot.speaking import SpeakingFeature
from bot.store.db import open_engine
from bot.store.models import RoomOperator
from bot.tags import Tagging, TaggingFeature, seed_rules, tag_fields
from bot.tier_report import tier_fields
from tagging.matcher import get_tokenizer
from tiers.levels import DEFAULT_LEVELS, parse_levels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """The services a command handler may use; built once at start-up."""

    settings: Settings
    engine: Engine
    registry: Registry
    ledger: Ledger
    checkins: Checkins
    tagging: Tagging
    report_extras: tuple[ReportExtra, ...] = ()
    self_ids: set[str] = field(default_factory=set)  # the bot's own account ids

    def is_admin(self, member: str) -> bool:
        return member in self.settings.admin_ids

    def is_operator(self, conn: Connection, member: str) -> bool:
        return conn.execute(select(RoomOperator.member).where(
            RoomOperator.member == member).limit(1)).first() is not None

    def excluded_from_ranks(self) -> set[str]:
        return set(self.settings.admin_ids) | self.self_ids


def build(settings: Settings, engine: Engine | None = None) -> tuple[Pipeline, Deps]:
    engine = engine or open_engine(settings.database_url)
    config = load_config(settings.config)
    ledger = Ledger(parse_levels(config.levels) if config.levels else DEFAULT_LEVELS)
    checkins = Checkins(ledger)
    # jieba resets its logger to DEBUG when imported; its dictionary chatter is noise here.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tagging = Tagging(get_tokenizer())
    with Session(engine) as session:
        seed_tasks(session, config.checkin_tasks)
        seed_rules(session.connection(), config.tag_rules, config.tag_groups)
        seed_operators(session.connection(), config.operators)
        session.commit()
    with engine.connect() as conn:
        tagging.current(conn)  # loads jieba and adds rule words once, before any message
    registry = Registry([*checkin_cmds.COMMANDS, *tiers_cmds.COMMANDS, *tag_cmds.COMMANDS,
                         *followup_cmds.COMMANDS, *help_cmds.COMMANDS])
    deps = Deps(settings=settings, engine=engine, registry=registry, ledger=ledger,
                checkins=checkins, tagging=tagging,
                report_extras=(tier_fields(settings, ledger), tag_fields(tagging, settings.tz)))
    features = [CheckinFeature(checkins), SpeakingFeature(ledger), TaggingFeature(tagging),
                CommandFeature(registry, deps)]
    return Pipeline(engine, settings, features), deps


class App:
    """One bot process: events in through the adapter, replies out through the outbox."""

    def __init__(self, settings: Settings, adapter: Adapter, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self.adapter = adapter
        self.pipeline, self.deps = build(settings, engine)
        self.sender = OutboxSender(self.pipeline.engine, adapter)

    async def handle(self, event: Event) -> None:
        self_id = getattr(self.adapter, "self_id", None)
        if self_id:
            self.deps.self_ids.add(self_id)
        try:
            replies = await asyncio.to_thread(self.pipeline.process_batch, [event])
        except Exception:
            # One bad event must not stop the bot; it is not marked seen, so a redelivery retries.
            log.exception("processing event %s failed", event.id)
            return
        if replies:
            if self.adapter.paced:
                self.sender.wake.set()
            else:
                await self.sender.drain()

    async def run(self, *, schedule: bool = False, web: bool = False) -> None:
        """Process events until the adapter stops; with `schedule`, run the daily jobs too,
        with `web`, serve the console and the event API in the same process."""
        sender = asyncio.create_task(self.sender.run()) if self.adapter.paced else None
        scheduler = runner = None
        if schedule:
            from bot.scheduler import start_scheduler

            scheduler = start_scheduler(self)
        if web:
            from bot.web import address, start_server

            runner = await start_server(self.pipeline, self.deps)
            log.info("web console at %s", address(runner))
        try:
            await self.sender.drain()  # whatever a previous run queued and did not send
            await self.adapter.run(self.handle)
            await self.sender.drain()
        finally:
            if runner:
                await runner.cleanup()
            if scheduler:
                scheduler.shutdown(wait=False)
            if sender:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
