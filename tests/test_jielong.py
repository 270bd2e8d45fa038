"""接龙 check-ins replayed: each version of a list checks in the one who added an entry."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.harness import ADMIN, ROOM, Bot, texts

HEADER = "@班长  打卡#接龙\n\n12月2日打卡 一起加油💪\n例 打卡第n天 内容\n"
T = datetime.fromisoformat("2026-12-02T07:00:00+08:00")


def jielong(bot: Bot, sender: str, entries: list[str], *, name: str | None = None, header: str = HEADER,
            ts: datetime | None = None, id: str | None = None) -> list:
    if ts is not None:
        bot.at(ts)
    text = header + "\n" + "\n".join(f"{i}. {e}" for i, e in enumerate(entries, 1))
    return bot.feed({"type": "message", "id": id or bot.next_id("jl"), "ts": bot.clock.isoformat(),
                     "room": ROOM, "room_name": "读书群", "sender": sender, "sender_name": name or sender,
                     "kind": "jielong", "text": text.rstrip()})


def checkins(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT member, day, note FROM checkin ORDER BY ts, member")


def test_a_list_passed_along_checks_each_in_once_with_their_entry(bot: Bot):
    entries = ["阿青-读书", "小舟 打卡第3天，读完《人类简史》第二章", "木木 打卡第一天 跑步3公里"]
    names = {"wxid_q": "阿青", "wxid_z": "小舟", "wxid_m": "木木"}
    out = []
    for i, (member, name) in enumerate(names.items()):
        out += jielong(bot, member, entries[: i + 1], name=name, ts=T + timedelta(minutes=i))
    assert checkins(bot) == [("wxid_q", "2026-12-02", "读书"),
                             ("wxid_z", "2026-12-02", "打卡第3天，读完《人类简史》第二章"),
                             ("wxid_m", "2026-12-02", "打卡第一天 跑步3公里")]
    assert texts(out).count("「打卡」成功") == 3
    # check-ins are talk to the bot: logged as commands, with the list as it was
    assert [k for k, in bot.rows("SELECT kind FROM eventlog WHERE type = 'message' ORDER BY ts")] == ["command"] * 3


def test_forty_versions_of_one_list_in_a_day(bot: Bot):
    """The operator starts it with the template; 40 members add themselves one after another;
    someone sends it on unchanged, someone edits another's entry, one member edits their own
    entry and sends it again: 40 check-ins, each once, each with its entry as the note."""
    bot.say(ADMIN, "/task reply 打卡 each", ts=T - timedelta(hours=1))
    out = jielong(bot, ADMIN, [], name="班长", ts=T)
    assert out == [] and checkins(bot) == []
    entries: list[str] = []
    for i in range(40):
        entries.append(f"成员{i:02d} 打卡第{i + 1}天 深蹲{i}个")
        out += jielong(bot, f"wxid_{i:02d}", entries, name=f"成员{i:02d}", ts=T + timedelta(minutes=10 * i))
        if i == 20:
            out += jielong(bot, "wxid_lurker", entries, name="路人")  # passed on again: nothing
            edited = [*entries[:-1], entries[-1] + "（代改）"]
            out += jielong(bot, "wxid_editor", edited, name="热心人")  # another's entry: nothing
            entries = edited
        if i == 30:
            entries[3] += "，补充：还跑了2公里"
            out += jielong(bot, "wxid_03", entries, name="成员03")  # their own edit: counts once
    rows = checkins(bot)
    assert len(rows) == 40 and len({m for m, _, _ in rows}) == 40
    assert {m for m, _, _ in rows} == {f"wxid_{i:02d}" for i in range(40)}
    assert dict((m, n) for m, _, n in rows)["wxid_07"] == "打卡第8天 深蹲7个"
    assert dict((m, n) for m, _, n in rows)["wxid_03"] == "打卡第4天 深蹲3个"  # the note as first written
    assert texts(out).count("成功") == 40 and "今天已经打过" not in texts(out)
    assert bot.scalar("SELECT sum(delta) FROM pointsentry WHERE kind = 'checkin'") == 400


def test_the_same_version_delivered_twice_counts_once(bot: Bot):
    jielong(bot, "wxid_q", ["阿青 跑步"], name="阿青", ts=T, id="jl-1")
    assert jielong(bot, "wxid_q", ["阿青 跑步"], name="阿青", id="jl-1") == []
    assert len(checkins(bot)) == 1


def test_a_list_for_no_task_is_chat(bot: Bot):
    out = jielong(bot, "wxid_q", ["阿青 2人", "小舟 1人"], name="阿青", header="#接龙\n\n周六聚餐报名\n", ts=T)
    assert out == [] and checkins(bot) == []
    assert bot.rows("SELECT type, kind FROM eventlog") == [("message", "jielong")]
    assert bot.scalar("SELECT sum(messages) FROM dailyactivity") == 1  # the member spoke


def test_a_list_with_no_entries_and_an_absence_count_nothing(bot: Bot):
    assert jielong(bot, "wxid_q", [], name="阿青", ts=T) == []
    assert jielong(bot, "wxid_z", ["小舟 请假"], name="小舟") == []
    assert checkins(bot) == []


def test_an_operators_list_is_for_the_day_it_was_started(bot: Bot):
    """Started at 22:00 on the 1st by the operator: entries after midnight count for the 1st;
    a member's own list counts for the day each entry is added."""
    header = "@班长 打卡#接龙\n\n12月1日打卡\n"
    jielong(bot, ADMIN, [], name="班长", header=header, ts=datetime.fromisoformat("2026-12-01T22:00:00+08:00"))
    jielong(bot, "wxid_q", ["阿青 跑步"], name="阿青", header=header,
            ts=datetime.fromisoformat("2026-12-01T23:00:00+08:00"))
    jielong(bot, "wxid_z", ["阿青 跑步", "小舟 读书"], name="小舟", header=header,
            ts=datetime.fromisoformat("2026-12-02T07:00:00+08:00"))
    other = "@木木 打卡#接龙\n\n一起打卡\n"
    jielong(bot, "wxid_m", ["木木 早起"], name="木木", header=other,
            ts=datetime.fromisoformat("2026-12-01T23:30:00+08:00"))
    jielong(bot, "wxid_k", ["木木 早起", "小可 早起"], name="小可", header=other,
            ts=datetime.fromisoformat("2026-12-02T06:00:00+08:00"))
    assert sorted(bot.rows("SELECT member, day FROM checkin")) == [
        ("wxid_k", "2026-12-02"), ("wxid_m", "2026-12-01"), ("wxid_q", "2026-12-01"), ("wxid_z", "2026-12-01")]


def test_a_group_whose_members_put_their_names_first(bot: Bot):
    bot.say(ADMIN, "/task reply 打卡 each", ts=T - timedelta(hours=1))
    names = ["阿青", "小舟", "木木", "Lily", "大熊🐻", "跑跑-减脂"]
    bot.roster([{"id": f"wxid_{i}", "name": n} for i, n in enumerate(names)], ts=T - timedelta(hours=1))
    out = []
    for day in range(3):
        for i, n in enumerate(names):
            out += bot.say(f"wxid_{i}", f"{n} 打卡第{day + 1}天 跑步{i + 1}公里",
                           name=n, ts=T + timedelta(days=day, minutes=i))
    assert bot.scalar("SELECT count(*) FROM checkin") == 18
    assert texts(out).count("成功") == 18
    assert bot.rows("SELECT note FROM checkin WHERE member = 'wxid_4' ORDER BY day") == [
        ("第1天 跑步5公里",), ("第2天 跑步5公里",), ("第3天 跑步5公里",)]
    assert bot.scalar("SELECT count(*) FROM checkin WHERE member = 'wxid_5'") == 3
    # someone else's name first is a reminder to them, not a check-in
    assert bot.say("wxid_0", "小舟 打卡", name="阿青", ts=T + timedelta(days=3)) == []


def test_a_recalled_version_uncounts_its_checkin(bot: Bot):
    jielong(bot, "wxid_q", ["阿青 跑步"], name="阿青", ts=T, id="jl-1")
    jielong(bot, "wxid_z", ["阿青 跑步", "小舟 读书"], name="小舟", id="jl-2")
    bot.feed({"type": "recall", "id": "rc-1", "ts": (T + timedelta(minutes=5)).isoformat(), "member": "wxid_z",
              "room": ROOM, "message": "jl-2"})
    assert [m for m, _, _ in checkins(bot)] == ["wxid_q"]
    assert bot.scalar("SELECT points FROM member WHERE id = 'wxid_z'") == 0


def test_versions_within_one_second_are_told_apart_by_how_far_the_list_grew(bot: Bot):
    """Three versions and a resend in the same second, with ids that sort against their order."""
    entries = ["阿青 跑步", "小舟 读书", "木木 早起"]
    for i, (member, name) in enumerate([("wxid_q", "阿青"), ("wxid_z", "小舟"), ("wxid_m", "木木")]):
        jielong(bot, member, entries[: i + 1], name=name, ts=T, id=("jl-1", "jl-9", "jl-5")[i])
    jielong(bot, "wxid_q", entries, name="阿青", ts=T, id="jl-0")  # sent on again by the first
    assert sorted(m for m, _, _ in checkins(bot)) == ["wxid_m", "wxid_q", "wxid_z"]
    assert bot.rows("SELECT kind FROM eventlog WHERE id = 'jl-0'") == [("jielong",)]  # chat, not a check-in
