"""Who hasn't checked in (未打卡, 今天谁没打卡), 打卡统计, the reminder, the grid, as operators use them."""

from __future__ import annotations

from tests.harness import ADMIN, ROOM, Bot, texts

OP = "wxid_op"
T = "2026-12-02T08:00:00+08:00"
NAMES = {f"wxid_{i}": f"小{'一二三四五六七八'[i - 1]}" for i in range(1, 9)}


def checkin(bot: Bot, member: str, ts: str, room: str = ROOM) -> list:
    return bot.say(member, "打卡", name=NAMES[member], ts=ts, room=room)


def community(bot: Bot) -> None:
    """读书群: the admin, an operator, eight members (小一…小八), one of whom left; 跑步群 too."""
    bot.roster([{"id": ADMIN, "name": "群主"}, {"id": OP, "name": "小运营"},
                *({"id": m, "name": n} for m, n in NAMES.items())],
               ts="2026-12-01T07:00:00+08:00")
    bot.roster([{"id": "wxid_r1", "name": "跑者"}, {"id": "wxid_1", "name": "小一"}], room="r2@chatroom")
    bot.say(ADMIN, "/operator @小运营", mentions=[OP])
    bot.leave("wxid_8")


def test_missing_lists_exactly_the_members_without_a_checkin_today(bot: Bot):
    community(bot)
    for m in ("wxid_1", "wxid_3"):
        checkin(bot, m, T)
    checkin(bot, "wxid_2", "2026-12-01T09:00:00+08:00")  # yesterday's
    checkin(bot, "wxid_4", T, room="r2@chatroom")  # another group: still checked in today
    out = bot.say(OP, "未打卡", ts="2026-12-02T20:00:00+08:00")
    [dm] = out
    assert dm.room is None and dm.to == OP  # DM'd, never in front of the group
    assert dm.text == "「打卡」12月2日（读书群）未打卡 4/7 人：小七、小二、小五、小六"
    assert "小八" not in dm.text and "群主" not in dm.text and "小运营" not in dm.text
    # the same question as people ask it, and by an admin, 1:1 with the group named
    assert texts(bot.say(ADMIN, "今天谁没打卡")) == dm.text
    assert texts(bot.say(OP, "未打卡 读书群", room=None)) == dm.text


def test_missing_is_for_operators_and_names_what_is_wrong(bot: Bot):
    community(bot)
    [refusal] = bot.say("wxid_1", "未打卡", ts=T)
    assert "只有运营可以用" in refusal.text and refusal.room == ROOM
    [unknown] = bot.say(OP, "未打卡 早起", ts=T)
    assert "没有叫「早起」的打卡任务或群" in unknown.text and "现有任务：打卡" in unknown.text
    bot.say(ADMIN, "/operator @跑者", mentions=["wxid_r1"], room="r2@chatroom")
    [which] = bot.say(ADMIN, "未打卡", room=None)
    assert "请写上群名" in which.text and "读书群" in which.text


def test_everyone_checked_in(bot: Bot):
    community(bot)
    for i in range(1, 8):
        checkin(bot, f"wxid_{i}", T)
    assert texts(bot.say(OP, "未打卡")) == "「打卡」12月2日（读书群）：7 人全部打卡了 🎉"


def test_stats_of_a_day_and_a_week(bot: Bot):
    community(bot)
    for day in range(1, 3):  # 小一 and 小二 on the 1st and the 2nd, 小三 on the 1st only
        for m in ("wxid_1", "wxid_2") + (("wxid_3",) if day == 1 else ()):
            checkin(bot, m, f"2026-12-0{day}T08:00:00+08:00")
    today = texts(bot.say(OP, "打卡统计", ts="2026-12-02T20:00:00+08:00"))
    assert today.splitlines() == ["「打卡」今天打卡统计（读书群）", "已打卡 2/7 人，打卡率 29%",
                                  "连续天数：1–2 天 3 人", "新开始连续 0 人，断签 0 人次"]
    week = texts(bot.say(OP, "打卡统计 本周"))
    assert "3 天共 5 次，3/7 人打过卡，打卡率 24%" in week  # Monday 11-30 to today: 5 of 21
    assert "每天：11/30 0、12/1 3、12/2 2" in week
    assert "新开始连续 3 人" in week
    day = texts(bot.say(OP, "打卡统计 12-01"))
    assert "已打卡 3/7 人" in day
    # the next day: 小三's streak broke on the 2nd, the others' go on
    day = texts(bot.say(OP, "打卡统计 12月2日", ts="2026-12-03T09:00:00+08:00"))
    assert "已打卡 2/7 人" in day and "连续天数：1–2 天 2 人" in day and "断签 1 人次" in day
    assert "应为 今天、昨天、本周、本月 或日期" in texts(bot.say(OP, "打卡统计 上周"))
    assert "还没到" in texts(bot.say(OP, "打卡统计 12-25"))


def test_the_reminder_mentions_at_most_20_and_never_an_opted_out_member(bot: Bot):
    members = [f"wxid_p{i:02d}" for i in range(30)]
    bot.roster([{"id": ADMIN, "name": "群主"}, {"id": OP, "name": "小运营"},
                *({"id": m, "name": f"成员{m[-2:]}"} for m in members)], ts="2026-12-01T07:00:00+08:00")
    bot.say(ADMIN, "/operator @小运营", mentions=[OP])
    out = bot.say(ADMIN, "/task set 打卡 remind_missing=21:00")
    assert "21:00 提醒未打卡的成员" in texts(out)
    bot.say("wxid_p00", "退订")  # no 群发 or reminders
    bot.say("wxid_p01", "不参与排行")
    bot.leave("wxid_p02")
    for m in ("wxid_p03", "wxid_p04"):  # checked in today
        bot.say(m, "打卡", ts="2026-12-01T08:00:00+08:00")
    bot.say("wxid_p29", "打卡", ts="2026-11-30T08:00:00+08:00")  # yesterday: a streak to keep
    assert bot.time_passes("2026-12-01T20:59:00+08:00") == []
    [reminder] = bot.time_passes("2026-12-01T21:00:00+08:00")
    assert reminder.room == ROOM and len(reminder.mentions) == 20
    left_out = {ADMIN, OP, "wxid_p00", "wxid_p01", "wxid_p02", "wxid_p03", "wxid_p04"}
    assert not left_out & set(reminder.mentions)
    assert reminder.mentions[0] == "wxid_p29"  # the streak at risk first
    assert reminder.text == "⏰「打卡」今天还没结束，还没打卡的朋友记得来打卡哦～（共 25 人未打卡）"
    assert bot.time_passes("2026-12-01T21:30:00+08:00") == []  # once a day
    assert bot.time_passes("2026-12-02T20:00:00+08:00") == []
    [again] = bot.time_passes("2026-12-02T21:00:01+08:00")
    assert len(again.mentions) == 20 and "wxid_p03" in again.mentions  # a new day
    assert bot.rows("SELECT count(*) FROM checkinnotice") == [(2,)]


def test_a_windowed_reminder_names_the_end_and_never_comes_after_it(bot: Bot):
    bot.roster(["wxid_1", "wxid_2", "wxid_3"], ts="2026-12-01T04:00:00+08:00")
    bot.say(ADMIN, "/task add 早起 triggers=早起打卡 window=05:00-09:00 remind_missing=08:30",
            ts="2026-12-01T04:30:00+08:00")
    bot.say("wxid_1", "早起打卡", ts="2026-12-01T06:00:00+08:00")
    [reminder] = bot.time_passes("2026-12-01T08:31:00+08:00")
    assert reminder.text.startswith("⏰「早起」09:00 截止") and set(reminder.mentions) == {"wxid_2", "wxid_3"}
    assert bot.time_passes("2026-12-02T09:10:00+08:00") == []  # too late to help: not sent
    for m in ("wxid_2", "wxid_3"):
        bot.say(m, "早起打卡", ts="2026-12-03T06:00:00+08:00")
    bot.say("wxid_1", "早起打卡", ts="2026-12-03T06:00:00+08:00")
    assert bot.time_passes("2026-12-03T08:30:00+08:00") == []  # everyone checked in: nothing to say


def test_a_reminder_outside_the_window_is_refused(bot: Bot):
    out = bot.say(ADMIN, "/task add 早起 triggers=早起打卡 window=05:00-09:00 remind_missing=21:00", ts=T)
    assert "提醒时间 21:00 应在打卡时间段 05:00-09:00 之内" in texts(out)
    assert bot.rows("SELECT name FROM checkintask WHERE name = '早起'") == []
    bot.say(ADMIN, "/task add 夜读 triggers=夜读打卡 window=22:00-02:00")
    assert "01:30 提醒未打卡的成员" in texts(bot.say(ADMIN, "/task set 夜读 remind_missing=01:30"))
    assert "应写成 HH:MM" in texts(bot.say(ADMIN, "/task set 夜读 remind_missing=九点"))
    bot.roster(["wxid_1", "wxid_2"], ts="2026-12-01T20:00:00+08:00")
    bot.say("wxid_1", "夜读打卡", ts="2026-12-01T23:00:00+08:00")
    assert bot.time_passes("2026-12-01T23:30:00+08:00") == []  # the night's reminder is after midnight
    [night] = bot.time_passes("2026-12-02T01:31:00+08:00")
    assert night.mentions == ("wxid_2",) and "02:00 截止" in night.text


def test_public_missing_answers_in_the_group(bot: Bot):
    community(bot)
    checkin(bot, "wxid_1", T)
    bot.say(ADMIN, "/task set 打卡 public_missing=on")
    [said] = bot.say(OP, "今天谁没打卡", ts="2026-12-02T20:00:00+08:00")
    assert said.room == ROOM and said.text.startswith("「打卡」12月2日（读书群）未打卡 6/7 人：")
    [dm] = bot.say(OP, "未打卡 读书群", room=None)  # asked 1:1: answered 1:1
    assert dm.room is None and dm.text == said.text
