"""Commands as people type them, replayed: every natural form gets the answer of the command it
stands for, and chat that merely mentions a command's words stays chat (no reply, logged as chat)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.features.help.hook import POINTER
from tests.harness import ADMIN, ROOM, Bot, texts

# natural form → the documented command it must answer like
FORMS = [
    ("排行榜", "排行"), ("积分榜", "排行"), ("积分排行", "排行"), ("积分排行榜", "排行"), ("排行榜？", "排行"),
    ("看看排行榜", "排行"), ("本周排行榜", "排行 本周"), ("今天的排行榜", "排行 今日"), ("排名", "排行"),
    ("我的积分", "我的等级"), ("我几级了", "我的等级"), ("我几级了？", "我的等级"), ("查积分", "我的等级"),
    ("查一下我的积分", "我的等级"), ("我有多少积分", "我的等级"), ("我多少分了", "我的等级"), ("查等级", "我的等级"),
    ("我想兑换书签", "兑换 书签"), ("我要兑换一个书签", "兑换 书签"), ("想兑换书签！", "兑换 书签"),
    ("怎么打卡", "打卡说明"), ("怎么打卡？", "打卡说明"), ("如何签到", "打卡说明"), ("打卡怎么弄？", "打卡说明"),
    ("打卡规则", "打卡说明"), ("邀请排行榜", "邀请排行"),
]
# lines that hold a command's words but are chat
CHAT = ["这个排行榜好看", "排行榜上的人都好厉害", "我的积分是怎么算的呀，感觉好复杂", "我想兑换的东西太贵了",
        "昨天兑换的书签收到了", "打卡群在哪里", "我今天忘了打卡了", "积分榜第一名是谁呀好厉害", "大家都几级了",
        "我想进群的朋友还没进来", "他们在排行"]


def _community(bot: Bot, members: int = 2) -> None:
    bot.say(ADMIN, "/shop add 书签 5", ts="2026-11-02T09:00:00+08:00")
    for n in range(members):
        bot.say(f"wxid_{n}", "打卡 今天读了20页", name=f"成员{n}")


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> tuple[Bot, Bot]:
    """Two bots with the same community: one is asked the commands, the other the forms."""
    pair = (Bot(tmp_path_factory.mktemp("commands")), Bot(tmp_path_factory.mktemp("forms")))
    for b in pair:
        _community(b, len(FORMS))
    return pair


@pytest.mark.parametrize(("n", "form", "command"), [(n, *pair) for n, pair in enumerate(FORMS)])
def test_a_natural_form_answers_as_the_command(twins: tuple[Bot, Bot], n: int, form: str, command: str) -> None:
    twin, bot = twins
    expected = texts(twin.say(f"wxid_{n}", command))
    assert expected
    assert texts(bot.say(f"wxid_{n}", form)) == expected
    assert bot.rows("SELECT kind FROM eventlog WHERE member = :m AND text = :t", m=f"wxid_{n}", t=form) == [
        ("command",)]


@pytest.mark.parametrize("line", CHAT)
def test_chat_that_mentions_a_command_stays_chat(bot: Bot, line: str) -> None:
    _community(bot)
    assert bot.say("wxid_0", line) == []
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE kind IS NULL AND type = 'message'") == 1


def test_i_want_to_redeem_without_an_item_lists_what_can_be_redeemed(bot: Bot) -> None:
    _community(bot)
    said = texts(bot.say("wxid_0", "我想兑换"))
    assert "想兑换什么" in said and "书签：5 分" in said and "兑换 名称" in said
    assert bot.scalar("SELECT count(*) FROM redemption") == 0


def test_i_want_to_join_the_group_in_a_one_to_one_chat(bot: Bot) -> None:
    bot.say("wxid_a", "大家好")  # in the group already
    assert "已经在" in texts(bot.say("wxid_a", "我想进群", room=None))


def test_how_to_check_in_shows_each_tasks_rule(bot: Bot) -> None:
    bot.say(ADMIN, "/task add 早起打卡 triggers=早起打卡,早起 window=05:00-09:00 points=15",
            ts="2026-11-02T09:00:00+08:00")
    bot.say(ADMIN, "/task add 作业打卡 triggers=交作业 note=10")
    said = texts(bot.say("wxid_a", "怎么打卡？"))
    assert "「打卡」：每天发「打卡」或「签到」，+10 分" in said
    assert "「早起打卡」：每天 05:00–09:00发「早起打卡」或「早起」，+15 分" in said
    assert "至少 10 个字的心得" in said and "补签" in said


def test_the_replay_command_takes_every_form_and_leaves_the_chat(tmp_path: Path) -> None:
    lines = [{"type": "message", "id": f"m{i}", "ts": 1793498400 + i * 90, "room": ROOM, "room_name": "读书群",
              "sender": "wxid_a", "sender_name": "Alice", "text": text}
             for i, text in enumerate(["打卡 今天读了20页", *[f for f, _ in FORMS], *CHAT])]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    replies = tmp_path / "replies.jsonl"
    res = subprocess.run([sys.executable, "-m", "bot.cli", "replay", str(events), "--db", str(tmp_path / "q.db"),
                          "--replies", str(replies)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    answered = {json.loads(line)["reply_to"] for line in replies.read_text(encoding="utf-8").splitlines()}
    for i, text in enumerate(["打卡 今天读了20页", *[f for f, _ in FORMS]]):
        assert f"m{i}" in answered, text
    for i, text in enumerate(CHAT, start=1 + len(FORMS)):
        assert f"m{i}" not in answered, text


# ---- the friendly pointer for 1:1 questions ---------------------------------------------------


def test_a_one_to_one_question_gets_a_pointer_to_help_once_a_day(bot: Bot) -> None:
    assert texts(bot.say("wxid_a", "课程几点开始？", room=None, ts="2026-11-02T09:00:00+08:00")) == POINTER
    assert bot.say("wxid_a", "回放在哪里看呢", room=None) == []  # once a day
    assert bot.say("wxid_a", "好的谢谢", room=None) == []  # not a question
    assert bot.say("wxid_b", "课程几点开始？") == []  # in a group: chat
    # The next day: the pointer again (the admins also hear of yesterday's questions nobody answered).
    out = bot.say("wxid_a", "明天有直播吗", room=None, ts="2026-11-03T09:00:00+08:00")
    assert texts([o for o in out if o.to == "wxid_a"]) == POINTER
    assert [o.to for o in out if o.to != "wxid_a"] == [ADMIN]


def test_a_command_in_one_to_one_is_no_question(bot: Bot) -> None:
    said = texts(bot.say("wxid_a", "我几级了？", room=None))
    assert "Lv1" in said and POINTER not in said
