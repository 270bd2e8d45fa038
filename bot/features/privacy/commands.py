"""Members' privacy in chat: 不参与排行 / 参与排行, 删除我的数据 and 确认删除."""

from __future__ import annotations

from bot.core import audit
from bot.core.commands import Command, Ctx
from bot.core.options import Options
from bot.features.privacy.deletion import confirm_deletion
from bot.features.privacy.service import (
    CONFIRM_MINUTES,
    ask_deletion,
    has_data,
    pending_request,
    set_ranked,
)

WHAT_GOES = "你的聊天内容、打卡心得、备注和昵称会被清除，积分和打卡等记录会换成匿名编号、不再和你关联，删除后无法恢复。"


def rank_off(ctx: Ctx, opts: Options) -> str:
    changed = set_ranked(ctx.batch.conn, ctx.msg.sender, False, int(ctx.msg.ts.timestamp()))
    head = "好的，" if changed else "你已经不参与排行了，"
    return f"{head}排行榜上不会再出现你的名字，积分和打卡照常累计。想回来请发「参与排行」。"


def rank_on(ctx: Ctx, opts: Options) -> str:
    changed = set_ranked(ctx.batch.conn, ctx.msg.sender, True, int(ctx.msg.ts.timestamp()))
    return "欢迎回到排行榜！" if changed else "你本来就在排行榜上。"


def forget_me(ctx: Ctx, opts: Options) -> str:
    conn, member = ctx.batch.conn, ctx.msg.sender
    at = int(ctx.msg.ts.timestamp())
    # 「删除我的数据 @someone」: nobody deletes another's data; say so rather than ignore it.
    only_own = ("只能删除你自己的数据，别人的要 TA 自己发「删除我的数据」。\n"
                if opts.positional or any(m != member for m in ctx.msg.mentions) else "")
    if pending_request(conn, member, at):
        return f"{only_own}已经收到你的删除请求了，确认请回复「确认删除」（{CONFIRM_MINUTES} 分钟内有效）。"
    if not has_data(conn, member):
        return f"{only_own}没有找到你的聊天记录或资料，不需要删除。（如果之前已经删除过，那些数据已经清除了。）"
    ask_deletion(conn, member, at)
    audit.record(conn, at=at, actor=member, where=audit.where_of(ctx.msg.room), room=ctx.msg.room,
                 action="delete_request", detail=ctx.msg.text, result="等待成员确认（10 分钟内回复「确认删除」）")
    return (f"{only_own}确定要删除你的数据吗？{WHAT_GOES}\n"
            f"确认请在 {CONFIRM_MINUTES} 分钟内回复「确认删除」；不删就不用理会。")


def confirm(ctx: Ctx, opts: Options) -> str:
    conn, member = ctx.batch.conn, ctx.msg.sender
    if not pending_request(conn, member, int(ctx.msg.ts.timestamp())):
        return "没有待确认的删除请求（或已超过 10 分钟）。要删除你的数据，请先发「删除我的数据」。"
    # Recorded before the erasure, which then puts the anonymous id in it as everywhere else.
    audit.record(conn, at=ctx.msg.ts, actor=member, where=audit.where_of(ctx.msg.room), room=ctx.msg.room,
                 action="delete_data", detail=ctx.msg.text,
                 result="已删除：聊天内容、心得、备注和昵称已清除，编号换成匿名编号，计数保留")
    confirm_deletion(ctx.batch, member)
    return "已删除你的数据：聊天内容、心得、备注和昵称都已清除。谢谢你一直以来的参与！"


COMMANDS = [
    Command("rankoff", ("不参与排行",), "不参与排行（/rankoff）", "排行榜上不显示我", rank_off),
    Command("rankon", ("参与排行",), "参与排行（/rankon）", "重新出现在排行榜上", rank_on),
    Command("forgetme", ("删除我的数据",), "删除我的数据（/forgetme）", "删除我的聊天内容、备注和昵称（需确认）",
            forget_me),
    Command("forgetme_confirm", ("确认删除",), "确认删除（/forgetme_confirm）", "确认删除我的数据", confirm),
]
