"""群发 for managers (preview, then 确认); 退订 / 恢复订阅 for members."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.errors import UsageError
from bot.core.options import Options, parse
from bot.features.outreach.service import (
    DRAFT_MINUTES,
    cancel_drafts,
    check_text,
    message_for,
    parse_selection,
    pending_draft,
    plan,
    save_draft,
    select_members,
    send_campaign,
    set_subscribed,
)
from bot.features.outreach.texts import left_out_text, names_text, schedule_text

BROADCAST_USAGE = ("群发 [tag=标签] [type=类型] [segment=分层] [stage=阶段] [grade=A] [level=3] [room=群名]，"
                   "换行写消息 · 群发 确认 · 群发 取消（/broadcast）")
# The filters are read from the first line only: the message below it is sent as written,
# "=" and quotes included, so the command itself takes no options (keys=None).
SELECTION_KEYS = {"tag": "tag", "标签": "tag", "type": "type", "类型": "type", "segment": "segment",
                  "分层": "segment", "stage": "stage", "阶段": "stage", "grade": "grade", "分级": "grade",
                  "level": "level", "等级": "level", "room": "room", "群": "room"}
_CONFIRM = {"确认", "confirm", "yes", "发送"}
_CANCEL = {"取消", "cancel", "no", "放弃"}


def _split(ctx: Ctx) -> tuple[Options, str]:
    """The first line's filters, and the message: the first line's other words, then every
    further line as typed."""
    inv = ctx.registry.parse(ctx.msg)
    head, _, body = (inv.text if inv else "").partition("\n")
    first = parse(head, keys=SELECTION_KEYS)
    return first, "\n".join(part for part in (" ".join(first.positional), body.strip()) if part)


def broadcast(ctx: Ctx, opts: Options) -> str:
    conn, deps = ctx.batch.conn, ctx.deps
    at = int(ctx.msg.ts.timestamp())
    words = opts.positional
    if len(words) == 1 and words[0].lower() in _CANCEL:
        n = cancel_drafts(conn, ctx.msg.sender)
        return "已取消，这次群发不会发出。" if n else "没有待确认的群发。"
    if len(words) == 1 and words[0].lower() in _CONFIRM:
        return _confirm(ctx, at)
    first, text = _split(ctx)
    try:
        sel = parse_selection(conn, first.named)
        text = check_text(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if sel.empty():
        raise UsageError("请至少写一个条件，例如 tag=意向 或 grade=A（发给全部成员请用 room=群名）。")
    members = select_members(conn, deps, sel, ctx.now, ctx.batch.bot_ids)
    if not members:
        return f"没有符合条件的成员（{sel.describe(conn)}），换个条件试试。"
    p = plan(conn, deps.settings, [m for m, _ in members], ctx.now)
    lines = [f"群发预览：{sel.describe(conn)}，共 {len(members)} 人：{names_text([n for _, n in members])}"]
    left_out = left_out_text(p, deps.settings)
    if left_out:
        lines.append(left_out)
    if not p.times:
        lines.append("这次没有可以发的人。")
        return "\n".join(lines)
    lines.append(f"将发给 {len(p.times)} 人。{schedule_text(p, ctx.now, deps.settings)}")
    lines.append(f"消息（一对一私聊发出）：\n{message_for(text)}")
    save_draft(conn, ctx.msg.sender, "chat", sel, text, len(members), at)
    lines.append(f"确认请回复「群发 确认」，放弃回复「群发 取消」（{DRAFT_MINUTES} 分钟内有效）。")
    return "\n".join(lines)


def _confirm(ctx: Ctx, at: int) -> str:
    conn, deps = ctx.batch.conn, ctx.deps
    draft = pending_draft(conn, ctx.msg.sender, at)
    if draft is None:
        return f"没有待确认的群发（预览 {DRAFT_MINUTES} 分钟内有效）。请先发「群发 条件」并换行写消息，看过预览再确认。"
    sel = parse_selection(conn, parse(draft.selection, keys=SELECTION_KEYS).named)
    if ctx.batch.silent:
        return "回放时不发群发。"
    try:
        sent = send_campaign(conn, deps, by=ctx.msg.sender, via="chat", sel=sel, text=draft.text, now=ctx.now,
                             bot_ids=ctx.batch.bot_ids, draft_id=draft.id, room=ctx.msg.room)
    except LookupError:
        cancel_drafts(conn, ctx.msg.sender)
        return f"现在没有符合条件的成员了（{sel.describe(conn)}），这次群发已取消。"
    lines = [f"已安排群发 #{sent.campaign_id}：{len(sent.plan.times)} 人。"]
    if sent.plan.times:
        lines.append(schedule_text(sent.plan, ctx.now, deps.settings))
    left_out = left_out_text(sent.plan, deps.settings)
    if left_out:
        lines.append(left_out)
    return "\n".join(lines)


def unsubscribe(ctx: Ctx, opts: Options) -> str:
    changed, _ = set_subscribed(ctx.batch.conn, ctx.msg.sender, False, int(ctx.msg.ts.timestamp()))
    if not changed:
        return "你已经退订了，不会再收到群发和提醒。想恢复请发「恢复订阅」。"
    return "已退订，之后不会再收到群发和打卡提醒。想恢复请发「恢复订阅」。"


def subscribe(ctx: Ctx, opts: Options) -> str:
    changed, _ = set_subscribed(ctx.batch.conn, ctx.msg.sender, True, int(ctx.msg.ts.timestamp()))
    return "已恢复订阅，欢迎回来！" if changed else "你没有退订，本来就会收到群发和提醒。"


COMMANDS = [
    Command("broadcast", ("群发",), BROADCAST_USAGE, "按条件给成员一对一群发消息（先预览，再确认）", broadcast,
            admin=True),
    Command("unsubscribe", ("退订",), "退订（/unsubscribe）", "不再接收群发和打卡提醒",
            unsubscribe),
    Command("subscribe", ("恢复订阅",), "恢复订阅（/subscribe）", "重新接收群发和打卡提醒",
            subscribe),
]
