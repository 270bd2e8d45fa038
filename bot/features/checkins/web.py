"""The check-in tasks page of the console (list, add, disable), and the check-in calendar
the member page shows (`calendar_months` + the "checkins/calendar.html" macro)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.directory import room_names
from bot.core.feature import CsvColumn, MemberSection, MemberView, NavEntry
from bot.features.checkins import service as checkin_service
from bot.features.checkins.models import Checkin
from bot.features.checkins.service import load_tasks
from bot.web.shell import CONSOLE, Console, check_params, form_text, page, redirect_with
from tiers.checkin import CheckinTask, window_text

TEMPLATES = Path(__file__).parent / "templates"
FIELDS = ("name", "triggers", "window", "points", "challenge_days", "room", "min_note", "reply")
REPLY_LABELS = {"auto": "自动（每天前 20 条逐条回复，之后汇总）", "each": "每条都回复", "summary": "只发每日汇总"}
CALENDAR_MONTHS = 3
NOTES_SHOWN = 30  # the member page lists this many latest notes under the calendar


# ---- the member page's calendar ------------------------------------------------------------

@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[date]]  # Monday first; days of other months are there, to be left blank


@dataclass(frozen=True)
class CheckinDay:
    made_up: bool  # every check-in of the day was made up with a card
    notes: tuple[str, ...]  # the notes (心得) written that day, as 「任务：心得」


@dataclass(frozen=True)
class Note:
    day: date
    task: str
    text: str


def checkin_days_of(conn: Connection, member: str, since: date) -> tuple[dict[date, CheckinDay], list[Note]]:
    """Days checked in (any task) since `since`, with their notes; and the notes, newest first."""
    tasks = {t.id: t.name for t in load_tasks(conn)}
    made_up: dict[date, bool] = {}
    notes: list[Note] = []
    q = select(col(Checkin.day), col(Checkin.made_up), col(Checkin.task_id), col(Checkin.note)).where(
        col(Checkin.member) == member, col(Checkin.day) >= since).order_by(col(Checkin.day).desc(), col(Checkin.ts))
    for d, was_made_up, task_id, note in conn.execute(q):
        made_up[d] = made_up.get(d, True) and bool(was_made_up)
        if note:
            notes.append(Note(d, tasks.get(task_id, "打卡"), note))
    by_day: dict[date, list[str]] = {}
    for n in notes:
        by_day.setdefault(n.day, []).append(f"{n.task}：{n.text}")
    return {d: CheckinDay(m, tuple(by_day.get(d, ()))) for d, m in made_up.items()}, notes


def calendar_months(conn: Connection, member: str, today: date) -> dict[str, Any]:
    """The context of the calendar macro: this month and the two before, the days checked
    in (with their notes on hover), and the latest notes."""
    firsts = [today.replace(day=1)]
    for _ in range(CALENDAR_MONTHS - 1):
        firsts.insert(0, (firsts[0] - timedelta(days=1)).replace(day=1))
    weeks = calendar.Calendar(firstweekday=0)
    months = [Month(m.year, m.month, weeks.monthdatescalendar(m.year, m.month)) for m in firsts]
    days, notes = checkin_days_of(conn, member, firsts[0])
    return {"months": months, "days": days, "today": today, "notes": notes[:NOTES_SHOWN]}


# ---- tasks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskLine:
    task: CheckinTask
    window: str
    room: str  # the room's name, or 所有群


def _tasks(conn: Connection, draft: dict[str, str] | None = None) -> dict[str, Any]:
    names = room_names(conn)
    lines = [TaskLine(t, window_text(t), names.get(t.room, t.room) if t.room else "所有群")
             for t in load_tasks(conn)]
    rooms = [("", "所有群"), *sorted(names.items(), key=lambda x: x[1])]
    return {"tasks": lines, "rooms": rooms, "draft": draft or {"points": "10", "reply": "auto"},
            "replies": list(REPLY_LABELS.items()), "reply_labels": REPLY_LABELS}


async def tasks_page(request: web.Request) -> web.Response:
    check_params(request.query, ())
    context = await request.app[CONSOLE].read(_tasks)
    return await page(request, "checkins/tasks.html", context, nav="tasks")


def _positive(value: str, what: str) -> int:
    if not value.isdigit() or int(value) < 1 or int(value) > 100_000:
        raise ValueError(f"{what}应为 1 到 100000 的整数，收到「{value[:20]}」")
    return int(value)


def _add(conn: Connection, console: Console, draft: dict[str, str]) -> CheckinTask:
    if draft["room"] and draft["room"] not in room_names(conn, [draft["room"]]):
        raise ValueError("没有这个群")
    triggers = [t.strip() for t in draft["triggers"].replace("，", ",").split(",") if t.strip()]
    return checkin_service.add_task(
        conn, console.deps.checkins, name=draft["name"], triggers=triggers or None,
        window=draft["window"] or None, points=_positive(draft["points"] or "10", "积分"),
        challenge_days=_positive(draft["challenge_days"], "挑战天数") if draft["challenge_days"] else None,
        room=draft["room"] or None,
        min_note=_positive(draft["min_note"], "心得字数") if draft["min_note"] else None,
        reply=draft["reply"] or "auto")


async def tasks_add(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    draft = {k: form_text(form, k) for k in FIELDS}
    try:
        task = await console.write(_add, console, draft)
    except ValueError as exc:
        context = await console.read(_tasks, draft)
        return await page(request, "checkins/tasks.html", context, nav="tasks", status=400,
                          notice=str(exc), error=True)
    return redirect_with(request, "/tasks", f"已添加打卡任务「{task.name}」。")


async def tasks_disable(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    name = form_text(await request.post(), "name")

    def disable(conn: Connection) -> None:
        checkin_service.disable_task(conn, console.deps.checkins, name)
    try:
        await console.write(disable)
    except LookupError as exc:
        return redirect_with(request, "/tasks", str(exc), error=True)
    return redirect_with(request, "/tasks", f"已停用打卡任务「{name}」。")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/tasks", tasks_page)
    router.add_post("/tasks", tasks_add)
    router.add_post("/tasks/disable", tasks_disable)


# ---- what the shell shows of check-ins ---------------------------------------------------------

def _calendar(conn: Connection, view: MemberView) -> dict[str, Any]:
    return calendar_months(conn, view.member, view.at.date())


NAV = (NavEntry("打卡任务", "/tasks", "tasks", 60),)
MEMBER = (MemberSection("checkins/member_streak.html", 20, place="facts"),
          MemberSection("checkins/member_calendar.html", 60, _calendar))
CSV = (CsvColumn("连续打卡", lambda r: r["streak"], 40),)
