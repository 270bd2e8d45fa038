"""The check-in tasks page of the console (list, add, disable), each task's page (the grid of
members × days with CSV, and its reviewed and excellent check-ins), and the check-in calendar
the member page shows (`calendar_months` + the "checkins/calendar.html" macro)."""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.directory import member_names, room_names
from bot.core.feature import CsvColumn, MemberSection, MemberView, NavEntry, WebPart
from bot.features.checkins import service as checkin_service
from bot.features.checkins.models import Checkin
from bot.features.checkins.review import Reviewed, reviews_of
from bot.features.checkins.roll import Grid, grid, staff
from bot.features.checkins.service import Checkins, load_tasks
from bot.web.shell import CONSOLE, BadRequest, Console, check_params, csv_cell, form_text, page, redirect_with
from tiers.checkin import CheckinTask, window_text

TEMPLATES = Path(__file__).parent / "templates"
FIELDS = ("name", "triggers", "window", "points", "challenge_days", "room", "min_note", "reply",
          *checkin_service.OPTION_KEYS)
MEDIA_LABELS = {"": "只认文字", "image": "图片也算", "voice": "语音也算", "any": "图片或语音也算"}
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
            "replies": list(REPLY_LABELS.items()), "reply_labels": REPLY_LABELS,
            "media_labels": list(MEDIA_LABELS.items())}


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
        conn, console.deps.service(Checkins), name=draft["name"], triggers=triggers or None,
        window=draft["window"] or None, points=_positive(draft["points"] or "10", "积分"),
        challenge_days=_positive(draft["challenge_days"], "挑战天数") if draft["challenge_days"] else None,
        room=draft["room"] or None,
        min_note=_positive(draft["min_note"], "心得字数") if draft["min_note"] else None,
        reply=draft["reply"] or "auto", options=checkin_service.task_options(draft))


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
        checkin_service.disable_task(conn, console.deps.service(Checkins), name)
    try:
        await console.write(disable)
    except LookupError as exc:
        return redirect_with(request, "/tasks", str(exc), error=True)
    return redirect_with(request, "/tasks", f"已停用打卡任务「{name}」。")


# ---- one task: the grid of members × days, and its reviews --------------------------------

GRID_PARAMS = ("room", "period", "at")
REVIEW_DAYS = 30  # the task page lists the reviews of this many days


def _grid_span(period: str, at: date) -> tuple[date, date]:
    if period == "month":
        start = at.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    start = at - timedelta(days=at.weekday())
    return start, start + timedelta(days=6)


@dataclass(frozen=True)
class TaskView:
    grid: Grid | None
    rooms: list[tuple[str, str]]
    room: str
    period: str
    at: date
    prev: date
    next: date
    reviews: list[Reviewed]
    names: dict[str, str]


def _task_view(conn: Connection, console: Console, task_id: int, params: dict[str, str]) -> TaskView:
    task = next((t for t in load_tasks(conn) if t.id == task_id), None)
    if task is None:
        raise BadRequest("没有这个打卡任务", 404)
    period = params.get("period") or "week"
    if period not in ("week", "month"):
        raise BadRequest("period 应为 week（本周）或 month（本月）")
    today = console.now(conn).date()
    try:
        at = date.fromisoformat(params["at"]) if params.get("at") else today
    except ValueError:
        raise BadRequest("at 应为日期，例如 2026-12-02") from None
    names = room_names(conn)
    rooms = sorted(((r, n) for r, n in names.items() if task.room in (None, r)), key=lambda x: x[1])
    room = params.get("room") or (task.room or (rooms[0][0] if rooms else ""))
    if room and room not in names:
        raise BadRequest("没有这个群", 404)
    start, end = _grid_span(period, at)
    shown = grid(conn, task, room, start, end, staff(conn, console.deps.settings.admin_ids)) if room else None
    step = timedelta(days=7) if period == "week" else timedelta(days=31)
    reviews = reviews_of(conn, task.id, today - timedelta(days=REVIEW_DAYS))
    return TaskView(shown, rooms, room, period, at, start - timedelta(days=1), start + step, reviews,
                    member_names(conn, [r.member for r in reviews] + [r.by for r in reviews]))


def _task_id(request: web.Request) -> int:
    raw = request.match_info["task"]
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest("没有这个打卡任务", 404)
    return int(raw)


async def task_page(request: web.Request) -> web.Response:
    check_params(request.query, GRID_PARAMS)
    console = request.app[CONSOLE]
    view = await console.read(_task_view, console, _task_id(request), dict(request.query))
    return await page(request, "checkins/task.html", {"view": view, "weekdays": "一二三四五六日"}, nav="tasks")


def _grid_csv(conn: Connection, console: Console, task_id: int, params: dict[str, str]) -> str:
    view = _task_view(conn, console, task_id, params)
    out = io.StringIO()
    writer = csv.writer(out)
    if view.grid is not None:
        writer.writerow(["id", "成员", *(d.isoformat() for d in view.grid.days), "打卡天数"])
        for member, name, marks in view.grid.rows:
            writer.writerow([csv_cell(member), csv_cell(name), *marks, sum(1 for m in marks if m != "–")])
    return out.getvalue()


async def grid_csv(request: web.Request) -> web.Response:
    check_params(request.query, GRID_PARAMS)
    console = request.app[CONSOLE]
    task_id = _task_id(request)
    text = await console.read(_grid_csv, console, task_id, dict(request.query))
    return web.Response(body=("\ufeff" + text).encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="checkins-{task_id}.csv"'})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/tasks", tasks_page)
    router.add_get("/tasks/{task}", task_page)
    router.add_get("/export/checkins-{task}.csv", grid_csv)
    router.add_post("/tasks", tasks_add)
    router.add_post("/tasks/disable", tasks_disable)


# ---- what the shell shows of check-ins ---------------------------------------------------------

def _calendar(conn: Connection, view: MemberView) -> dict[str, Any]:
    return calendar_months(conn, view.member, view.at.date())


NAV = (NavEntry("打卡任务", "/tasks", "tasks", 60),)
MEMBER = (MemberSection("checkins/member_streak.html", 20, place="facts"),
          MemberSection("checkins/member_calendar.html", 60, _calendar))
CSV = (CsvColumn("连续打卡", lambda r: r["streak"], 40),)


WEB = WebPart(routes=add_routes, templates=TEMPLATES, nav=NAV, member=MEMBER, csv=CSV)
