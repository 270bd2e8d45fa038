"""Argument helpers shared by command handlers: members by @mention or name, numbers."""

from __future__ import annotations

from sqlalchemy import or_, select

from bot.commands.registry import Ctx, UsageError
from bot.store.models import Member, Membership


def resolve_member(ctx: Ctx, token: str, *, mention_index: int = 0) -> tuple[str, str]:
    """(id, name) of the member a manager meant: an @mention, an id or an exact name."""
    mentions = list(ctx.msg.mentions)
    if token.startswith("@") and len(mentions) > mention_index:
        mid = mentions[mention_index]
        row = ctx.batch.conn.execute(select(Member.name).where(Member.id == mid)).first()
        if row is None:
            raise UsageError(f"还没有 {token} 的任何记录，等对方在群里说过话再试。", show_usage=False)
        return mid, row[0] or mid
    name = token.lstrip("@")
    if not name:
        raise UsageError("请 @ 一位成员，或写出成员的昵称。")
    q = select(Member.id, Member.name).where(or_(Member.id == name, Member.name == name))
    if ctx.msg.room:  # in a group, prefer the group's own members
        in_room = q.join(Membership, Membership.member == Member.id).where(
            Membership.room == ctx.msg.room, Membership.active)
        rows = ctx.batch.conn.execute(in_room.limit(6)).all()
        if not rows:
            rows = ctx.batch.conn.execute(q.limit(6)).all()
    else:
        rows = ctx.batch.conn.execute(q.limit(6)).all()
    if not rows:
        raise UsageError(f"找不到成员「{name}」。请 @ 对方，或写出完整昵称。")
    exact_id = [r for r in rows if r[0] == name]
    if exact_id:
        return exact_id[0][0], exact_id[0][1] or name
    if len(rows) > 1:
        listing = "、".join(f"{n}（{i}）" for i, n in rows[:5])
        raise UsageError(f"有 {len(rows)} 位成员都叫「{name}」：{listing}。请 @ 对方，或改用 id。")
    return rows[0][0], rows[0][1] or name


def positive_int(value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"{what}应为正整数，你写的是「{value}」。") from None
    if n <= 0:
        raise UsageError(f"{what}应为正整数，你写的是「{value}」。")
    return n


def non_negative_int(value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"{what}应为不小于 0 的整数，你写的是「{value}」。") from None
    if n < 0:
        raise UsageError(f"{what}不能小于 0，你写的是「{value}」。")
    return n
