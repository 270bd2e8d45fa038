"""A check-in with a note (心得) counts as a counted message for speaking; a bare 打卡 does not."""

from __future__ import annotations

from tests.harness import ADMIN, Bot, texts


def test_a_member_who_writes_every_day_is_core_not_a_lurker(bot: Bot):
    for m in ("writer", "bare", "talker", "other"):
        bot.join(m, ts="2026-09-01T10:00:00+08:00")
    for day in range(1, 21):
        ts = f"2026-11-{day:02d}T08:00:00+08:00"
        bot.say("writer", f"打卡 第{day}天，今天读了二十页，记下三点想法", ts=ts)
        bot.say("bare", "打卡")
        bot.say("talker", f"第{day}天的读书讨论")
        if day % 3 == 0:
            bot.say("other", f"路过看看第{day}天")
    counted = dict(bot.rows("SELECT member, sum(counted) FROM dailyactivity GROUP BY member"))
    assert counted["writer"] == 20 and counted["talker"] == 20
    assert counted.get("bare", 0) == 0  # a bare 打卡 is no message
    core = texts(bot.say(ADMIN, "/who 核心", ts="2026-11-20T22:00:00+08:00"))
    assert "writer" in core and "talker" in core
    assert "bare" in texts(bot.say(ADMIN, "/who 潜水"))
    [card] = bot.say("writer", "我的等级")
    assert "发言 20 条" in card.text
    # a note pays a speaking point like any counted message, at most once a minute
    assert bot.scalar("SELECT count(*) FROM pointsentry WHERE member = 'writer' AND kind = 'speaking'") == 20


def test_a_refused_check_in_and_a_repeat_count_nothing(bot: Bot):
    bot.say("a", "打卡 今天读了二十页", ts="2026-11-02T08:00:00+08:00")
    bot.say("a", "打卡 又读了十页", ts="2026-11-02T09:00:00+08:00")  # already checked in today
    assert bot.scalar("SELECT sum(counted) FROM dailyactivity WHERE member = 'a'") == 1


def test_the_type_explanation_says_so(bot: Bot):
    bot.join(ADMIN, ts="2026-09-01T10:00:00+08:00")
    bot.say(ADMIN, "打卡 今天读了二十页", ts="2026-11-02T08:00:00+08:00")
    assert "发言1条" in (said := texts(bot.say(ADMIN, "/me"))) and "发言含带心得的打卡" in said


def test_a_check_in_note_counts_toward_count_rules_in_a_process_that_keeps_running(bot: Bot):
    """A count rule judges the member on the messages it keeps in memory: a check-in's note that
    counted as speaking must be among them (6303abb), as it is in the day's counters that a
    restarted process reads back. Without it the running process saw 2 of 3 and gave no tag."""
    bot.say(ADMIN, "/rule add count 活跃 3 7", ts="2026-11-20T09:00:00+08:00")
    bot.say("writer", "打卡 今天读了二十页，记下三点想法", ts="2026-11-20T10:00:00+08:00")
    bot.say("writer", "今天的读书讨论真有意思，学到很多", ts="2026-11-20T11:00:00+08:00")
    assert bot.scalar("SELECT sum(counted) FROM dailyactivity WHERE member = 'writer'") == 2
    assert bot.scalar("SELECT count(*) FROM membertag WHERE member = 'writer' AND tag = '活跃'") == 0
    bot.say("writer", "明天继续读下一章，大家一起加油", ts="2026-11-20T12:00:00+08:00")
    assert bot.scalar("SELECT sum(counted) FROM dailyactivity WHERE member = 'writer'") == 3
    assert bot.scalar("SELECT count(*) FROM membertag WHERE member = 'writer' AND tag = '活跃'") == 1
