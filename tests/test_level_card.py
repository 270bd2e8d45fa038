"""我的等级 says how to get further: what earns points (from the tasks and rules in force), the
days to the next level at the member's pace of the last 14 days, and what that level unlocks."""

from __future__ import annotations

from pathlib import Path

from tests.harness import ADMIN, Bot, texts

EXAMPLE = Path(__file__).resolve().parents[1] / "bot" / "example_config.toml"


def test_the_card_says_what_earns_points_the_days_to_go_and_what_unlocks(tmp_path):
    bot = Bot(tmp_path, config=EXAMPLE)
    for day in range(1, 8):  # 7 days of 打卡: 70, and 20 more on the 7th day
        bot.say("a", "打卡", ts=f"2026-11-{day:02d}T08:00:00+08:00")
    card = texts(bot.say("a", "我的等级", ts="2026-11-07T20:00:00+08:00"))
    assert "Lv2「青苗」 · 90 积分" in card and "距 Lv3「茁壮」还差 60 分" in card
    # 90 points in the last 14 days: 60 more take 60 × 14 / 90 = 9.3, so 10 days
    assert "按最近 14 天的节奏（+90 分），大约 10 天升到 Lv3「茁壮」" in card
    assert "升到 Lv3 可解锁：每月一次 1 对 1 答疑、专属资料包" in card
    assert ("攒积分：打卡 +10/天 · 早起打卡 +15/天（05:00–09:00） · 连续 7 天再 +20 · "
            "发言 +1/条（每天最多 20） · 邀请的朋友留下并发言 +20/人") in card


def test_the_card_follows_the_tasks_in_force_and_an_idle_member(bot: Bot):
    bot.say(ADMIN, "/task add 读书打卡 triggers=读书 points=5", ts="2026-11-02T08:00:00+08:00")
    card = texts(bot.say("b", "我的等级", ts="2026-11-20T08:00:00+08:00"))
    assert "读书打卡 +5/天" in card and "打卡 +10/天" in card
    assert "最近 14 天还没攒到积分" in card
    bot.say(ADMIN, "/task off 读书打卡")
    assert "读书打卡" not in texts(bot.say("b", "我的等级"))
