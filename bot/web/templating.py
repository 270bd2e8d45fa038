"""The console's jinja2 environment: where templates are found, autoescaping, and the filters
and globals templates share (dates, numbers, links with query strings).

Templates are found in `bot/web/templates/` (the shell: layout, login, error, the
cross-feature pages and macros) and in each feature's `templates/` folder, which holds one
sub-folder named after the feature (`bot/features/tags/templates/tags/rules.html` is
"tags/rules.html"), so two features never clash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import quote, urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.core.feature import Feature
from bot.core.names import display
from bot.web.shell import web_part
from tiers.types import TYPE_LABELS, MemberType

SHELL_TEMPLATES = Path(__file__).parent / "templates"


def url(path: str, params: Mapping[str, object] | None = None) -> str:
    """A link with a query string; empty values are left out (autoescaped where it is put)."""
    query = {k: str(v) for k, v in (params or {}).items() if v not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


def path_part(value: str) -> str:
    """An id as one URL path segment (`/members/<id>`)."""
    return quote(value, safe="")


def when(at: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.strftime(fmt)


def local(ts: int, tz: tzinfo | None) -> str:
    """An epoch as local time in the community's zone."""
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def number(x: float) -> str:
    """A threshold or coordinate: whole numbers without a decimal point."""
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def signed(n: int) -> str:
    return f"{n:+d}"


def template_folders(features: Sequence[Feature]) -> list[Path]:
    """The shell's folder, then each feature's, checked: a feature's folder holds only a
    sub-folder named after it."""
    folders = [SHELL_TEMPLATES]
    for f in features:
        templates = web_part(f).templates
        if templates is None:
            continue
        inside = {p.name for p in templates.iterdir()}
        if inside != {f.name}:
            raise ValueError(f"{templates} should hold one folder, {f.name}/; found {sorted(inside)}")
        folders.append(templates)
    return folders


def setup(app: web.Application, features: Sequence[Feature]) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(p) for p in template_folders(features)])
    env: jinja2.Environment = aiohttp_jinja2.setup(
        app, loader=loader, autoescape=jinja2.select_autoescape(("html", "svg"), default=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        auto_reload=False)
    env.filters.update(when=when, local=local, number=number, signed=signed, path_part=path_part,
                       shown_name=display)
    env.globals.update(url=url, TYPE_LABELS=TYPE_LABELS, MemberType=MemberType)
    return env
