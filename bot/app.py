"""Wiring: build the pipeline and its services once, and run the bot on an adapter."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.adapters.base import Adapter
from bot.commands import help as help_cmds
from bot.commands.dispatch import CommandFeature
from bot.commands.registry import Registry
from bot.events import Event
from bot.outbox import OutboxSender
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.store.db import open_engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """The services a command handler may use; built once at start-up."""

    settings: Settings
    engine: Engine
    registry: Registry
    report_extras: tuple = ()

    def is_admin(self, member: str) -> bool:
        return member in self.settings.admin_ids


def build(settings: Settings, engine: Engine | None = None) -> tuple[Pipeline, Deps]:
    engine = engine or open_engine(settings.database_url)
    registry = Registry([*help_cmds.COMMANDS])
    deps = Deps(settings=settings, engine=engine, registry=registry)
    features = [CommandFeature(registry, deps)]
    return Pipeline(engine, settings, features), deps


class App:
    """One bot process: events in through the adapter, replies out through the outbox."""

    def __init__(self, settings: Settings, adapter: Adapter, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self.adapter = adapter
        self.pipeline, self.deps = build(settings, engine)
        self.sender = OutboxSender(self.pipeline.engine, adapter)

    async def handle(self, event: Event) -> None:
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

    async def run(self) -> None:
        sender = asyncio.create_task(self.sender.run()) if self.adapter.paced else None
        try:
            await self.sender.drain()  # whatever a previous run queued and did not send
            await self.adapter.run(self.handle)
            await self.sender.drain()
        finally:
            if sender:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
