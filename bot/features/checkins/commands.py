"""打卡 / 补签 for members; check-in tasks for managers."""

from __future__ import annotations

from bot.adapters.base import Outgoing
from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.events import Message
from bot.core.options import Options, shown
from bot.core.pipeline import Batch
from bot.features.checkins.service import (
    LONG_STREAK,
    CheckinResult,
    DaySummary,
    MakeUpResult,
    add_task,
    disable_task,
    load_tasks,
    set_reply_mode,
)
from bot.features.points.announce import announce_level_ups
from tiers.checkin import CARD_EVERY, STREAK_BONUS, CheckinTask, window_text


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
    if out.reason == "note":
        return (f"「{task.name}」要写上心得才算哦（至少 {task.min_note} 个字），例如："
                f"{task.triggers[0]} 今天读了第三章，最受启发的是……")
    total = result.points.after if result.points else 0
    lines = [f"「{task.name}」成功！已连续 {out.streak} 天，+{out.total} 积分（共 {total} 分）"]
    if result.note:
        lines.append("心得已记下 ✍️")
    if out.bonus:
        lines.append(f"连续 {out.streak} 天，额外奖励 {out.bonus} 分！")
    if out.card_earned:
        lines.append(f"获得 1 张补签卡（现有 {result.cards} 张）。")
    if out.challenge_done:
        lines.append(f"🏆 {task.challenge_days} 天挑战完成，太厉害了！")
    return "\n".join(lines)


def answer_checkin(batch: Batch, msg: Message, result: CheckinResult) -> None:
    """Reply to the member, then congratulate a level reached; a check-in answered in the
    day's summary gets neither (the summary names who levelled up)."""
    if result.quiet:
        return
    batch.reply(msg, checkin_text(result))
    if result.points:
        announce_level_ups(batch, [result.points])


def summary_text(s: DaySummary) -> Outgoing:
    """「打卡」今日已打卡 46 人，连续 7 天以上 12 人 🎉, and who levelled up."""
    when = "今日" if s.sent_on == s.day else f"{s.day.month}月{s.day.day}日"
    text = f"「{s.task.name}」{when}已打卡 {s.members} 人"
    if s.long_streaks:
        text += f"，连续 {LONG_STREAK} 天以上 {s.long_streaks} 人"
    text += " 🎉"
    if s.level_ups:
        text += "\n升级：" + "、".join(f"{name}（Lv{n}「{label}」）" for name, n, label in s.level_ups[:20])
        if len(s.level_ups) > 20:
            text += f" 等 {len(s.level_ups)} 人"
    return Outgoing(text=text, room=s.room)


def checkin(ctx: Ctx, opts: Options) -> None:
    answer_checkin(ctx.batch, ctx.msg, ctx.deps.checkins.check_in(ctx.batch, ctx.msg, _task(ctx, opts)))


def makeup(ctx: Ctx, opts: Options) -> str:
    return makeup_text(ctx.deps.checkins.make_up(ctx.batch, ctx.msg, _task(ctx, opts)))


def makeup_text(result: MakeUpResult) -> str:
    """The member's answer to 补签 / 补打卡."""
    task, out = result.task, result.outcome
    if out.reason == "nothing_to_fill":
        return f"昨天的「{task.name}」已经打过了，不需要补签。"
    if out.reason == "no_card" or out.filled is None:
        return "你还没有补签卡哦。连续打卡每满 7 天送 1 张（最多 3 张）。"
    return (f"已用 1 张补签卡补上 {out.filled:%m-%d} 的「{task.name}」，"
            f"现在连续 {out.streak_after} 天，还剩 {result.cards} 张补签卡。")


TASK_USAGE = ("/task add 名称 [triggers=词1,词2] [window=05:00-09:00] [points=10] [days=21] [note=字数]"
              " [reply=each|summary|auto] · /task list · /task off 名称 · /task reply 名称 each|summary|auto")
TASK_KEYS = {"triggers": "triggers", "触发词": "triggers", "window": "window", "时间": "window",
              "points": "points", "积分": "points", "days": "days", "天数": "days",
              "note": "note", "心得": "note", "reply": "reply", "回复": "reply"}
_MODE_WORDS = {"each": "each", "每条": "each", "summary": "summary", "汇总": "summary", "auto": "auto",
               "自动": "auto"}
_MODE_TEXT = {"each": "每条都回复", "summary": "只发每日汇总", "auto": "每天前 20 条逐条回复，之后发汇总"}


def _describe(t: CheckinTask) -> str:
    extra = f"，{t.challenge_days} 天挑战" if t.challenge_days else ""
    note = f"，需写心得 ≥{t.min_note} 字" if t.min_note else ""
    return (f"发「{'/'.join(t.triggers)}」，{window_text(t)}，每次 {t.points} 分{extra}{note}，"
            f"{_MODE_TEXT.get(t.reply, t.reply)}")


def _mode(word: str) -> str:
    mode = _MODE_WORDS.get(word.lower())
    if mode is None:
        raise UsageError(f"回复方式「{shown(word)}」应为 each（每条都回）、summary（只发汇总）或 auto（自动）。")
    return mode


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
    if sub in ("reply", "回复"):
        if len(rest) != 2:
            raise UsageError("请写出任务名称和回复方式，例如 /task reply 打卡 summary")
        mode = _mode(rest[1])
        try:
            t = set_reply_mode(conn, svc, rest[0], mode, ctx.msg.room)
        except (LookupError, ValueError) as exc:
            raise UsageError(str(exc), show_usage=False) from None
        where = "本群" if ctx.msg.room else "所有群（各群自己设置的除外）"
        return f"「{t.name}」在{where}：{_MODE_TEXT[mode]}。"
    if sub not in ("add", "添加"):
        raise UsageError(f"不认识「{shown(opts.positional[0])}」，可以用 add、list、off 或 reply。")
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
                     room=ctx.msg.room, min_note=opts.int_option("note", "心得字数", 1, 500),
                     reply=_mode(named["reply"]) if "reply" in named else "auto")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    where = "本群" if ctx.msg.room else "所有群"
    return f"已添加打卡任务 #{t.id}「{t.name}」（{where}）：{_describe(t)}。"


def task_help(task: CheckinTask) -> str:
    """How to check in for one task, as a member reads it."""
    said = "」或「".join(task.triggers[:2])
    when = "每天" if task.window is None or task.window[0] == task.window[1] else f"每天 {window_text(task)}"
    lines = [f"「{task.name}」：{when}发「{said}」，+{task.points} 分。"]
    if task.min_note:
        lines.append(f"要写上至少 {task.min_note} 个字的心得，例如：{task.triggers[0]} 今天读了第三章，学到了…")
    else:
        lines.append(f"可以带上心得：{task.triggers[0]} 今天读了20页（带心得的打卡也算一次发言）。")
    lines.append(f"连续 {CARD_EVERY} 天额外 +{STREAK_BONUS} 分和一张补签卡；漏了昨天，发「补签」。")
    if task.challenge_days:
        lines.append(f"坚持 {task.challenge_days} 天完成挑战！")
    return "\n".join(lines)


def howto(ctx: Ctx, opts: Options) -> str:
    tasks = [t for t in ctx.deps.checkins.tasks if t.active and t.room in (None, ctx.msg.room)]
    if not tasks:
        return "这里现在没有打卡任务，请联系管理员。"
    return "\n\n".join(task_help(t) for t in tasks)


COMMANDS = [
    # No Chinese command words: 打卡 and every task's trigger are read by the check-in hook,
    # as members write them; what it does not take (「打卡 怎么弄？」) is chat, not a bad command.
    Command("checkin", (), "打卡 或 签到（/checkin [任务名]），可带心得：打卡 今天读了20页",
            "今日打卡，攒积分和连续天数", checkin),
    Command("makeup", ("补签",), "补签 [任务名]（/makeup）", "用补签卡补上昨天的打卡", makeup),
    Command("howto", ("打卡说明",), "打卡说明（/howto）", "怎么打卡：每个打卡任务怎么发、几点、几分", howto,
            forms=(r"(?:请问)?(?:怎么|如何|怎样|咋)(?:打卡|签到)",
                   r"(?:打卡|签到)(?:要)?(?:怎么|如何|咋)(?:弄|打|做|操作|用)",
                   r"(?:在哪|在哪里|去哪)(?:打卡|签到)", r"打卡(?:规则|说明|方法)(?:是什么)?")),
    Command("task", ("任务",), TASK_USAGE, "添加、查看、停用打卡任务", task, admin=True,
            keys=TASK_KEYS),
]
