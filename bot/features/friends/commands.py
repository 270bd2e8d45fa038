"""Friend requests for operators: 好友申请 (the requests waiting), 通过 编号 (accept them)."""

from __future__ import annotations

from datetime import datetime

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.options import Options, positive_int, shown
from bot.features.friends.service import ApproveError, approve, pending_requests
from tagging.reasons import excerpt

MAX_LISTED = 30


def requests(ctx: Ctx, opts: Options) -> str:
    if opts.positional:
        raise UsageError(f"好友申请 后面不需要「{shown(opts.positional[0])}」。")
    waiting = pending_requests(ctx.batch.conn)
    if not waiting:
        return "没有等待通过的好友申请。"
    lines = [f"等待通过的好友申请 {len(waiting)} 个（发「通过 编号」通过，可一次写多个）："]
    for r in waiting[:MAX_LISTED]:
        when = datetime.fromtimestamp(r.requested_at, ctx.deps.settings.tz).strftime("%m-%d %H:%M")
        hello = f"「{excerpt(r.hello, 30)}」" if r.hello else "（没有验证消息）"
        channel = f" 来源：{r.channel}" if r.channel else ""
        lines.append(f"{r.n}. {r.name} {when} {hello}{channel}")
    if len(waiting) > MAX_LISTED:
        lines.append(f"……还有 {len(waiting) - MAX_LISTED} 个，请到后台「好友」页查看。")
    return "\n".join(lines)


def accept(ctx: Ctx, opts: Options) -> str:
    if not opts.positional:
        raise UsageError("请写出要通过的申请编号，例如：通过 3（编号见「好友申请」）。")
    numbers = [positive_int(w, "申请编号") for w in opts.positional]
    done, problems = [], []
    for n in dict.fromkeys(numbers):
        try:
            _, action = approve(ctx.batch.conn, n, ctx.msg.sender)
        except ApproveError as exc:
            problems.append(str(exc))
            continue
        ctx.batch.send(action)
        done.append(f"{n} 号")
    lines = []
    if done:
        lines.append(f"已通过 {'、'.join(done)}，会按节奏依次通过，通过后自动发欢迎语并邀请进群。")
    return "\n".join(lines + problems)


COMMANDS = [
    Command("friends", ("好友申请",), "好友申请", "查看等待通过的好友申请", requests, operator=True),
    Command("accept", ("通过",), "通过 编号 [编号…]", "通过好友申请", accept, operator=True),
]
