"""群规 in chat: anyone asks for the room's rules; managers set or clear them."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.options import Options, shown
from bot.features.room_rules.service import clear_rules, rules_of, set_rules

USAGE = "/grouprules · /grouprules set 文字 · /grouprules off（群规 · 设置群规 文字 · 删除群规）"
EXAMPLE = "设置群规 1. 友善交流，不发广告\n2. 每天 21 点前打卡"
_SET = ("set", "设置")
_OFF = ("off", "clear", "删除", "清除", "关闭")


def _room(ctx: Ctx) -> str:
    if not ctx.msg.room:
        raise UsageError("群规是每个群自己的：请在群里发「群规」。", show_usage=False)
    return ctx.msg.room


def show(ctx: Ctx, opts: Options) -> str:
    """群规 (/grouprules): the room's rules; a manager may go on with set/off."""
    room = _room(ctx)
    if opts.positional:
        word = opts.positional[0].lower()
        if word in _SET:
            return change(ctx, opts)
        if word in _OFF:
            return clear(ctx, opts)
        raise UsageError(f"不认识「{shown(opts.positional[0])}」：看群规发「群规」，管理员设置发「{EXAMPLE}」。",
                         show_usage=False)
    text = rules_of(ctx.batch.conn, room)
    return f"📋 本群群规：\n{text}" if text else "本群还没有群规。"


def change(ctx: Ctx, opts: Options) -> str:
    """设置群规 文字: the room's rules, exactly as typed after the command word (line breaks kept)."""
    room = _room(ctx)
    if not ctx.is_admin:
        raise UsageError("只有管理员可以设置群规。", show_usage=False)
    text = _after_word(ctx.msg.text)
    if not text:
        raise UsageError(f"请写出群规，例如：\n{EXAMPLE}", show_usage=False)
    try:
        saved = set_rules(ctx.batch.conn, room, text, by=ctx.msg.sender, at=int(ctx.msg.ts.timestamp()))
    except ValueError as exc:
        raise UsageError(str(exc), show_usage=False) from None
    return f"已设置群规，新人入群时随欢迎语发送，群里发「群规」也能看到：\n{saved}"


def clear(ctx: Ctx, opts: Options) -> str:
    room = _room(ctx)
    if not ctx.is_admin:
        raise UsageError("只有管理员可以删除群规。", show_usage=False)
    return "已删除本群群规。" if clear_rules(ctx.batch.conn, room) else "本群本来就没有群规。"


def _after_word(text: str) -> str:
    """What follows the first set word (设置群规, 设置, set), stripped; line breaks kept."""
    for word in ("设置群规", "设置", "set", "SET", "Set"):
        at = text.find(word)
        if at >= 0:
            return text[at + len(word):].strip()
    return ""


COMMANDS = [
    Command("grouprules", ("群规",), USAGE, "看本群的群规", show),
    Command("grouprules_set", ("设置群规",), "设置群规 文字（/grouprules set 文字）", "设置本群的群规（随欢迎语发送）",
            change, admin=True),
    Command("grouprules_off", ("删除群规",), "删除群规（/grouprules off）", "删除本群的群规", clear, admin=True),
]
