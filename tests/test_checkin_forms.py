"""Check-ins replayed as members write them: notes, homework tasks, overnight windows, summaries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.checkin_lines import LINES, NAMES
from tests.harness import ADMIN, ROOM, Bot, texts


def checkins(bot: Bot, member: str | None = None) -> list[tuple]:
    q = "SELECT member, day, note FROM checkin"
    return bot.rows(q + (" WHERE member = :m" if member else "") + " ORDER BY ts", m=member)


def test_the_recognition_table_through_the_whole_bot(bot: Bot):
    bot.say(ADMIN, "/task add 早起打卡 triggers=早起打卡", ts="2026-11-02T05:00:00+08:00")
    bot.say(ADMIN, "/task add 读书打卡 triggers=读书打卡")
    for task in ("打卡", "早起打卡", "读书打卡"):  # every check-in answered: more than 20 in the day
        bot.say(ADMIN, f"/task reply {task} each")
    # Every line's writer is called 小舟, with the group nickname 舟舟 (tests/checkin_lines.py).
    members = [f"wxid_m{i:02d}" for i in range(len(LINES))]  # each may check in once a day
    bot.roster([{"id": m, "name": NAMES[0], "room_alias": NAMES[1]} for m in members])
    start = datetime.fromisoformat("2026-11-02T06:00:00+08:00")
    for i, (line, trigger, note) in enumerate(LINES):
        out = bot.say(members[i], line, name=NAMES[0], ts=start + timedelta(minutes=5 * i))
        stored = checkins(bot, members[i])
        if trigger is None:
            assert stored == [] and out == [], line
        elif trigger.startswith("补"):  # a make-up: no card yet, so nothing is filled
            assert stored == [] and "还没有补签卡" in texts(out), line
        else:
            assert [n for _, _, n in stored] == [note], line
            assert "成功" in texts(out), line
    chat = [line for line, trigger, _ in LINES if trigger is None]
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE kind IS NULL AND type = 'message'") == len(chat)


def test_the_recognition_table_in_one_batch_reads_every_writers_names_as_one_by_one(bot: Bot):
    """One batch of all the lines (an import, a replay): the group nicknames before a trigger are
    read for the whole batch at once, and the check-ins are the same as one message at a time."""
    bot.say(ADMIN, "/task add 早起打卡 triggers=早起打卡", ts="2026-11-02T05:00:00+08:00")
    bot.say(ADMIN, "/task add 读书打卡 triggers=读书打卡")
    members = [f"wxid_m{i:02d}" for i in range(len(LINES))]
    bot.roster([{"id": m, "name": NAMES[0], "room_alias": NAMES[1]} for m in members])
    start = datetime.fromisoformat("2026-11-02T06:00:00+08:00")
    bot.feed(*({"type": "message", "id": f"one{i}", "ts": (start + timedelta(minutes=5 * i)).isoformat(),
                "sender": members[i], "sender_name": NAMES[0], "text": line, "room": ROOM, "room_name": "读书群"}
               for i, (line, _, _) in enumerate(LINES)), silent=True)
    for i, (line, trigger, note) in enumerate(LINES):
        stored = [n for _, _, n in checkins(bot, members[i])]
        assert stored == ([] if trigger is None or trigger.startswith("补") else [note]), line
    assert any(line.startswith(NAMES[1]) for line, trigger, _ in LINES if trigger), "lines led by the group nickname"


def test_the_note_is_stored_and_acknowledged(bot: Bot):
    [reply] = bot.say("wxid_a", "打卡 今天读了20页")
    assert "成功" in reply.text and "心得已记下" in reply.text
    assert checkins(bot) == [("wxid_a", "2026-11-02", "今天读了20页")]


def test_the_old_way_of_naming_a_task_still_works(bot: Bot):
    bot.say(ADMIN, "/task add 早起打卡 triggers=早起打卡", ts="2026-11-02T06:00:00+08:00")
    [reply] = bot.say("wxid_a", "打卡 早起打卡")
    assert "「早起打卡」成功" in reply.text
    assert bot.rows("SELECT note FROM checkin") == [(None,)]


def test_a_homework_task_says_when_the_note_is_missing(bot: Bot):
    bot.say(ADMIN, "/task add 作业打卡 triggers=交作业 note=10", ts="2026-11-02T06:00:00+08:00")
    [reply] = bot.say("wxid_a", "交作业")
    assert "要写上心得才算哦（至少 10 个字）" in reply.text and "交作业 今天读了" in reply.text
    assert checkins(bot) == []
    [reply] = bot.say("wxid_a", "交作业：第三章讲课题分离，别人的课题不要插手")
    assert "成功" in reply.text
    assert checkins(bot) == [("wxid_a", "2026-11-02", "第三章讲课题分离，别人的课题不要插手")]


def test_an_overnight_window_across_two_nights(bot: Bot):
    bot.say(ADMIN, "/task add 晚安打卡 triggers=晚安打卡 window=22:00-02:00", ts="2026-11-01T12:00:00+08:00")
    assert "成功！已连续 1 天" in texts(bot.say("wxid_a", "晚安打卡", ts="2026-11-01T23:00:00+08:00"))
    assert "今天已经打过" in texts(bot.say("wxid_a", "晚安打卡", ts="2026-11-02T01:00:00+08:00"))  # same night
    assert "成功！已连续 1 天" in texts(bot.say("wxid_b", "晚安打卡", ts="2026-11-02T01:00:00+08:00"))
    assert "成功！已连续 2 天" in texts(bot.say("wxid_a", "晚安打卡", ts="2026-11-02T23:30:00+08:00"))
    assert "成功！已连续 2 天" in texts(bot.say("wxid_b", "晚安打卡", ts="2026-11-03T00:10:00+08:00"))
    assert "打卡时间是 22:00–次日02:00" in texts(bot.say("wxid_c", "晚安打卡", ts="2026-11-03T02:00:00+08:00"))
    assert bot.rows("SELECT member, day FROM checkin ORDER BY member, day") == [
        ("wxid_a", "2026-11-01"), ("wxid_a", "2026-11-02"), ("wxid_b", "2026-11-01"), ("wxid_b", "2026-11-02")]
    out = bot.say("wxid_a", "我的等级", ts="2026-11-03T01:00:00+08:00")
    assert "连续" in texts(out)


def test_summary_mode_sends_one_summary_at_the_windows_end(bot: Bot):
    bot.say(ADMIN, "/task add 早起打卡 triggers=早起打卡 window=05:00-09:00 reply=summary",
            ts="2026-11-02T04:00:00+08:00")
    out = []
    for i in range(30):
        out += bot.say(f"wxid_m{i:02d}", "早起打卡", ts=f"2026-11-02T06:{i:02d}:00+08:00")
    assert out == []  # no reply storm
    assert bot.time_passes("2026-11-02T08:59:00+08:00") == []
    [summary] = bot.time_passes("2026-11-02T09:00:00+08:00")
    assert summary.room == ROOM and summary.mentions == ()
    assert summary.text.startswith("「早起打卡」今日已打卡 30 人 🎉")
    assert bot.time_passes("2026-11-02T09:30:00+08:00") == []  # once
    # After the summary, a late check-in would be answered by itself (here: outside the window).
    assert "打卡时间是" in texts(bot.say("wxid_late", "早起打卡", ts="2026-11-02T09:10:00+08:00"))


def test_auto_answers_the_first_twenty_then_sums_up_at_22(bot: Bot):
    replies = []
    for i in range(46):
        replies += bot.say(f"wxid_m{i:02d}", "打卡", ts=f"2026-11-02T{19 + i // 30:02d}:{i % 30 * 2:02d}:00+08:00")
    assert sum("成功" in r.text for r in replies) == 20
    summaries = bot.time_passes("2026-11-02T22:00:00+08:00")
    assert [s.text for s in summaries] == ["「打卡」今日已打卡 46 人 🎉"]


def test_the_summary_counts_long_streaks_and_names_level_ups(bot: Bot):
    bot.say(ADMIN, "/task reply 打卡 summary", ts="2026-11-01T08:00:00+08:00")
    for d in range(1, 9):  # wxid_a checks in eight days running; wxid_b only today
        bot.say("wxid_a", "打卡", name="Alice", ts=f"2026-11-{d:02d}T08:00:00+08:00")
        if d < 8:
            assert len(bot.time_passes(f"2026-11-{d:02d}T22:00:00+08:00")) == 1
        if d == 7:  # 90 points after seven days; 50 more from a manager the next morning
            bot.say(ADMIN, "/points @Alice\u2005+50 分享读书笔记", mentions=["wxid_a"],
                    ts="2026-11-08T07:00:00+08:00")
    bot.say("wxid_b", "打卡", name="Bob", ts="2026-11-08T08:30:00+08:00")
    [summary] = bot.time_passes("2026-11-08T22:00:00+08:00")
    assert summary.text == "「打卡」今日已打卡 2 人，连续 7 天以上 1 人 🎉\n升级：Alice（Lv3「茁壮」）"


def test_room_reply_mode_is_the_rooms_own(bot: Bot):
    out = bot.say(ADMIN, "/task reply 打卡 summary", ts="2026-11-02T08:00:00+08:00")
    assert "本群：只发每日汇总" in texts(out)
    assert bot.say("wxid_a", "打卡") == []
    assert "成功" in texts(bot.say("wxid_b", "打卡", room="r2@chatroom"))
    assert "应为 each" in texts(bot.say(ADMIN, "/task reply 打卡 sometimes"))


def test_a_room_near_its_hourly_cap_folds_confirmations_into_the_summary(bot: Bot):
    # 40 messages an hour is all a room gets: a confirmation would wait an hour behind them.
    bot.say(ADMIN, "/task reply 打卡 each", ts="2026-11-02T20:00:00+08:00")
    replies = []
    for i in range(40):
        replies += bot.say(f"wxid_m{i:02d}", "我的等级", ts=f"2026-11-02T20:{i:02d}:00+08:00")
    assert bot.say("wxid_x", "打卡", ts="2026-11-02T20:45:00+08:00") == []
    [summary] = bot.time_passes("2026-11-02T22:00:00+08:00")
    assert "已打卡 1 人" in summary.text


@pytest.mark.parametrize("text", ["打卡", "打卡 今天读了20页"])
def test_a_1to1_check_in_is_always_answered(bot: Bot, text: str):
    bot.say(ADMIN, "/task reply 打卡 summary", room=None, ts="2026-11-02T08:00:00+08:00")
    assert "成功" in texts(bot.say("wxid_a", text, room=None))


def test_a_long_replay_sends_each_days_summary_on_its_day(bot: Bot):
    """Three days in one batch: time moves with the events, so each summary goes out at 22:00
    of its own day ("今日"), and names only that day's level-ups."""
    bot.say(ADMIN, "/task reply 打卡 summary", ts="2026-11-01T08:00:00+08:00")
    events = []
    for d in (1, 2, 3):
        for i in range(12):
            events.append({"type": "message", "id": f"c{d}-{i}", "ts": f"2026-11-{d:02d}T08:{i:02d}:00+08:00",
                           "room": ROOM, "sender": f"wxid_m{i:02d}", "sender_name": f"成员{i}", "text": "打卡"})
        events.append({"type": "message", "id": f"chat{d}", "ts": f"2026-11-{d:02d}T23:00:00+08:00",
                       "room": ROOM, "sender": "wxid_x", "text": "晚安，大家明天见"})
    summaries = [o.text for o in bot.feed(*events) if "已打卡" in o.text]
    assert summaries == ["「打卡」今日已打卡 12 人 🎉"] * 3
