"""控制台 (/console): a one-time console login link by DM; /admin: per-room admins."""

from __future__ import annotations

import time

from bot.core.commands import Command, Ctx, member_arg
from bot.core.errors import Refused, UsageError
from bot.core.options import Options
from bot.features.people.service import (
    CONSOLE_WORD,
    LINK_MINUTES,
    add_room_admin,
    new_link,
    person,
    remove_room_admin,
)


def console(ctx: Ctx, opts: Options) -> None:
    if ctx.msg.room:
        # The link logs its holder in: it never goes into a group.
        ctx.reply(f"登录链接只能私聊发给你：请私聊我发「{CONSOLE_WORD}」。")
        return None
    conn = ctx.batch.conn
    who = person(conn, ctx.deps.settings, ctx.msg.sender)
    if who is None:
        raise Refused("你现在不是管理员或运营，不能登录控制台。")
    link = new_link(conn, ctx.deps.settings, who.member, int(time.time()))
    # Sent as a DM and kept out of the audit's answer (ctx.said): the link logs in whoever holds it.
    ctx.batch.dm(ctx.msg.sender, f"{who.label}，你的控制台登录链接（{LINK_MINUTES} 分钟内有效，只能用一次，"
                 f"请勿转发）：\n{link}", reply_to=ctx.msg.id)
    return None


def admin(ctx: Ctx, opts: Options) -> str:
    room = ctx.msg.room
    if not room:
        raise UsageError("请在群里设置，群管理员是按群设置的。")
    if not ctx.deps.is_admin(ctx.msg.sender):
        raise Refused("只有全局管理员（QUNGUAN_ADMINS）可以设置群管理员。")
    words = list(opts.positional)
    remove = bool(words) and words[0].lower() in ("del", "remove", "删除")
    if remove:
        words = words[1:]
    if not words and not opts.members:
        raise UsageError("请 @ 一位成员。")
    member, name = ctx.member(member_arg(opts, words))
    conn = ctx.batch.conn
    if remove:
        if not remove_room_admin(conn, room, member):
            raise UsageError(f"{name} 不是本群的管理员。", show_usage=False)
        return f"已移除本群管理员 {name}。"
    if ctx.deps.is_admin(member):
        raise UsageError(f"{name} 已经是全局管理员了。", show_usage=False)
    add_room_admin(conn, room, member, ctx.msg.sender, int(ctx.msg.ts.timestamp()))
    return (f"{name} 现在是本群的管理员：可以在本群用管理命令，私聊我发「{CONSOLE_WORD}」登录控制台"
            "（只看得到本群）。")


COMMANDS = [
    Command("console", (CONSOLE_WORD,), "控制台（/console，私聊）", "私聊收到控制台的一次性登录链接",
            console, operator=True),
    Command("admin", ("设管理员",), "/admin @成员（/admin del @成员 移除）",
            "设置本群的管理员（仅全局管理员）", admin, admin=True),
]
