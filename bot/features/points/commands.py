"""我的等级 and 排行 for members; /points for managers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, case, func, select
from sqlmodel import col

from bot.core.commands import Command, Ctx
from bot.core.directory import member_names
from bot.core.errors import UsageError
from bot.core.options import Options, int_between, shown
from bot.features.checkins.api import Checkins, cards_of, streak_of
from bot.features.member_types.api import scope_for, type_floor, type_some
from bot.features.points.announce import announce_level_ups
from bot.features.points.models import PointsEntry
from bot.features.points.service import Award, Ledger
from bot.features.privacy.api import rank_hidden
from bot.features.referrals.api import ReferralSettings, invite_text, my_referrals
from bot.store.models import Member, Membership
from tiers.antifarm import SPEAKING_DAILY_CAP, SPEAKING_POINTS
from tiers.checkin import CARD_EVERY, MAX_CARDS, STREAK_BONUS, window_text
from tiers.levels import PACE_DAYS, benefits_upto, days_to_next, progress, progress_bar
from tiers.ranking import rank
from tiers.types import Typing


def _typing(ctx: Ctx, member: str) -> Typing | None:
    scope = scope_for(ctx.batch.conn, ctx.now, ctx.msg.room, ctx.deps.settings.window_days,
                      floor=type_floor(ctx.deps.settings))
    return type_some(ctx.batch.conn, ctx.now, scope, [member]).get(member)



# 我的等级's reads, built once: building a statement costs several times what running it does.
_POINTS = select(col(Member.points)).where(col(Member.id) == bindparam("member"))
_EARNED = select(func.sum(col(PointsEntry.delta))).where(
    col(PointsEntry.member) == bindparam("member"), col(PointsEntry.day) >= bindparam("start"),
    col(PointsEntry.day) <= bindparam("end"), col(PointsEntry.delta) > 0)


def me(ctx: Ctx, opts: Options) -> str:
    conn, deps = ctx.batch.conn, ctx.deps
    points = conn.execute(_POINTS, {"member": ctx.msg.sender}).scalar() or 0
    p = progress(points, deps.service(Ledger).levels)
    lines = [f"Lv{p.level.n}「{p.level.name}」 · {points} 积分"]
    if p.next:
        lines.append(f"{progress_bar(p.ratio)} 距 Lv{p.next.n}「{p.next.name}」还差 {p.to_next} 分")
    else:
        lines.append("已是最高等级，了不起！")
    perks = benefits_upto(p.level.n, deps.service(Ledger).benefits)
    if perks:
        lines.append(f"你的权益：{'、'.join(perks)}")
    if p.next:
        lines.append(_pace(ctx, p.to_next, p.next.n, p.next.name))
    if p.next and deps.service(Ledger).benefits.get(p.next.n):
        lines.append(f"升到 Lv{p.next.n} 可解锁：{'、'.join(deps.service(Ledger).benefits[p.next.n])}")
    lines.append(earns_points(ctx))
    task = deps.service(Checkins).default_task(ctx.msg.room)
    if task:
        streak = streak_of(conn, ctx.msg.sender, task.id, ctx.today)
        cards = cards_of(conn, ctx.msg.sender, task.id)
        lines.append(f"「{task.name}」连续 {streak} 天 · 补签卡 {cards}/{MAX_CARDS} 张")
    referred = my_referrals(ctx)
    if referred:
        lines.append(referred)
    typing = _typing(ctx, ctx.msg.sender)
    if typing:
        lines.append(typing.for_member())
        if ctx.is_admin:  # managers see the type and its thresholds; members never do
            lines.append(f"（管理员可见）{typing.explain()}")
    return "\n".join(lines)


def _pace(ctx: Ctx, to_next: int, n: int, name: str) -> str:
    """Days to the next level at the member's pace of the last PACE_DAYS days."""
    start = ctx.today - timedelta(days=PACE_DAYS - 1)
    earned = ctx.batch.conn.execute(_EARNED, {"member": ctx.msg.sender, "start": start, "end": ctx.today}
                                    ).scalar() or 0
    days = days_to_next(to_next, int(earned))
    if days is None:
        return f"最近 {PACE_DAYS} 天还没攒到积分，今天打个卡就开始升级吧～"
    return f"按最近 {PACE_DAYS} 天的节奏（+{earned} 分），大约 {days} 天升到 Lv{n}「{name}」"


def earns_points(ctx: Ctx) -> str:
    """What earns points here, from the tasks and rules in force."""
    tasks = [t for t in ctx.deps.service(Checkins).tasks if t.active and t.room in (None, ctx.msg.room)]
    ways = [f"{t.name} +{t.points}/天" + ("" if window_text(t) == "全天" else f"（{window_text(t)}）")
            for t in tasks]
    if tasks:
        ways.append(f"连续 {CARD_EVERY} 天再 +{STREAK_BONUS}")
    ways.append(f"发言 +{SPEAKING_POINTS}/条（每天最多 {SPEAKING_DAILY_CAP}）")
    referral = ctx.deps.settings.of(ReferralSettings).referral_points
    if referral:
        ways.append(f"邀请的朋友留下并发言 +{referral}/人")
    return "攒积分：" + " · ".join(ways)


_PERIODS = {"today": "今日", "今日": "今日", "今天": "今日", "week": "本周", "本周": "本周",
            "周": "本周", "month": "本月", "本月": "本月", "月": "本月", "all": "总", "总": "总",
            "全部": "总"}


def rank_(ctx: Ctx, opts: Options) -> str:
    words = opts.positional
    if len(words) == 1 and words[0].lower() in ("invites", "邀请"):
        return invite_text(ctx)
    period = _PERIODS.get(words[0].lower() if words else "all")
    if period is None or len(words) > 1:
        raise UsageError(f"不认识「{shown(opts.rest_text())}」，可以用：今日、本周、本月、总（today/week/month/all），"
                         "或 邀请（invites）。")
    conn, today = ctx.batch.conn, ctx.today
    start = {"今日": today, "本周": today - timedelta(days=today.weekday()),
             "本月": today.replace(day=1), "总": None}[period]
    q = select(col(PointsEntry.member), func.sum(col(PointsEntry.delta))).group_by(col(PointsEntry.member))
    if start is not None:
        q = q.where(col(PointsEntry.day) >= start, col(PointsEntry.day) <= today)
    if ctx.msg.room:
        q = q.join(Membership, (col(Membership.member) == col(PointsEntry.member))
                   & (col(Membership.room) == ctx.msg.room)).where(col(Membership.active))
    else:
        # Everyone except members who left every group they were in.
        left = select(col(Membership.member)).group_by(col(Membership.member)).having(
            func.max(case((col(Membership.active), 1), else_=0)) == 0)
        q = q.where(col(PointsEntry.member).not_in(left))
    excluded = ctx.deps.staff(conn) | ctx.batch.bot_ids | rank_hidden(conn)
    totals = {m: int(p or 0) for m, p in conn.execute(q) if m not in excluded}
    board = rank(totals, member_names(conn, list(totals)), limit=10)
    where = "本群" if ctx.msg.room else "全部"
    if not board:
        return f"{where}{period}积分榜还是空的，快来打卡吧！"
    lines = [f"🏆 {where}{period}积分榜"]
    lines += [f"{e.rank}. {e.name} {e.points} 分" for e in board]
    return "\n".join(lines)


def points_(ctx: Ctx, opts: Options) -> str | None:
    if len(opts.members) != 1 or len(opts.positional) < 2:
        raise UsageError("请写出一位成员、分数和原因。")
    member, name = ctx.member(opts.member())
    delta = int_between(opts.positional[0], "分数", -100_000, 100_000)
    if delta == 0:
        raise UsageError("分数不能是 0，例如 +20 或 -5。")
    reason = opts.rest_text(1)[:100]
    change = ctx.deps.service(Ledger).award(ctx.batch, [Award(
        member, delta, "manual", int(ctx.msg.ts.timestamp()), ctx.today, ctx.msg.room,
        reason=reason, ref=ctx.msg.id, by=ctx.msg.sender)])[member]
    ctx.reply(f"已为 {name} {'加' if delta > 0 else '扣'} {abs(delta)} 分（{reason}），"
              f"{change.before} → {change.after} 分。")
    announce_level_ups(ctx.batch, [change])
    return None


# How members ask for their card and the board when not typing the command (「我几级了？」
# 「本周排行榜」); only the whole message counts, so 「这个排行榜好看」 is chat.
ME_FORMS = (
    r"(?:查一下|查下|查查|查|看看|看一下|看下)(?:我的)?(?:积分|等级|分数)",
    r"我的(?:积分|分数)",
    r"我(?:现在)?(?:是)?(?:几级|多少级|多少分|多少积分)了?",
    r"我(?:现在)?有多少(?:积分|分)了?",
)
RANK_FORMS = (
    r"(?:看看|看一下|看下|查看|查一下|查)?(?P<args>今日|今天|本周|本月|总)?的?(?:积分)?(?:排行榜?|积分榜|排名)",
)

COMMANDS = [
    Command("me", ("我的等级", "我的积分", "查积分"), "我的等级（/me）", "看等级、积分、连续打卡和成员类型", me,
            forms=ME_FORMS),
    Command("rank", ("排行", "排行榜", "积分榜", "积分排行", "积分排行榜"),
            "排行 [今日|本周|本月|总|邀请]（/rank [today|week|month|all|invites]）",
            "积分排行榜（邀请：邀请排行）", rank_, forms=RANK_FORMS),
    Command("points", ("调积分",), "/points @成员 +20 原因（调积分 @成员 -5 原因）",
            "手动加减积分，记入流水", points_, admin=True, member_args=1),
]
