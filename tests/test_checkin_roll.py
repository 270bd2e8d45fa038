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
