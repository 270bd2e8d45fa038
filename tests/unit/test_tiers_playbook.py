"""The playbook models, pure: RFM scores and the eight segments, lifecycle stages, ABCD grades."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tiers import grades, lifecycle, rfm
from tiers.grades import Criterion, GradeFacts, parse_criterion
from tiers.levels import DEFAULT_LEVELS, benefits_upto, parse_benefits
from tiers.lifecycle import Stage, StageFacts, StageRules
from tiers.rfm import RfmInput, Segment

TODAY = date(2026, 11, 20)

# One member per segment, built on purpose: recency (days), frequency, monetary. The
# medians over these 8 present members: recency 6.5 → recent means ≤ 6 days; frequency 6.5;
# monetary 150 (four 0s and four 300s → median (0+300)/2).
SEGMENT_CASES = {
    "value": (1, 10, 300.0, Segment.IMPORTANT_VALUE),
    "develop": (2, 2, 300.0, Segment.IMPORTANT_DEVELOP),
    "keep": (20, 12, 300.0, Segment.IMPORTANT_KEEP),
    "retain": (40, 1, 300.0, Segment.IMPORTANT_RETAIN),
    "g_value": (3, 11, 0.0, Segment.GENERAL_VALUE),
    "g_develop": (4, 3, 0.0, Segment.GENERAL_DEVELOP),
    "g_keep": (30, 13, 0.0, Segment.GENERAL_KEEP),
    "g_retain": (50, 0, 0.0, Segment.GENERAL_RETAIN),
}


def test_every_segment_on_purpose():
    inputs = [RfmInput(m, r, f, mo) for m, (r, f, mo, _) in SEGMENT_CASES.items()]
    scores = rfm.score_all(inputs)
    for member, (_, _, _, segment) in SEGMENT_CASES.items():
        assert scores[member].segment is segment, member
    assert scores["retain"].label == "重要挽留客户"
    assert scores["value"].explain().startswith("重要价值客户：R5（1 天前活跃，高）")
    assert rfm.distribution(scores.values()) == dict.fromkeys(Segment, 1)


def test_scores_are_quintiles_with_ties_sharing_a_score():
    inputs = [RfmInput(f"m{i}", i, i, float(i)) for i in range(10)]
    scores = rfm.score_all(inputs)
    assert [scores[f"m{i}"].f for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [scores[f"m{i}"].r for i in range(10)] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]  # recent is high
    tied = rfm.score_all([RfmInput(f"t{i}", None, 0, 0.0) for i in range(8)] + [RfmInput("buyer", 1, 3, 99.0)])
    # eight tied at 0 hold ranks 0–7 of 9: they share the quintile of their middle rank (3.5)
    assert tied["t0"].m == 2 and tied["buyer"].m == 5 and tied["buyer"].segment is Segment.IMPORTANT_VALUE
    assert tied["t0"].segment is Segment.GENERAL_RETAIN  # nothing on record is never high


# The community: four spent 5,000 and four 50; four active 40 days and four 3; four seen
# 2 days ago and four 60 — one member per segment — plus two newcomers (seen today, one active
# day, nothing spent) and three who did nothing at all (noise).
HIGH_M, LOW_M, HIGH_F, LOW_F, RECENT, LONG_AGO = 5000.0, 50.0, 40, 3, 2, 60
DESIGNED = {
    Segment.IMPORTANT_VALUE: (RECENT, HIGH_F, HIGH_M), Segment.IMPORTANT_DEVELOP: (RECENT, LOW_F, HIGH_M),
    Segment.IMPORTANT_KEEP: (LONG_AGO, HIGH_F, HIGH_M), Segment.IMPORTANT_RETAIN: (LONG_AGO, LOW_F, HIGH_M),
    Segment.GENERAL_VALUE: (RECENT, HIGH_F, LOW_M), Segment.GENERAL_DEVELOP: (RECENT, LOW_F, LOW_M),
    Segment.GENERAL_KEEP: (LONG_AGO, HIGH_F, LOW_M), Segment.GENERAL_RETAIN: (LONG_AGO, LOW_F, LOW_M),
}


def designed_inputs() -> list[RfmInput]:
    return ([RfmInput(s.value, r, f, m) for s, (r, f, m) in DESIGNED.items()]
            + [RfmInput(f"newcomer{i}", 0, 1, 0.0) for i in range(2)]
            + [RfmInput(f"noise{i}", None, 0, 0.0) for i in range(3)])


@pytest.mark.parametrize("cut", [rfm.CUT_MEAN, rfm.CUT_MEDIAN, 4])
def test_designed_clusters_land_in_their_segments_under_each_cut(cut):
    """The median split used to collapse on the ties: those who spent 50 were "M high" and the one
    who did least of everything was 重要保持客户; the most recent scored R3."""
    scores = rfm.score_all(designed_inputs(), cut=cut)
    assert {m: scores[m].segment for m in (s.value for s in DESIGNED)} == {s.value: s for s in DESIGNED}
    assert scores["newcomer0"].segment is Segment.GENERAL_DEVELOP
    assert scores["noise0"].segment is Segment.GENERAL_RETAIN
    assert scores[Segment.IMPORTANT_VALUE.value].m == 5 and scores[Segment.GENERAL_VALUE.value].m == 3


def test_the_mean_is_the_default_and_cuts_are_read_from_the_config():
    assert rfm.RfmSettings().cut == rfm.CUT_MEAN == rfm.parse_rfm_settings({}).cut
    assert rfm.parse_rfm_settings({"cut": "平均值"}).cut == rfm.CUT_MEAN
    assert rfm.parse_rfm_settings({"cut": "median"}).cut == rfm.CUT_MEDIAN
    with pytest.raises(ValueError, match="mean"):
        rfm.parse_rfm_settings({"cut": "mode"})


def test_a_score_cut_instead_of_the_median():
    inputs = [RfmInput(f"m{i}", i, i, float(i)) for i in range(10)]
    by_score = rfm.score_all(inputs, cut=4)
    assert by_score["m7"].f_high and not by_score["m5"].f_high
    with pytest.raises(ValueError):
        rfm.score_all(inputs, cut=6)


def test_segment_words_and_settings():
    assert rfm.find_segment("重要挽留") is Segment.IMPORTANT_RETAIN
    assert rfm.find_segment("重要挽留客户") is Segment.IMPORTANT_RETAIN
    assert rfm.find_segment("大客户") is None
    s = rfm.parse_rfm_settings({"window_days": 60, "frequency": "orders", "cut": 3, "recency": ["order"]})
    assert (s.window_days, s.frequency, s.cut, s.recency_from) == (60, "orders", 3, ("order",))
    for bad, word in [({"cut": 9}, "cut"), ({"frequency": "x"}, "frequency"), ({"recency": ["chat"]}, "recency"),
                      ({"window": 3}, "不认识")]:
        with pytest.raises(ValueError, match=word):
            rfm.parse_rfm_settings(bad)


def facts(member="m", *, in_group=True, left_all=False, known=60, idle=0, recent=0, previous=0,
          before=0, orders=0, first_order_ago=None) -> StageFacts:
    return StageFacts(member, in_group, left_all, TODAY - timedelta(days=known) if known is not None else None,
                      TODAY - timedelta(days=idle) if idle is not None else None, recent, previous, before,
                      orders, TODAY - timedelta(days=first_order_ago) if first_order_ago is not None else None)


STAGE_CASES = [
    ("potential", facts(in_group=False, known=None, idle=3), Stage.POTENTIAL, "还没进过群"),
    ("left", facts(left_all=True, recent=5), Stage.CHURNED, "已退出所有群"),
    ("idle", facts(idle=31, before=0), Stage.CHURNED, "已 31 天没有活跃（≥30 天）"),
    ("never", facts(idle=None, known=40), Stage.CHURNED, "进群 40 天，从未活跃"),
    ("new", facts(known=3, recent=3), Stage.NEW, "进群 3 天（<7 天）"),
    ("declining", facts(recent=2, previous=3, before=20), Stage.DECLINING, "近14天活跃 2 天，之前30天活跃 20 天"),
    ("rising", facts(recent=6, previous=2, before=5), Stage.GROWING, "近14天活跃 6 天，多于之前14天的 2 天"),
    ("first_order", facts(recent=2, previous=2, orders=1, first_order_ago=3), Stage.GROWING, "3 天前下了第一单"),
    ("repeat", facts(recent=1, previous=3, before=2, orders=2, first_order_ago=50), Stage.MATURE, "已复购，共 2 单"),
    ("steady", facts(recent=8, previous=8, before=16), Stage.MATURE, "持续活跃"),
    ("young", facts(known=20, recent=3, previous=3), Stage.GROWING, "进群 20 天（<30 天）"),
    ("faded", facts(idle=20, recent=0, previous=2, before=1), Stage.DECLINING, "近14天没有活跃"),
    # never active once the new-member window is over: not 成长 (issue 28)
    ("silent_newcomer", facts(idle=None, known=11), Stage.DECLINING, "进群 11 天，一直没有活跃（新人期 7 天已过）"),
    # active on the first day only
    ("one_day", facts(known=12, idle=12, recent=1), Stage.DECLINING, "进群 12 天，近14天只活跃 1 天，已 12 天没来"),
    ("young_rising", facts(known=10, idle=1, recent=4), Stage.GROWING, "进群 10 天，近14天活跃 4 天，1 天前还来过"),
    # rising, but not seen this week: not growing
    ("rising_gone", facts(idle=9, recent=6, previous=2, before=5), Stage.MATURE, "持续活跃"),
]


@pytest.mark.parametrize(("name", "f", "stage", "reason"), STAGE_CASES, ids=[c[0] for c in STAGE_CASES])
def test_every_stage_on_purpose(name, f, stage, reason):
    got = lifecycle.stage_of(f, TODAY)
    assert got.stage is stage and reason in got.reason


def test_every_stage_occurs_and_thresholds_are_configurable():
    named = [facts(name, **kw) for name, kw in [("p", {"in_group": False}), ("n", {"known": 1})]]
    got = lifecycle.stages_of(named, TODAY)
    assert (got["p"].stage, got["n"].stage) == (Stage.POTENTIAL, Stage.NEW)
    counts = lifecycle.distribution([lifecycle.stage_of(c[1], TODAY) for c in STAGE_CASES])
    assert all(counts[s] >= 1 for s in Stage)
    quick = StageRules(churn_days=10, new_days=2)
    assert lifecycle.stage_of(facts(idle=12), TODAY, quick).stage is Stage.CHURNED
    assert lifecycle.stage_of(facts(known=3, recent=3), TODAY, quick).stage is not Stage.NEW
    assert lifecycle.parse_stage_rules({"churn_days": 45}).churn_days == 45
    shown = lifecycle.stage_rules_text(quick)
    assert set(shown) == set(Stage) and "进群不到 2 天" in shown[Stage.NEW] and "10 天以上" in shown[Stage.CHURNED]
    with pytest.raises(ValueError, match="不认识"):
        lifecycle.parse_stage_rules({"churn": 45})
    assert lifecycle.is_alarming(Stage.MATURE, Stage.DECLINING)
    assert lifecycle.is_alarming(Stage.GROWING, Stage.CHURNED)
    assert not lifecycle.is_alarming(Stage.GROWING, Stage.DECLINING)
    assert not lifecycle.is_alarming(None, Stage.CHURNED)


CRITERIA = tuple(parse_criterion(c) for c in ("tag 意向", "type core", "level 3", "order 90", "referral 1"))


@pytest.mark.parametrize(("f", "grade", "reason"), [
    (GradeFacts("d"), "D", "未满足任何评级条件"),
    (GradeFacts("c", tags=frozenset({"意向"})), "C", "满足 1 项：有标签「意向」，C 级"),
    (GradeFacts("b", type="core", level=3), "B", "满足 2 项：核心成员、等级 ≥ Lv3，B 级"),
    (GradeFacts("a", last_order=TODAY - timedelta(days=89), referrals=1, level=4), "A", "90 天内有订单"),
    (GradeFacts("a5", frozenset({"意向"}), "core", 5, TODAY, 3), "A", "满足 5 项"),
    (GradeFacts("old", last_order=TODAY - timedelta(days=90)), "D", "未满足"),
    (GradeFacts("pin", type="core", pinned=("A", "大客户")), "A", "管理员设定为 A 级：大客户"),
    (GradeFacts("down", frozenset({"意向"}), "core", 5, pinned=("D", "")), "D", "管理员设定为 D 级"),
])
def test_grades_step_up_from_d_and_pins_win(f, grade, reason):
    got = grades.grade_of(f, CRITERIA, TODAY)
    assert got.grade == grade and reason in got.reason


def test_grade_words_criteria_and_cadence():
    assert grades.parse_grade(" b ") == "B"
    with pytest.raises(ValueError, match="只能是 A、B、C 或 D"):
        grades.parse_grade("S")
    assert parse_criterion("TYPE Core") == Criterion("type", "core")
    for bad in ("tag", "type vip", "level x", "order 0", "vip 3"):
        with pytest.raises(ValueError, match="评级条件"):
            parse_criterion(bad)
    cadence = grades.parse_cadence({"A": 7, "d": 90})
    assert cadence == {"A": 7, "B": 30, "C": 60, "D": 90}
    # days since the last follow-up, or since first seen in the grade: due one cadence after
    assert grades.overdue_days(cadence["A"], 7) == 0 and grades.overdue_days(cadence["A"], 6) is None
    assert grades.overdue_days(grades.DEFAULT_CADENCE["A"], 20) == 6
    assert grades.overdue_days(grades.DEFAULT_CADENCE["D"], 400) is None
    settings = grades.parse_grade_settings({"criteria": ["tag 意向"], "cadence": {"A": 10}})
    assert settings.tags() == ["意向"] and settings.cadence["A"] == 10


def test_benefits_by_level_name_or_number_are_cumulative():
    b = parse_benefits({"茁壮": ["每月一次 1 对 1 答疑", "专属资料包"], "Lv2": ["新手礼包"]}, DEFAULT_LEVELS)
    assert b == {3: ("每月一次 1 对 1 答疑", "专属资料包"), 2: ("新手礼包",)}
    assert benefits_upto(3, b) == ["新手礼包", "每月一次 1 对 1 答疑", "专属资料包"]
    assert benefits_upto(1, b) == []
    with pytest.raises(ValueError, match="没有等级「Lv9」"):
        parse_benefits({"Lv9": ["x"]}, DEFAULT_LEVELS)
    with pytest.raises(ValueError, match="非空字符串列表"):
        parse_benefits({"茁壮": "专属资料包"}, DEFAULT_LEVELS)
