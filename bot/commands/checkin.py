"""打卡 / 补签 for members; check-in tasks for managers."""

from __future__ import annotations

from sqlalchemy import select

from bot.checkins import parse_window
from bot.commands.args import positive_int
from bot.commands.registry import Command, Ctx, UsageError
from bot.store.models import CheckinTask as TaskRow
from tiers.checkin import CheckinTask, window_text


def _task(ctx: Ctx, args: list[str]) -> CheckinTask:
    svc = ctx.deps.checkins
    if not args:
        task = svc.default_task(ctx.msg.room)
        if task is None:
            raise UsageError("现在没有开启的打卡任务，请联系管理员。")
        return task
    name = " ".join(args)
    for t in svc.tasks:
        if t.name == name and t.active and (t.room is None or t.room == ctx.msg.room):
            return t
    names = "、".join(t.name for t in svc.tasks if t.active and t.room in (None, ctx.msg.room))
    raise UsageError(f"没有叫「{name}」的打卡任务。现有：{names or '无'}")


def checkin(ctx: Ctx, args: list[str]) -> None:
    ctx.deps.checkins.check_in(ctx.batch, ctx.msg, _task(ctx, args))


def makeup(ctx: Ctx, args: list[str]) -> str:
    return ctx.deps.checkins.make_up(ctx.batch, ctx.msg, _task(ctx, args))


TASK_USAGE = ("/task add 名称 [triggers=词1,词2] [window=05:00-09:00] [points=10] [days=21]"
              " · /task list · /task off 名称")
_TASK_KEYS = {"triggers": "triggers", "触发词": "triggers", "window": "window", "时间": "window",
              "points": "points", "积分": "points", "days": "days", "天数": "days"}


def task(ctx: Ctx, args: list[str]) -> str:
    if not args:
        raise UsageError("请写出要做什么：add（添加）、list（列表）或 off（停用）。")
    sub, rest = args[0].lower(), args[1:]
    session = ctx.batch.session
    if sub in ("list", "列表"):
        rows = session.exec(select(TaskRow).order_by(TaskRow.id)).scalars().all()
        lines = ["打卡任务："]
        for r in rows:
            t = ctx.deps.checkins.to_task(r)
            extra = f"，{t.challenge_days} 天挑战" if t.challenge_days else ""
            state = "" if r.active else "（已停用）"
            lines.append(f"#{r.id} {r.name}{state}：发「{'/'.join(t.triggers)}」，"
                         f"{window_text(t)}，{t.points} 分{extra}")
        return "\n".join(lines)
    if sub in ("off", "停用", "disable"):
        if not rest:
            raise UsageError("请写出要停用的任务名称。")
        name = " ".join(rest)
        row = session.exec(select(TaskRow).where(TaskRow.name == name)).scalars().first()
        if row is None or not row.active:
            raise UsageError(f"没有开启中的任务「{name}」。发 /task list 查看。")
        row.active = False
        session.flush()
        ctx.deps.checkins.reload(ctx.batch.conn)
        return f"已停用打卡任务「{name}」。"
    if sub not in ("add", "添加"):
        raise UsageError(f"不认识「{args[0]}」，可以用 add、list 或 off。")
    if not rest:
        raise UsageError("请写出任务名称，例如 /task add 早起打卡 window=05:00-09:00")
    name, opts = rest[0], {}
    if len(name) > 20 or "=" in name:
        raise UsageError("任务名称应在 20 字以内，且不含「=」。")
    for item in rest[1:]:
        key, eq, value = item.partition("=")
        if not eq or key.lower() not in _TASK_KEYS or not value:
            raise UsageError(f"看不懂「{item}」，选项应写成 键=值，例如 points=15。")
        opts[_TASK_KEYS[key.lower()]] = value
    if session.exec(select(TaskRow).where(TaskRow.name == name)).scalars().first():
        raise UsageError(f"已经有叫「{name}」的任务了，换个名字吧。")
    triggers = [t for t in opts.get("triggers", name).replace("，", ",").split(",") if t.strip()]
    taken = {w for t in ctx.deps.checkins.tasks if t.active for w in t.triggers}
    clash = [t for t in triggers if t in taken]
    if clash:
        raise UsageError(f"触发词「{'、'.join(clash)}」已被其他任务使用了。")
    try:
        window = parse_window(opts.get("window"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    points = positive_int(opts.get("points", "10"), "积分")
    days = positive_int(opts["days"], "挑战天数") if "days" in opts else None
    row = TaskRow(name=name, triggers=",".join(t.strip() for t in triggers), points=points,
                  window_start=window[0].strftime("%H:%M") if window else None,
                  window_end=window[1].strftime("%H:%M") if window else None,
                  challenge_days=days, room=ctx.msg.room)
    session.add(row)
    session.flush()
    ctx.deps.checkins.reload(ctx.batch.conn)
    where = "本群" if ctx.msg.room else "所有群"
    t = ctx.deps.checkins.to_task(row)
    extra = f"，{days} 天挑战" if days else ""
    return (f"已添加打卡任务 #{row.id}「{name}」（{where}）：发「{'/'.join(t.triggers)}」，"
            f"{window_text(t)}，每次 {points} 分{extra}。")


COMMANDS = [
    Command("checkin", ("打卡", "签到"), "打卡 或 签到（/checkin [任务名]）", "今日打卡，攒积分和连续天数", checkin),
    Command("makeup", ("补签",), "补签 [任务名]（/makeup）", "用补签卡补上昨天的打卡", makeup),
    Command("task", ("任务",), TASK_USAGE, "添加、查看、停用打卡任务", task, admin=True),
]
