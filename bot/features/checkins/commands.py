"""打卡 / 补签 for members; check-in tasks for managers."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.events import Message
from bot.core.options import Options, shown
from bot.core.pipeline import Batch
from bot.features.checkins.service import CheckinResult, add_task, disable_task, load_tasks
from bot.features.points.announce import announce_level_ups
from tiers.checkin import CheckinTask, window_text


def _task(ctx: Ctx, opts: Options) -> CheckinTask:
    svc = ctx.deps.checkins
    name = opts.rest_text()
    if not name:
        task = svc.default_task(ctx.msg.room)
        if task is None:
            raise UsageError("现在没有开启的打卡任务，请联系管理员。")
        return task
    for t in svc.tasks:
        if t.name == name and t.active and (t.room is None or t.room == ctx.msg.room):
            return t
    names = "、".join(t.name for t in svc.tasks if t.active and t.room in (None, ctx.msg.room))
    raise UsageError(f"没有叫「{shown(name)}」的打卡任务。现有：{names or '无'}")


def checkin_text(result: CheckinResult) -> str:
    """The member's answer to a check-in, accepted or not."""
    task, out = result.task, result.outcome
    if out.reason == "already":
        return f"今天已经打过「{task.name}」啦，已连续 {out.streak} 天，明天再来～"
    if out.reason == "window":
        return (f"「{task.name}」的打卡时间是 {window_text(task)}，"
                f"现在是 {result.local:%H:%M}，这次不算哦。")
    total = result.points.after if result.points else 0
    lines = [f"「{task.name}」成功！已连续 {out.streak} 天，+{out.total} 积分（共 {total} 分）"]
    if out.bonus:
        lines.append(f"连续 {out.streak} 天，额外奖励 {out.bonus} 分！")
    if out.card_earned:
        lines.append(f"获得 1 张补签卡（现有 {result.cards} 张）。")
    if out.challenge_done:
        lines.append(f"🏆 {task.challenge_days} 天挑战完成，太厉害了！")
    return "\n".join(lines)


def answer_checkin(batch: Batch, msg: Message, result: CheckinResult) -> None:
    """Reply to the member, then congratulate a level reached."""
    batch.reply(msg, checkin_text(result))
    if result.points:
        announce_level_ups(batch, [result.points])


def checkin(ctx: Ctx, opts: Options) -> None:
    answer_checkin(ctx.batch, ctx.msg, ctx.deps.checkins.check_in(ctx.batch, ctx.msg, _task(ctx, opts)))


def makeup(ctx: Ctx, opts: Options) -> str:
    result = ctx.deps.checkins.make_up(ctx.batch, ctx.msg, _task(ctx, opts))
    task, out = result.task, result.outcome
    if out.reason == "nothing_to_fill":
        return f"昨天的「{task.name}」已经打过了，不需要补签。"
    if out.reason == "no_card" or out.filled is None:
        return "你还没有补签卡哦。连续打卡每满 7 天送 1 张（最多 3 张）。"
    return (f"已用 1 张补签卡补上 {out.filled:%m-%d} 的「{task.name}」，"
            f"现在连续 {out.streak_after} 天，还剩 {result.cards} 张补签卡。")


TASK_USAGE = ("/task add 名称 [triggers=词1,词2] [window=05:00-09:00] [points=10] [days=21]"
              " · /task list · /task off 名称")
TASK_KEYS = {"triggers": "triggers", "触发词": "triggers", "window": "window", "时间": "window",
              "points": "points", "积分": "points", "days": "days", "天数": "days"}


def _describe(t: CheckinTask) -> str:
    extra = f"，{t.challenge_days} 天挑战" if t.challenge_days else ""
    return f"发「{'/'.join(t.triggers)}」，{window_text(t)}，每次 {t.points} 分{extra}"


def task(ctx: Ctx, opts: Options) -> str:
    if not opts.positional:
        raise UsageError("请写出要做什么：add（添加）、list（列表）或 off（停用）。")
    sub, rest = opts.positional[0].lower(), opts.positional[1:]
    conn, svc = ctx.batch.conn, ctx.deps.checkins
    if sub not in ("add", "添加") and opts.named:
        raise UsageError(f"选项只用于 /task add，{sub} 不需要「{'、'.join(opts.named)}」。")
    if sub in ("list", "列表"):
        lines = ["打卡任务："]
        for t in load_tasks(conn):
            lines.append(f"#{t.id} {t.name}{'' if t.active else '（已停用）'}：{_describe(t)}")
        return "\n".join(lines)
    if sub in ("off", "停用", "disable"):
        if not rest:
            raise UsageError("请写出要停用的任务名称。")
        name = " ".join(rest)
        try:
            disable_task(conn, svc, name)
        except LookupError as exc:
            raise UsageError(str(exc), show_usage=False) from None
        return f"已停用打卡任务「{name}」。"
    if sub not in ("add", "添加"):
        raise UsageError(f"不认识「{shown(opts.positional[0])}」，可以用 add、list 或 off。")
    if not rest:
        raise UsageError("请写出任务名称，例如 /task add 早起打卡 window=05:00-09:00")
    if len(rest) > 1:
        raise UsageError(f"任务名称只能有一个，多了「{shown(rest[1])}」；名称里有空格请加引号。")
    named = opts.named
    triggers = named["triggers"].replace("，", ",").split(",") if "triggers" in named else None
    try:
        t = add_task(conn, svc, name=rest[0], triggers=triggers, window=named.get("window"),
                     points=opts.int_option("points", "积分", 1, 1000, 10),
                     challenge_days=opts.int_option("days", "挑战天数", 1, 365),
                     room=ctx.msg.room)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    where = "本群" if ctx.msg.room else "所有群"
    return f"已添加打卡任务 #{t.id}「{t.name}」（{where}）：{_describe(t)}。"


COMMANDS = [
    Command("checkin", ("打卡", "签到"), "打卡 或 签到（/checkin [任务名]）", "今日打卡，攒积分和连续天数", checkin),
    Command("makeup", ("补签",), "补签 [任务名]（/makeup）", "用补签卡补上昨天的打卡", makeup),
    Command("task", ("任务",), TASK_USAGE, "添加、查看、停用打卡任务", task, admin=True,
            keys=TASK_KEYS),
]
