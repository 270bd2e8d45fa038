"""The weekly report: the week in numbers with the change from the week before, the rooms that
moved most, and a login link, DM'd to each global admin (QUNGUAN_WEEKLY_REPORT, `mon 09:00` by
default, or off)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Connection

from bot.adapters.base import Outgoing
from bot.core.directory import room_names
from bot.core.pipeline import enqueue
from bot.core.scheduler import Job, JobContext
from bot.core.settings import Settings
from bot.features.people.api import LIST_LINK_HOURS, new_link
from bot.features.trends.service import DAILY_LABELS, WEEK_SERIES, Period, week_numbers
from bot.features.trends.settings import WEEKDAYS, TrendSettings, weekly_schedule

MOVERS = 3


def _change(now: int, before: int) -> str:
    if not before:
        return f"上周 {before}" if not now else f"上周 {before}，新增"
    pct = (now - before) / before
    return f"上周 {before}，{pct:+.0%}"


def report_text(conn: Connection, settings: Settings, at: datetime) -> tuple[str, str]:
    """(the report without its link, the period it covers): the 7 local days before `at`'s day."""
    tz = settings.tz
    last = at.astimezone(tz).date() - timedelta(days=1)
    this = Period(last - timedelta(days=6), last, None, tz)
    before = Period(this.first - timedelta(days=7), this.first - timedelta(days=1), None, tz)
    now_n, then_n = week_numbers(conn, this), week_numbers(conn, before)
    lines = [f"📊 群管周报（{this.first:%m-%d} — {this.last:%m-%d}，全部群）"]
    lines += [f"{DAILY_LABELS[s]} {now_n[s]}（{_change(now_n[s], then_n[s])}）" for s in WEEK_SERIES]
    moves = []
    for room, name in room_names(conn).items():
        a = week_numbers(conn, Period(this.first, this.last, room, tz))["active"]
        b = week_numbers(conn, Period(before.first, before.last, room, tz))["active"]
        if a != b:
            moves.append((abs(a - b), name, a - b, a))
    moves.sort(key=lambda m: (-m[0], m[1]))
    if moves:
        lines.append("变化最大的群（活跃成员）：" + "；".join(
            f"{name} {delta:+d}（本周 {a}）" for _, name, delta, a in moves[:MOVERS]))
    return "\n".join(lines), f"{this.first}..{this.last}"


def weekly_report(ctx: JobContext, at: datetime) -> str:
    settings = ctx.deps.settings
    if weekly_schedule(settings.of(TrendSettings).weekly_report) is None:
        return "weekly report off"
    admins = sorted(settings.admin_ids)
    if not admins:
        return "weekly report: no admins"
    with ctx.deps.engine.begin() as conn:
        text, covered = report_text(conn, settings, at)
        out = []
        for admin in admins:
            link = new_link(conn, settings, admin, int(time.time()), minutes=LIST_LINK_HOURS * 60,
                            next_path="/trends")
            out.append(Outgoing(text=f"{text}\n趋势图（登录链接 {LIST_LINK_HOURS} 小时内有效，只能用一次）：{link}",
                                to=admin))
        enqueue(conn, out, at)
    return f"weekly report {covered} queued for {len(out)} admins"


def weekly_trigger(settings: Settings) -> CronTrigger:
    when = weekly_schedule(settings.of(TrendSettings).weekly_report) or (0, 9, 0)  # off: scheduled, but sends nothing
    day, hour, minute = when
    return CronTrigger(day_of_week=WEEKDAYS[day], hour=hour, minute=minute, timezone=settings.tz)


WEEKLY_REPORT = Job("weekly_report", weekly_report, weekly_trigger)
