"""Reminders to members whose check-in streak broke, through the real pipeline and the real
daily job at explicit times: one the day after, one more 3 days later, then nothing; 补签
offered to card holders; quiet hours, reach limits and 退订 respected; outcomes counted."""

from __future__ import annotations

from datetime import datetime

from bot.core.scheduler import JobContext
from bot.features.reminders.jobs import daily_reminders
from bot.features.reminders.service import reminder_stats
from tests.harness import ADMIN, Bot, texts


def day(d: int, hm: str = "08:00") -> str:
    return f"2026-11-{d:02d}T{hm}:00+08:00"


def run_job(bot: Bot, at: str) -> list[tuple]:
    """The daily job at `at`; returns the reminders it queued: (to, text, local send time)."""
    before = bot.scalar("SELECT count(*) FROM outreachmessage")
    daily_reminders(JobContext(bot.deps, frozenset()), datetime.fromisoformat(at))
    rows = bot.rows("SELECT o.\"to\", o.text, o.next_at FROM outreachmessage m JOIN outbox o ON o.id = m.outbox_id"
                    " WHERE m.kind = 'reminder' ORDER BY m.id")
    return [(to, text, datetime.fromtimestamp(at_, bot.settings.tz).strftime("%m-%d %H:%M"))
            for to, text, at_ in rows[before:]]


def stats(bot: Bot):
    with bot.engine.connect() as conn:
        return reminder_stats(conn)


def check_in(bot: Bot, member: str, days: range, name: str | None = None) -> None:
    for d in days:
        bot.say(member, "打卡", name=name or member, ts=day(d))


def test_one_reminder_then_one_more_after_three_days_then_nothing(tmp_path, db_url):
    bot = Bot(tmp_path, database_url=db_url)
    assert "已开启「打卡」的断签提醒" in texts(bot.say(ADMIN, "/remind 打卡 on", ts=day(1, "07:00")))
    check_in(bot, "wxid_a", range(1, 4), name="阿明")  # 1st–3rd, then missed the 4th
    assert run_job(bot, day(4, "10:00")) == []  # the 3rd was yesterday: nothing broke yet
    [(to, text, at)] = run_job(bot, day(5, "10:00"))
    assert to == "wxid_a" and at == "11-05 10:00"
    assert "阿明，你的「打卡」已经连续 3 天了，昨天断了一下" in text and "补签卡" not in text
    assert "回复「退订」" in text
    assert run_job(bot, day(6, "10:00")) == [] and run_job(bot, day(7, "10:00")) == []
    [(to, text, _)] = run_job(bot, day(8, "10:00"))
    assert to == "wxid_a" and "好几天没见你「打卡」啦" in text
    assert all(run_job(bot, day(d, "10:00")) == [] for d in range(9, 16))  # then nothing
    [first, second] = stats(bot)
    assert (first.n, first.sent, first.back, first.gone) == (1, 1, 0, 1)
    assert (second.n, second.sent, second.back, second.gone) == (2, 1, 0, 1)


def test_a_card_holder_is_offered_a_makeup_and_coming_back_is_counted(bot: Bot):
    bot.say(ADMIN, "/remind 打卡 on", ts=day(1, "07:00"))
    check_in(bot, "wxid_b", range(1, 8), name="小波")  # 7 days: a 补签卡
    [(_, text, _)] = run_job(bot, day(9, "10:00"))
    assert "你还有 1 张补签卡，发「补签」就能补上昨天" in text
    assert "已用 1 张补签卡补上 11-08" in texts(bot.say("wxid_b", "补签", ts=day(9, "12:00")))
    check_in(bot, "wxid_b", range(9, 10))
    run_job(bot, day(10, "10:00"))
    assert run_job(bot, day(12, "10:00")) == []  # back: no second reminder
    [stat] = stats(bot)
    assert (stat.sent, stat.back, stat.gone, stat.rate) == (1, 1, 0, 1.0)
    assert "第 1 次提醒 1 条，1/1 回来了（100%）" in texts(bot.say(ADMIN, "/remind", ts=day(12, "11:00")))


def test_reminders_respect_quiet_hours_reach_limits_and_unsubscribing(bot: Bot):
    bot.say(ADMIN, "/remind 打卡 on", ts=day(1, "07:00"))
    for m in ("wxid_a", "wxid_b", "wxid_c"):
        check_in(bot, m, range(1, 4))
    bot.say("wxid_c", "退订", room=None, ts=day(4, "09:00"))
    bot.say(ADMIN, "/broadcast 群=读书群 周末活动", ts=day(4, "09:10"))  # a and b (c unsubscribed)
    bot.say(ADMIN, "/broadcast 确认", ts=day(4, "09:11"))
    assert run_job(bot, day(5, "23:30")) == []  # a and b had a 群发 yesterday; c unsubscribed
    bot.say(ADMIN, "/remind 打卡 off", ts=day(5, "23:40"))
    assert run_job(bot, day(8, "10:00")) == []


def test_no_reminder_follows_a_member_who_left_the_group(bot: Bot):
    bot.say(ADMIN, "/remind 打卡 on", ts=day(1, "07:00"))
    check_in(bot, "wxid_a", range(1, 4))
    bot.leave("wxid_a", ts=day(4, "12:00"))
    assert run_job(bot, day(5, "10:00")) == []


def test_reminders_wait_for_the_morning(tmp_path):
    bot = Bot(tmp_path, reminder_time="23:00")
    bot.say(ADMIN, "/remind 打卡 on", ts=day(1, "07:00"))
    check_in(bot, "wxid_a", range(1, 4))
    [(_, _, at)] = run_job(bot, day(5, "23:00"))
    assert at == "11-06 08:00"


def test_remind_bad_input(bot: Bot):
    assert "没有开启中的打卡任务「跑步」" in texts(bot.say(ADMIN, "/remind 跑步 on"))
    assert "请写出任务名和 on 或 off" in texts(bot.say(ADMIN, "/remind 打卡 maybe"))
    assert "只有管理员" in texts(bot.say("wxid_a", "/remind 打卡 on"))
    assert "没有任务开启" in texts(bot.say(ADMIN, "/remind"))
