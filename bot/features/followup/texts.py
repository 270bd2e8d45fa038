"""The follow-up list and its answers in Chinese, for the chat commands, the daily DM and the console."""

from __future__ import annotations

from bot.features.followup.service import DoneResult, IssuedList
from tiers.followup import SUPPRESS_DAYS, render


def title(issued: IssuedList) -> str:
    names = issued.room_names
    shown = "、".join(names[:3]) + (" 等" if len(names) > 3 else "")
    return f"📋 {issued.at:%m-%d} 跟进清单（{shown}）"


def list_messages(issued: IssuedList) -> list[str]:
    """The list as DMs of at most 1500 characters each."""
    return render(issued.items, title=title(issued))


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
