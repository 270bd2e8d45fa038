"""The follow-up list's order and its open items, on plain facts: the PRIORITY table, carried
events, snoozed and handed-over items, ages, the cap and the line 「另有 N 项」."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tiers.followup import (
    KIND_TITLES,
    KINDS,
    PRIORITY,
    Case,
    Lead,
    MemberFacts,
    build_list,
    overdue,
    rank,
    render,
    with_escalations,
)

NOW = datetime.fromisoformat("2026-11-20T09:00:00+08:00")
JOINED = datetime.fromisoformat("2026-11-12T10:00:00+08:00")


def test_every_kind_has_a_title_and_a_row() -> None:
    assert set(KINDS) == set(KIND_TITLES) == {p.kind for p in PRIORITY}


@pytest.mark.parametrize(("first", "then"), [
    (("lead", None), ("stage_change", "A")),
    (("stage_change", "B"), ("churn_risk", "A")),
    (("churn_risk", "A"), ("new_silent", None)),
    (("new_silent", None), ("stage_change", "C")),
    (("churn_risk", None), ("streak_broken", None)),
    (("type_change", "A"), ("grade_overdue", "A")),
    (("level_up", None), ("near_level", None)),
])
def test_rank(first: tuple[str, str | None], then: tuple[str, str | None]) -> None:
    assert rank(*first) < rank(*then)


def newcomer(member: str, name: str | None = None, grade: str | None = None) -> MemberFacts:
    return MemberFacts(member, name or member, "r1", "读书群", joined_at=JOINED, spoke_since_join=False,
                       grade=grade)


def test_the_order_by_table_then_by_age() -> None:
    facts = [newcomer("n1"), newcomer("n2"), newcomer("n3"),
             MemberFacts("buyer", "buyer", "r1", "读书群",
                         leads=(Lead("意向", "多少钱", "多少钱", NOW, "", ""),))]
    cases = [Case("n3", "new_silent", "r1", "读书群", "n3", "…", "…", days=4)]
    items = build_list(facts, NOW, cases=cases).items
    assert [(i.n, i.member, i.age) for i in items] == [(1, "buyer", 1), (2, "n3", 5), (3, "n1", 1), (4, "n2", 1)]
    assert items[0].room_name == "私聊"


def test_me_excluded_snoozed_handed_over_and_carried() -> None:
    facts = [newcomer("op"), newcomer("admin"), newcomer("sleepy"), newcomer("given"), newcomer("n1")]
    cases = [Case("sleepy", "new_silent", "r1", "读书群", "sleepy", "…", "…", days=1, snoozed=True),
             Case("given", "new_silent", "r1", "读书群", "given", "…", "…", days=1, owner="op2"),
             Case("old_lead", "lead", "r9", "二群", "old_lead", "说「多少钱」", "私聊跟进", days=2),
             Case("mine", "churn_risk", "r9", "二群", "mine", "近7天活跃 0 天", "私聊问候", days=1, owner="op")]
    mine = build_list([*facts, MemberFacts("old_lead", "old_lead", "r1", "读书群")], NOW, cases=cases,
                      me="op", exclude=frozenset({"admin"})).items
    assert [(i.member, i.kind, i.room_name, i.age) for i in mine] == [
        ("old_lead", "lead", "二群", 3), ("n1", "new_silent", "读书群", 1), ("mine", "churn_risk", "二群", 2)]
    theirs = build_list(facts, NOW, cases=cases, me="op2").items
    assert "given" in {i.member for i in theirs} and "sleepy" not in {i.member for i in theirs}


def test_escalation_once_and_first_on_the_admins_list() -> None:
    lists = {"op": build_list([newcomer("a"), newcomer("b")], NOW, cases=[
        Case("a", "new_silent", "r1", "读书群", "a", "…", "…", days=3),
        Case("b", "new_silent", "r1", "读书群", "b", "…", "…", days=3, escalated=True)]).items}
    late = overdue(lists, [Case("b", "new_silent", "r1", "读书群", "b", "…", "…", escalated=True)], 3, {"boss"})
    assert [(op, i.member, i.age) for op, i in late] == [("op", "a", 4)]
    admin = with_escalations(build_list([newcomer("c")], NOW).items, late, {"op": "小运营"})
    assert [(i.n, i.member, i.escalated_from) for i in admin] == [(1, "a", "小运营"), (2, "c", "")]
    text = "\n".join(render(admin, title="清单"))
    assert "【超期未跟进（已转给管理员）】\n1. a（读书群）〔第 4 天未跟进〕〔原负责人：小运营〕" in text


def test_the_cap_and_the_rest_in_the_console() -> None:
    items = build_list([newcomer(f"n{i:02d}") for i in range(25)], NOW).items
    text = "\n".join(render(items, title="清单", cap=20, more="http://x/followup?operator=op"))
    assert "（共 25 项）" in text and "20. n19" in text and "21. " not in text
    assert "另有 5 项，见控制台：http://x/followup?operator=op" in text
    assert "另有" not in "\n".join(render(items, title="清单", cap=25))


def due(member: str, grade: str, first_seen_days_ago: int, **more) -> MemberFacts:
    """A member never followed up, in `grade` since they were first seen."""
    return MemberFacts(member, member, "r1", "读书群", grade=grade, grade_cadence={"A": 14, "B": 30, "C": 60}[grade],
                       grade_since=NOW - timedelta(days=first_seen_days_ago), **more)


def test_routine_visits_fill_the_list_up_to_the_cap_and_the_rest_wait() -> None:
    facts = [newcomer("n1"), newcomer("n2"),  # urgent: never held back
             due("a_not_yet", "A", 13), due("c_late", "C", 100), due("a_late", "A", 30), due("b_late", "B", 60),
             due("b_listed", "B", 31),  # least past due, but on yesterday's list: it stays
             due("a_near", "A", 20, next_level=(2, "茁壮", 1), level_ratio=0.95)]  # listed anyway: takes no room
    cases = [Case("b_listed", "grade_overdue", "r1", "读书群", "b_listed", "…", "…", days=1)]
    day = build_list(facts, NOW, cases=cases, cap=6)
    assert [(i.member, i.kind) for i in day.items] == [
        ("n1", "new_silent"), ("n2", "new_silent"), ("b_listed", "grade_overdue"),
        ("a_near", "grade_overdue"), ("b_late", "grade_overdue"), ("c_late", "grade_overdue")]
    assert day.queued == 1  # a_late (16 days past due) waits for c_late (40) and b_late (30)
    assert "a_not_yet" not in {i.member for i in build_list(facts, NOW).items}  # due in a day
    assert build_list(facts, NOW).queued == 0 and len(build_list(facts, NOW).items) == 7  # no cap: all due
    full = build_list([newcomer(f"n{i}") for i in range(8)] + facts[2:], NOW, cases=cases, cap=6)
    assert len(full.items) == 9 and full.queued == 4  # 8 urgent + a_near; every routine-only one waits
    text = "\n".join(render(day.items, title="清单", cap=6, queued=day.queued))
    assert "分级回访还有 1 项在排队，按到期先后每天补进清单（补满每天 6 项为止）。" in text
