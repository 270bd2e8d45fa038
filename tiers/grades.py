"""ABCD customer grades: D plus one step per criterion met, a manager's pin wins; cadences."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from tiers.tally import tally

GRADES = ("A", "B", "C", "D")  # best first
_STEP_UP = {"D": "C", "C": "B", "B": "A", "A": "A"}
DEFAULT_CADENCE: Mapping[str, int | None] = {"A": 14, "B": 30, "C": 60, "D": None}

TYPE_WORDS = {"core": "核心成员", "lurker": "潜水成员", "burst": "间歇活跃", "dormant": "沉默成员",
              "new": "新成员"}
CRITERION_USAGE = ("评级条件写法：tag 标签名 · type core|lurker|burst|dormant · level 3 · "
                   "order 90（90 天内有订单）· referral 1（至少推荐 1 人）")


@dataclass(frozen=True, slots=True)
class Criterion:
    kind: str  # tag | type | level | order | referral
    value: str  # the tag or type; the number as text for the others

    @property
    def number(self) -> int:
        return int(self.value)

    def describe(self) -> str:
        if self.kind == "tag":
            return f"有标签「{self.value}」"
        if self.kind == "type":
            return TYPE_WORDS.get(self.value, self.value)
        if self.kind == "level":
            return f"等级 ≥ Lv{self.value}"
        if self.kind == "order":
            return f"{self.value} 天内有订单"
        return f"推荐 ≥ {self.value} 人"


def parse_criterion(text: str) -> Criterion:
    """One criterion from config: "tag 意向", "type core", "level 3", "order 90", "referral 1"."""
    words = text.split()
    if len(words) != 2:
        raise ValueError(f"评级条件「{text}」看不懂。{CRITERION_USAGE}")
    kind, value = words[0].lower(), words[1]
    if kind == "tag":
        return Criterion(kind, value)
    if kind == "type":
        if value.lower() not in TYPE_WORDS or value.lower() == "new":
            raise ValueError(f"评级条件「{text}」的类型应为 core、lurker、burst 或 dormant")
        return Criterion(kind, value.lower())
    if kind in ("level", "order", "referral"):
        if not value.isascii() or not value.isdigit() or int(value) < 1:
            raise ValueError(f"评级条件「{text}」的数字应为正整数")
        return Criterion(kind, str(int(value)))
    raise ValueError(f"评级条件「{text}」的种类「{kind}」不认识。{CRITERION_USAGE}")


def parse_grade(word: str) -> str:
    g = word.strip().upper()
    if g not in GRADES:
        raise ValueError(f"等级「{word.strip()[:10]}」不对，只能是 A、B、C 或 D")
    return g


def parse_cadence(raw: Mapping[str, object]) -> dict[str, int | None]:
    """Days between follow-ups per grade; 0 (or absent for D) means none."""
    out: dict[str, int | None] = dict(DEFAULT_CADENCE)
    for key, value in raw.items():
        g = parse_grade(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{g} 级回访间隔应为不小于 0 的整数天数")
        out[g] = value or None
    return out


DEFAULT_CRITERIA = ("type core", "level 3", "order 90", "referral 1")


@dataclass(frozen=True, slots=True)
class GradeSettings:
    criteria: tuple[Criterion, ...] = tuple(parse_criterion(c) for c in DEFAULT_CRITERIA)
    cadence: Mapping[str, int | None] = field(default_factory=lambda: dict(DEFAULT_CADENCE))

    def tags(self) -> list[str]:
        return [c.value for c in self.criteria if c.kind == "tag"]


def parse_grade_settings(raw: Mapping[str, object]) -> GradeSettings:
    """The [grades] table of the config; ValueError (Chinese) naming what is wrong."""
    unknown = set(raw) - {"criteria", "cadence"}
    if unknown:
        raise ValueError(f"[grades] 不认识的设置：{'、'.join(sorted(unknown))}")
    criteria = raw.get("criteria", list(DEFAULT_CRITERIA))
    if not isinstance(criteria, list) or not all(isinstance(c, str) for c in criteria):
        raise ValueError("[grades] criteria 应为字符串列表，例如 [\"tag 意向\", \"type core\"]")
    cadence = raw.get("cadence", {})
    if not isinstance(cadence, dict):
        raise ValueError("[grades] cadence 应为表，例如 { A = 14, B = 30, C = 60 }")
    return GradeSettings(tuple(parse_criterion(c) for c in criteria), parse_cadence(cadence))


@dataclass(frozen=True, slots=True)
class GradeFacts:
    member: str
    tags: frozenset[str] = frozenset()
    type: str | None = None
    level: int = 1
    last_order: date | None = None
    referrals: int = 0
    pinned: tuple[str, str] | None = None  # (grade, reason) a manager set


@dataclass(frozen=True, slots=True)
class Grading:
    grade: str
    reason: str
    pinned: bool = False
    met: tuple[str, ...] = ()


def _met(c: Criterion, f: GradeFacts, today: date) -> bool:
    if c.kind == "tag":
        return c.value in f.tags
    if c.kind == "type":
        return f.type == c.value
    if c.kind == "level":
        return f.level >= c.number
    if c.kind == "order":
        return f.last_order is not None and (today - f.last_order).days < c.number
    return f.referrals >= c.number


def grade_of(f: GradeFacts, criteria: Sequence[Criterion], today: date) -> Grading:
    met = tuple(c.describe() for c in criteria if _met(c, f, today))
    if f.pinned is not None:
        grade, why = f.pinned
        return Grading(grade, f"管理员设定为 {grade} 级" + (f"：{why}" if why else ""), True, met)
    grade = "D"
    for _ in met:
        grade = _STEP_UP[grade]
    if not met:
        return Grading("D", "未满足任何评级条件，D 级", False, met)
    return Grading(grade, f"满足 {len(met)} 项：{'、'.join(met)}，{grade} 级", False, met)


def grades_of(facts: Iterable[GradeFacts], criteria: Sequence[Criterion],
              today: date) -> dict[str, Grading]:
    return {f.member: grade_of(f, criteria, today) for f in facts}


def distribution(gradings: Iterable[Grading]) -> dict[str, int]:
    return tally(GRADES, (g.grade for g in gradings))


def overdue_days(every: int | None, days_since: int) -> int | None:
    """How many days past due the routine visit of a member of a grade with this cadence (days
    between follow-ups, None: none) is, 0 on the day it falls due; None when not due yet.
    `days_since`: days since the last follow-up or, for a member never followed up, since they
    were first seen in their grade: due one cadence after that, not "from the beginning of time"."""
    if not every or days_since < every:
        return None
    return days_since - every
