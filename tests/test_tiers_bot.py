"""Check-ins, points, levels, types and their commands, through the real pipeline."""

from __future__ import annotations

import itertools

import pytest

from tests.harness import ADMIN, ROOM, Bot, texts
from tiers import antifarm


def checkin_days(bot: Bot, member: str) -> list[str]:
    return [d for (d,) in bot.rows("SELECT day FROM checkin WHERE member=:m ORDER BY day", m=member)]


def points(bot: Bot, member: str) -> int:
    return bot.scalar("SELECT points FROM member WHERE id=:m", m=member)


def test_checkin_in_a_group_replies_with_a_mention(bot: Bot):
    [reply] = bot.say("a", "打卡", ts="2026-11-01T08:00:00+08:00")
    assert (reply.room, reply.to, reply.mentions) == (ROOM, "a", ("a",))
    assert "成功" in reply.text and "连续 1 天" in reply.text and "+10" in reply.text
    assert points(bot, "a") == 10
    assert bot.rows("SELECT kind, delta, reason FROM pointsentry") == [("checkin", 10, "打卡 第 1 天")]


def test_second_checkin_same_day_counts_nothing(bot: Bot):
    bot.say("a", "打卡", ts="2026-11-01T08:00:00+08:00")
    [reply] = bot.say("a", "签到", ts="2026-11-01T21:00:00+08:00")
    assert "已经打过" in reply.text and "连续 1 天" in reply.text
    assert points(bot, "a") == 10 and checkin_days(bot, "a") == ["2026-11-01"]
    assert bot.scalar("SELECT sum(checkins) FROM dailyactivity") == 1


def test_checkin_day_is_the_shanghai_day(bot: Bot):
    bot.say("a", "打卡", ts="2026-11-01T15:59:00+00:00")  # 23:59 Nov 1 local
    [reply] = bot.say("a", "打卡", ts="2026-11-01T16:01:00+00:00")  # 00:01 Nov 2 local
    assert "连续 2 天" in reply.text
    assert checkin_days(bot, "a") == ["2026-11-01", "2026-11-02"]


def test_streak_breaks_on_a_missed_day_and_cards_come_every_7_days(bot: Bot):
    for day in range(1, 8):
        replies = bot.say("a", "打卡", ts=f"2026-11-{day:02d}T08:00:00+08:00")
    assert "连续 7 天" in texts(replies) and "补签卡" in texts(replies) and "额外奖励 20" in texts(replies)
    assert points(bot, "a") == 7 * 10 + 20
    [reply] = bot.say("a", "打卡", ts="2026-11-09T08:00:00+08:00")  # missed Nov 8
    assert "连续 1 天" in reply.text
    [reply] = bot.say("a", "补签", ts="2026-11-09T09:00:00+08:00")
    assert "补上 11-08" in reply.text and "连续 9 天" in reply.text and "还剩 0 张" in reply.text
    [reply] = bot.say("a", "/makeup", ts="2026-11-09T09:10:00+08:00")
    assert "不需要补签" in reply.text  # yesterday is filled now
    [reply] = bot.say("a", "补签", ts="2026-11-11T09:00:00+08:00")
    assert "没有补签卡" in reply.text
    assert bot.scalar("SELECT count(*) FROM checkin WHERE made_up") == 1


def test_cards_are_capped_at_three(bot: Bot):
    for day in range(28):
        bot.say("a", "打卡", ts=f"2026-10-{1 + day:02d}T08:00:00+08:00")
    assert bot.scalar("SELECT cards FROM checkincards WHERE member='a'") == 3


def test_level_up_is_announced_in_the_room_with_a_mention(bot: Bot):
    bot.say(ADMIN, "打卡", ts="2026-11-01T08:00:00+08:00")
    replies = bot.say(ADMIN, "/points @a +45 活动奖励", mentions=["a"], ts="2026-11-01T09:00:00+08:00")
    assert "还没有" in texts(replies)  # a has never been seen: nothing to add points to
    assert bot.scalar("SELECT count(*) FROM pointsentry WHERE member='a'") == 0
    bot.say("a", "大家早上好呀", ts="2026-11-01T09:01:00+08:00")
    replies = bot.say(ADMIN, "/points @a +45 活动奖励", mentions=["a"], ts="2026-11-01T09:02:00+08:00")
    assert "已为 a 加 45 分" in texts(replies)
    assert points(bot, "a") == 46  # 1 speaking point + 45
    replies = bot.say("a", "打卡", ts="2026-11-01T10:00:00+08:00")
    up = [r for r in replies if "恭喜" in r.text]
    assert len(up) == 1 and up[0].room == ROOM and up[0].mentions == ("a",)
    assert "Lv2「青苗」" in up[0].text


def test_manual_points_are_ledger_rows_with_reason_and_manager(bot: Bot):
    bot.say("a", "hello world", ts="2026-11-01T09:00:00+08:00")
    bot.say(ADMIN, "调积分 a -5 刷屏", ts="2026-11-01T09:05:00+08:00")
    assert bot.rows("SELECT delta, kind, reason, by FROM pointsentry WHERE kind='manual'") == [
        (-5, "manual", "刷屏", ADMIN)]
    assert points(bot, "a") == 1 - 5
    assert bot.scalar("SELECT sum(delta) FROM pointsentry WHERE member='a'") == points(bot, "a")


@pytest.mark.parametrize("args, why", [
    ("/points a 十分 奖励", "分数应为 -100000 到 100000 之间的整数，你写的是「十分」"),
    ("/points a +5", "请写出一位成员、分数和原因"),
    ("/points a 0 无", "分数不能是 0"),
    ("/points nobody +5 奖励", "找不到成员"),
])
def test_bad_point_adjustments_change_nothing(bot: Bot, args, why):
    bot.say("a", "hello there", ts="2026-11-01T09:00:00+08:00")
    before = bot.rows("SELECT * FROM pointsentry")
    [reply] = bot.say(ADMIN, args)
    assert why in reply.text and "用法" in reply.text
    assert bot.rows("SELECT * FROM pointsentry") == before


def test_speaking_anti_farming_and_daily_cap(bot: Bot):
    bot.at("2026-11-01T08:00:00+08:00")
    bot.say("a", "今天读了三十页")           # counted
    bot.tick(seconds=30)
    bot.say("a", "真的很好看")               # 30 s later: not counted
    bot.tick(seconds=60)
    bot.say("a", "[微笑][微笑]👍")            # nothing left after stripping: not counted
    bot.tick(seconds=60)
    bot.say("a", "好")                       # one character: not counted
    bot.tick(seconds=60)
    bot.say("a", "好的")                     # counted
    assert bot.rows("SELECT messages, counted FROM dailyactivity WHERE member='a'") == [(5, 2)]
    for _ in range(30):
        bot.tick(seconds=61)
        bot.say("a", "继续聊聊这本书")
    assert bot.scalar("SELECT counted FROM dailyactivity WHERE member='a'") == 32
    assert bot.scalar("SELECT sum(delta) FROM pointsentry WHERE kind='speaking'") == 20


def test_checkin_task_with_window_and_challenge(bot: Bot):
    [reply] = bot.say(ADMIN, "/task add 早起打卡 window=05:00-09:00 points=15 days=3",
                      ts="2026-11-01T04:00:00+08:00")
    assert "已添加打卡任务" in reply.text and "05:00–09:00" in reply.text
    [reply] = bot.say("a", "早起打卡", ts="2026-11-01T09:00:00+08:00")
    assert "05:00–09:00" in reply.text and "不算" in reply.text
    assert checkin_days(bot, "a") == []
    bot.say("a", "早起打卡", ts="2026-11-01T05:00:00+08:00")
    bot.say("a", "早起打卡", ts="2026-11-02T06:00:00+08:00")
    [reply] = bot.say("a", "早起打卡", ts="2026-11-03T06:00:00+08:00")
    assert "3 天挑战完成" in reply.text
    assert points(bot, "a") == 45
    replies = bot.say("a", "打卡", ts="2026-11-03T06:10:00+08:00")  # the default task is separate
    assert "「打卡」成功" in replies[0].text and "Lv2" in replies[1].text  # 45 + 10 ≥ 50


def test_task_commands_and_bad_input(bot: Bot):
    assert "已经有叫「打卡」的任务" in texts(bot.say(ADMIN, "/task add 打卡"))
    assert "应写成 05:00-09:00" in texts(bot.say(ADMIN, "/task add 夜读 window=晚上"))
    # a window that starts where it ends used to become 全天 without a word
    assert "开始和结束是同一时刻" in texts(bot.say(ADMIN, "/task add 午休 window=12:00-12:00"))
    assert "积分应为 1 到 1000 之间的整数，你写的是「-3」" in texts(bot.say(ADMIN, "/task add 夜读 points=-3"))
    assert "触发词「签到」已被" in texts(bot.say(ADMIN, "/task add 夜读 triggers=签到"))
    assert bot.scalar("SELECT count(*) FROM checkintask") == 1
    bot.say(ADMIN, "任务 添加 夜读 时间=21:00-23:59")
    listing = texts(bot.say(ADMIN, "/task list"))
    assert "#1 打卡" in listing and "夜读" in listing and "21:00–23:59" in listing
    assert "已停用" in texts(bot.say(ADMIN, "/task off 夜读"))
    replies = bot.say("a", "夜读", ts="2026-11-01T22:00:00+08:00")
    assert replies == []  # a disabled task's trigger is plain chat again
    assert "没有开启中的任务" in texts(bot.say(ADMIN, "/task off 夜读"))


def test_non_admin_is_refused_and_nothing_changes(bot: Bot):
    [reply] = bot.say("a", "/task add 偷偷加分")
    assert "只有管理员" in reply.text
    [reply] = bot.say("a", "调积分 a +1000 嘿嘿")
    assert "只有管理员" in reply.text
    assert bot.scalar("SELECT count(*) FROM checkintask") == 1
    assert bot.scalar("SELECT count(*) FROM pointsentry") == 0


def test_me_in_group_and_private(bot: Bot):
    bot.say("a", "打卡", ts="2026-11-01T08:00:00+08:00")
    [reply] = bot.say("a", "我的等级", ts="2026-11-01T09:00:00+08:00")
    assert reply.room == ROOM
    assert "Lv1「新芽」 · 10 积分" in reply.text and "还差 40 分" in reply.text
    assert "连续 1 天" in reply.text and "补签卡 0/3" in reply.text
    [reply] = bot.say("a", "/me", room=None)
    assert reply.room is None and reply.to == "a" and "10 积分" in reply.text


def test_four_types_with_median_and_absolute_thresholds(bot: Bot):
    # Everyone was already in the group long before the window.
    for m in ("core", "lurk", "burst", "dorm", "mid"):
        bot.join(m, ts="2026-09-01T10:00:00+08:00")
    for day in range(1, 21):
        ts = f"2026-11-{day:02d}T10:00:00+08:00"
        bot.say("core", f"第{day}天的读书笔记分享", ts=ts)
        bot.visit("lurk", ts=ts)
        if day % 2:
            bot.visit("mid", ts=ts)
    bot.at("2026-11-20T12:00:00+08:00")
    for i in range(25):
        bot.tick(seconds=70)
        bot.say("burst", f"连发第{i}条感想")
    bot.visit("dorm", ts="2026-11-02T10:00:00+08:00")
    bot.join("newbie", ts="2026-11-18T10:00:00+08:00")
    bot.say("newbie", "大家好，新人报到")
    # The split of a day is the medians of the complete days before it: asked the next morning,
    # the medians are those of the 20 days above (login days 20, 20, 10, 1, 1: 10).
    reply = texts(bot.say(ADMIN, "/tiers", ts="2026-11-21T09:00:00+08:00"))
    assert "核心成员：1 人" in reply and "潜水成员：2 人" in reply
    # The admin typing /tiers is present in the group for the first time today: new too.
    assert "间歇活跃：1 人" in reply and "沉默成员：1 人" in reply and "新成员：2 人" in reply
    assert "按中位数" in reply
    who = texts(bot.say(ADMIN, "/who 潜水"))
    assert "lurk" in who and "mid" in who
    [me] = bot.say("lurk", "我的等级")
    assert "最近 30 天来了 21 天，发言 0 条" in me.text  # 20 visits, and asking today
    assert "潜水" not in me.text and "中位数" not in me.text  # members never see internal labels
    # Absolute thresholds: 15 days and 15 messages.
    assert "已更新本群分类" in texts(bot.say(ADMIN, "/threshold login=15 speaking=15 window=30"))
    reply = texts(bot.say(ADMIN, "/tiers"))
    assert "潜水成员：1 人" in reply and "沉默成员：2 人" in reply and "按阈值" in reply
    assert "按中位数" in texts(bot.say(ADMIN, "/threshold median")) + texts(bot.say(ADMIN, "/threshold"))


@pytest.mark.parametrize("args, why", [
    ("/threshold login=-1 speaking=3", "登录天数阈值应为不小于 0 的整数"),
    ("/threshold login=3", "要一起设置"),
    ("/threshold window=0", "窗口天数应为 1 到 365 之间的整数"),
    ("/threshold foo=1", "不认识的选项「foo」"),
    ("/who 大佬", "不认识的成员类型"),
])
def test_bad_manager_input(bot: Bot, args, why):
    [reply] = bot.say(ADMIN, args)
    assert why in reply.text
    assert bot.scalar("SELECT count(*) FROM roomsettings") == 0


def test_rank_excludes_admins_operators_and_members_who_left(bot: Bot):
    bot.say("op", "打卡", ts="2026-11-02T07:30:00+08:00", name="小李运营")  # staff: never ranked
    assert "现在是本群的运营" in texts(bot.say(ADMIN, "/operator @小李运营", mentions=["op"],
                                           ts="2026-11-02T07:40:00+08:00"))
    bot.say("a", "打卡", ts="2026-11-02T08:00:00+08:00", name="Alice")
    bot.say("b", "打卡", ts="2026-11-02T08:01:00+08:00", name="Bob")
    bot.say("b", "今天天气真好", ts="2026-11-02T08:05:00+08:00", name="Bob")
    bot.say("c", "打卡", ts="2026-11-02T08:02:00+08:00", name="Carol")
    bot.say(ADMIN, "打卡", ts="2026-11-02T08:03:00+08:00")
    bot.leave("c", ts="2026-11-02T09:00:00+08:00")
    [reply] = bot.say("a", "排行", ts="2026-11-02T10:00:00+08:00", name="Alice")
    assert reply.text.splitlines()[1:] == ["1. Bob 11 分", "2. Alice 10 分"]
    [reply] = bot.say("a", "/rank today", room=None)
    assert "Carol" not in reply.text and ADMIN not in reply.text and "1. Bob" in reply.text
    assert "小李运营" not in reply.text
    assert "空的" in bot.say("a", "排行 本周", ts="2026-11-10T10:00:00+08:00")[0].text
    assert "不认识" in bot.say("a", "排行 去年")[0].text


def test_help_shows_only_what_this_person_may_use(bot: Bot):
    member = texts(bot.say("a", "帮助"))
    admin = texts(bot.say(ADMIN, "/help"))
    assert "打卡" in member and "/task" not in member and "管理员命令" not in member
    assert "管理员命令" in admin and "/task" in admin
    # a members' command with manager forms shows those to the managers only
    assert "积分商城（/shop）" in member and "/shop add" not in member and "管理员：" not in member
    assert "/shop add 名称 价格" in admin and "管理员上架" in admin


def test_speaking_cap_holds_across_a_restart_mid_day(tmp_path):
    first = Bot(tmp_path)
    first.at("2026-11-01T08:00:00+08:00")
    for _ in range(15):
        first.tick(seconds=61)
        first.say("a", "上午聊聊这本书")
    again = Bot(tmp_path)  # a new process: nothing in memory about today
    again.at(first.clock)
    again._ids = itertools.count(100)  # new event ids, as a live source would give
    for _ in range(15):
        again.tick(seconds=61)
        again.say("a", "下午继续聊聊")
    assert again.scalar("SELECT counted FROM dailyactivity WHERE member='a'") == 30
    assert again.scalar("SELECT sum(delta) FROM pointsentry WHERE kind='speaking'") == 20
    again.tick(seconds=30)
    again.say("a", "太快了不算")  # the last counted time survived the restart too
    assert again.scalar("SELECT counted FROM dailyactivity WHERE member='a'") == 30


@pytest.mark.parametrize("restart_after", [None, 3])
def test_speaking_points_are_what_tiers_antifarm_says(tmp_path, monkeypatch, restart_after):
    # 3 points a message under a cap of 20: 3×6, then the 2 left, then nothing.
    monkeypatch.setattr(antifarm, "SPEAKING_POINTS", 3)
    bot = Bot(tmp_path)
    bot.at("2026-11-01T08:00:00+08:00")
    for i in range(9):
        if i == restart_after:
            clock, bot = bot.clock, Bot(tmp_path)  # nothing in memory about today
            bot.at(clock)
            bot._ids = itertools.count(100)
        bot.tick(seconds=61)
        bot.say("a", "聊聊这本书")
    expected, earned = [], 0
    for _ in range(9):
        expected.append(antifarm.speaking_points(earned))
        earned += expected[-1]
    assert expected == [3, 3, 3, 3, 3, 3, 2, 0, 0]
    assert bot.scalar("SELECT sum(delta) FROM pointsentry WHERE kind='speaking'") == 20
    assert bot.scalar("SELECT points FROM member WHERE id='a'") == 20
    assert bot.rows("SELECT delta, reason FROM pointsentry ORDER BY id DESC LIMIT 1") == [(2, "发言 1 条")]


def test_english_checkin_forms_and_a_named_task(bot: Bot):
    bot.say(ADMIN, "/task add 早读 triggers=早读打卡", ts="2026-11-01T08:00:00+08:00")  # this group only
    bot.say(ADMIN, "/task add 夜读 triggers=夜读打卡", room=None, ts="2026-11-01T08:00:00+08:00")  # everywhere
    assert "没有叫「早读」" in texts(bot.say("a", "/checkin 早读", room=None))
    [reply] = bot.say("a", "/checkin", ts="2026-11-01T09:00:00+08:00")
    assert "「打卡」成功" in reply.text
    [reply] = bot.say("a", "/CHECKIN 夜读", room=None, ts="2026-11-01T21:00:00+08:00")
    assert "「夜读」成功" in reply.text and reply.room is None
    [reply] = bot.say("a", "/checkin 不存在", ts="2026-11-01T21:05:00+08:00")
    assert "没有叫「不存在」的打卡任务" in reply.text and "夜读" in reply.text
    assert checkin_days(bot, "a") == ["2026-11-01", "2026-11-01"]
