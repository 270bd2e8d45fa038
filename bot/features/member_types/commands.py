"""Manager commands for member types: the distribution, members of a type, thresholds."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.directory import member_names
from bot.core.errors import UsageError
from bot.core.options import Options, int_between, non_negative_int, shown
from bot.features.member_types.models import RoomSettings
from bot.features.member_types.service import scope_for, type_floor, type_members
from bot.features.segments.api import unknown_word, who_playbook
from tiers.types import TYPE_LABELS, MemberType, distribution, parse_type


def tiers_(ctx: Ctx, opts: Options) -> str:
    conn = ctx.batch.conn
    scope = scope_for(conn, ctx.now, ctx.msg.room, ctx.deps.settings.window_days,
                      floor=type_floor(ctx.deps.settings))
    typed = type_members(conn, ctx.now, scope)
    counts = distribution(typed.values())
    where = "本群" if ctx.msg.room else "全部群"
    any_typed = next((t for t in typed.values() if t.type != MemberType.NEW), None)
    how = "按中位数划分"
    if any_typed:
        how = (f"{'按阈值' if scope.thresholds else '按中位数'}划分：登录 ≥{any_typed.login_threshold:g} 天、"
               f"发言 ≥{any_typed.speaking_threshold:g} 条为高")
    lines = [f"{where}成员类型（近 {scope.window.days} 天，共 {len(typed)} 人）"]
    lines += [f"{TYPE_LABELS[k]}：{v} 人" for k, v in counts.items()]
    lines.append(how)
    return "\n".join(lines)


def who(ctx: Ctx, opts: Options) -> str:
    if len(opts.positional) != 1:
        raise UsageError("请写出一个类型，例如 /who 潜水、/who 重要挽留客户、/who 衰退、/who A")
    try:
        kind = parse_type(opts.positional[0])
    except ValueError:
        listing = who_playbook(ctx, opts.positional[0])
        if listing is None:
            raise UsageError(unknown_word(opts.positional[0])) from None
        return listing
    conn = ctx.batch.conn
    scope = scope_for(conn, ctx.now, ctx.msg.room, ctx.deps.settings.window_days,
                      floor=type_floor(ctx.deps.settings))
    members = [(m, t) for m, t in type_members(conn, ctx.now, scope).items() if t.type == kind]
    if not members:
        return f"目前没有{TYPE_LABELS[kind]}。"
    names = member_names(conn, [m for m, _ in members])
    members.sort(key=lambda mt: (-mt[1].login_days, -mt[1].speaking, names.get(mt[0], mt[0])))
    lines = [f"{TYPE_LABELS[kind]}共 {len(members)} 人："]
    lines += [f"· {names.get(m) or m}：登录 {t.login_days} 天，发言 {t.speaking} 条" for m, t in members[:20]]
    if len(members) > 20:
        lines.append(f"……还有 {len(members) - 20} 人")
    return "\n".join(lines)


THRESHOLD_USAGE = "/threshold login=天数 speaking=条数 [window=天数] · /threshold median · /threshold"


THRESHOLD_KEYS = {"login": "login", "登录": "login", "speaking": "speaking", "发言": "speaking",
                  "window": "window", "窗口": "window"}
THRESHOLD_FLAGS = {"median": "median", "中位数": "median"}


def threshold(ctx: Ctx, opts: Options) -> str:
    room = ctx.msg.room
    if not room:
        raise UsageError("请在群里设置，阈值是按群设置的。")
    session = ctx.batch.session
    rs = session.get(RoomSettings, room) or RoomSettings(room=room)
    if opts.positional:
        raise UsageError(f"看不懂「{shown(opts.positional[0])}」。")
    if not opts.named and not opts.flags:
        scope = scope_for(ctx.batch.conn, ctx.now, room, ctx.deps.settings.window_days,
                          floor=type_floor(ctx.deps.settings))
        how = (f"登录 ≥{rs.login_threshold} 天、发言 ≥{rs.speaking_threshold} 条为高"
               if scope.thresholds else "按中位数划分")
        return f"本群：{how}，窗口 {scope.window.days} 天。"
    values: dict[str, int] = {}
    median = "median" in opts.flags
    if "login" in opts.named:
        values["login"] = non_negative_int(opts.named["login"], "登录天数阈值")
    if "speaking" in opts.named:
        values["speaking"] = non_negative_int(opts.named["speaking"], "发言条数阈值")
    if "window" in opts.named:
        values["window"] = int_between(opts.named["window"], "窗口天数", 1, 365)
    if median and ("login" in values or "speaking" in values):
        raise UsageError("median 不能和 login/speaking 一起用。")
    if ("login" in values) != ("speaking" in values):
        raise UsageError("login 和 speaking 要一起设置。")
    if median:
        rs.login_threshold = rs.speaking_threshold = None
    if "login" in values:
        rs.login_threshold, rs.speaking_threshold = values["login"], values["speaking"]
    if "window" in values:
        rs.window_days = values["window"]
    session.add(rs)
    session.flush()
    how = (f"登录 ≥{rs.login_threshold} 天、发言 ≥{rs.speaking_threshold} 条为高"
           if rs.login_threshold is not None else "按中位数划分")
    return f"已更新本群分类：{how}，窗口 {rs.window_days or ctx.deps.settings.window_days} 天。"


COMMANDS = [
    Command("tiers", ("类型分布",), "类型分布（/tiers）", "本群四类成员各有多少人", tiers_, admin=True),
    Command("who", ("查看",), "/who 类型|分层|阶段|等级（查看 潜水、查看 重要挽留客户、查看 衰退、查看 A）",
            "列出某一类成员", who, admin=True),
    Command("threshold", ("阈值",), THRESHOLD_USAGE, "设置本群分类阈值和窗口", threshold, admin=True,
            keys=THRESHOLD_KEYS, flags=THRESHOLD_FLAGS),
]
