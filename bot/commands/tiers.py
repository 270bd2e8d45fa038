"""我的等级, 排行 for members; type distribution, members of a type, points and thresholds
for managers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, select

from bot.adapters.base import Outgoing
from bot.checkins import cards_of, streak_of
from bot.commands.args import non_negative_int, positive_int, resolve_member
from bot.commands.registry import Command, Ctx, UsageError
from bot.member_types import scope_for, type_members
from bot.points import Award
from bot.store.models import Member, Membership, PointsEntry, RoomSettings
from tiers.checkin import MAX_CARDS
from tiers.levels import progress, progress_bar
from tiers.ranking import rank
from tiers.types import TYPE_LABELS, MemberType, distribution, parse_type


def _typing(ctx: Ctx, member: str):
    scope = scope_for(ctx.batch.conn, ctx.now, ctx.msg.room, ctx.deps.settings.window_days)
    return type_members(ctx.batch.conn, ctx.now, scope).get(member)


def me(ctx: Ctx, args: list[str]) -> str:
    conn, deps = ctx.batch.conn, ctx.deps
    points = conn.execute(select(Member.points).where(Member.id == ctx.msg.sender)).scalar() or 0
    p = progress(points, deps.ledger.levels)
    lines = [f"Lv{p.level.n}「{p.level.name}」 · {points} 积分"]
    if p.next:
        lines.append(f"{progress_bar(p.ratio)} 距 Lv{p.next.n}「{p.next.name}」还差 {p.to_next} 分")
    else:
        lines.append("已是最高等级，了不起！")
    task = deps.checkins.default_task(ctx.msg.room)
    if task:
        streak = streak_of(conn, ctx.msg.sender, task.id, ctx.today)
        cards = cards_of(conn, ctx.msg.sender, task.id)
        lines.append(f"「{task.name}」连续 {streak} 天 · 补签卡 {cards}/{MAX_CARDS} 张")
    typing = _typing(ctx, ctx.msg.sender)
    if typing:
        lines.append(typing.explain())
    return "\n".join(lines)


_PERIODS = {"today": "今日", "今日": "今日", "今天": "今日", "week": "本周", "本周": "本周",
            "周": "本周", "month": "本月", "本月": "本月", "月": "本月", "all": "总", "总": "总",
            "全部": "总"}


def rank_(ctx: Ctx, args: list[str]) -> str:
    period = _PERIODS.get(args[0].lower() if args else "all")
    if period is None:
        raise UsageError(f"不认识「{args[0]}」，可以用：今日、本周、本月、总（today/week/month/all）。")
    conn, today = ctx.batch.conn, ctx.today
    start = {"今日": today, "本周": today - timedelta(days=today.weekday()),
             "本月": today.replace(day=1), "总": None}[period]
    q = select(PointsEntry.member, func.sum(PointsEntry.delta)).group_by(PointsEntry.member)
    if start is not None:
        q = q.where(PointsEntry.day >= start, PointsEntry.day <= today)
    if ctx.msg.room:
        q = q.join(Membership, (Membership.member == PointsEntry.member)
                   & (Membership.room == ctx.msg.room)).where(Membership.active)
    else:
        # Everyone except members who left every group they were in.
        left = select(Membership.member).group_by(Membership.member).having(
            func.max(case((Membership.active, 1), else_=0)) == 0)
        q = q.where(PointsEntry.member.not_in(left))
    excluded = ctx.deps.excluded_from_ranks()
    totals = {m: int(p or 0) for m, p in conn.execute(q) if m not in excluded}
    names = dict(conn.execute(select(Member.id, Member.name).where(Member.id.in_(list(totals)))).all())
    board = rank(totals, {m: n or m for m, n in names.items()}, limit=10)
    where = "本群" if ctx.msg.room else "全部"
    if not board:
        return f"{where}{period}积分榜还是空的，快来打卡吧！"
    lines = [f"🏆 {where}{period}积分榜"]
    lines += [f"{e.rank}. {e.name} {e.points} 分" for e in board]
    return "\n".join(lines)


def tiers_(ctx: Ctx, args: list[str]) -> str:
    conn = ctx.batch.conn
    scope = scope_for(conn, ctx.now, ctx.msg.room, ctx.deps.settings.window_days)
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


def who(ctx: Ctx, args: list[str]) -> str:
    if not args:
        raise UsageError("请写出类型，例如 /who 潜水")
    try:
        kind = parse_type(args[0])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    conn = ctx.batch.conn
    scope = scope_for(conn, ctx.now, ctx.msg.room, ctx.deps.settings.window_days)
    members = [(m, t) for m, t in type_members(conn, ctx.now, scope).items() if t.type == kind]
    if not members:
        return f"目前没有{TYPE_LABELS[kind]}。"
    names = dict(conn.execute(select(Member.id, Member.name).where(
        Member.id.in_([m for m, _ in members]))).all())
    members.sort(key=lambda mt: (-mt[1].login_days, -mt[1].speaking, names.get(mt[0]) or mt[0]))
    lines = [f"{TYPE_LABELS[kind]}共 {len(members)} 人："]
    lines += [f"· {names.get(m) or m}：登录 {t.login_days} 天，发言 {t.speaking} 条" for m, t in members[:20]]
    if len(members) > 20:
        lines.append(f"……还有 {len(members) - 20} 人")
    return "\n".join(lines)


def points_(ctx: Ctx, args: list[str]) -> str:
    if len(args) < 3:
        raise UsageError("请写出成员、分数和原因。")
    member, name = resolve_member(ctx, args[0])
    raw = args[1].replace("＋", "+").replace("－", "-")
    try:
        delta = int(raw)
    except ValueError:
        raise UsageError(f"分数应为整数，例如 +20 或 -5，你写的是「{args[1]}」。") from None
    if delta == 0 or abs(delta) > 100_000:
        raise UsageError("分数应为非零整数，且绝对值不超过 100000。")
    reason = " ".join(args[2:])[:100]
    later: list[Outgoing] = []
    (before, after) = ctx.deps.ledger.award(ctx.batch, [Award(
        member, delta, "manual", int(ctx.msg.ts.timestamp()), ctx.today, ctx.msg.room,
        reason=reason, ref=ctx.msg.id, by=ctx.msg.sender)], later)[member]
    ctx.reply(f"已为 {name} {'加' if delta > 0 else '扣'} {abs(delta)} 分（{reason}），{before} → {after} 分。")
    for out in later:
        ctx.batch.send(out)
    return None


THRESHOLD_USAGE = "/threshold login=天数 speaking=条数 [window=天数] · /threshold median · /threshold"


def threshold(ctx: Ctx, args: list[str]) -> str:
    room = ctx.msg.room
    if not room:
        raise UsageError("请在群里设置，阈值是按群设置的。")
    session = ctx.batch.session
    rs = session.get(RoomSettings, room) or RoomSettings(room=room)
    if not args:
        scope = scope_for(ctx.batch.conn, ctx.now, room, ctx.deps.settings.window_days)
        how = (f"登录 ≥{rs.login_threshold} 天、发言 ≥{rs.speaking_threshold} 条为高"
               if scope.thresholds else "按中位数划分")
        return f"本群：{how}，窗口 {scope.window.days} 天。"
    values: dict[str, int] = {}
    median = False
    for item in args:
        key, eq, value = item.partition("=")
        key = key.lower()
        if key in ("median", "中位数") and not eq:
            median = True
        elif key in ("login", "登录") and eq:
            values["login"] = non_negative_int(value, "登录天数阈值")
        elif key in ("speaking", "发言") and eq:
            values["speaking"] = non_negative_int(value, "发言条数阈值")
        elif key in ("window", "窗口") and eq:
            values["window"] = positive_int(value, "窗口天数")
            if values["window"] > 365:
                raise UsageError("窗口最多 365 天。")
        else:
            raise UsageError(f"看不懂「{item}」。")
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
    Command("me", ("我的等级",), "我的等级（/me）", "看等级、积分、连续打卡和成员类型", me),
    Command("rank", ("排行",), "排行 [今日|本周|本月|总]（/rank [today|week|month|all]）",
            "积分排行榜", rank_),
    Command("tiers", ("类型分布",), "类型分布（/tiers）", "本群四类成员各有多少人", tiers_, admin=True),
    Command("who", ("查看",), "/who 类型（查看 潜水）", "列出某一类成员", who, admin=True),
    Command("points", ("调积分",), "/points @成员 +20 原因（调积分 @成员 -5 原因）",
            "手动加减积分，记入流水", points_, admin=True),
    Command("threshold", ("阈值",), THRESHOLD_USAGE, "设置本群分类阈值和窗口", threshold, admin=True),
]
