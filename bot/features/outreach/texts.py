"""The words of outreach previews and results, shared by the chat commands and the console."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.core.settings import Settings
from bot.features.outreach.service import Plan, pacing_of
from bot.features.outreach.settings import OutreachSettings


def day_label(day: date, today: date) -> str:
    if day == today:
        return "今天"
    if day == today + timedelta(days=1):
        return "明天"
    return f"{day.month}月{day.day}日"


def schedule_text(p: Plan, now: datetime, settings: Settings) -> str:
    """When the messages go out: per day, the daily cap when it splits them, quiet hours now."""
    now = now.astimezone(settings.tz)
    days = p.days()
    if not days:
        return ""
    pacing = pacing_of(settings)
    lines = []
    if pacing.quiet is not None and pacing.quiet.contains(now):
        first = min(p.times.values())
        lines.append(f"现在是免打扰时段（{pacing.quiet.text()}），消息会在{day_label(first.date(), now.date())} "
                     f"{first:%H:%M} 起发出。")
    split = "，".join(f"{day_label(d, now.date())} {n} 条" for d, n in days)
    if len(days) > 1:
        split += f"（每天最多发 {pacing.daily_cap} 条）"
    lines.append(f"发送安排：{split}，每条间隔约 {pacing.gap_seconds} 秒。")
    return "\n".join(lines)


def left_out_text(p: Plan, settings: Settings) -> str:
    parts = []
    if p.reached:
        parts.append(f"{len(p.reached)} 人 {settings.of(OutreachSettings).outreach_reach_days} 天内已收到过群发或提醒")
    if p.unsubscribed:
        parts.append(f"{len(p.unsubscribed)} 人已退订")
    return f"不发：{'，'.join(parts)}。" if parts else ""


def names_text(names: list[str], limit: int = 10) -> str:
    shown = "、".join(names[:limit])
    return shown + (f" 等 {len(names)} 人" if len(names) > limit else "")
