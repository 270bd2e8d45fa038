"""Lifecycle stages: 潜在 → 新 → 成长 → 成熟 → 衰退 → 流失, each with its reason in numbers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum

from tiers.tally import tally


class Stage(StrEnum):
    POTENTIAL = "potential"
    NEW = "new"
    GROWING = "growing"
    MATURE = "mature"
    DECLINING = "declining"
    CHURNED = "churned"


STAGE_LABELS: dict[Stage, str] = {
    Stage.POTENTIAL: "潜在",
    Stage.NEW: "新",
    Stage.GROWING: "成长",
    Stage.MATURE: "成熟",
    Stage.DECLINING: "衰退",
    Stage.CHURNED: "流失",
}

# What an operator does for a member at each stage (the follow-up item's action).
STAGE_ACTIONS: dict[Stage, str] = {
    Stage.POTENTIAL: "邀请 TA 进群，先送一份入门资料",
    Stage.NEW: "欢迎并引导 TA 完成第一次打卡",
    Stage.GROWING: "多互动、及时鼓励，推荐进阶内容",
    Stage.MATURE: "给专属权益，邀请 TA 分享和推荐朋友",
    Stage.DECLINING: "私聊问候，了解原因，邀请参加近期活动",
    Stage.CHURNED: "发一条回归邀请，附上回归福利",
}

_WORDS: dict[str, Stage] = {
    **{s.value: s for s in Stage},
    **{label: s for s, label in STAGE_LABELS.items()},
    **{label + "期": s for s, label in STAGE_LABELS.items()},
    **{label + "成员": s for s, label in STAGE_LABELS.items()},
    **{label + "阶段": s for s, label in STAGE_LABELS.items()},
}


def find_stage(word: str) -> Stage | None:
    """The stage a manager named (衰退, 衰退期 or declining), else None."""
    key = word.strip()
    return _WORDS.get(key) or _WORDS.get(key.lower())


@dataclass(frozen=True, slots=True)
class StageRules:
    new_days: int = 7  # joined within this many days: 新
    recent_days: int = 14  # the "last 14" of rising and declining
    decline_base_days: int = 30  # the "30 before" of declining
    decline_min_base: int = 4  # fewer active days before than this is too little to decline from
    mature_days: int = 30  # steadily active for this long: 成熟
    churn_days: int = 30  # no activity for this long: 流失

    def __post_init__(self) -> None:
        for name in ("new_days", "recent_days", "decline_base_days", "mature_days", "churn_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} 应为正整数")
        if self.decline_min_base < 0:
            raise ValueError("decline_min_base 不能小于 0")


def parse_stage_rules(raw: Mapping[str, object]) -> StageRules:
    """The [lifecycle] table of the config; ValueError (Chinese) naming the bad key."""
    names = {f.name for f in fields(StageRules)}
    unknown = set(raw) - names
    if unknown:
        raise ValueError(f"[lifecycle] 不认识的设置：{'、'.join(sorted(unknown))}，可以用 {'、'.join(sorted(names))}")
    values: dict[str, int] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
            raise ValueError(f"[lifecycle] {key} 应为 0–3650 的整数天数")
        values[key] = value
    return StageRules(**values)


@dataclass(frozen=True, slots=True)
class StageFacts:
    """One member's numbers as of `today` (local days)."""

    member: str
    in_group: bool  # was ever in a group (a membership, active or not)
    left_all: bool  # was in groups and has left every one of them
    first_seen: date | None  # first local day in a group (join or first appearance)
    last_active: date | None  # last local day with any activity or order
    active_recent: int  # active days in the last `recent_days`
    active_previous: int  # ... in the `recent_days` before those
    active_before: int  # ... in the `decline_base_days` before the recent ones
    orders: int  # orders ever, refunds netted out
    first_order: date | None


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: Stage
    reason: str

    @property
    def label(self) -> str:
        return STAGE_LABELS[self.stage]


# Each stage's rule, as managers read it next to the distribution (`/stages`, the console).
STAGE_RULES: dict[Stage, str] = {
    Stage.POTENTIAL: "还没进过群（只在私聊、外部访问或订单里出现）",
    Stage.NEW: "进群不到 {new_days} 天",
    Stage.GROWING: "活跃在上升：近{recent_days}天的活跃天数（按在群天数折算）多于之前{recent_days}天，"
                   "且近 7 天来过；或 {recent_days} 天内下了第一单；或进群不到 {mature_days} 天、近 7 天来过、"
                   "近{recent_days}天活跃 2 天以上",
    Stage.MATURE: "复购（2 单以上），或进群 {mature_days} 天以上、前后两个{recent_days}天都活跃",
    Stage.DECLINING: "活跃频率降到之前的一半以下；或过了新人期一直没活跃；或一段时间没来",
    Stage.CHURNED: "{churn_days} 天以上没有活跃，或已退出所有群",
}


def stage_rules_text(rules: StageRules = StageRules()) -> dict[Stage, str]:
    """STAGE_RULES with this community's thresholds filled in."""
    values = {f.name: getattr(rules, f.name) for f in fields(StageRules)}
    return {stage: text.format(**values) for stage, text in STAGE_RULES.items()}


# How recently a member must have been seen for their activity to count as growing.
SEEN_THIS_WEEK = 7


def stage_of(f: StageFacts, today: date, rules: StageRules = StageRules()) -> StageResult:
    """The member's stage and the numbers that put it there. The rules are tried in order:
    潜在, 流失, 新, 衰退 (never active once the new-member window is over), 衰退 (a falling
    rate), 成长 (a rising rate, or a first order), 成熟 (repeat orders, or active in both halves
    of the last 28 days after 30+ days), 成长 (a first month with activity this week), and 衰退
    last (nothing this week, or too little)."""
    r = rules
    known = (today - f.first_seen).days if f.first_seen else 0
    idle = (today - f.last_active).days if f.last_active else None
    if not f.in_group:
        how = "有订单" if f.orders else "只在私聊或外部访问出现过"
        return StageResult(Stage.POTENTIAL, f"还没进过群，{how}")
    if f.left_all:
        return StageResult(Stage.CHURNED, "已退出所有群")
    if idle is not None and idle >= r.churn_days:
        return StageResult(Stage.CHURNED, f"已 {idle} 天没有活跃（≥{r.churn_days} 天）")
    if idle is None and known >= r.churn_days:
        return StageResult(Stage.CHURNED, f"进群 {known} 天，从未活跃")
    if known < r.new_days:
        return StageResult(Stage.NEW, f"进群 {known} 天（<{r.new_days} 天）")
    if idle is None:
        return StageResult(Stage.DECLINING, f"进群 {known} 天，一直没有活跃（新人期 {r.new_days} 天已过）")
    recent, before, previous = f.active_recent, f.active_before, f.active_previous
    # Rates, not counts: 14 days against 30 before.
    if (before >= max(r.decline_min_base, 1)
            and recent * r.decline_base_days * 2 <= before * r.recent_days):
        return StageResult(Stage.DECLINING,
                           f"近{r.recent_days}天活跃 {recent} 天，之前{r.decline_base_days}天活跃 "
                           f"{before} 天（频率降到一半以下）")
    seen_lately = idle < SEEN_THIS_WEEK
    # The window before the recent one, as far as the member was in the group then: a member
    # 20 days in had 6 days of it, not 14.
    span = max(0, min(r.recent_days, known - r.recent_days))
    if seen_lately and recent >= 2 and (span == 0 or recent * span > previous * r.recent_days):
        if span == 0:
            return StageResult(Stage.GROWING, f"进群 {known} 天，近{r.recent_days}天活跃 {recent} 天，"
                                              f"{idle} 天前还来过")
        return StageResult(Stage.GROWING, f"近{r.recent_days}天活跃 {recent} 天，多于之前{span}天的 "
                                          f"{previous} 天，{idle} 天前还来过")
    first_order_days = (today - f.first_order).days if f.first_order else None
    if first_order_days is not None and first_order_days < r.recent_days and f.orders == 1:
        return StageResult(Stage.GROWING, f"{first_order_days} 天前下了第一单")
    if f.orders >= 2:
        return StageResult(Stage.MATURE, f"已复购，共 {f.orders} 单")
    if known >= r.mature_days and recent > 0 and previous > 0:
        return StageResult(Stage.MATURE,
                           f"进群 {known} 天，近{r.recent_days}天活跃 {recent} 天、"
                           f"之前{r.recent_days}天活跃 {previous} 天，持续活跃")
    if known < r.mature_days and seen_lately and recent >= 2:
        return StageResult(Stage.GROWING, f"进群 {known} 天（<{r.mature_days} 天），近{r.recent_days}天活跃 "
                                          f"{recent} 天，{idle} 天前还来过")
    if recent == 0:
        return StageResult(Stage.DECLINING,
                           f"近{r.recent_days}天没有活跃，之前{r.recent_days}天活跃 {previous} 天")
    return StageResult(Stage.DECLINING, f"进群 {known} 天，近{r.recent_days}天只活跃 {recent} 天，"
                                        f"已 {idle} 天没来")


def stages_of(facts: Iterable[StageFacts], today: date,
              rules: StageRules = StageRules()) -> dict[str, StageResult]:
    return {f.member: stage_of(f, today, rules) for f in facts}


def distribution(results: Iterable[StageResult]) -> dict[Stage, int]:
    return tally(Stage, (s.stage for s in results))


# Transitions an operator is told about: from a mature member slipping, and into churn.
def is_alarming(before: Stage | None, after: Stage) -> bool:
    if before is None or before == after:
        return False
    return after is Stage.CHURNED or (before is Stage.MATURE and after is Stage.DECLINING)
