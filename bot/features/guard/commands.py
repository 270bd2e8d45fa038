"""防广告 for managers (/guard) and 申诉 for members."""

from __future__ import annotations

from bot.core.accounts import bot_accounts
from bot.core.commands import Command, Ctx, member_arg
from bot.core.directory import member_names
from bot.core.errors import UsageError
from bot.core.options import Options, shown
from bot.features.guard import service
from tagging import guard as rules

GUARD_USAGE = ("/guard on|off · /guard allow|disallow @成员 · /guard add|del 广告词 · /guard block|unblock @成员 · "
               "/guard（防广告 开|关|白名单|移出白名单|加词|删词|拉黑|解除）")
_SUBS = {"on": "on", "开": "on", "开启": "on", "打开": "on", "off": "off", "关": "off", "关闭": "off",
         "allow": "allow", "白名单": "allow", "disallow": "disallow", "移出白名单": "disallow",
         "add": "add", "加词": "add", "del": "del", "删词": "del",
         "block": "block", "拉黑": "block", "unblock": "unblock", "解除": "unblock", "解除黑名单": "unblock"}
_NEEDS_ROOM = {"on", "off", "allow", "disallow"}


def _status(ctx: Ctx, room: str | None) -> str:
    conn = ctx.batch.conn
    words = [p for _, p in service.patterns(conn)]
    lines = [f"规则：{'、'.join(rules.RULE_TITLES.values())}；{rules.STRIKE_DAYS} 天内 {rules.STRIKES} 次移出群。"]
    if room:
        accounts = ctx.batch.bot_ids | ({ctx.msg.account} if ctx.msg.account else frozenset())
        guards = {g.room: g for g in service.room_guards(conn, accounts | bot_accounts(conn))}
        g = guards.get(room)
        on = g is not None and g.enabled
        role = {"owner": "群主", "admin": "管理员"}.get(g.bot_role or "") if g else None
        lines.insert(0, f"本群防广告：{'开启' if on else '关闭'}。机器人在本群"
                        + (f"是{role}，可以移出违规成员。" if role else "不是群主或管理员：该移出时会告诉管理员。"))
        if g is not None and g.exempt:
            names = member_names(conn, g.exempt)
            lines.append("白名单：" + "、".join(names.get(m, m) for m in g.exempt))
    lines.append("广告词：" + ("、".join(words) if words else "（无，可用 /guard add 词 添加）"))
    return "\n".join(lines)


def guard(ctx: Ctx, opts: Options) -> str:
    room = ctx.msg.room
    if not opts.positional:
        return _status(ctx, room)
    sub = _SUBS.get(opts.positional[0].lower())
    if sub is None:
        raise UsageError(f"不认识「{shown(opts.positional[0])}」。")
    if sub in _NEEDS_ROOM and not room:
        raise UsageError("请在群里发：防广告是按群开关的，白名单也是按群的。", show_usage=False)
    if sub in ("on", "off"):
        assert room is not None
        return _switch(ctx, room, sub == "on")
    if sub in ("add", "del"):
        return _word(ctx, opts, sub == "add")
    return _listed(ctx, opts, sub)


def _switch(ctx: Ctx, room: str, on: bool) -> str:
    """/guard on|off: the room's guard switched."""
    service.set_enabled(ctx.batch.conn, room, on, ctx.msg.sender, int(ctx.msg.ts.timestamp()))
    if not on:
        return "本群防广告已关闭。"
    return "本群防广告已开启。\n" + _status(ctx, room)


def _word(ctx: Ctx, opts: Options, add: bool) -> str:
    """/guard add|del 词: an ad word added (unless it would hit most messages) or removed."""
    conn, at = ctx.batch.conn, int(ctx.msg.ts.timestamp())
    word = opts.rest_text(1).strip()
    if not word:
        raise UsageError("请写出广告词，例如：/guard add 代理招募")
    if len(word) > 30:
        raise UsageError(f"广告词太长（{len(word)} 字，最多 30 字）。", show_usage=False)
    if not add:
        if not service.del_pattern(conn, word):
            raise UsageError(f"没有广告词「{shown(word)}」。发 /guard 看看有哪些。", show_usage=False)
        return f"已删除广告词「{word}」。"
    hits, total = service.pattern_reach(conn, word, at)
    if rules.too_broad(hits, total):
        raise UsageError(f"「{shown(word)}」太宽了：最近 7 天群里 {total} 条消息里有 {hits} 条含有它，"
                         f"会误伤大多数人。请换一个更具体的词。", show_usage=False)
    if not service.add_pattern(conn, word, ctx.msg.sender, at):
        return f"广告词「{word}」已经有了。"
    return f"已添加广告词「{word}」（最近 7 天的 {total} 条群消息里有 {hits} 条含有它）。"


def _listed(ctx: Ctx, opts: Options, sub: str) -> str:
    """/guard allow|disallow|block|unblock @成员: the room's whitelist, the blacklist."""
    conn, room, by, at = ctx.batch.conn, ctx.msg.room, ctx.msg.sender, int(ctx.msg.ts.timestamp())
    member, name = ctx.member(member_arg(opts, opts.positional[1:]))
    if sub == "allow" or sub == "disallow":
        assert room is not None
        changed = service.set_exempt(conn, room, member, sub == "allow", by, at)
        if sub == "allow":
            return f"已把 {name} 加入本群白名单，防广告不再管 TA。" if changed else f"{name} 已在本群白名单上。"
        return f"已把 {name} 移出本群白名单。" if changed else f"{name} 不在本群白名单上。"
    if sub == "block":
        changed = service.block(conn, member, by, at, "管理员加入", room or "")
        return (f"已把 {name} 加入黑名单：TA 的好友申请不会自动通过，再进群会告诉管理员。" if changed
                else f"{name} 已在黑名单上。")
    if service.unblock(conn, member):
        return f"已把 {name} 移出黑名单。"
    return f"{name} 不在黑名单上。"


def appeal(ctx: Ctx, opts: Options) -> str:
    words = " ".join(opts.positional)[:500]
    if not service.appeal(ctx.batch, ctx.deps, ctx.msg, words):
        return "你没有收到过警告，不需要申诉哦～有问题可以直接问管理员。"
    return "已把你的申诉转给管理员，他们会尽快处理，请耐心等一下。"


COMMANDS = [
    Command("guard", ("防广告",), GUARD_USAGE, "防广告：开关、白名单、广告词、黑名单", guard, admin=True),
    Command("appeal", ("申诉",), "申诉 [说明]", "被防广告警告或移出群时，向管理员申诉", appeal),
]
