"""Operators and their follow-up lists: /operator, /operators, /report, /done (已跟进)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlmodel import col

from bot.core.commands import Command, Ctx, member_arg
from bot.core.directory import member_names
from bot.core.errors import Refused, UsageError
from bot.core.options import Options
from bot.features.followup.service import issue, mark_done, operator_rooms
from bot.features.followup.texts import done_text, list_messages
from bot.store.db import upsert
from bot.store.models import RoomOperator, table_of


def operator(ctx: Ctx, opts: Options) -> str:
    room = ctx.msg.room
    if not room:
        raise UsageError("请在群里设置，运营是按群设置的。")
    words = list(opts.positional)
    remove = bool(words) and words[0].lower() in ("del", "remove", "删除")
    if remove:
        words = words[1:]
        if not words and not opts.members:
            raise UsageError("请 @ 要移除的运营。")
    member, name = ctx.member(member_arg(opts, words))
    conn = ctx.batch.conn
    if remove:
        n = conn.execute(delete(RoomOperator).where(col(RoomOperator.room) == room,
                                                    col(RoomOperator.member) == member)).rowcount
        if not n:
            raise UsageError(f"{name} 不是本群的运营。", show_usage=False)
        return f"已移除本群运营 {name}。"
    upsert(conn, table_of(RoomOperator), [{"room": room, "member": member}], ["room", "member"])
    return f"{name} 现在是本群的运营，每天 {ctx.deps.settings.followup_time} 会私信收到跟进清单。"


def operators(ctx: Ctx, opts: Options) -> str:
    conn = ctx.batch.conn
    assigned = operator_rooms(conn, sorted(ctx.deps.settings.admin_ids))
    names = member_names(conn)
    rooms = [ctx.msg.room] if ctx.msg.room else sorted({r for rs in assigned.values() for r in rs})
    lines = []
    for room in rooms:
        ops = [names.get(m, m) for m, rs in assigned.items() if room in rs]
        explicit = set(conn.execute(select(col(RoomOperator.member)).where(col(RoomOperator.room) == room)).scalars())
        how = "" if explicit else "（未设置运营，由管理员负责）"
        lines.append(f"{'本群' if ctx.msg.room else room}运营：{'、'.join(ops) or '无'}{how}")
    return "\n".join(lines) or "还没有群。"


def _my_rooms(ctx: Ctx) -> list[str]:
    assigned = operator_rooms(ctx.batch.conn, sorted(ctx.deps.settings.admin_ids))
    rooms = assigned.get(ctx.msg.sender)
    if not rooms:
        raise Refused("你还不是运营，没有跟进清单。请管理员在群里发 /operator @你。")
    return rooms


def report(ctx: Ctx, opts: Options) -> None:
    rooms = _my_rooms(ctx)
    messages = list_messages(issue(ctx.batch.conn, ctx.deps, ctx.msg.sender, rooms, ctx.now, scheduled=False))
    # The list names members: it goes to the operator privately, even if asked in a group.
    for text in messages:
        ctx.batch.dm(ctx.msg.sender, text, reply_to=ctx.msg.id)
    if ctx.msg.room:
        ctx.reply("跟进清单已私信发给你。")


def done(ctx: Ctx, opts: Options) -> str:
    _my_rooms(ctx)
    numbers: list[int] = []
    rest = list(opts.positional)
    while rest and rest[0].replace("，", ",").strip(",").replace(",", "").isdigit():
        numbers += [int(x) for x in rest.pop(0).replace("，", ",").split(",") if x]
    if not numbers:
        raise UsageError("请写出清单上的编号，例如 已跟进 3 5 已私聊。")
    note = " ".join(rest)[:200] or None
    recorded, text = done_text(mark_done(ctx.batch.conn, ctx.msg.sender, numbers, note, ctx.now), note)
    if not recorded:
        raise UsageError(text, show_usage=False)
    return text


COMMANDS = [
    Command("operator", ("设运营",), "/operator @成员（/operator del @成员 移除）",
            "设置本群的运营，每天私信收到跟进清单", operator, admin=True),
    Command("operators", ("运营",), "/operators", "查看各群的运营", operators, admin=True),
    Command("report", ("跟进清单",), "/report（跟进清单）", "现在就看今天的跟进清单", report, operator=True),
    Command("done", ("已跟进",), "已跟进 编号… [备注]（/done 3 5 已私聊）", "标记清单上的项目已跟进", done,
            operator=True),
]
