"""The daily follow-up list: which members need an operator today, why, and what to do."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache, lru_cache
from operator import itemgetter

from tiers.grades import overdue_days

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



@dataclass(frozen=True, slots=True)
class Priority:
    """One row of the list's order: items of `kind` (of members of one of `grades`, when
    given) rank here."""

    kind: str
    grades: str = ""  # e.g. "AB": only members of these grades; "": anyone


# The order of a list, most urgent first: an item ranks at the first row it matches, and a
# member appears once, under their most urgent reason. A new kind is one more row here (and
# its title below).
PRIORITY: tuple[Priority, ...] = (
    Priority("redemption"),  # points already spent: a promise to keep
    Priority("friend_request"),  # someone waiting at the door of the private account
    Priority("lead"),  # a buying signal, while it is warm
    Priority("dm_question"),  # a member asked the bot 1:1 and nobody answered (a lead word: a lead first)
    # The best customers slipping away: a stage gone to 衰退/流失 says more than the churn signs.
    Priority("stage_change", "AB"),
    Priority("churn_risk", "AB"),
    Priority("new_silent"),  # newcomers: the first two weeks decide whether they stay
    Priority("not_in_group"),  # a new friend of the account who never made it into a group
    Priority("stage_change"),
    Priority("churn_risk"),
    Priority("streak_broken"),  # yesterday's break: a card or a nudge today saves the streak
    Priority("type_change"),
    Priority("grade_overdue"),  # the routine visit by grade cadence
    Priority("level_up"),
    Priority("near_level"),
)
KINDS = tuple(dict.fromkeys(p.kind for p in PRIORITY))
# Kinds that are a task to finish rather than a reason to reach out: marking one done closes
# the task, so the 14-day suppression does not apply to the next one.
TASK_KINDS = frozenset({"redemption", "friend_request", "dm_question"})
# Kinds that happened once (a lead said, a streak broken): such an item stays on the lists
# until it is done. The other kinds are conditions, listed while they hold.
EVENT_KINDS = frozenset({"lead", "streak_broken", "type_change", "stage_change", "level_up"})
EVENT_KEEP_DAYS = 30  # ... but not for ever: one left this long (escalated long ago) leaves the lists
KIND_TITLES = {
    "redemption": "兑换待发放",
    "friend_request": "好友申请",
    "dm_question": "私聊提问未回复",
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
ESCALATED_TITLE = "超期未跟进（已转给管理员）"
DAILY_CAP = 20  # items an operator gets in chat a day, unless set otherwise
# The routine visit by grade cadence is the one kind that can wait: a community graded at once
# has hundreds due together. How they reach the lists: `_hold_back` (and README, "A list an
# operator can finish"); the list says how many wait (`queued_line`).
ROUTINE = "grade_overdue"
ESCALATE_AFTER = 3  # days on the lists without being done before an item goes to the admins
MAX_SNOOZE = 30


@cache  # a sort key of every reason of every member: few distinct pairs
def rank(kind: str, grade: str | None) -> int:
    """The row of PRIORITY an item of this kind, for a member of this grade, ranks at."""
    for i, p in enumerate(PRIORITY):
        if p.kind == kind and (not p.grades or (grade is not None and grade in p.grades)):
            return i
    return len(PRIORITY)


def group_title(kind: str, grade: str | None) -> str:
    p = PRIORITY[rank(kind, grade)] if rank(kind, grade) < len(PRIORITY) else Priority(kind)
    return KIND_TITLES.get(kind, kind) + (f"（{'/'.join(p.grades)} 级客户）" if p.grades else "")


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
    room: str | None = None  # where it was said: a room id, "" for a 1:1 chat, None: not known
    room_name: str = ""


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
QUESTION_SHOWN = 40  # characters of a 1:1 question quoted on the list


@dataclass(frozen=True, slots=True)
class DmQuestion:
    """A 1:1 question to the bot that no FAQ answer and nobody answered."""

    text: str
    at: datetime
    count: int = 1  # questions of theirs waiting, this one the latest


@dataclass(slots=True)
class MemberFacts:
    """What is known about one member in one room at list time (local times). Not frozen: a
    list makes one per member (100k at a time), and a frozen dataclass's __init__ costs four
    times as much; nothing changes one once made (`replace` makes another)."""

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
    grade_since: datetime | None = None  # first seen in that grade (None: now)
    stage: str | None = None  # lifecycle stage now (remembered for the next list)
    stage_change: StageChange | None = None  # an alarming lifecycle transition since the last list
    redemptions: tuple[PendingRedemption, ...] = ()  # points-shop redemptions not yet fulfilled
    done_recently: frozenset[str] = frozenset()  # kinds marked done within SUPPRESS_DAYS
    friend_request: FriendRequest | None = None  # a friend request waiting for an operator
    friend_since: datetime | None = None  # a new friend of the account who is in no group yet
    dm_question: DmQuestion | None = None  # their 1:1 question nobody answered


@dataclass(frozen=True, slots=True)
class Reason:
    kind: str
    reason: str
    action: str
    where: tuple[str, str] | None = None  # (room, room name) it happened in, when not the member's room


@dataclass(frozen=True, slots=True)
class Case:
    """An item of earlier lists not done yet (one per member and kind)."""

    member: str
    kind: str
    room: str
    room_name: str
    member_name: str
    reason: str
    action: str
    days: int = 0  # days it has been on a list so far (today among them when listed_today)
    listed_today: bool = False
    owner: str | None = None  # reassigned to this operator
    snoozed: bool = False  # snoozed through today
    escalated: bool = False  # already put on the admins' list


@dataclass(slots=True)
class Item:
    """One line of a list. Not frozen: a list of the whole community makes 50k of them, and a
    frozen dataclass's __init__ costs three times as much; nothing changes one once made (`replace`
    makes another)."""

    n: int
    kind: str
    member: str
    member_name: str
    room: str
    room_name: str
    reason: str
    action: str
    also: tuple[str, ...] = ()  # the member's less urgent reasons, by kind title
    age: int = 1  # the day on the lists this is, counting today: 「第 3 天未跟进」 from 2
    grade: str | None = None  # the member's grade, which places some kinds higher
    escalated_from: str = ""  # on an admin's list: the operator it was not done by


def reasons_for(f: MemberFacts, now: datetime) -> list[Reason]:
    """Every reason this member needs attention, most urgent first, minus recently done."""
    out = _waiting(f, now)
    out += _signals(f, now)
    out += _progress(f, now)
    if len(out) > 1:  # most members have one reason or none
        out.sort(key=lambda r: rank(r.kind, f.grade))
    if not f.done_recently:
        return out
    return [r for r in out if r.kind in TASK_KINDS or r.kind not in f.done_recently]


def _waiting(f: MemberFacts, now: datetime) -> list[Reason]:
    """What the member asked for or did that waits on an operator: a redemption, a friend
    request, a 1:1 question, a friend not in a group yet, a lead."""
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
    if f.dm_question is not None:
        q = f.dm_question
        text = q.text if len(q.text) <= QUESTION_SHOWN else q.text[:QUESTION_SHOWN] + "…"
        more = f"（共 {q.count} 条）" if q.count > 1 else ""
        out.append(Reason("dm_question", f"{q.at:%m-%d %H:%M} 私聊问「{text}」{more}，没人回复",
                          "私聊回复 TA，回完标记已跟进", ("", "私聊")))
    if f.friend_since is not None:
        days = (now.date() - f.friend_since.date()).days
        out.append(Reason("not_in_group", f"加好友 {days} 天了，还没进任何群",
                          "私聊问问，再发一次进群邀请（TA 回「进群」也会收到邀请）"))
    for lead in f.leads:
        said = f"说「{lead.excerpt}」" if lead.excerpt else f"关键词「{lead.keyword}」"
        out.append(Reason("lead", f"{lead.at:%m-%d %H:%M} {said}，新标记「{lead.tag}」",
                          "私聊跟进，引用 TA 的原话",
                          None if lead.room is None else (lead.room, lead.room_name or "私聊")))
        break
    return out


def _signals(f: MemberFacts, now: datetime) -> list[Reason]:
    """What the member's activity says: churn risk, an alarming stage change, a new member
    still silent, a broken streak, a changed member type."""
    out: list[Reason] = []
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
    return out


def _progress(f: MemberFacts, now: datetime) -> list[Reason]:
    """Their grade's follow-up is due; they levelled up or are close to the next level."""
    out: list[Reason] = []
    if f.grade is not None and f.grade_cadence:
        days = _since_visit(f, now)
        if overdue_days(f.grade_cadence, days) is not None:  # routine_late, with the days it counts from
            followed = f.last_followed_up is not None
            out.append(_grade_overdue(f.grade, f.grade_cadence, days if followed else None, None if followed else days))
    if f.previous_level is not None and f.level > f.previous_level:
        out.append(Reason("level_up", f"升到 Lv{f.level}「{f.level_name}」", "在群里祝贺 TA"))
    elif f.next_level is not None and f.level_ratio >= NEAR_LEVEL:
        out.append(_near_level(*f.next_level))
    return out


def _days_since(at: datetime | None, now: datetime) -> int:
    return 0 if at is None else (now - at).days


def routine_late(f: MemberFacts, now: datetime) -> int | None:
    """Days the member's routine visit is past due (0: due today), None when not due or their
    grade has no cadence. Due one cadence after the last follow-up, or, never followed up,
    after they were first seen in their grade."""
    if f.grade is None or not f.grade_cadence:
        return None
    return overdue_days(f.grade_cadence, _since_visit(f, now))


def _since_visit(f: MemberFacts, now: datetime) -> int:
    """Days since the member's last follow-up, or, never followed up, since they were first
    seen in their grade: what their routine visit is due from."""
    return _days_since(f.last_followed_up or f.grade_since, now)


# Most members share one of a few of these reasons: each distinct one is built once.
@lru_cache(maxsize=4096)
def _grade_overdue(grade: str, cadence: int, days_since: int | None, in_grade: int | None) -> Reason:
    ago = f"从未跟进（{grade} 级已 {in_grade} 天）" if days_since is None else f"上次跟进在 {days_since} 天前"
    return Reason(ROUTINE, f"{grade} 级客户（每 {cadence} 天回访一次），{ago}",
                  GRADE_ACTIONS.get(grade, "私聊主动沟通"))


@lru_cache(maxsize=4096)
def _near_level(n: int, name: str, needed: int) -> Reason:
    return Reason("near_level", f"再得 {needed} 分升到 Lv{n}「{name}」", "鼓励 TA 再打几次卡")


@dataclass(frozen=True, slots=True)
class DayList:
    """A list as built for one day: its items, numbered from 1, and the routine visits that are
    due but wait for room (`_hold_back`)."""

    items: list[Item]
    queued: int = 0


def build_list(facts: Iterable[MemberFacts], now: datetime, *, cases: Iterable[Case] = (),
               me: str | None = None, exclude: frozenset[str] = frozenset(),
               cap: int | None = None) -> DayList:
    """One item per member (their most urgent reason, the others mentioned), most urgent
    first (PRIORITY, then the longest waiting), numbered from 1. A member seen in several
    rooms keeps the first. `me` is the operator the list is for: they never appear in it,
    nor does anyone in `exclude` (admins, the bot).

    `cases` are the items of earlier lists not done yet: one snoozed, or handed to another
    operator, stays off this list; an event (a lead) stays on until done, and one handed to
    `me` comes along whatever the room; each item says for how many days it has waited.

    `cap` is the operator's daily cap: routine visits fill the list up to it and the rest wait
    (`_hold_back`); None (a view of every room, for no one) lists every one that is due."""
    open_cases: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        open_cases[c.member].append(c)
    # member → (name, room, room name, grade, reasons)
    chosen: dict[str, tuple[str, str, str, str | None, list[Reason]]] = {}
    late: dict[str, int] = {}  # member → days their routine visit is past due

    for f in facts:
        m = f.member
        if m in chosen or m == me or m in exclude:
            continue
        reasons = reasons_for(f, now)
        if m in open_cases:
            reasons = _with_cases(reasons, open_cases[m], me, f.grade)
        if not reasons:  # most members: their own reasons, already in order (reasons_for), or none
            continue
        chosen[m] = (f.name, f.room, f.room_name, f.grade, reasons)
        # how late a routine visit is decides only which ones wait for room under a cap
        if cap is not None and (days := routine_late(f, now)) is not None:
            late[m] = days
    for c in cases:  # handed to me from a room that is not mine
        if c.owner == me and me is not None and c.member not in chosen and c.member != me:
            if reasons := _with_cases([], open_cases[c.member], me, None):
                chosen[c.member] = (c.member_name, c.room, c.room_name, None, reasons)
    age = {(c.member, c.kind): c.days + (0 if c.listed_today else 1) for c in cases}
    queued = 0 if cap is None else _hold_back(chosen, late, age, cap)
    ranked = []
    for member, (name, room, room_name, grade, reasons) in chosen.items():
        top = reasons[0]
        room, room_name = top.where or (room, room_name)
        days = age.get((member, top.kind), 1) if age else 1
        ranked.append(((rank(top.kind, grade), -days, room_name, name, member),
                       top, member, name, room, room_name, reasons, days, grade))
    ranked.sort(key=itemgetter(0))  # each item is made once, already numbered
    return DayList([Item(n, top.kind, member, name, room, room_name, top.reason, top.action,
                         tuple(KIND_TITLES[r.kind] for r in reasons[1:]) if len(reasons) > 1 else (), days, grade)
                    for n, (_, top, member, name, room, room_name, reasons, days, grade)
                    in enumerate(ranked, 1)], queued)


def _with_cases(fresh: list[Reason], mine: list[Case], me: str | None, grade: str | None) -> list[Reason]:
    """A member's reasons with their open cases: a kind snoozed, or handed to another operator, is
    left out; an event (a lead) stays until done, and a case handed to `me` comes along; most urgent
    first."""
    blocked = {c.kind for c in mine if c.snoozed or (c.owner is not None and c.owner != me)}
    reasons = [r for r in fresh if r.kind not in blocked]
    have = {r.kind for r in reasons}
    for c in mine:
        if c.kind not in blocked and c.kind not in have and (c.kind in EVENT_KINDS or c.owner == me):
            reasons.append(Reason(c.kind, c.reason, c.action, (c.room, c.room_name)))
    reasons.sort(key=lambda r: rank(r.kind, grade))
    return reasons


def _hold_back(chosen: dict[str, tuple[str, str, str, str | None, list[Reason]]], late: Mapping[str, int],
               age: Mapping[tuple[str, str], int], cap: int) -> int:
    """The routine rule: members listed for a routine visit alone fill the list up to `cap` items,
    never past it (more urgent kinds are never held back; a member listed for something else
    anyway takes no room). Who gets the room: those already on earlier lists (the longest
    waiting first: an item once listed stays until done, as before), then the longest past
    due; the rest leave this list (and their cases close) until there is room. Returns how
    many wait."""
    alone = [m for m, (*_, reasons) in chosen.items() if len(reasons) == 1 and reasons[0].kind == ROUTINE]
    room = max(0, cap - (len(chosen) - len(alone)))
    if len(alone) <= room:
        return 0
    alone.sort(key=lambda m: (-age.get((m, ROUTINE), 0), -late.get(m, 0), chosen[m][3] or "", chosen[m][0], m))
    for m in alone[room:]:
        del chosen[m]
    return len(alone) - room


def overdue(lists: Mapping[str, Sequence[Item]], cases: Iterable[Case], after_days: int,
            admins: Collection[str]) -> list[tuple[str, Item]]:
    """(operator, item) for each item on an operator's list that has waited more than
    `after_days` days and was not put on the admins' lists before: each goes there once."""
    escalated = {(c.member, c.kind) for c in cases if c.escalated}
    return [(op, i) for op, items in lists.items() if op not in admins for i in items
            if i.age > after_days and (i.member, i.kind) not in escalated]


def with_escalations(own: Sequence[Item], late: Sequence[tuple[str, Item]],
                     names: Mapping[str, str]) -> list[Item]:
    """An admin's list: the late items first, each naming the operator it waited with, then
    the admin's own items; numbered from 1."""
    up = [replace(i, escalated_from=names.get(op, op), also=()) for op, i in late]
    return [replace(i, n=n) for n, i in enumerate([*up, *own], 1)]


def queued_line(queued: int, cap: int | None) -> str:
    """How many routine visits wait, and the rule they wait by (`_hold_back`)."""
    upto = f"补满每天 {cap} 项为止" if cap else "补到每日条数为止"
    return f"分级回访还有 {queued} 项在排队，按到期先后每天补进清单（{upto}）。"


def render(items: Sequence[Item], *, title: str, limit: int = MAX_MESSAGE, cap: int | None = None,
           more: str = "", queued: int = 0) -> list[str]:
    """The list as chat messages of at most `limit` characters, split between items: the
    first `cap` items, then 「另有 N 项，见控制台」 and `more` (a link) when there are more, and
    how many routine visits wait for room (`queued`)."""
    if not items:
        return [f"{title}\n今天没有需要跟进的成员，辛苦了！🎉"]
    shown = items if cap is None else items[:cap]
    lines: list[str] = [f"{title}（共 {len(items)} 项）"]
    group = None
    for item in shown:
        here = ESCALATED_TITLE if item.escalated_from else group_title(item.kind, item.grade)
        if here != group:
            group = here
            lines.append(f"【{group}】")
        also = f"（另：{'、'.join(item.also)}）" if item.also else ""
        waited = f"〔第 {item.age} 天未跟进〕" if item.age > 1 else ""
        by = f"〔原负责人：{item.escalated_from}〕" if item.escalated_from else ""
        lines.append(f"{item.n}. {item.member_name}（{item.room_name or '私聊'}）{waited}{by}"
                     f"{item.reason}{also} → {item.action}")
    if len(shown) < len(items):
        lines.append(f"另有 {len(items) - len(shown)} 项，见控制台" + (f"：{more}" if more else "。"))
    if queued:
        lines.append(queued_line(queued, cap))
    lines.append("跟进后回复：已跟进 编号 [备注]，例如 已跟进 1 3 已私聊；"
                 "稍后 编号 天数 · 转给 @运营 编号 · 备注 @成员 文字")
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
