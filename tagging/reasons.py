"""Why a member has a tag: provenance records and their one-line Chinese explanations."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

PROVENANCE_SOURCES = ("keyword", "count", "manual")
ELLIPSIS = "…"
# Characters that only make sense attached to the one before; an excerpt must not end on one
# it has cut away from (a dangling ZWJ or variation selector renders as a box).
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")
# Characters of the message kept before the keyword when the excerpt has to skip ahead.
_CONTEXT = 4


@dataclass(frozen=True)
class Provenance:
    """Where a tag came from: a keyword hit, a message count, or a manager."""

    source: str  # "keyword" | "count" | "manual"
    rule_id: int | None = None
    keyword: str | None = None
    message_id: str | None = None
    at: datetime | None = None  # local time of the message / of the setting
    excerpt: str | None = None
    by: str | None = None  # manager name, for manual tags
    count: int | None = None  # messages in the window, for count rules
    days: int | None = None
    threshold: int | None = None  # the count rule's threshold, shown as （≥20）

    def __post_init__(self) -> None:
        if self.source not in PROVENANCE_SOURCES:
            raise ValueError(f"unknown provenance source {self.source!r}")


def excerpt(text: str, limit: int = 20, *, around: str | None = None) -> str:
    """`text` on one line, at most `limit` characters, with … where it was cut.

    With `around` (the keyword that hit), a long message is cut so the keyword stays in
    view: 「…课程的价格是多少，有没有…」 rather than a start that stops short of it.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    # Controls go first, so one between spaces cannot leave a double space behind.
    visible = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    line = " ".join(visible.split())
    if len(line) <= limit:
        return line
    start = 0
    if around and limit > _CONTEXT + 2:
        found = line.lower().find(around.lower())
        if found >= 0 and found + len(around) > limit - 1:
            start = max(1, min(found - _CONTEXT, len(line) - (limit - 1)))
    if start == 0:
        return _cut(line, limit - 1) + ELLIPSIS
    rest = line[start:].lstrip()
    if len(rest) <= limit - 1:
        return ELLIPSIS + rest
    return ELLIPSIS + _cut(rest, limit - 2) + ELLIPSIS


def _cut(line: str, size: int) -> str:
    cut = line[:size].rstrip()
    while cut and cut[-1] in _JOINERS:
        cut = cut[:-1]
    return cut


def _when(at: datetime | None) -> str | None:
    # Month and day without the year: reasons are read about recent tags.
    return at.strftime("%m-%d %H:%M") if at is not None else None


def _rule_name(rule_id: int | None) -> str:
    return f"规则#{rule_id}" if rule_id is not None else "规则"


def format_reason(prov: Provenance) -> str:
    """One line, e.g. 「规则#3 关键词「多少钱」 11-20 10:02 「这个课多少钱呀」」."""
    parts: list[str | None]
    if prov.source == "keyword":
        parts = [
            _rule_name(prov.rule_id),
            f"关键词「{prov.keyword}」" if prov.keyword else None,
            _when(prov.at),
            f"「{excerpt(prov.excerpt, around=prov.keyword)}」" if prov.excerpt else None,
        ]
    elif prov.source == "count":
        if prov.count is not None and prov.days is not None:
            measure = f"近{prov.days}天发言{prov.count}条"
            if prov.threshold is not None:
                measure += f"（≥{prov.threshold}）"
        else:
            measure = "发言条数达标"
        parts = [_rule_name(prov.rule_id), measure, _when(prov.at)]
    else:
        who = f"管理员 {prov.by} 手动添加" if prov.by else "管理员手动添加"
        parts = [who, _when(prov.at), f"原因：{excerpt(prov.excerpt, 40)}" if prov.excerpt else None]
    return " ".join(part for part in parts if part)


def format_tag_line(tag: str, prov: Provenance) -> str:
    """「意向 ← 规则#3 关键词「多少钱」 11-20 10:02 「这个课多少钱呀」」."""
    return f"{tag} ← {format_reason(prov)}"
