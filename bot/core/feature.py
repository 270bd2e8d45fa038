"""What one feature package plugs in: the wiring, the web shell and the scheduler loop over these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
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
    # The web console: `routes` adds the feature's pages and API endpoints (handlers import
    # bot.web.shell); `templates` is a folder holding one sub-folder named after the feature
    # (templates/<name>/*.html), which the console's jinja2 loader searches after its own.
    routes: Callable[[web.UrlDispatcher], None] | None = None
    templates: Path | None = None


def report_fields(features: Sequence[Feature], deps: Deps) -> list[ReportExtra]:
    """The features' fields of `qunguan report` (and of the console's member rows), in order."""
    return [f.report(deps) for f in features if f.report]
