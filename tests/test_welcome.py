"""Welcomes on join: once per join, @mentioning the newcomer; a burst shares one welcome."""

from __future__ import annotations

from tests.harness import ADMIN, ROOM, Bot, texts

T = "2026-11-02T10:00:{:02d}+08:00"


def welcomes(out):
    return [o for o in out if "欢迎" in o.text]


def test_a_join_is_welcomed_once_by_name_with_the_rooms_tasks(bot: Bot):
    assert welcomes(bot.join("wxid_bob", name="Bob", ts=T.format(0))) == []  # waits a moment
    [w] = welcomes(bot.time_passes(T.format(3)))
    assert w.room == ROOM and w.mentions == ("wxid_bob",)
    assert "Bob" in w.text and "「打卡」" in w.text
    assert welcomes(bot.time_passes(T.format(9))) == []  # once


def test_the_welcome_names_what_to_send_not_the_tasks_name(bot: Bot):
    """A task named 作业 whose trigger is 交作业: 「发「作业」」 checked nobody in."""
    bot.say(ADMIN, "/task add 作业 triggers=交作业", ts=T.format(0))
    bot.join("wxid_bob", name="Bob", ts=T.format(1))
    [w] = welcomes(bot.time_passes(T.format(5)))
    assert "「交作业」" in w.text and "「作业」" not in w.text


def test_a_burst_of_joins_shares_one_welcome(bot: Bot):
    out = []
    for s in range(0, 120):  # the live bot's clock ticks every second; a join every 3 s for a minute
        at = f"2026-11-02T10:{s // 60:02d}:{s % 60:02d}+08:00"
        if s % 3 == 0 and s < 60:
            out += bot.join(f"wxid_n{s // 3:02d}", name=f"新人{s // 3:02d}", ts=at)
        out += bot.time_passes(at)
    sent = welcomes(out)
    # The first joiner is greeted at once; everyone else who joined within the minute shares one.
    assert len(sent) == 2
    assert set(sent[0].mentions) | set(sent[1].mentions) == {f"wxid_n{i:02d}" for i in range(20)}
    assert len(sent[1].mentions) == 19


def test_people_added_together_share_one_welcome(bot: Bot):
    out = bot.join("wxid_a", name="A", ts=T.format(0)) + bot.join("wxid_b", name="B", ts=T.format(1))
    out += bot.time_passes(T.format(4))
    [w] = welcomes(out)
    assert w.mentions == ("wxid_a", "wxid_b") and "A、B" in w.text


def test_who_left_before_the_welcome_is_not_welcomed(bot: Bot):
    bot.join("wxid_a", ts=T.format(0))
    bot.leave("wxid_a", ts=T.format(1))
    assert welcomes(bot.time_passes(T.format(30))) == []


def test_a_manager_turns_the_welcome_off_and_edits_it(bot: Bot):
    out = bot.say(ADMIN, "/welcome off", ts=T.format(0))
    assert "已关闭" in texts(out)
    bot.join("wxid_a", ts=T.format(1))
    assert welcomes(bot.time_passes(T.format(30))) == []
    out = bot.say(ADMIN, "欢迎语 设置 欢迎 {name}！本群每天 21 点前发{tasks} 😊", ts=T.format(31))
    assert "已更新" in texts(out) and "欢迎 wxid_admin！本群每天 21 点前发「打卡」 😊" in texts(out)
    bot.join("wxid_b", name="Bob", ts=T.format(40))
    [w] = welcomes(bot.time_passes(T.format(45)))
    assert w.text == "欢迎 Bob！本群每天 21 点前发「打卡」 😊"
    assert "默认" in texts(bot.say(ADMIN, "/welcome reset", ts=T.format(50)))
    assert "请写出欢迎语" in texts(bot.say(ADMIN, "/welcome set", ts=T.format(51)))
    # a typo in a placeholder used to be saved and sent to newcomers as typed
    assert "「{nam}」不认识" in texts(bot.say(ADMIN, "/welcome set 欢迎 {nam}", ts=T.format(51)))
    assert bot.scalar("SELECT text FROM roomwelcome") is None
    assert "只有管理员" in texts(bot.say("wxid_b", "/welcome off", ts=T.format(52)))
    assert "按群设置" in texts(bot.say(ADMIN, "/welcome", room=None, ts=T.format(53)))


def test_a_silent_replay_queues_no_welcome(bot: Bot):
    bot.feed({"type": "join", "id": "j1", "ts": T.format(0), "room": ROOM, "member": "wxid_a"}, silent=True)
    assert welcomes(bot.time_passes(T.format(30))) == []


def test_a_join_replayed_later_in_the_file_is_welcomed_by_the_next_event(bot: Bot):
    """In a replay, time moves with the events: the next event a minute on sends the welcome."""
    bot.join("wxid_a", name="A", ts=T.format(0))
    out = bot.say("wxid_c", "大家好，新人报到", ts="2026-11-02T10:01:00+08:00")
    assert [w.mentions for w in welcomes(out)] == [("wxid_a",)]


def test_a_silent_import_leaves_the_live_bots_pending_welcome_alone(bot: Bot):
    # A live join waits a moment for others to join; meanwhile a history import (a silent
    # batch, possibly another process) runs past the welcome's time: it must not take it.
    assert welcomes(bot.join("wxid_bob", name="Bob", ts=T.format(0))) == []
    bot.feed({"type": "message", "id": "imp:1", "ts": T.format(5), "room": ROOM, "sender": "wxid_old",
              "text": "以前的聊天"}, silent=True)
    [w] = welcomes(bot.time_passes(T.format(6)))
    assert w.mentions == ("wxid_bob",)
