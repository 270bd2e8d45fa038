"""The follow-up list and its answers in Chinese, for the chat commands, the daily DM and the console."""

from __future__ import annotations

import time
from urllib.parse import quote

from sqlalchemy.engine import Connection

from bot.core.settings import Settings
from bot.features.followup.service import DoneResult, IssuedList, Moved
from bot.features.people.api import LIST_LINK_HOURS, new_link
from tiers.followup import SUPPRESS_DAYS, render


def title(issued: IssuedList) -> str:
    names = issued.room_names
    if not names:  # an admin whose rooms all have operators: only what was escalated
        return f"📋 {issued.at:%m-%d} 跟进清单 · 超期未跟进的事项"
    # After a dot, not in brackets: a name may have its own (好友（私聊）).
    shown = "、".join(names[:3]) + (" 等" if len(names) > 3 else "")
    return f"📋 {issued.at:%m-%d} 跟进清单 · {shown}"


def console_link(settings: Settings, operator: str) -> str:
    """The operator's list in the console (no login in it: the demo's printed preview)."""
    return f"{settings.console_url}/followup?operator={quote(operator, safe='')}"


def list_messages(conn: Connection, issued: IssuedList, settings: Settings) -> list[str]:
    """The list as DMs of at most 1500 characters each: the operator's daily cap of items,
    then how many more wait in the console, with a one-time link that logs that operator in
    on their list (valid for a working day, used once), and how many routine visits wait for room."""
    more = ""
    if len(issued.items) > issued.cap:
        more = new_link(conn, settings, issued.operator, int(time.time()), minutes=LIST_LINK_HOURS * 60,
                        next_path=console_link(settings, issued.operator).removeprefix(settings.console_url))
    return render(issued.items, title=title(issued), cap=issued.cap, more=more, queued=issued.queued)


def _numbers(ns: list[int]) -> str:
    return "、".join(map(str, ns))


def done_text(result: DoneResult, note: str | None) -> tuple[bool, str]:
    """(recorded anything, the answer to the operator)."""
    check = result.check
    if not result.has_list:
        return False, "你还没有跟进清单。发 /report 看看今天的清单。"
    if not check.valid:
        parts = []
        if check.unknown:
            top = f"1–{result.list_size}" if result.list_size else "（清单是空的）"
            parts.append(f"清单上没有第 {_numbers(check.unknown)} 项（编号 {top}）")
        if check.repeated:
            parts.append(f"第 {_numbers(check.repeated)} 项已经标记过了")
        return False, "；".join(parts) + "。没有记录任何内容。"
    text = f"已记录第 {_numbers(check.valid)} 项的跟进" + (f"（备注：{note}）" if note else "")
    extra = []
    if check.unknown:
        extra.append(f"清单上没有第 {_numbers(check.unknown)} 项")
    if check.repeated:
        extra.append(f"第 {_numbers(check.repeated)} 项之前已标记")
    return True, (text + ("；" + "；".join(extra) if extra else "")
                  + f"。{SUPPRESS_DAYS} 天内不会再因同样的原因提醒。")


def _not_moved(moved: Moved) -> str:
    if not moved.has_list:
        return "你还没有跟进清单。发 /report 看看今天的清单。"
    parts = []
    if moved.unknown:
        top = f"1–{moved.list_size}" if moved.list_size else "（清单是空的）"
        parts.append(f"清单上没有第 {_numbers(moved.unknown)} 项（编号 {top}）")
    if moved.done:
        parts.append(f"第 {_numbers(moved.done)} 项已经跟进过了")
    return "；".join(parts)


def moved_text(moved: Moved, done_what: str) -> tuple[bool, str]:
    """(moved anything, the answer): 「第 3、5 项{done_what}」 and what could not be moved."""
    if not moved.moved:
        return False, _not_moved(moved) + "。没有改动任何事项。"
    rest = _not_moved(moved)
    return True, f"第 {_numbers(sorted(moved.moved))} 项{done_what}" + (f"；{rest}" if rest else "") + "。"
