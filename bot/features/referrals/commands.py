"""邀请排行 (/rank invites) for members."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.directory import member_names
from bot.core.errors import UsageError
from bot.core.options import Options, shown
from bot.features.privacy.api import rank_hidden
from bot.features.referrals.service import Referrals, invite_board, referrals_of

BOARD_SIZE = 10


def invites(ctx: Ctx, opts: Options) -> str:
    if opts.positional:
        raise UsageError(f"不认识「{shown(opts.rest_text())}」：直接发「邀请排行」就好。")
    return invite_text(ctx)


def invite_text(ctx: Ctx) -> str:
    """The invite board of the room the command was said in (1:1: of every room)."""
    conn = ctx.batch.conn
    hidden = frozenset(rank_hidden(conn))  # 不参与排行, and anonymous members
    board = invite_board(conn, ctx.msg.room, ctx.deps.staff(conn) | ctx.batch.bot_ids | hidden)[:BOARD_SIZE]
    where = "本群" if ctx.msg.room else "全部"
    if not board:
        return f"{where}邀请排行还是空的：邀请朋友进群，留下来的都算你的！"
    ids = [m for m, _ in board]
    names = member_names(conn, ids)
    lines = [f"🤝 {where}邀请排行（还在群里的朋友）"]
    rank, last = 0, None
    for i, (m, r) in enumerate(board, 1):
        if (r.stayed, r.spoke) != last:
            rank, last = i, (r.stayed, r.spoke)
        lines.append(f"{rank}. {names.get(m) or m} {r.stayed} 人（{r.spoke} 人发过言）")
    return "\n".join(lines)


def my_referrals(ctx: Ctx) -> str | None:
    """The 我的等级 line, when the member has brought anyone in who is still there."""
    found: Referrals | None = referrals_of(ctx.batch.conn, [ctx.msg.sender]).get(ctx.msg.sender)
    if found is None or not found.stayed:
        return None
    return f"你邀请的 {found.stayed} 位朋友还在群里，其中 {found.spoke} 位发过言"


COMMANDS = [
    Command("invites", ("邀请排行",), "邀请排行（/invites，或 /rank invites）",
            "谁邀请进群并留下来的朋友最多", invites, forms=(r"(?:看看|查看|查)?邀请(?:排行榜|榜|排名)",)),
]
