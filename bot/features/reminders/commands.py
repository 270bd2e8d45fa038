"""打卡提醒 for managers: which tasks remind members whose streak broke, and how it goes."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.options import Options, shown
from bot.features.checkins.api import load_tasks
from bot.features.reminders.service import enabled_tasks, reminder_stats, set_reminders

REMIND_USAGE = "/remind 任务名 on|off · /remind（打卡提醒 打卡 开|关）"
_SWITCH = {"on": True, "开": True, "开启": True, "off": False, "关": False, "关闭": False}
HOW = "连续 2 天以上的打卡断了，第二天私聊提醒一次（有补签卡会提示补签）；3 天后还没回来再提醒一次，之后不再打扰。"


def rate_text(back: int, gone: int) -> str:
    decided = back + gone
    return f"{back}/{decided} 回来了（{back * 100 // decided}%）" if decided else "还没有结果"


def remind(ctx: Ctx, opts: Options) -> str:
    conn = ctx.batch.conn
    words = opts.positional
    if not words:
        enabled = enabled_tasks(conn)
        names = [t.name for t in load_tasks(conn) if t.id in enabled and t.active]
        lines = [f"断签提醒：{'、'.join(f'「{n}」' for n in names) if names else '没有任务开启'}。{HOW}"]
        for s in reminder_stats(conn):
            lines.append(f"「{s.task}」第 {s.n} 次提醒 {s.sent} 条，{rate_text(s.back, s.gone)}")
        return "\n".join(lines)
    if len(words) != 2 or words[1].lower() not in _SWITCH:
        raise UsageError(f"请写出任务名和 on 或 off，例如 /remind 打卡 on（你写的是「{shown(opts.rest_text())}」）。")
    on = _SWITCH[words[1].lower()]
    try:
        task = set_reminders(conn, words[0], on)
    except LookupError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    if on:
        return f"已开启「{task.name}」的断签提醒：{HOW}遵守免打扰时段和触达上限，成员回复「退订」即不再收到。"
    return f"已关闭「{task.name}」的断签提醒。"


COMMANDS = [
    Command("remind", ("打卡提醒",), REMIND_USAGE, "开关打卡任务的断签提醒，看提醒后回来的比例", remind, admin=True),
]
