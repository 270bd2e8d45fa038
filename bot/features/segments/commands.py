"""Manager commands for the playbook models: /rfm, /stages, /grades, /grade (pin a grade)."""

from __future__ import annotations

from bot.core.commands import Command, Ctx
from bot.core.directory import member_names
from bot.core.errors import UsageError
from bot.core.options import Options, shown
from bot.features.member_types.api import type_floor
from bot.features.points.api import Ledger
from bot.features.segments.service import Assessment, Playbook, assess, pin_grade, unpin_grade
from tiers import grades as grading
from tiers import lifecycle, rfm
from tiers.lifecycle import STAGE_ACTIONS, STAGE_LABELS
from tiers.rfm import SEGMENT_LABELS, SEGMENT_STRATEGIES

LIST_LIMIT = 20


def _assess(ctx: Ctx) -> Assessment:
    return assess(ctx.batch.conn, ctx.now, ctx.msg.room, ctx.deps.service(Playbook), ctx.deps.service(Ledger).levels,
                  type_window=ctx.deps.settings.window_days,
                  unranked=ctx.deps.settings.admin_ids | ctx.batch.bot_ids, background=False,
                  floor=type_floor(ctx.deps.settings))


def _where(ctx: Ctx) -> str:
    return "本群" if ctx.msg.room else "全部群"


def rfm_(ctx: Ctx, opts: Options) -> str:
    found = _assess(ctx)
    counts = rfm.distribution(found.rfm.values())
    settings = ctx.deps.service(Playbook).rfm
    m_word = "积分（还没有订单）" if found.monetary_is_points else "消费金额"
    lines = [f"{_where(ctx)} RFM 分层（近 {settings.window_days} 天，共 {len(found.rfm)} 人；M 按{m_word}）"]
    for segment, n in counts.items():
        lines.append(f"{SEGMENT_LABELS[segment]}：{n} 人 — {SEGMENT_STRATEGIES[segment]}")
    lines.append("查看名单：/who 重要挽留客户")
    return "\n".join(lines)


def stages_(ctx: Ctx, opts: Options) -> str:
    found = _assess(ctx)
    counts = lifecycle.distribution(found.stages.values())
    rules = lifecycle.stage_rules_text(ctx.deps.service(Playbook).lifecycle)
    lines = [f"{_where(ctx)}生命周期（共 {len(found.stages)} 人）"]
    lines += [f"{STAGE_LABELS[s]}：{n} 人 — {STAGE_ACTIONS[s]}\n  （{rules[s]}）" for s, n in counts.items()]
    lines.append("查看名单和各自原因：/who 衰退")
    return "\n".join(lines)


def grades_(ctx: Ctx, opts: Options) -> str:
    found = _assess(ctx)
    counts = grading.distribution(found.grades.values())
    cadence = ctx.deps.service(Playbook).grades.cadence
    pinned = sum(1 for g in found.grades.values() if g.pinned)
    lines = [f"{_where(ctx)}客户分级（共 {len(found.grades)} 人，其中手动设定 {pinned} 人）"]
    for g, n in counts.items():
        every = cadence.get(g)
        lines.append(f"{g} 级：{n} 人 — " + (f"每 {every} 天回访一次" if every else "不定期回访"))
    criteria = "、".join(c.describe() for c in ctx.deps.service(Playbook).grades.criteria) or "（未配置）"
    lines.append(f"从 D 级起，每满足一项升一级：{criteria}")
    return "\n".join(lines)


_UNPIN = {"取消", "off", "auto", "自动", "解除"}


def grade_(ctx: Ctx, opts: Options) -> str:
    member, name = ctx.member(opts.member())
    if not opts.positional:
        raise UsageError("请写出等级 A、B、C 或 D（或「取消」恢复自动评级）。")
    word = opts.positional[0]
    if word.lower() in _UNPIN:
        if not unpin_grade(ctx.batch.conn, member):
            return f"{name} 没有手动设定的等级，本来就是自动评级。"
        return f"已取消 {name} 的手动等级，恢复按条件自动评级。"
    try:
        grade = grading.parse_grade(word)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    reason = opts.rest_text(1)[:100] or None
    pin_grade(ctx.batch.conn, member, grade, reason, ctx.msg.sender, int(ctx.msg.ts.timestamp()))
    every = ctx.deps.service(Playbook).grades.cadence.get(grade)
    rhythm = f"，之后每 {every} 天提醒回访" if every else ""
    return f"已把 {name} 设为 {grade} 级" + (f"（{reason}）" if reason else "") + f"{rhythm}。取消：/grade @{name} 取消"


def who_playbook(ctx: Ctx, word: str) -> str | None:
    """`/who` for a segment, stage or grade; None when the word names none of them."""
    segment = rfm.find_segment(word)
    stage = lifecycle.find_stage(word) if segment is None else None
    grade = word.strip().upper().removesuffix("级") if segment is None and stage is None else None
    if grade is not None and grade not in grading.GRADES:
        return None
    found = _assess(ctx)
    if segment is not None:
        title = SEGMENT_LABELS[segment]
        members = [(m, s.explain()) for m, s in found.rfm.items() if s.segment == segment]
        tail = f"策略：{SEGMENT_STRATEGIES[segment]}"
    elif stage is not None:
        title = f"{STAGE_LABELS[stage]}阶段成员"
        members = [(m, s.reason) for m, s in found.stages.items() if s.stage == stage]
        tail = f"建议：{STAGE_ACTIONS[stage]}"
    else:
        title = f"{grade} 级客户"
        members = [(m, g.reason) for m, g in found.grades.items() if g.grade == grade]
        tail = ""
    if not members:
        return f"{_where(ctx)}目前没有{title}。"
    names = member_names(ctx.batch.conn, [m for m, _ in members])
    members.sort(key=lambda mr: names.get(mr[0], mr[0]))
    lines = [f"{title}共 {len(members)} 人："]
    lines += [f"· {names.get(m) or m}：{why}" for m, why in members[:LIST_LIMIT]]
    if len(members) > LIST_LIMIT:
        lines.append(f"……还有 {len(members) - LIST_LIMIT} 人")
    if tail:
        lines.append(tail)
    return "\n".join(lines)


def unknown_word(word: str) -> str:
    return (f"不认识的成员类型「{shown(word)}」：可以写成员类型（核心、潜水、间歇、沉默、新）、"
            f"RFM 分层（如 重要挽留客户）、生命周期（潜在、新、成长、成熟、衰退、流失）或等级（A、B、C、D）。")


COMMANDS = [
    Command("rfm", ("分层",), "/rfm（分层）", "RFM 八类成员各有多少人，及对应策略", rfm_, admin=True),
    Command("stages", ("生命周期",), "/stages（生命周期）", "各生命周期阶段的人数", stages_, admin=True),
    Command("grades", ("分级",), "/grades（分级）", "ABCD 各级客户人数和回访节奏", grades_, admin=True),
    Command("grade", ("评级",), "/grade @成员 A|B|C|D [原因] · /grade @成员 取消（评级 @成员 A 原因）",
            "手动设定客户等级，或恢复自动评级", grade_, admin=True, member_args=1),
]
