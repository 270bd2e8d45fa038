"""Orders, RFM segments, lifecycle stages and grades on replayed communities, end to end
through the real pipeline, the report and the chat commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bot.core.events import EventError, parse_event
from bot.core.feature import report_fields
from bot.core.report import member_rows, resolve_scope
from bot.features.followup.service import build_items, collect_facts, issue_daily
from bot.features.points.api import Ledger
from bot.features.segments.service import Playbook, assess
from bot.wiring import FEATURES
from tests.harness import ADMIN, ROOM, Bot, texts

AT = datetime.fromisoformat("2026-11-20T21:00:00+08:00")


def order(bot: Bot, member: str, amount, ts: str, *, oid: str | None = None, refund_of: str | None = None,
          item: str = "21天训练营", refused: list | None = None):
    raw = {"type": "order", "id": oid or bot.next_id("o"), "ts": ts, "member": member, "amount": amount,
           "item": item}
    if refund_of:
        raw["refund_of"] = refund_of
    return bot.pipeline.process([parse_event(raw)], refused=refused)


def days(start: str, n: int, step: int = 1) -> list[str]:
    first = datetime.fromisoformat(start)
    return [(first + timedelta(days=i * step)).isoformat() for i in range(n)]


def speak_on(bot: Bot, member: str, stamps: list[str]) -> None:
    for i, ts in enumerate(stamps):
        bot.say(member, f"今天的读书笔记第{i}篇", ts=ts, name=member)


def report(bot: Bot, room: str | None = None) -> dict[str, dict]:
    with bot.engine.connect() as conn:
        scope = resolve_scope(conn, bot.settings, AT, room, None)
        return {r["id"]: r for r in member_rows(conn, scope, report_fields(FEATURES, bot.deps))}


# ---- orders -------------------------------------------------------------------------------
def test_orders_refunds_and_their_bad_input(bot: Bot):
    order(bot, "buyer", 199, "2026-11-03T20:00:00+08:00", oid="o1")  # an unknown member: created
    order(bot, "buyer", "19.90", "2026-11-04T20:00:00+08:00", oid="o2")
    order(bot, "buyer", 199, "2026-11-03T20:00:00+08:00", oid="o1")  # redelivered: nothing changes
    refused: list = []
    order(bot, "buyer", -50, "2026-11-05T20:00:00+08:00", oid="r1", refund_of="o1", refused=refused)
    order(bot, "buyer", -10, "2026-11-05T20:00:00+08:00", oid="r2", refund_of="nope", refused=refused)
    order(bot, "other", -10, "2026-11-05T20:00:00+08:00", oid="r3", refund_of="o2", refused=refused)
    order(bot, "buyer", -150, "2026-11-05T20:00:00+08:00", oid="r4", refund_of="o1", refused=refused)
    assert [r[0] for r in refused] == ["r2", "r3", "r4"]
    assert "订单 nope 不存在" in refused[0][1] and "不一致" in refused[1][1] and "剩余可退的 149.00 元" in refused[2][1]
    assert bot.rows("SELECT id, amount_fen FROM purchase ORDER BY id") == [("o1", 19900), ("o2", 1990), ("r1", -5000)]
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE id IN ('r2', 'r3', 'r4')") == 0  # can be sent again
    assert bot.scalar("SELECT name FROM member WHERE id = 'buyer'") is None
    row = report(bot)["buyer"]
    assert row["orders"] == {"window_days": 90, "count": 2, "amount": 168.9, "total": 2}
    order(bot, "buyer", -149, "2026-11-06T20:00:00+08:00", oid="r5", refund_of="o1")  # the rest: o1 is gone
    assert report(bot)["buyer"]["orders"]["count"] == 1
    # A room reads only its members' orders: the refunds net out the same way.
    bot.join("buyer", ts="2026-11-07T20:00:00+08:00")
    assert report(bot, ROOM)["buyer"]["orders"] == {"window_days": 90, "count": 1, "amount": 19.9, "total": 1}


@pytest.mark.parametrize(("raw", "error"), [
    ({"amount": -5}, "必须是退款"),
    ({"amount": 5, "refund_of": "o1"}, "应为负数"),
    ({"amount": "abc"}, "不是金额数字"),
    ({"amount": 1.234}, "最多两位小数"),
    ({"amount": True}, "金额数字"),
    ({"amount": 1e12}, "太大"),
    ({}, "缺少字段 amount"),
])
def test_order_contract(raw, error):
    base = {"type": "order", "id": "o9", "ts": "2026-11-03T20:00:00+08:00", "member": "wxid_a"}
    with pytest.raises(EventError, match=error):
        parse_event(base | raw)


# ---- RFM ----------------------------------------------------------------------------------
# Each member lands in one segment on purpose (as of AT, window 90 days, M by order amount), by
# the mean (the default) and by the median alike.
SEGMENTS = {
    "value": "重要价值客户", "develop": "重要发展客户", "keep": "重要保持客户", "retain": "重要挽留客户",
    "g_value": "一般价值客户", "g_develop": "一般发展客户", "g_keep": "一般保持客户", "g_retain": "一般挽留客户",
}


def segment_community(bot: Bot, room: str = ROOM) -> None:
    for m in SEGMENTS:
        bot.join(m, room=room, name=m, ts="2026-08-01T10:00:00+08:00")
    def speak(m, stamps):
        for i, ts in enumerate(stamps):
            bot.say(m, f"今天的读书笔记第{i}篇", ts=ts, name=m, room=room)
    speak("value", days("2026-11-01T20:00:00+08:00", 20))
    speak("develop", ["2026-11-19T20:00:00+08:00"])
    speak("keep", days("2026-09-20T20:00:00+08:00", 25))
    speak("retain", ["2026-09-01T20:00:00+08:00"])
    speak("g_value", days("2026-11-05T20:00:00+08:00", 16))
    speak("g_develop", ["2026-11-18T20:00:00+08:00"])
    speak("g_keep", days("2026-09-20T20:00:00+08:00", 20))
    speak("g_retain", ["2026-09-05T20:00:00+08:00"])
    for m, ts in [("value", "2026-11-15"), ("develop", "2026-11-19"), ("keep", "2026-10-10"), ("retain", "2026-09-01")]:
        order(bot, m, 300, f"{ts}T21:00:00+08:00")


def test_every_segment_on_purpose_with_its_numbers(bot: Bot):
    segment_community(bot)
    rows = report(bot)
    for m, label in SEGMENTS.items():
        assert rows[m]["segment"] == label, (m, rows[m]["rfm"])
    # four spent 300 and four nothing: the 300s share the quintile of their middle rank (5.5 of 8)
    assert rows["retain"]["rfm"] == {"r": 1, "f": 1, "m": 4, "recency_days": 80, "frequency": 1, "monetary": 300.0}
    assert rows["value"]["rfm"]["recency_days"] == 0 and rows["value"]["rfm"]["frequency"] == 20
    assert rows["keep"]["segment_strategy"].startswith("贡献高、来得勤")
    assert all({"rfm", "segment", "stage", "stage_reason", "grade", "grade_reason"} <= set(r) for r in rows.values())


def test_an_assessment_without_rfm_scores_is_the_same_but_them(bot: Bot):
    """The follow-up list asks for the stages, grades and types only (with_rfm False): they are a
    full assessment's, and no member's RFM scores are made."""
    segment_community(bot)
    with bot.engine.connect() as conn:
        full, lean = (assess(conn, AT, None, bot.deps.service(Playbook), bot.deps.service(Ledger).levels,
                             with_types=True, with_rfm=rfm) for rfm in (True, False))
    assert len(full.rfm) == len(full.stages) == 8 and lean.rfm == {}
    assert (lean.stages, lean.grades, lean.types, lean.orders) == (full.stages, full.grades, full.types, full.orders)


def test_the_lists_stages_are_the_assessments_for_members_of_several_groups(bot: Bot):
    """The follow-up list's stages are the assessment's, whose reads the list hands it (the members,
    and each one's groups from the list's own read of every membership): a member back in a group two
    days ago, who was in another from June, is no newcomer (the first day in any group counts, a group
    left too), as the community's and the room's assessments reading the memberships themselves say."""
    other = "r2@chatroom"
    bot.join("returner", room=other, name="returner", ts="2026-06-01T10:00:00+08:00")
    bot.leave("returner", room=other, ts="2026-07-01T10:00:00+08:00")
    bot.join("returner", name="returner", ts="2026-11-18T10:00:00+08:00")
    bot.join("newbie", name="newbie", ts="2026-11-18T10:00:00+08:00")
    bot.join("twice", room=other, name="twice", ts="2026-09-01T10:00:00+08:00")
    bot.join("twice", name="twice", ts="2026-10-01T10:00:00+08:00")
    bot.join("old", name="old", ts="2026-09-01T10:00:00+08:00")
    for m in ("returner", "newbie", "twice", "old"):
        bot.say(m, "大家好，今天读完了第三章", name=m, ts="2026-11-19T20:00:00+08:00")
    with bot.engine.connect() as conn:
        facts = list(collect_facts(conn, bot.deps, AT, [ROOM, other]))
        models, levels = bot.deps.service(Playbook), bot.deps.service(Ledger).levels
        community = assess(conn, AT, None, models, levels)
        room = assess(conn, AT, ROOM, models, levels)
    listed = {(f.member, f.room): (f.stage, f.grade) for f in facts}
    assert set(listed) == {("returner", ROOM), ("newbie", ROOM), ("twice", ROOM), ("old", ROOM), ("twice", other)}
    for (m, _), (stage, grade) in listed.items():
        assert stage == community.stages[m].stage.value == room.stages[m].stage.value, m
        assert grade == community.grades[m].grade == room.grades[m].grade, m
    assert community.stages["newbie"].stage.value == "new" and community.stages["returner"].stage.value != "new"


@pytest.fixture
def pg_bot(pg_schemas, tmp_path) -> Iterator[Bot]:
    bot = Bot(tmp_path, database_url=pg_schemas("playbook"))
    yield bot
    bot.engine.dispose()


def test_segments_and_stages_on_postgresql(pg_bot: Bot):
    segment_community(pg_bot)
    rows = report(pg_bot)
    assert {m: rows[m]["segment"] for m in SEGMENTS} == SEGMENTS
    assert rows["value"]["stage"] == "成长" and rows["retain"]["stage"] == "流失"
    assert rows["value"]["orders"] == {"window_days": 90, "count": 1, "amount": 300.0, "total": 1}


def test_segments_in_a_room_rank_its_members_against_each_other(bot: Bot):
    segment_community(bot, room="r2@chatroom")
    bot.join("lonely", ts="2026-08-01T10:00:00+08:00")  # the only member of ROOM
    speak_on(bot, "lonely", ["2026-09-02T20:00:00+08:00"])
    room = report(bot, "r2@chatroom")
    assert {m: room[m]["segment"] for m in SEGMENTS} == SEGMENTS
    # Alone in its room, the one member is at the median of everything there: recent and frequent.
    assert report(bot, ROOM)["lonely"]["segment"] == "一般价值客户"
    assert report(bot)["lonely"]["rfm"]["r"] == 1  # against the whole community: the least recent


# The issue's community, through the whole bot: one member per segment (spent 5,000 or 50;
# active 40 days or 3; last seen 2 days or 60 before AT), two newcomers and three silent members.
DESIGNED = {  # member → (days since last seen, active days, spent, segment)
    "iv": (2, 40, 5000, "重要价值客户"), "id": (2, 3, 5000, "重要发展客户"),
    "ik": (60, 40, 5000, "重要保持客户"), "ir": (60, 3, 5000, "重要挽留客户"),
    "gv": (2, 40, 50, "一般价值客户"), "gd": (2, 3, 50, "一般发展客户"),
    "gk": (60, 40, 50, "一般保持客户"), "gr": (60, 3, 50, "一般挽留客户"),
}


def designed_community(bot: Bot, room: str = ROOM) -> None:
    for m in [*DESIGNED, "quiet1", "quiet2", "quiet3"]:
        bot.join(m, room=room, name=m, ts="2026-05-01T10:00:00+08:00")
    for m, (ago, active, spent, _) in DESIGNED.items():
        last = AT - timedelta(days=ago, hours=1)
        for d in range(active - 1, -1, -1):
            bot.say(m, f"今天读了第{d}章，收获很多", room=room, name=m, ts=last - timedelta(days=d))
        order(bot, m, spent, last.isoformat())
    for m in ("new1", "new2"):
        bot.join(m, room=room, name=m, ts=(AT - timedelta(days=1)).isoformat())
        bot.say(m, "大家好，我是新来的", room=room, name=m, ts=(AT - timedelta(hours=2)).isoformat())


@pytest.mark.parametrize("cut", ['"mean"', '"median"', "4"])
def test_designed_clusters_land_in_their_segments_in_the_community_and_a_room(tmp_path, cut):
    path = tmp_path / "config.toml"
    path.write_text(f"[rfm]\ncut = {cut}\n", encoding="utf-8")
    bot = Bot(tmp_path, config=path)
    designed_community(bot, "r2@chatroom")
    bot.join("elsewhere", ts="2026-05-01T10:00:00+08:00")  # ROOM: someone in another room only
    for rows in (report(bot), report(bot, "r2@chatroom")):
        assert {m: rows[m]["segment"] for m in DESIGNED} == {m: d[3] for m, d in DESIGNED.items()}
        assert rows["new1"]["segment"] == "一般发展客户"
        assert rows["iv"]["rfm"]["r"] >= 4  # the most recent are not R3 because they tie


def test_rfm_and_who_in_chat(bot: Bot):
    segment_community(bot)
    out = texts(bot.say(ADMIN, "/rfm", ts=AT.isoformat()))
    assert "本群 RFM 分层（近 90 天" in out and "重要挽留客户：1 人 — 贡献高，但很久没来" in out
    listing = texts(bot.say(ADMIN, "/who 重要挽留客户", ts=AT.isoformat()))
    assert listing.startswith("@wxid_admin") is False and "重要挽留客户共 1 人" in listing and "· retain：" in listing
    assert "不认识的成员类型「大客户」" in texts(bot.say(ADMIN, "/who 大客户", ts=AT.isoformat()))
    assert "只有管理员" in texts(bot.say("value", "/rfm", ts=AT.isoformat()))


def test_without_orders_m_is_points_earned(bot: Bot):
    bot.join("a", ts="2026-09-01T10:00:00+08:00")
    bot.join("b", ts="2026-09-01T10:00:00+08:00")
    for ts in days("2026-11-10T07:00:00+08:00", 5):
        bot.say("a", "打卡", ts=ts)
    speak_on(bot, "b", ["2026-11-19T20:00:00+08:00"])
    rows = report(bot)
    assert rows["a"]["rfm"]["monetary"] > rows["b"]["rfm"]["monetary"]
    assert rows["a"]["rfm"]["m"] > rows["b"]["rfm"]["m"] and rows["a"]["segment"].startswith("重要")
    assert "积分" in rows["a"]["rfm_explain"]


# ---- lifecycle ----------------------------------------------------------------------------
def stage_community(bot: Bot) -> None:
    bot.visit("potential", ts="2026-11-18T10:00:00+08:00")
    bot.say("potential", "你好，想了解一下", room=None, ts="2026-11-18T10:05:00+08:00")
    for m in ("growing", "mature", "declining", "churned", "left", "buyer"):
        bot.join(m, name=m, ts="2026-09-01T10:00:00+08:00")
    bot.join("new", name="new", ts="2026-11-17T10:00:00+08:00")
    speak_on(bot, "growing", ["2026-10-30T20:00:00+08:00", "2026-11-02T20:00:00+08:00",
                              *days("2026-11-10T20:00:00+08:00", 6)])
    speak_on(bot, "mature", days("2026-09-02T20:00:00+08:00", 40, step=2))
    speak_on(bot, "declining", [*days("2026-10-08T20:00:00+08:00", 30), *days("2026-11-15T20:00:00+08:00", 2)])
    speak_on(bot, "churned", days("2026-09-02T20:00:00+08:00", 20))
    speak_on(bot, "left", ["2026-11-19T20:00:00+08:00"])
    bot.leave("left", ts="2026-11-20T08:00:00+08:00")
    speak_on(bot, "buyer", ["2026-11-01T20:00:00+08:00", "2026-11-12T20:00:00+08:00"])
    # issue 28: joined 11 days ago and never did anything; active on the first day only; a
    # first month with activity this week
    for m, when in (("silent", "2026-11-09T10:00:00+08:00"), ("once", "2026-11-08T10:00:00+08:00"),
                    ("young", "2026-11-10T10:00:00+08:00")):
        bot.join(m, name=m, ts=when)
    speak_on(bot, "once", ["2026-11-08T10:30:00+08:00"])
    speak_on(bot, "young", ["2026-11-11T20:00:00+08:00", "2026-11-16T20:00:00+08:00", "2026-11-19T20:00:00+08:00"])
    order(bot, "buyer", 99, "2026-11-01T21:00:00+08:00")
    order(bot, "buyer", 199, "2026-11-12T21:00:00+08:00")


STAGES = {
    "potential": ("潜在", "还没进过群"),
    "new": ("新", "进群 3 天"),
    "growing": ("成长", "近14天活跃 6 天，多于之前14天的 2 天"),
    "mature": ("成熟", "持续活跃"),
    "declining": ("衰退", "近14天活跃 2 天，之前30天活跃 30 天"),
    "churned": ("流失", "没有活跃（≥30 天）"),
    "left": ("流失", "已退出所有群"),
    "buyer": ("成熟", "已复购，共 2 单"),
    "silent": ("衰退", "进群 11 天，一直没有活跃（新人期 7 天已过）"),
    "once": ("衰退", "近14天只活跃 1 天，已 12 天没来"),
    "young": ("成长", "进群 10 天，近14天活跃 3 天，1 天前还来过"),
}


def test_every_stage_on_purpose_with_its_reason(bot: Bot):
    stage_community(bot)
    rows = report(bot)
    for m, (stage, reason) in STAGES.items():
        assert rows[m]["stage"] == stage and reason in rows[m]["stage_reason"], (m, rows[m]["stage_reason"])
    room = report(bot, ROOM)
    assert "left" not in room and "potential" not in room  # not (or never) in the room
    for m in STAGES.keys() - {"left", "potential"}:  # a stage is the member's own, in any scope
        assert (room[m]["stage"], room[m]["stage_reason"]) == (rows[m]["stage"], rows[m]["stage_reason"])
    out = texts(bot.say(ADMIN, "/stages", room=None, ts=AT.isoformat()))
    assert "流失：2 人" in out and "潜在：" in out and "衰退：3 人" in out
    assert "（进群不到 7 天）" in out and "（30 天以上没有活跃，或已退出所有群）" in out  # each stage's rule
    assert "· declining：" in texts(bot.say(ADMIN, "/who 衰退", ts=AT.isoformat()))


def test_a_transition_becomes_a_follow_up_item(bot: Bot):
    stage_community(bot)
    bot.join("slipping", name="slipping", ts="2026-09-01T10:00:00+08:00")
    speak_on(bot, "slipping", days("2026-09-02T20:00:00+08:00", 33, step=2))  # until Nov 5
    with bot.engine.begin() as conn:
        issue_daily(conn, bot.deps, datetime.fromisoformat("2026-11-01T09:00:00+08:00"))
    assert bot.scalar("SELECT stage FROM membersnapshot WHERE member = 'slipping'") == "mature"
    with bot.engine.connect() as conn:
        got = {i.member: i for i in build_items(conn, bot.deps, AT, [ROOM]).items}
    item = got["slipping"]
    assert item.kind == "stage_change" and item.reason.startswith("成熟 → 衰退：近14天活跃 0 天，之前30天活跃 15 天")
    assert item.action.startswith("私聊问候")
    assert "growing" not in got or got["growing"].kind != "stage_change"  # growing → growing: nothing
    with bot.engine.begin() as conn:
        issue_daily(conn, bot.deps, AT + timedelta(hours=12))
    assert bot.rows("SELECT before, after FROM stagechange WHERE member = 'slipping' ORDER BY id") == [
        (None, "mature"), ("mature", "declining")]


# ---- grades -------------------------------------------------------------------------------
CONFIG = """
[grades]
criteria = ["tag 意向", "type core", "level 2", "order 90", "referral 1"]
cadence = { A = 14, B = 30, C = 60 }

[[tag_rules]]
rule = "keyword 意向 多少钱 lead=yes"

[benefits]
"青苗" = ["新手礼包"]
"茁壮" = ["每月一次 1 对 1 答疑", "专属资料包"]
"""


@pytest.fixture
def graded(tmp_path) -> Bot:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return Bot(tmp_path, config=path)


def test_every_grade_on_purpose_pins_and_overdue(graded: Bot):
    bot = graded
    for m in ("a", "b", "c", "d", "pinned"):
        bot.join(m, name=m, ts="2026-09-01T10:00:00+08:00")
    bot.feed({"type": "join", "id": "jr", "ts": "2026-11-01T10:00:00+08:00", "room": ROOM, "member": "friend",
              "inviter": "a"})
    bot.say("a", "这个课多少钱", ts="2026-11-02T10:00:00+08:00")  # tag 意向
    order(bot, "a", 99, "2026-11-03T10:00:00+08:00")  # order in 90 days (+ referral) → A
    bot.say(ADMIN, "/tag b 意向", ts="2026-11-02T11:00:00+08:00")
    bot.say(ADMIN, "/points b +60 活动奖励", ts="2026-11-02T12:00:00+08:00")  # Lv2 → B
    order(bot, "c", 10, "2026-11-05T10:00:00+08:00")  # C
    rows = report(bot)
    assert {m: rows[m]["grade"] for m in "abcd"} == {"a": "A", "b": "B", "c": "C", "d": "D"}
    room = report(bot, ROOM)
    assert {m: room[m]["grade"] for m in "abcd"} == {"a": "A", "b": "B", "c": "C", "d": "D"}
    # a said one thing on one day: the report types TA 沉默成员 (the quiet-data floor), and so
    # does the grade (it used to count 核心成员, typing without the floor)
    assert rows["a"]["type"] == "dormant"
    assert rows["a"]["grade_reason"] == "满足 3 项：有标签「意向」、90 天内有订单、推荐 ≥ 1 人，A 级"
    assert "未满足任何评级条件" in rows["d"]["grade_reason"]
    assert "已把 pinned 设为 A 级（老客户）" in texts(bot.say(ADMIN, "/grade pinned A 老客户", ts=AT.isoformat()))
    assert report(bot)["pinned"]["grade_reason"] == "管理员设定为 A 级：老客户"
    assert "只能是 A、B、C 或 D" in texts(bot.say(ADMIN, "/grade pinned S", ts=AT.isoformat()))
    assert "找不到成员" in texts(bot.say(ADMIN, "/grade nobody A", ts=AT.isoformat()))
    assert "A 级：2 人" in texts(bot.say(ADMIN, "/grades", ts=AT.isoformat()))
    with bot.engine.connect() as conn:
        got = {i.member: i for i in build_items(conn, bot.deps, AT, [ROOM]).items}
    assert got["pinned"].kind == "grade_overdue" and "A 级客户（每 14 天回访一次），从未跟进" in got["pinned"].reason
    assert "d" not in got  # D: no cadence
    assert "已取消 pinned 的手动等级" in texts(bot.say(ADMIN, "/grade pinned 取消", ts=AT.isoformat()))
    assert report(bot)["pinned"]["grade"] == "D"


def test_grades_type_members_as_the_report_does(graded: Bot):
    """Everyone quiet: the median split alone would call the one who spoke twice on two days
    core; the report's floors (3 login days, 5 messages) call TA 沉默成员, and so must the grade."""
    bot = graded
    for m in ("a", "b", "c"):
        bot.join(m, name=m, ts="2026-09-01T10:00:00+08:00")
    speak_on(bot, "a", days("2026-11-18T10:00:00+08:00", 2))
    speak_on(bot, "b", days("2026-11-18T11:00:00+08:00", 1))
    rows = report(bot)
    assert rows["a"]["type"] == "dormant"
    assert "核心成员" not in rows["a"]["grade_reason"] and rows["a"]["grade"] == "D"
    room = report(bot, ROOM)
    assert room["a"]["grade"] == "D"
    with bot.engine.connect() as conn:
        assert "a" not in {i.member for i in build_items(conn, bot.deps, AT, [ROOM]).items}


def test_criteria_naming_an_unknown_tag_is_a_clear_config_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[grades]\ncriteria = ["tag 大客户"]\n', encoding="utf-8")
    with pytest.raises(Exception, match="评级条件里的标签「大客户」不存在"):
        Bot(tmp_path, config=path)
    path.write_text('[grades]\ncriteria = ["vip 3"]\n', encoding="utf-8")
    with pytest.raises(Exception, match="种类「vip」不认识"):
        Bot(tmp_path, config=path)


def test_benefits_in_me_and_in_the_level_up(graded: Bot):
    bot = graded
    bot.join("m", name="小明", ts="2026-11-01T10:00:00+08:00")
    out = texts(bot.say(ADMIN, "/points 小明 +160 活动奖励", ts="2026-11-02T10:00:00+08:00"))
    assert "恭喜升到 Lv3「茁壮」！解锁权益：「新手礼包」、「每月一次 1 对 1 答疑」、「专属资料包」" in out
    me = texts(bot.say("m", "我的等级", ts="2026-11-02T11:00:00+08:00"))
    assert "你的权益：新手礼包、每月一次 1 对 1 答疑、专属资料包" in me


def test_recency_is_looked_for_beyond_the_longest_window(bot: Bot):
    bot.join("old", ts="2026-03-01T10:00:00+08:00")
    speak_on(bot, "old", ["2026-05-04T20:00:00+08:00"])  # 200 days before AT
    bot.join("fresh", ts="2026-03-01T10:00:00+08:00")
    speak_on(bot, "fresh", ["2026-11-19T20:00:00+08:00"])
    bot.visit("old", ts="2026-04-01T10:00:00+08:00")
    rows = report(bot)
    assert rows["old"]["rfm"]["recency_days"] == 200 and rows["old"]["rfm"]["frequency"] == 0
    assert rows["old"]["stage"] == "流失" and rows["old"]["stage_reason"] == "已 200 天没有活跃（≥30 天）"
    assert rows["fresh"]["rfm"]["recency_days"] == 1
