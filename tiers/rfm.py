"""RFM: recency, frequency and monetary value, scored 1–5 by quintiles, and the eight segments."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tiers.tally import median, tally

CUT_MEDIAN = 0  # split high/low at the median of the present members (the quadrant's rule)


RECENCY_SOURCES = ("order", "checkin", "message", "visit")
FREQUENCY_SOURCES = ("days", "orders")


@dataclass(frozen=True, slots=True)
class RfmSettings:
    window_days: int = 90
    recency_from: tuple[str, ...] = ("order", "checkin", "message")  # what counts as "last active"
    frequency: str = "days"  # active days in the window, or "orders" for a shop-like community
    cut: int = CUT_MEDIAN  # 0: the median; 1–5: a score at least this is high


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
    cut = raw.get("cut", "median")
    if cut == "median":
        cut = CUT_MEDIAN
    elif isinstance(cut, bool) or not isinstance(cut, int) or not 1 <= cut <= 5:
        raise ValueError("[rfm] cut 应为 \"median\" 或 1–5 的分数")
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


def _quintile(sorted_values: Sequence[float], value: float) -> int:
    """1–5: which fifth of the scope the value falls in, by how many values are below it.
    Ties share a score, so a scope where most members have 0 gives them all 1."""
    n = len(sorted_values)
    if n == 0:
        return 1
    below = bisect_left(sorted_values, value)
    return 1 + min(4, (5 * below) // n)


_NEVER = -1e18  # recency of a member with no activity on record, as a "recentness" value


def _recentness(days: int | None) -> float:
    return _NEVER if days is None else -float(days)


def score_all(inputs: Sequence[RfmInput], *, cut: int = CUT_MEDIAN, monetary_is_points: bool = False,
              unranked: frozenset[str] = frozenset()) -> dict[str, RfmScore]:
    """Score every member of a scope against each other; members in `unranked` (the
    community's managers) are scored against the rest without moving anyone's scores.

    Scores are quintiles of the scope (5 = most recent, most frequent, highest value). A
    dimension is high at `cut` = CUT_MEDIAN when it reaches the median of the members
    present (any activity on record, or any value) and is not nothing: recency on record,
    frequency above 0, value above 0 — the quadrant's rule, so a scope where few members
    buy makes every buyer "M high". With `cut` = 1–5 a dimension is high when its score
    reaches the cut.
    """
    if cut and not 1 <= cut <= 5:
        raise ValueError("cut 应为 0（中位数）或 1–5 的分数")
    ranked = [i for i in inputs if i.member not in unranked] if unranked else inputs
    rs = sorted(_recentness(i.recency_days) for i in ranked)
    fs = sorted(float(i.frequency) for i in ranked)
    ms = sorted(i.monetary for i in ranked)
    present = [i for i in ranked if i.recency_days is not None or i.frequency > 0 or i.monetary > 0]
    r_med = median(sorted(_recentness(i.recency_days) for i in present))
    f_med = median(sorted(float(i.frequency) for i in present))
    m_med = median(sorted(i.monetary for i in present))
    shared: dict[tuple[int | None, int, float], RfmScore] = {}
    out: dict[str, RfmScore] = {}
    for i in inputs:
        key = (i.recency_days, i.frequency, i.monetary)
        score = shared.get(key)
        if score is None:
            recent = _recentness(i.recency_days)
            r, f, m = _quintile(rs, recent), _quintile(fs, i.frequency), _quintile(ms, i.monetary)
            if cut:
                r_high, f_high, m_high = r >= cut, f >= cut, m >= cut
            else:
                r_high = i.recency_days is not None and recent >= r_med
                f_high = i.frequency > 0 and i.frequency >= f_med
                m_high = i.monetary > 0 and i.monetary >= m_med
            score = RfmScore(r, f, m, i.recency_days, i.frequency, i.monetary, r_high, f_high,
                             m_high, _BY_HIGHS[r_high, f_high, m_high], monetary_is_points)
            shared[key] = score
        out[i.member] = score
    return out


def distribution(scores: Iterable[RfmScore]) -> dict[Segment, int]:
    """How many members in each segment; every segment present (0 when none), in order."""
    return tally(Segment, (s.segment for s in scores))
