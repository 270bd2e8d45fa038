"""What one feature package plugs in: the wiring, the web shell and the scheduler loop over these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from bot.core.commands import Command
from bot.core.config import Config
from bot.core.pipeline import Hook
from bot.core.report import ReportExtra
from bot.core.scheduler import Job
from bot.deps import Deps


@dataclass(frozen=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    hooks: Callable[[Deps], Sequence[Hook]] | None = None  # pipeline hooks, in order
    report: Callable[[Deps], ReportExtra] | None = None  # fields of `qunguan report`
    seed: Callable[[Session, Config], None] | None = None  # defaults from the config, once
    jobs: tuple[Job, ...] = ()  # daily jobs
