"""The daily follow-up list: which members need an operator today, why, and what to do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

NEW_SILENT_AFTER = timedelta(hours=72)
NEW_SILENT_WITHIN = timedelta(days=14)  # joined longer ago than this: not "new" any more
CHURN_DAYS = 7
CHURN_BASE_DAYS = 30
CHURN_MIN_BASE = 4  # presence on fewer days than this before is too little to lose
SILENT_DAYS = 7
STREAK_MIN = 3
NEAR_LEVEL = 0.9
SUPPRESS_DAYS = 14  # an item marked done stays away this long for the same reason
MAX_MESSAGE = 1500

# Most urgent first: a member appears once, under the most urgent reason.
KINDS = ("redemption", "friend_request", "lead", "stage_change", "churn_risk", "new_silent",
         "not_in_group", "streak_broken", "type_change", "grade_overdue", "level_up", "near_level")
# Kinds that are a task to finish rather than a reason to reach out: marking one done closes
# the task, so the 14-day suppression does not apply to the next one.
TASK_KINDS = frozenset({"redemption", "friend_request"})
_URGENCY = {k: i for i, k in enumerate(KINDS)}
KIND_TITLES = {
    "redemption": "兑换待发放",
    "friend_request": "好友申请",
    "not_in_group": "未进群",
    "lead": "意向线索",
    "churn_risk": "流失预警",
    "new_silent": "新人破冰",
    "streak_broken": "断签提醒",
    "type_change": "类型变化",
    "stage_change": "阶段变化",
    "grade_overdue": "分级回访",
    "level_up": "升级祝贺",
    "near_level": "即将升级",
}
GRADE_ACTIONS = {
    "A": "私聊主动沟通（至少每两周一次），感谢并邀请 TA 推荐朋友",
    "B": "私聊问候，了解需求，推荐合适的内容",
    "C": "找个话题私聊一次，保持联系",
}
TYPE_WORDS = {"core": "核心成员", "lurker": "潜水成员", "burst": "间歇活跃", "dormant": "沉默成员",
              "new": "新成员"}


@dataclass(frozen=True, slots=True)
class Lead:
    tag: str
    keyword: str | None
    excerpt: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PendingRedemption:
    id: int
    item: str
    price: int
    at: datetime


@dataclass(frozen=True, slots=True)
class StageChange:
    before: str  # Chinese labels, with the new stage's action
    after: str
    reason: str
    action: str


@dataclass(frozen=True, slots=True)
class FriendRequest:
    n: int  # the request's number, for 通过 编号
    hello: str | None
    at: datetime


HELLO_SHOWN = 30  # characters of a greeting quoted on the list


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What is known about one member in one room at list time (local times)."""

    member: str
    name: str
    room: str
    room_name: str
    joined_at: datetime | None = None  # join event into this room
    spoke_since_join: bool = True
    type: str | None = None  # in this room, now
    previous_type: str | None = None  # at the previous list
    active_days_recent: int = 0  # days with presence in the last CHURN_DAYS days
    active_days_before: int = 0  # ... in the CHURN_BASE_DAYS days before those
    silent_days: int | None = None  # days since the last message anywhere (None: never)
    leads: tuple[Lead, ...] = ()  # lead tags given since the previous list
    broken_streak: tuple[str, int] | None = None  # (task, length) that broke yesterday
    level: int = 1
    level_name: str = ""
    previous_level: int | None = None
    next_level: tuple[int, str, int] | None = None  # (n, name, points still needed)
    level_ratio: float = 0.0
    last_followed_up: datetime | None = None
    grade: str | None = None  # A–D
    grade_cadence: int | None = None  # days between follow-ups for that grade (None: none)
    stage: str | None = None  # lifecycle stage now (remembered for the next list)
    stage_change: StageChange | None = None  # an alarming lifecycle transition since the last list
    redemptions: tuple[PendingRedemption, ...] = ()  # points-shop redemptions not yet fulfilled
    done_recently: frozenset[str] = frozenset()  # kinds marked done within SUPPRESS_DAYS
    friend_request: FriendRequest | None = None  # a friend request waiting for an operator
    friend_since: datetime | None = None  # a new friend of the account who is in no group yet


@dataclass(frozen=True, slots=True)
class Reason:
    kind: str
    reason: str
    action: str


@dataclass(frozen=True, slots=True)
class Item:
    n: int
    kind: str
    member: str
    member_name: str
    room: str
    room_name: str
    reason: str
    action: str
    also: tuple[str, ...] = ()  # the member's less urgent reasons, by kind title


def reasons_for(f: MemberFacts, now: datetime) -> list[Reason]:
    """Every reason this member needs attention, most urgent first, minus recently done."""
    out: list[Reason] = []
    if f.redemptions:
        what = "、".join(f"「{r.item}」" for r in f.redemptions)
        first = min(r.at for r in f.redemptions)
        out.append(Reason("redemption", f"{first:%m-%d %H:%M} 起用积分兑换了 {what}，待发放",
                          "把兑换的东西发给 TA，发完回复已跟进"))
    if f.friend_request is not None:
        r = f.friend_request
        hello = r.hello if r.hello is None or len(r.hello) <= HELLO_SHOWN else r.hello[:HELLO_SHOWN] + "…"
        said = f"验证消息「{hello}」" if hello else "没有验证消息"
        out.append(Reason("friend_request", f"{r.at:%m-%d %H:%M} 申请加好友（{said}）",
                          f"看看是不是目标用户，回复「通过 {r.n}」通过"))
    if f.friend_since is not None:
        days = (now.date() - f.friend_since.date()).days
        out.append(Reason("not_in_group", f"加好友 {days} 天了，还没进任何群",
                          "私聊问问，再发一次进群邀请（TA 回「进群」也会收到邀请）"))
    for lead in f.leads:
        said = f"说「{lead.excerpt}」" if lead.excerpt else f"关键词「{lead.keyword}」"
        out.append(Reason("lead", f"{lead.at:%m-%d %H:%M} {said}，新标记「{lead.tag}」",
                          "私聊跟进，引用 TA 的原话"))
        break
    if f.type in ("core", "burst") and f.silent_days is not None and f.silent_days >= SILENT_DAYS:
        out.append(Reason("churn_risk", f"{TYPE_WORDS[f.type]}已 {f.silent_days} 天没发言",
                          "私聊问候，了解近况"))
    elif (f.active_days_before >= CHURN_MIN_BASE
          and f.active_days_recent / CHURN_DAYS < f.active_days_before / CHURN_BASE_DAYS / 2):
        out.append(Reason(
            "churn_risk",
            f"近{CHURN_DAYS}天活跃 {f.active_days_recent} 天，之前{CHURN_BASE_DAYS}天活跃 "
            f"{f.active_days_before} 天（日均不到一半）",
            "私聊问候，了解近况"))
    if f.stage_change is not None:
        c = f.stage_change
        out.append(Reason("stage_change", f"{c.before} → {c.after}：{c.reason}", c.action))
    if f.joined_at is not None and not f.spoke_since_join and (
            NEW_SILENT_AFTER <= now - f.joined_at <= NEW_SILENT_WITHIN):
        days = (now.date() - f.joined_at.date()).days
        out.append(Reason("new_silent", f"入群 {days} 天还没发过言",
                          "发条欢迎，@TA 介绍一下自己，帮 TA 破冰"))
    if f.broken_streak is not None:
        task, length = f.broken_streak
        out.append(Reason("streak_broken", f"「{task}」连续 {length} 天，昨天断了",
                          "提醒 TA 用补签卡补签，接着打卡"))
    if (f.previous_type and f.type and f.previous_type != f.type
            and "new" not in (f.previous_type, f.type)):
        out.append(Reason("type_change",
                          f"{TYPE_WORDS[f.previous_type]} → {TYPE_WORDS[f.type]}",
                          "看看变化原因，对症跟进"))
    if f.grade is not None and f.grade_cadence and (
            f.last_followed_up is None
            or now - f.last_followed_up >= timedelta(days=f.grade_cadence)):
        out.append(_grade_overdue(f.grade, f.grade_cadence,
                                  None if f.last_followed_up is None else (now - f.last_followed_up).days))
    if f.previous_level is not None and f.level > f.previous_level:
        out.append(Reason("level_up", f"升到 Lv{f.level}「{f.level_name}」", "在群里祝贺 TA"))
    elif f.next_level is not None and f.level_ratio >= NEAR_LEVEL:
        out.append(_near_level(*f.next_level))
    out.sort(key=lambda r: _URGENCY[r.kind])
    return [r for r in out if r.kind in TASK_KINDS or r.kind not in f.done_recently]


# Most members share one of a few of these reasons: each distinct one is built once.
@lru_cache(maxsize=4096)
def _grade_overdue(grade: str, cadence: int, days_since: int | None) -> Reason:
    ago = "从未跟进" if days_since is None else f"上次跟进在 {days_since} 天前"
    return Reason("grade_overdue", f"{grade} 级客户（每 {cadence} 天回访一次），{ago}",
                  GRADE_ACTIONS.get(grade, "私聊主动沟通"))


@lru_cache(maxsize=4096)
def _near_level(n: int, name: str, needed: int) -> Reason:
    return Reason("near_level", f"再得 {needed} 分升到 Lv{n}「{name}」", "鼓励 TA 再打几次卡")


def build_list(facts: Iterable[MemberFacts], now: datetime) -> list[Item]:
    """One item per member (its most urgent reason, the others mentioned), grouped by kind
    in urgency order, numbered from 1. A member seen in several rooms keeps the first."""
    chosen: dict[str, tuple[MemberFacts, list[Reason]]] = {}
    for f in facts:
        if f.member in chosen:
            continue
        reasons = reasons_for(f, now)
        if reasons:
            chosen[f.member] = (f, reasons)
    order = {k: i for i, k in enumerate(KINDS)}
    ranked = sorted(chosen.values(), key=lambda fr: (order[fr[1][0].kind], fr[0].room_name,
                                                     fr[0].name, fr[0].member))
    items = []
    for n, (f, reasons) in enumerate(ranked, 1):
        top = reasons[0]
        items.append(Item(n, top.kind, f.member, f.name, f.room, f.room_name, top.reason,
                          top.action, tuple(KIND_TITLES[r.kind] for r in reasons[1:])))
    return items


def render(items: Sequence[Item], *, title: str, limit: int = MAX_MESSAGE) -> list[str]:
    """The list as chat messages of at most `limit` characters, split between items."""
    if not items:
        return [f"{title}\n今天没有需要跟进的成员，辛苦了！🎉"]
    lines: list[str] = [f"{title}（共 {len(items)} 项）"]
    kind = None
    for item in items:
        if item.kind != kind:
            kind = item.kind
            lines.append(f"【{KIND_TITLES[kind]}】")
        also = f"（另：{'、'.join(item.also)}）" if item.also else ""
        lines.append(f"{item.n}. {item.member_name}（{item.room_name}）{item.reason}{also} → {item.action}")
    lines.append("跟进后回复：已跟进 编号 [备注]，例如 已跟进 1 3 已私聊")
    messages: list[str] = []
    current = ""
    for line in lines:
        line = line[: limit - 10]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            current = line
        else:
            current = candidate
    messages.append(current)
    return messages


@dataclass
class DoneCheck:
    valid: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)


def check_done(numbers: Sequence[int], on_list: Iterable[int], already: Iterable[int]) -> DoneCheck:
    """Sort the numbers of a /done into those to record, not on the list, and done before."""
    listed, done = set(on_list), set(already)
    check = DoneCheck()
    for n in dict.fromkeys(numbers):
        if n not in listed:
            check.unknown.append(n)
        elif n in done:
            check.repeated.append(n)
        else:
            check.valid.append(n)
    return check
