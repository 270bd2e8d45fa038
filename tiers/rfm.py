"""RFM: recency, frequency and monetary value, scored 1–5 by quintiles, and the eight segments."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tiers.tally import tally

# How a dimension is split into high and low. The playbooks compare each value with the
# community's average (平均值): a few big buyers do not make everyone who spent 50 "M high", as
# the median does when most members tie. The median, or a score cut (1–5), are options.
CUT_MEAN = "mean"
CUT_MEDIAN = "median"
CUTS = {"mean": CUT_MEAN, "average": CUT_MEAN, "平均值": CUT_MEAN, "均值": CUT_MEAN,
        "median": CUT_MEDIAN, "中位数": CUT_MEDIAN}


RECENCY_SOURCES = ("order", "checkin", "message", "visit")
FREQUENCY_SOURCES = ("days", "orders")


@dataclass(frozen=True, slots=True)
class RfmSettings:
    window_days: int = 90
    recency_from: tuple[str, ...] = ("order", "checkin", "message")  # what counts as "last active"
    frequency: str = "days"  # active days in the window, or "orders" for a shop-like community
    cut: str | int = CUT_MEAN  # CUT_MEAN, CUT_MEDIAN, or 1–5: a score at least this is high


def parse_rfm_settings(raw: Mapping[str, object]) -> RfmSettings:
    """The [rfm] table of the config; ValueError (Chinese) naming the bad key."""
    unknown = set(raw) - {"window_days", "recency", "frequency", "cut"}
    if unknown:
        raise ValueError(f"[rfm] 不认识的设置：{'、'.join(sorted(unknown))}")
    window = raw.get("window_days", 90)
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 3650:
        raise ValueError("[rfm] window_days 应为 1–3650 的整数天数")
    recency = raw.get("recency", ["order", "checkin", "message"])
    if (not isinstance(recency, list) or not recency
            or not all(isinstance(r, str) and r in RECENCY_SOURCES for r in recency)):
        raise ValueError(f"[rfm] recency 应为列表，取值 {'、'.join(RECENCY_SOURCES)}")
    frequency = raw.get("frequency", "days")
    if frequency not in FREQUENCY_SOURCES:
        raise ValueError("[rfm] frequency 应为 days（活跃天数）或 orders（订单数）")
    cut = raw.get("cut", CUT_MEAN)
    if isinstance(cut, str) and cut.strip().lower() in CUTS:
        cut = CUTS[cut.strip().lower()]
    elif isinstance(cut, bool) or not isinstance(cut, int) or not 1 <= cut <= 5:
        raise ValueError("[rfm] cut 应为 \"mean\"（平均值，默认）、\"median\"（中位数）或 1–5 的分数")
    return RfmSettings(window, tuple(dict.fromkeys(str(r) for r in recency)), str(frequency), cut)


class Segment(StrEnum):
    IMPORTANT_VALUE = "important_value"
    IMPORTANT_DEVELOP = "important_develop"
    IMPORTANT_KEEP = "important_keep"
    IMPORTANT_RETAIN = "important_retain"
    GENERAL_VALUE = "general_value"
    GENERAL_DEVELOP = "general_develop"
    GENERAL_KEEP = "general_keep"
    GENERAL_RETAIN = "general_retain"


# (R high, F high, M high) → segment; "R high" means recent.
_BY_HIGHS: dict[tuple[bool, bool, bool], Segment] = {
    (True, True, True): Segment.IMPORTANT_VALUE,
    (True, False, True): Segment.IMPORTANT_DEVELOP,
    (False, True, True): Segment.IMPORTANT_KEEP,
    (False, False, True): Segment.IMPORTANT_RETAIN,
    (True, True, False): Segment.GENERAL_VALUE,
    (True, False, False): Segment.GENERAL_DEVELOP,
    (False, True, False): Segment.GENERAL_KEEP,
    (False, False, False): Segment.GENERAL_RETAIN,
}

SEGMENT_LABELS: dict[Segment, str] = {
    Segment.IMPORTANT_VALUE: "重要价值客户",
    Segment.IMPORTANT_DEVELOP: "重要发展客户",
    Segment.IMPORTANT_KEEP: "重要保持客户",
    Segment.IMPORTANT_RETAIN: "重要挽留客户",
    Segment.GENERAL_VALUE: "一般价值客户",
    Segment.GENERAL_DEVELOP: "一般发展客户",
    Segment.GENERAL_KEEP: "一般保持客户",
    Segment.GENERAL_RETAIN: "一般挽留客户",
}

# The playbook's one-line strategy per segment.
SEGMENT_STRATEGIES: dict[Segment, str] = {
    Segment.IMPORTANT_VALUE: "最优质的成员：保持现状，给专属权益和优先服务",
    Segment.IMPORTANT_DEVELOP: "近期来过、贡献高但来得少：提高频次，邀请参加打卡和活动",
    Segment.IMPORTANT_KEEP: "贡献高、来得勤，但最近没来：主动私聊联系，把 TA 拉回来",
    Segment.IMPORTANT_RETAIN: "贡献高，但很久没来、来得也少：重点挽留，了解原因，给回归福利",
    Segment.GENERAL_VALUE: "近期常来但贡献低：挖掘需求，推荐合适的产品或课程",
    Segment.GENERAL_DEVELOP: "新近来过、频次和贡献都低：培养习惯，发新人福利和入门内容",
    Segment.GENERAL_KEEP: "以前常来、贡献低、最近没来：用活动和积分唤回",
    Segment.GENERAL_RETAIN: "很久没来、频次和贡献都低：低成本群发触达即可",
}

_WORDS: dict[str, Segment] = {
    **{s.value: s for s in Segment},
    **{label: s for s, label in SEGMENT_LABELS.items()},
    **{label.removesuffix("客户"): s for s, label in SEGMENT_LABELS.items()},
}


def find_segment(word: str) -> Segment | None:
    """The segment a manager named (重要挽留客户, 重要挽留 or important_retain), else None."""
    key = word.strip()
    return _WORDS.get(key) or _WORDS.get(key.lower())


@dataclass(frozen=True, slots=True)
class RfmInput:
    member: str
    recency_days: int | None  # days since the last activity that counts; None: none on record
    frequency: int  # active days in the window (or orders, for a shop-like community)
    monetary: float  # order amount in the window (or points earned, without orders)


@dataclass(frozen=True, slots=True)
class RfmScore:
    r: int  # 1–5, 5 the most recent
    f: int
    m: int
    recency_days: int | None
    frequency: int
    monetary: float
    r_high: bool
    f_high: bool
    m_high: bool
    segment: Segment
    monetary_is_points: bool = False

    @property
    def label(self) -> str:
        return SEGMENT_LABELS[self.segment]

    def as_report(self) -> dict[str, int | float | None]:
        return {"r": self.r, "f": self.f, "m": self.m, "recency_days": self.recency_days,
                "frequency": self.frequency, "monetary": self.monetary}

    def explain(self) -> str:
        """Short Chinese reason: the three numbers with their scores and sides."""
        recent = ("从无活跃记录" if self.recency_days is None else "今天活跃" if self.recency_days == 0
                  else f"{self.recency_days} 天前活跃")
        money = f"{_number(self.monetary)} 积分" if self.monetary_is_points else f"消费 {_number(self.monetary)} 元"
        return (f"{self.label}：R{self.r}（{recent}，{_hl(self.r_high)}）· "
                f"F{self.f}（{self.frequency}，{_hl(self.f_high)}）· "
                f"M{self.m}（{money}，{_hl(self.m_high)}）")


def _hl(high: bool) -> str:
    return "高" if high else "低"


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _middle_rank(sorted_values: Sequence[float], value: float) -> float:
    """Where the value stands among the sorted values, 0-based: the middle of the ranks its
    ties hold (a value not among them: where it would go)."""
    below, upto = bisect_left(sorted_values, value), bisect_right(sorted_values, value)
    return (below + max(upto, below + 1) - 1) / 2


def _quintile(sorted_values: Sequence[float], value: float) -> int:
    """1–5: which fifth of the scope the value falls in. Tied values share the quintile of
    the middle of their ranks: the most recent members are R5 together, not R3 because they
    tie, and a scope where most members have 0 gives them the quintile of their middle."""
    n = len(sorted_values)
    if n == 0:
        return 1
    return 1 + min(4, int(5 * _middle_rank(sorted_values, value) / n))


def _median_high(sorted_values: Sequence[float], value: float) -> bool:
    """At or above the median, ties judged by the middle of their ranks: when most members tie
    at a low value, the tie is not "high" because the median happens to fall inside it."""
    n = len(sorted_values)
    return n > 0 and _middle_rank(sorted_values, value) >= (n - 1) / 2


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


_NEVER = -1e18  # recency of a member with no activity on record, as a "recentness" value


def _recentness(days: int | None) -> float:
    return _NEVER if days is None else -float(days)


def score_all(inputs: Sequence[RfmInput], *, cut: str | int = CUT_MEAN, monetary_is_points: bool = False,
              unranked: frozenset[str] = frozenset()) -> dict[str, RfmScore]:
    """Score every member of a scope against each other; members in `unranked` (the
    community's managers) are scored against the rest without moving anyone's scores.

    Scores are quintiles of the scope (5 = most recent, most frequent, highest value; ties
    share the quintile of their middle rank). A dimension is high, with `cut` = CUT_MEAN (the
    default), when it reaches the mean of the members present (any activity on record, or any
    value) and is not nothing: recency on record, frequency above 0, value above 0. With
    CUT_MEDIAN the same against the median (ties judged by their middle rank); with `cut` = 1–5
    when its score reaches the cut.
    """
    if cut not in (CUT_MEAN, CUT_MEDIAN) and not (isinstance(cut, int) and 1 <= cut <= 5):
        raise ValueError("cut 应为 mean（平均值）、median（中位数）或 1–5 的分数")
    ranked = [i for i in inputs if i.member not in unranked] if unranked else inputs
    # Members share few recencies and frequencies: one float each, not one per member and list.
    recentness = {days: _recentness(days) for days in {i.recency_days for i in inputs}}
    as_float = {f: float(f) for f in {i.frequency for i in inputs}}
    rs = sorted(recentness[i.recency_days] for i in ranked)
    fs = sorted(as_float[i.frequency] for i in ranked)
    ms = sorted(i.monetary for i in ranked)
    present = [i for i in ranked if i.recency_days is not None or i.frequency > 0 or i.monetary > 0]
    p_rs = sorted(recentness[i.recency_days] for i in present if i.recency_days is not None)
    p_fs = sorted(as_float[i.frequency] for i in present)
    p_ms = sorted(i.monetary for i in present)
    r_mean, f_mean, m_mean = _mean(p_rs), _mean(p_fs), _mean(p_ms)
    shared: dict[tuple[int | None, int, float], RfmScore] = {}
    out: dict[str, RfmScore] = {}
    for i in inputs:
        key = (i.recency_days, i.frequency, i.monetary)
        score = shared.get(key)
        if score is None:
            recent = recentness[i.recency_days]
            r, f, m = _quintile(rs, recent), _quintile(fs, i.frequency), _quintile(ms, i.monetary)
            if cut == CUT_MEAN:
                r_high = i.recency_days is not None and recent >= r_mean
                f_high = i.frequency > 0 and i.frequency >= f_mean
                m_high = i.monetary > 0 and i.monetary >= m_mean
            elif cut == CUT_MEDIAN:
                r_high = i.recency_days is not None and _median_high(p_rs, recent)
                f_high = i.frequency > 0 and _median_high(p_fs, i.frequency)
                m_high = i.monetary > 0 and _median_high(p_ms, i.monetary)
            else:
                r_high, f_high, m_high = r >= int(cut), f >= int(cut), m >= int(cut)
            score = RfmScore(r, f, m, i.recency_days, i.frequency, i.monetary, r_high, f_high,
                             m_high, _BY_HIGHS[r_high, f_high, m_high], monetary_is_points)
            shared[key] = score
        out[i.member] = score
    return out


def distribution(scores: Iterable[RfmScore]) -> dict[Segment, int]:
    """How many members in each segment; every segment present (0 when none), in order."""
    return tally(Segment, (s.segment for s in scores))
