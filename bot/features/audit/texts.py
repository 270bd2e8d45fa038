"""Audit entries in the words a manager reads, for /audit, the page and the CSV."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from bot.core.audit import CONSOLE, CONSOLE_ACTOR, WHERE_LABELS
from bot.store.models import AuditEntry

ACTION_LABELS = {
    "login": "登录控制台",
    "login_failed": "登录失败",
}


def who(entry: AuditEntry, names: Mapping[str, str]) -> str:
    """The person, and 「（控制台）」 for what they did in the console: 「小王（控制台）」."""
    if entry.actor == CONSOLE_ACTOR:
        return "控制台"
    name = names.get(entry.actor, entry.actor)
    return f"{name}（控制台）" if entry.place == CONSOLE else name


def where(entry: AuditEntry, rooms: Mapping[str, str]) -> str:
    if entry.room:
        return rooms.get(entry.room, entry.room)
    return WHERE_LABELS.get(entry.place, entry.place)


def what(entry: AuditEntry) -> str:
    """The action: the command as typed, a console path with its form, or a login."""
    label = ACTION_LABELS.get(entry.action)
    if label:
        return label
    if entry.place == CONSOLE:
        return f"{entry.action} {entry.detail}".strip()
    return entry.detail or entry.action


def line(entry: AuditEntry, names: Mapping[str, str], rooms: Mapping[str, str], tz: tzinfo) -> str:
    """One entry on one line for /audit."""
    at = datetime.fromtimestamp(entry.at, tz)
    result = entry.result.replace("\n", " ")
    if len(result) > 60:
        result = result[:60] + "…"
    return (f"{at:%m-%d %H:%M} {who(entry, names)}（{where(entry, rooms)}）{what(entry)}"
            + (f" → {result}" if result else ""))
