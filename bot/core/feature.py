"""What one feature package plugs in: the wiring, the web shell and the scheduler loop over these."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.core.commands import Command
from bot.core.config import Config, ConfigKey
from bot.core.deps import Deps, Provide
from bot.core.pipeline import Hook
from bot.core.report import ReportExtra
from bot.core.scheduler import Job
from bot.core.settings import FeatureSettings

if TYPE_CHECKING:
    from aiohttp import web

# Who may see a console page. A manager (the console's password today) sees every page; an
# operator only the pages meant for operators.
ADMIN = "admin"
OPERATOR = "operator"
ROLES = (ADMIN, OPERATOR)


@dataclass(frozen=True)
class NavEntry:
    """A console page in the nav bar: `key` is the `nav=` its handler passes to `page`, so the
    bar marks it; entries are shown in `order` (the shell's own pages are 0 and 10)."""

    title: str
    path: str
    key: str
    order: int
    who: str = ADMIN  # the least role that sees it: ADMIN (managers only) or OPERATOR

    def visible_to(self, role: str) -> bool:
        return role == ADMIN or self.who == OPERATOR


@dataclass(frozen=True)
class MemberView:
    """What the console's member page knows of one member, handed to each feature's section."""

    member: str
    at: datetime  # the console's "now", in the community's zone
    rooms: list[str]
    names: Mapping[str, str]  # room id → name
    report: Mapping[str, Any]  # the member's row of `qunguan report` (every feature's fields)
    deps: Deps


@dataclass(frozen=True)
class MemberSection:
    """A part of the console's member page: `template` ("<feature>/<name>.html") is included
    with `section` (what `data` returned) and the page's context (`view`, `at`, `names`).
    `place` "facts" is a row of the top table (its template writes `<tr>`s); "sections" a
    section of its own under it (the template writes its `<h2>`). Shown in `order`."""

    template: str
    order: int
    data: Callable[[Connection, MemberView], Mapping[str, Any]] = lambda conn, view: {}
    place: str = "sections"


@dataclass(frozen=True)
class OverviewView:
    """What the console's overview knows, handed to each feature's overview section."""

    at: datetime  # the console's "now", in the community's zone
    within: frozenset[str] | None  # an operator's rooms; None: every room (an admin)
    deps: Deps


@dataclass(frozen=True)
class OverviewSection:
    """A part of the console's overview (概览), under its cards: `template` ("<feature>/<name>.html",
    writing its own `<h2>`) is included with `section` (what `data` returned). Shown in `order`."""

    template: str
    order: int
    data: Callable[[Connection, OverviewView], Mapping[str, Any]] = lambda conn, view: {}


@dataclass(frozen=True)
class CsvColumn:
    """A column of the console's member CSV, from the member's report row; in `order` after
    the shell's own columns (id, name, rooms, type, counts)."""

    title: str
    value: Callable[[Mapping[str, Any]], object]
    order: int


@dataclass(frozen=True)
class WebPart:
    """A feature's part of the web console (its web.py's `WEB`). `routes` adds its pages and API
    endpoints (handlers import bot.web.shell); `templates` is a folder holding one sub-folder
    named after the feature (templates/<name>/*.html), which the console's jinja2 loader searches
    after its own."""

    routes: Callable[[web.UrlDispatcher], None] | None = None
    templates: Path | None = None
    nav: tuple[NavEntry, ...] = ()  # its pages in the console's nav bar
    member: tuple[MemberSection, ...] = ()  # its parts of the member page
    overview: tuple[OverviewSection, ...] = ()  # its parts of the overview page
    csv: tuple[CsvColumn, ...] = ()  # its columns of the member CSV


@dataclass(frozen=True)
class Feature:
    name: str
    # The services it provides to everyone (`deps.service(Kind)`), built once at start-up.
    services: tuple[Provide[Any], ...] = ()
    commands: tuple[Command, ...] = ()
    hooks: Callable[[Deps], Sequence[Hook]] | None = None  # pipeline hooks, in order
    report: Callable[[Deps], ReportExtra] | None = None  # fields of `qunguan report`
    seed: Callable[[Session, Config], None] | None = None  # defaults from the config, once
    jobs: tuple[Job, ...] = ()  # daily jobs
    # Its part of the web console: the module (`bot.features.<name>.web`) whose `WEB` is a WebPart.
    # Named, not imported: only the console loads it (bot.web.shell.web_part), so a command that
    # serves no console (import, replay, report) loads neither the pages nor aiohttp.
    web: str | None = None
    # A paragraph the feature adds under a room's welcome for newcomers (the room's 群规), or None.
    welcome: Callable[[Connection, str], str | None] | None = None
    # Its settings, checked when the process starts: QUNGUAN_* (read with `settings.of(...)`) and
    # the keys of the config file it owns (read with `config[KEY]`).
    settings: type[FeatureSettings] | None = None
    config: tuple[ConfigKey[Any], ...] = ()


def report_fields(features: Sequence[Feature], deps: Deps) -> list[ReportExtra]:
    """The features' fields of `qunguan report` (and of the console's member rows), in order."""
    return [f.report(deps) for f in features if f.report]
