"""Operators and their follow-up lists: /operator, /operators, /report, /done (已跟进)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from bot.core.commands import Command, Ctx, member_arg
from bot.core.deps import Deps
from bot.core.directory import member_names, room_names, rooms_of
from bot.core.errors import Refused, UsageError
from bot.core.options import Options, int_between
from bot.features.followup import service
from bot.features.followup.models import RoomOperator
from bot.features.followup.service import issue, mark_done, operator_rooms
from bot.features.followup.settings import FollowupSettings
from bot.features.followup.texts import done_text, list_messages, moved_text
from bot.features.points.api import Ledger
from bot.features.tags.api import Tagging
from bot.store.db import upsert
from bot.store.models import table_of
from tiers.followup import KIND_TITLES, MAX_SNOOZE
from tiers.levels import progress

_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() also takes ² and ①
MAX_CAP = 200
MAX_NOTE = 500
HISTORY_LINES = 10


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
    cap = opts.int_option("cap", "每天的清单条数", 1, MAX_CAP)
    upsert(conn, table_of(RoomOperator), [{"room": room, "member": member}], ["room", "member"])
    if cap is not None:
        service.set_cap(conn, member, cap)
    cap = service.daily_cap(conn, ctx.deps.settings, member)
    return (f"{name} 现在是本群的运营，每天 {ctx.deps.settings.of(FollowupSettings).followup_time} 会私信收到跟进清单"
            f"（最多 {cap} 项，其余在控制台）。")


def operators(ctx: Ctx, opts: Options) -> str:
    conn = ctx.batch.conn
    assigned = operator_rooms(conn, sorted(ctx.deps.settings.admin_ids))
    names = member_names(conn)
    rooms = [ctx.msg.room] if ctx.msg.room else sorted({r for rs in assigned.values() for r in rs})
    lines = []
    for room in rooms:
        ops = [f"{names.get(m, m)}（每天 {service.daily_cap(conn, ctx.deps.settings, m)} 项）"
               for m, rs in assigned.items() if room in rs]
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
    # Read on the batch's own connection: the events before the command are not committed yet.
    messages = list_messages(ctx.batch.conn, issue(ctx.batch.conn, ctx.deps, ctx.msg.sender, rooms, ctx.now,
                                                   scheduled=False, bot_ids=ctx.batch.bot_ids, background=False),
                             ctx.deps.settings)
    # The list names members: it goes to the operator privately, even if asked in a group.
    for text in messages:
        ctx.batch.dm(ctx.msg.sender, text, reply_to=ctx.msg.id)
    if ctx.msg.room:
        ctx.reply("跟进清单已私信发给你。")


def _numbers(words: list[str]) -> list[int]:
    """The item numbers a command starts with ("3 5", "3,5", "3，5"), taken off `words`."""
    numbers: list[int] = []
    while words and _DIGITS.fullmatch(words[0].replace("，", ",").strip(",").replace(",", "")):
        numbers += [int(x) for x in words.pop(0).replace("，", ",").split(",") if x]
    return numbers


def done(ctx: Ctx, opts: Options) -> str:
    rest = list(opts.positional)
    numbers = _numbers(rest)
    if not numbers:
        raise UsageError("请写出清单上的编号，例如 已跟进 3 5 已私聊。")
    note = " ".join(rest)[:200] or None
    recorded, text = done_text(mark_done(ctx.batch.conn, ctx.msg.sender, numbers, note, ctx.now), note)
    if not recorded:
        raise UsageError(text, show_usage=False)
    return text


def snooze_items(conn: Connection, operator: str, n: int, days: int, now: datetime) -> str:
    """稍后 (chat and console): item `n` of the operator's latest list sleeps `days` days."""
    until = now.date() + timedelta(days=days)
    moved, text = moved_text(service.snooze(conn, operator, [n], days, now),
                             f"先放一放，{days} 天后（{until:%m-%d}）再出现在清单上")
    if not moved:
        raise UsageError(text, show_usage=False)
    return text


def snooze(ctx: Ctx, opts: Options) -> str:
    words = list(opts.positional)
    if not words or not _DIGITS.fullmatch(words[0]):
        raise UsageError("请写出清单上的编号和天数，例如 稍后 3 2（第 3 项 2 天后再提醒）。")
    n = int(words.pop(0))
    if len(words) > 1:
        raise UsageError("一次稍后一项：稍后 编号 天数，例如 稍后 3 2。")
    days = int_between(words[0], "天数", 1, MAX_SNOOZE) if words else 1
    return snooze_items(ctx.batch.conn, ctx.msg.sender, n, days, ctx.now)


def hand_over(conn: Connection, deps: Deps, frm: str, numbers: list[int], to: str, name: str) -> tuple[str, str | None]:
    """转给 (chat and console): (the answer, the DM to the new owner or None when nothing
    moved). A refusal raises UsageError with its reason."""
    if to == frm:
        raise UsageError("不能转给自己。", show_usage=False)
    if not service.is_operator(conn, to) and not deps.is_admin(to):
        raise UsageError(f"{name} 不是运营，不能接手跟进。请管理员先在群里发 /operator @{name}。",
                         show_usage=False)
    result = service.reassign(conn, frm, numbers, to)
    moved, text = moved_text(result, f"已转给 {name}，从 TA 明天的清单起由 TA 跟进")
    if not moved:
        raise UsageError(text, show_usage=False)
    who = member_names(conn, [frm, *result.moved.values()])
    return text, (f"{who.get(frm, frm)} 把 {len(result.moved)} 项跟进转给了你："
                  + "、".join(who.get(m, m) for m in result.moved.values()) + "。明天的跟进清单里会有。")


def reassign(ctx: Ctx, opts: Options) -> str:
    to, name = ctx.member(opts.member())
    words = list(opts.positional)
    numbers = _numbers(words)
    if not numbers or words:
        raise UsageError("请写出要转出的编号，例如 转给 @小李 3 5。")
    text, dm = hand_over(ctx.batch.conn, ctx.deps, ctx.msg.sender, numbers, to, name)
    if dm:
        ctx.batch.dm(to, dm, reply_to=ctx.msg.id)
    return text


def note(ctx: Ctx, opts: Options) -> str:
    member, name = ctx.member(opts.member())
    text = opts.rest_text().strip()
    if not text:
        raise UsageError("请写出备注内容，例如 备注 @小王 想了解训练营，下周再聊。")
    if len(text) > MAX_NOTE:
        raise UsageError(f"备注最多 {MAX_NOTE} 个字，这条有 {len(text)} 个字。", show_usage=False)
    service.add_note(ctx.batch.conn, member, ctx.msg.sender, text, ctx.now)
    return f"已记下对 {name} 的备注。发 /profile @{name} 可以看 TA 的跟进记录。"


def profile(ctx: Ctx, opts: Options) -> str:
    member, name = ctx.member(opts.member())
    if opts.positional:
        raise UsageError("只写一位成员，例如 /profile @小王。")
    conn = ctx.batch.conn
    tz = ctx.deps.settings.tz
    rooms = rooms_of(conn, [member]).get(member, [])
    rn = room_names(conn, rooms)
    points = ctx.deps.service(Ledger).points_of(conn, [member]).get(member, 0)
    p = progress(points, ctx.deps.service(Ledger).levels)
    lines = [f"📇 {name} 的客户档案（id 尾号 {member[-4:]}）",
             "所在群：" + ("、".join(rn.get(r, r) for r in rooms) or "无"),
             f"积分 {points}，Lv{p.level.n}「{p.level.name}」"]
    tags = ctx.deps.service(Tagging).held(conn, member, int(ctx.msg.ts.timestamp()))
    lines.append("标签：" + ("、".join(t.tag for t in tags) or "无"))
    cases = service.member_cases(conn, member, ctx.today)
    if cases:
        owners = member_names(conn, [c.owner for c in cases if c.owner])
        lines.append("待跟进：" + "；".join(
            f"{KIND_TITLES.get(c.kind, c.kind)}（{c.reason}，已 {c.days} 天"
            + (f"，转给 {owners.get(c.owner, c.owner)}" if c.owner else "")
            + ("，稍后再提醒" if c.snoozed else "") + "）" for c in cases))
    entries = service.history(conn, member, HISTORY_LINES)
    if entries:
        lines.append(f"跟进记录（最近 {len(entries)} 条）：")
        for e in entries:
            what = f"已跟进「{KIND_TITLES.get(e.kind, e.kind)}」" if e.kind else "备注"
            lines.append(f"· {datetime.fromtimestamp(e.at, tz):%m-%d %H:%M} {e.by_name} {what}"
                         + (f"：{e.note}" if e.note else ""))
    else:
        lines.append("还没有跟进记录。跟进后回复 已跟进 编号 备注，或发 备注 @成员 文字。")
    return "\n".join(lines)


COMMANDS = [
    Command("operator", ("设运营",), "/operator @成员 [cap=每天条数]（/operator del @成员 移除）",
            "设置本群的运营，每天私信收到跟进清单", operator, admin=True,
            keys={"cap": "cap", "每天": "cap", "上限": "cap"}),
    Command("operators", ("运营",), "/operators", "查看各群的运营", operators, admin=True),
    Command("report", ("跟进清单",), "/report（跟进清单）", "现在就看今天的跟进清单", report, operator=True),
    Command("done", ("已跟进",), "已跟进 编号… [备注]（/done 3 5 已私聊）", "标记清单上的项目已跟进", done,
            operator=True),
    Command("snooze", ("稍后",), "稍后 编号 [天数]（/snooze 3 2：第 3 项 2 天后再提醒）",
            "清单上的一项先放一放，过几天再提醒", snooze, operator=True),
    Command("reassign", ("转给",), "转给 @运营 编号…（/reassign @小李 3 5）", "把清单上的项目转给另一位运营",
            reassign, operator=True, member_args=1),
    Command("note", ("备注",), "备注 @成员 文字（/note @小王 想了解训练营）", "给成员记一条跟进备注", note,
            operator=True, member_args=1),
    Command("profile", ("客户档案",), "/profile @成员（客户档案 @小王）", "看成员的档案和跟进记录", profile,
            operator=True, member_args=1),
]
