"""FAQ answers (问答) and 1:1 questions nobody answered, replayed on both stores."""

from __future__ import annotations

from tests.harness import ADMIN, ROOM, Bot, texts

T = "2026-11-02T10:{:02d}:00+08:00"


def faq(bot: Bot, minute: int = 0) -> None:
    out = bot.say(ADMIN, "/faq add 几点开课,上课时间 每晚 8 点开课，回放在群公告里", ts=T.format(minute))
    assert "已添加问答 1" in texts(out)


def answers(out):
    return [o for o in out if o.text.startswith("每晚 8 点开课")]


def test_a_question_is_answered_once_per_room_within_the_cooldown(bot: Bot):
    faq(bot)
    [a] = answers(bot.say("wxid_a", "请问几点开课？", ts=T.format(1)))
    assert a.room == ROOM and a.mentions == ("wxid_a",)
    assert answers(bot.say("wxid_b", "几点开课呀", ts=T.format(5))) == []  # within 10 minutes
    assert len(answers(bot.say("wxid_c", "几点开课", room="r2@chatroom", ts=T.format(6)))) == 1  # another room
    assert len(answers(bot.say("wxid_b", "上课时间是几点", ts=T.format(12)))) == 1  # cooldown over
    assert bot.scalar("SELECT count(*) FROM outbox WHERE text LIKE '每晚 8 点开课%'") == 3


def test_only_questions_and_whole_words_are_answered(bot: Bot):
    faq(bot)
    assert answers(bot.say("wxid_a", "上课时间改到八点了", ts=T.format(1))) == []  # not a question
    bot.say(ADMIN, "/faq add 回放 回放在群公告里", ts=T.format(2))
    assert [o.text for o in bot.say("wxid_a", "回放在哪？", ts=T.format(3))] == ["回放在群公告里"]
    # 回放 is not a word of 来回放松 (来回/放松): no answer.
    assert bot.say("wxid_b", "周末去哪里来回放松一下？", ts=T.format(4)) == []


def test_staff_are_never_answered_and_an_operator_answer_counts(bot: Bot):
    faq(bot)
    assert answers(bot.say(ADMIN, "大家知道几点开课吗？", ts=T.format(1))) == []
    bot.roster(["wxid_op", "wxid_a"], ts=T.format(2))
    bot.say(ADMIN, "/operator @wxid_op", mentions=["wxid_op"], ts=T.format(3))
    bot.say("wxid_op", "几点开课：今晚 8 点哦", ts=T.format(4))
    assert answers(bot.say("wxid_a", "几点开课？", ts=T.format(6))) == []  # the operator just answered
    assert len(answers(bot.say("wxid_a", "几点开课？", ts=T.format(15)))) == 1


def test_one_to_one_questions_are_answered_too(bot: Bot):
    faq(bot)
    [a] = answers(bot.say("wxid_a", "老师，上课时间是什么时候", room=None, ts=T.format(1)))
    assert a.room is None and a.to == "wxid_a"
    assert bot.scalar("SELECT count(*) FROM dmquestion") == 0  # answered: nothing waits


def test_faq_list_delete_and_bad_input(bot: Bot):
    faq(bot)
    assert "1. 几点开课、上课时间" in texts(bot.say(ADMIN, "/faq list", ts=T.format(1)))
    assert "请写出关键词和回答" in texts(bot.say(ADMIN, "问答 添加 几点开课", ts=T.format(2)))
    assert "至少两个字" in texts(bot.say(ADMIN, "/faq add 课 每晚", ts=T.format(3)))
    assert "没有编号为 9" in texts(bot.say(ADMIN, "/faq del 9", ts=T.format(4)))
    assert "只有管理员" in texts(bot.say("wxid_a", "/faq add 开课 明天", ts=T.format(5)))
    assert "已删除问答 1" in texts(bot.say(ADMIN, "问答 删除 1", ts=T.format(6)))
    assert answers(bot.say("wxid_a", "几点开课？", ts=T.format(7))) == []


def test_a_keyword_that_would_hit_most_messages_is_refused(bot: Bot):
    for i in range(12):
        bot.say(f"wxid_{i}", f"今天读了第{i}章", ts=T.format(i))
    out = bot.say(ADMIN, "/faq add 今天 今天有直播", ts=T.format(20))
    assert "太宽了" in texts(out) and "12 条消息里有 12 条" in texts(out)
    assert bot.scalar("SELECT count(*) FROM faqentry") == 0


def test_preview_shows_what_would_have_been_answered(bot: Bot):
    bot.say("wxid_a", "请问几点开课？", ts=T.format(1))
    bot.say("wxid_b", "几点开课呢", ts=T.format(3))  # within the cooldown: would not be answered
    bot.say("wxid_c", "几点开课了", ts=T.format(4))  # not a question
    faq(bot, 20)
    out = texts(bot.say(ADMIN, "/faq preview", ts=T.format(21)))
    assert "会自动回答 1 次" in out and "wxid_a：「请问几点开课？」→ 问答 1" in out


def test_an_unanswered_dm_question_reaches_the_admins_and_the_list(bot: Bot):
    bot.say("wxid_a", "在吗？我想问下课程什么时候开始", room=None, name="Alice", ts=T.format(0))
    bot.say("wxid_b", "谢谢老师", room=None, ts=T.format(1))  # not a question
    assert bot.time_passes(T.format(9)) == []
    [alert] = bot.time_passes(T.format(11))
    assert alert.to == ADMIN and "Alice：「在吗？我想问下课程什么时候开始」" in alert.text
    assert bot.time_passes(T.format(30)) == []  # once
    out = texts(bot.say(ADMIN, "跟进清单", room=None, ts=T.format(31)))
    assert "私聊提问未回复" in out and "私聊问「在吗？我想问下课程什么时候开始」" in out
    assert "wxid_b" not in out


def test_a_lead_word_in_an_unanswered_dm_question_is_also_a_lead(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 意向 多少钱 lead=yes", ts=T.format(0))
    bot.say("wxid_a", "这个课多少钱？", room=None, ts=T.format(1))
    out = texts(bot.say(ADMIN, "跟进清单", room=None, ts=T.format(20)))
    assert "私聊提问未回复" in out and "意向线索" in out


def test_an_faq_answer_wins_over_the_pointer_to_help(bot: Bot):
    faq(bot)
    out = bot.say("wxid_a", "请问几点开课？", room=None, ts=T.format(1))
    assert [o.text for o in out] == ["每晚 8 点开课，回放在群公告里"]
    # A question no answer knows gets the pointer (once a day) and waits for the operators.
    out = bot.say("wxid_a", "退款怎么弄？", room=None, ts=T.format(2))
    assert len(out) == 1 and "帮助" in out[0].text
    assert bot.rows("SELECT text FROM dmquestion") == [("退款怎么弄？",)]
