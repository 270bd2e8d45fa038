"""打卡 / 补签 for members; check-in tasks for managers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from bot.adapters.base import Outgoing
from bot.core.commands import Command, Ctx
from bot.core.deps import Deps
from bot.core.directory import all_rooms, find_room, member_names, room_names
from bot.core.errors import UsageError
from bot.core.events import Message
from bot.core.options import Options, shown
from bot.core.pipeline import Batch
from bot.features.checkins.review import quoted_checkin, review
from bot.features.checkins.roll import MAX_LISTED, Missing, missing, operator_rooms, staff, stats
from bot.features.checkins.service import (
    LONG_STREAK,
    OPTION_KEYS,
    CheckinResult,
    Checkins,
    DaySummary,
    MakeUpResult,
    add_task,
    disable_task,
    load_tasks,
    set_reply_mode,
    set_task_options,
    task_options,
)
from bot.features.points.api import Ledger, announce_level_ups
from tiers import checkin as rules
from tiers.checkin import CARD_EVERY, STREAK_BONUS, CheckinTask, window_text


def _task(ctx: Ctx, opts: Options) -> CheckinTask:
    svc = ctx.deps.service(Checkins)
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
    answer_checkin(ctx.batch, ctx.msg, ctx.deps.service(Checkins).check_in(ctx.batch, ctx.msg, _task(ctx, opts)))


def makeup(ctx: Ctx, opts: Options) -> str:
    return makeup_text(ctx.deps.service(Checkins).make_up(ctx.batch, ctx.msg, _task(ctx, opts)))


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
              " [reply=each|summary|auto] [media=image|voice|any] [public_missing=on] [remind_missing=08:30]"
              " [excellent=20] [roundup=on] · /task set 名称 选项=值 · /task list · /task off 名称"
              " · /task reply 名称 each|summary|auto")
TASK_KEYS = {"triggers": "triggers", "触发词": "triggers", "window": "window", "时间": "window",
              "points": "points", "积分": "points", "days": "days", "天数": "days",
              "note": "note", "心得": "note", "reply": "reply", "回复": "reply",
              "media": "media", "图片打卡": "media", "public_missing": "public_missing", "公开未打卡": "public_missing",
              "remind_missing": "remind_missing", "提醒未打卡": "remind_missing",
              "excellent": "excellent", "优秀积分": "excellent", "roundup": "roundup", "优秀周报": "roundup"}
_MEDIA_TEXT = {"image": "图片", "voice": "语音", "any": "图片或语音"}
_MODE_WORDS = {"each": "each", "每条": "each", "summary": "summary", "汇总": "summary", "auto": "auto",
               "自动": "auto"}
_MODE_TEXT = {"each": "每条都回复", "summary": "只发每日汇总", "auto": "每天前 20 条逐条回复，之后发汇总"}


def _describe(t: CheckinTask) -> str:
    extra = f"，{t.challenge_days} 天挑战" if t.challenge_days else ""
    note = f"，需写心得 ≥{t.min_note} 字" if t.min_note else ""
    more = [f"发{_MEDIA_TEXT[t.media]}也算打卡"] if t.media in _MEDIA_TEXT else []
    if t.remind_missing:
        more.append(f"{t.remind_missing:%H:%M} 提醒未打卡的成员")
    if t.public_missing:
        more.append("未打卡名单在群里公布")
    if t.roundup:
        more.append("每周日发优秀打卡周报")
    more.append(f"优秀 +{t.excellent_points} 分")
    return (f"发「{'/'.join(t.triggers)}」，{window_text(t)}，每次 {t.points} 分{extra}{note}，"
            f"{_MODE_TEXT.get(t.reply, t.reply)}；" + "，".join(more))


def _mode(word: str) -> str:
    mode = _MODE_WORDS.get(word.lower())
    if mode is None:
        raise UsageError(f"回复方式「{shown(word)}」应为 each（每条都回）、summary（只发汇总）或 auto（自动）。")
    return mode


def task(ctx: Ctx, opts: Options) -> str:
    if not opts.positional:
        raise UsageError("请写出要做什么：add（添加）、list（列表）或 off（停用）。")
    sub, rest = opts.positional[0].lower(), opts.positional[1:]
    if sub not in ("add", "添加", "set", "设置") and opts.named:
        raise UsageError(f"选项只用于 /task add 和 /task set，{sub} 不需要「{'、'.join(opts.named)}」。")
    do = _TASK_DOES.get(sub)
    if do is None:
        raise UsageError(f"不认识「{shown(opts.positional[0])}」，可以用 add、set、list、off 或 reply。")
    return do(ctx, opts, rest)


def _task_set(ctx: Ctx, opts: Options, rest: tuple[str, ...]) -> str:
    if len(rest) != 1 or not opts.named:
        raise UsageError("请写出任务名称和要改的选项，例如 /task set 打卡 media=image remind_missing=21:00")
    unknown = [k for k in opts.named if k not in OPTION_KEYS]
    if unknown:
        raise UsageError(f"/task set 只改 {'、'.join(OPTION_KEYS)}，不改「{'、'.join(unknown)}」。")
    try:
        t = set_task_options(ctx.batch.conn, ctx.deps.service(Checkins), rest[0], task_options(opts.named))
    except (LookupError, ValueError) as exc:
        raise UsageError(str(exc), show_usage=False) from None
    return f"已修改「{t.name}」：{_describe(t)}。"


def _task_list(ctx: Ctx, opts: Options, rest: tuple[str, ...]) -> str:
    lines = ["打卡任务："]
    for t in load_tasks(ctx.batch.conn):
        lines.append(f"#{t.id} {t.name}{'' if t.active else '（已停用）'}：{_describe(t)}")
    return "\n".join(lines)


def _task_off(ctx: Ctx, opts: Options, rest: tuple[str, ...]) -> str:
    if not rest:
        raise UsageError("请写出要停用的任务名称。")
    name = " ".join(rest)
    try:
        disable_task(ctx.batch.conn, ctx.deps.service(Checkins), name)
    except LookupError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    return f"已停用打卡任务「{name}」。"


def _task_reply(ctx: Ctx, opts: Options, rest: tuple[str, ...]) -> str:
    if len(rest) != 2:
        raise UsageError("请写出任务名称和回复方式，例如 /task reply 打卡 summary")
    mode = _mode(rest[1])
    try:
        t = set_reply_mode(ctx.batch.conn, ctx.deps.service(Checkins), rest[0], mode, ctx.msg.room)
    except (LookupError, ValueError) as exc:
        raise UsageError(str(exc), show_usage=False) from None
    where = "本群" if ctx.msg.room else "所有群（各群自己设置的除外）"
    return f"「{t.name}」在{where}：{_MODE_TEXT[mode]}。"


def _task_add(ctx: Ctx, opts: Options, rest: tuple[str, ...]) -> str:
    if not rest:
        raise UsageError("请写出任务名称，例如 /task add 早起打卡 window=05:00-09:00")
    if len(rest) > 1:
        raise UsageError(f"任务名称只能有一个，多了「{shown(rest[1])}」；名称里有空格请加引号。")
    named = opts.named
    triggers = named["triggers"].replace("，", ",").split(",") if "triggers" in named else None
    try:
        t = add_task(ctx.batch.conn, ctx.deps.service(Checkins), name=rest[0], triggers=triggers,
                     window=named.get("window"), points=opts.int_option("points", "积分", 1, 1000, 10),
                     challenge_days=opts.int_option("days", "挑战天数", 1, 365),
                     room=ctx.msg.room, min_note=opts.int_option("note", "心得字数", 1, 500),
                     reply=_mode(named["reply"]) if "reply" in named else "auto",
                     options=task_options(named))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    where = "本群" if ctx.msg.room else "所有群"
    return f"已添加打卡任务 #{t.id}「{t.name}」（{where}）：{_describe(t)}。"


# /task's subcommands, by the words people use for them.
_TASK_DOES: dict[str, Callable[[Ctx, Options, tuple[str, ...]], str]] = {
    "set": _task_set, "设置": _task_set, "list": _task_list, "列表": _task_list,
    "off": _task_off, "停用": _task_off, "disable": _task_off, "reply": _task_reply, "回复": _task_reply,
    "add": _task_add, "添加": _task_add}


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
    tasks = [t for t in ctx.deps.service(Checkins).tasks if t.active and t.room in (None, ctx.msg.room)]
    if not tasks:
        return "这里现在没有打卡任务，请联系管理员。"
    return "\n\n".join(task_help(t) for t in tasks)



# ---- who hasn't checked in (未打卡), the numbers (打卡统计) -----------------------------------

def _task_and_room(ctx: Ctx, words: tuple[str, ...]) -> tuple[CheckinTask, str | None, list[str]]:
    """The task and the room a roll command names (in any order), and the words left over.
    No task named: the room's default one; no room named: this group (None 1:1)."""
    svc, conn = ctx.deps.service(Checkins), ctx.batch.conn
    task: CheckinTask | None = None
    room = ctx.msg.room
    rest = []
    for word in words:
        named = next((t for t in svc.tasks if t.active and t.name == word), None)
        if named is not None and task is None:
            task = named
            continue
        found = find_room(conn, word)
        if found is not None:
            room = found
            continue
        rest.append(word)
    if task is None:
        task = svc.default_task(room)
    if task is None:
        raise UsageError("现在没有开启的打卡任务。", show_usage=False)
    return task, room, rest


def _unknown(ctx: Ctx, word: str) -> UsageError:
    svc = ctx.deps.service(Checkins)
    names = "、".join(t.name for t in svc.tasks if t.active and t.room in (None, ctx.msg.room))
    return UsageError(f"没有叫「{shown(word)}」的打卡任务或群。现有任务：{names or '无'}")


def _one_room(ctx: Ctx, room: str | None, what: str) -> str:
    """The room a 1:1 roll command is about: the one named, else the operator's only group."""
    if room is not None:
        return room
    conn = ctx.batch.conn
    rooms = operator_rooms(conn, ctx.msg.sender) if not ctx.is_admin else all_rooms(conn)
    if len(rooms) == 1:
        return rooms[0]
    names = room_names(conn, rooms)
    listed = "、".join(names[r] for r in rooms[:10]) or "无"
    raise UsageError(f"请写上群名，例如：{what} 读书群。可选：{listed}", show_usage=False)


def missing_text(found: Missing, room_name: str) -> str:
    when = f"{found.day.month}月{found.day.day}日"
    if not found.members:
        return f"{room_name}还没有成员名单，发一条消息或等下次名单同步后再试。"
    if not found.missing:
        return f"「{found.task.name}」{when}（{room_name}）：{found.members} 人全部打卡了 🎉"
    names = "、".join(name for _, name in found.missing[:MAX_LISTED])
    more = f" 等 {len(found.missing)} 人" if len(found.missing) > MAX_LISTED else ""
    return (f"「{found.task.name}」{when}（{room_name}）未打卡 {len(found.missing)}/{found.members} 人："
            f"{names}{more}")


def missing_checkins(ctx: Ctx, opts: Options) -> None:
    task, room, rest = _task_and_room(ctx, opts.positional)
    if rest:
        raise _unknown(ctx, rest[0])
    room = _one_room(ctx, room, "未打卡")
    conn = ctx.batch.conn
    day = rules.checkin_day(task, ctx.now)
    found = missing(conn, task, room, day, staff(conn, ctx.deps.settings.admin_ids, ctx.batch.bot_ids))
    text = missing_text(found, room_names(conn, [room]).get(room, room))
    if ctx.msg.room == room and task.public_missing:
        ctx.reply(text)
    else:  # members are not named in front of the group unless the task says so
        ctx.said.append(text)
        ctx.batch.dm(ctx.msg.sender, text, reply_to=ctx.msg.id)


_PERIODS = {"今天": "today", "今日": "today", "today": "today", "昨天": "yesterday", "本周": "week",
            "这周": "week", "week": "week", "本月": "month", "这个月": "month", "month": "month"}
_DATE = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?$")


def _period(word: str | None, today: date) -> tuple[date, date, str]:
    kind = _PERIODS.get((word or "今天").lower())
    if kind == "today":
        return today, today, "今天"
    if kind == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1), "昨天"
    if kind == "week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=6), "本周"
    if kind == "month":
        start = today.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1), "本月"
    found = _DATE.match(word or "")
    if found is None:
        raise UsageError(f"时间「{shown(word or '')}」应为 今天、昨天、本周、本月 或日期（如 12-02）。")
    year = int(found.group(1) or today.year)
    try:
        day = date(year, int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise UsageError(f"没有 {shown(word or '')} 这一天。") from None
    if day > today:
        raise UsageError(f"{day.month}月{day.day}日还没到，统计只看今天和以前。", show_usage=False)
    return day, day, f"{day.month}月{day.day}日"


def stats_text(s: rules.PeriodStats, task: CheckinTask, where: str, label: str) -> str:
    lines = [f"「{task.name}」{label}打卡统计（{where}）"]
    if not s.members:
        return lines[0] + "：还没有人打过卡。"
    total = sum(c.done for c in s.days)
    rate = f"{s.rate:.0%}" if s.rate is not None else "—"
    if len(s.days) == 1:
        lines.append(f"已打卡 {total}/{s.members} 人，打卡率 {rate}")
    else:
        lines.append(f"{len(s.days)} 天共 {total} 次，{s.checked}/{s.members} 人打过卡，打卡率 {rate}")
        lines.append("每天：" + "、".join(f"{c.day.month}/{c.day.day} {c.done}" for c in s.days))
    spread = "、".join(f"{label} {n} 人" for label, n in s.streaks if n)
    lines.append(f"连续天数：{spread or '无'}")
    lines.append(f"新开始连续 {s.started} 人，断签 {s.broken} 人次")
    return "\n".join(lines)


def checkin_stats(ctx: Ctx, opts: Options) -> str:
    task, room, rest = _task_and_room(ctx, opts.positional)
    if len(rest) > 1:
        raise _unknown(ctx, rest[0])
    conn = ctx.batch.conn
    today = rules.checkin_day(task, ctx.now)
    start, end, label = _period(rest[0] if rest else None, today)
    found = stats(conn, task, room, start, end, today, staff(conn, ctx.deps.settings.admin_ids, ctx.batch.bot_ids))
    where = room_names(conn, [room]).get(room, room) if room else "所有群"
    return stats_text(found, task, where, label)


# ---- 点评 / 优秀 ------------------------------------------------------------------------------

NOT_QUOTED = "请先引用一条打卡消息（长按消息 → 引用），再发「点评 …」或「优秀」。"
NOT_A_CHECKIN = "引用的这条不是打卡消息：点评和优秀只能用在打卡上。"


def review_checkin(batch: Batch, deps: Deps, msg: Message, *, excellent: bool, text: str | None) -> str | None:
    """An operator's 点评 or 优秀 of the check-in they quote: the member is told (in the group
    with an @, by DM for a 1:1 check-in); returns the answer to the operator, if any."""
    if not (msg.quote_of or msg.quote_sender):
        raise UsageError(NOT_QUOTED, show_usage=False)
    quoted = quoted_checkin(batch.conn, msg, deps.service(Checkins).tasks)
    if quoted is None:
        raise UsageError(NOT_A_CHECKIN, show_usage=False)
    if not excellent and not text:
        raise UsageError("请写上点评的内容，例如：点评 写得很用心，继续加油！", show_usage=False)
    done = review(batch, deps.service(Ledger), msg, quoted, excellent=excellent, text=text)
    when = f"{quoted.day.month}月{quoted.day.day}日"
    if excellent:
        line = f"🌟 你{when}的「{quoted.task.name}」被评为优秀打卡"
        if done.points:
            line += f"，+{done.points.after - done.points.before} 积分（共 {done.points.after} 分）"
        line += f"！\n点评：{text}" if text else "！"
    else:
        line = f"你{when}的「{quoted.task.name}」收到点评：{text}"
    if quoted.room:
        batch.send(Outgoing(text=line, room=quoted.room, to=quoted.member, mentions=(quoted.member,),
                            account=msg.account if msg.room == quoted.room else None))
    else:
        batch.dm(quoted.member, line)
    name = member_names(batch.conn, [quoted.member]).get(quoted.member, quoted.member)
    if done.again:
        return f"{name}{when}的这条打卡之前已评为优秀，这次记下点评，不再加分。"
    if quoted.room and quoted.room == msg.room:
        return None  # the group sees the member told
    return f"已{'评为优秀' if excellent else '点评'}：{name}{when}的「{quoted.task.name}」，已告诉 TA。"


def said_after_word(text: str) -> str | None:
    """What follows the command word: 「点评 写得真好」 → 写得真好."""
    parts = text.strip().split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 and parts[1].strip() else None


def review_command(ctx: Ctx, opts: Options) -> str | None:
    return review_checkin(ctx.batch, ctx.deps, ctx.msg, excellent=False, text=said_after_word(ctx.msg.text))


def excellent_command(ctx: Ctx, opts: Options) -> str | None:
    return review_checkin(ctx.batch, ctx.deps, ctx.msg, excellent=True, text=said_after_word(ctx.msg.text))


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
    Command("missing", ("未打卡", "今天谁没打卡", "今天谁没打卡？", "今天谁没打卡?", "谁没打卡", "谁没打卡？"),
            "未打卡 [任务] [群]（/missing）", "今天还没打卡的成员（私信给你）", missing_checkins, operator=True),
    Command("checkinstats", ("打卡统计",), "打卡统计 [任务] [群] [今天|昨天|本周|本月|日期]（/checkinstats）",
            "打卡人数、打卡率、连续天数分布、新开始和断签", checkin_stats, operator=True),
    # 优秀 is read by the check-in hook only when an operator quotes a check-in with it: members
    # say 优秀 to each other all day.
    Command("review", ("点评",), "引用一条打卡，发 点评 内容（/review）", "点评成员的打卡，会告诉 TA",
            review_command, operator=True),
    Command("excellent", (), "引用一条打卡，发 优秀 [点评]（/excellent）", "评为优秀打卡，给 TA 加分",
            excellent_command, operator=True),
]
