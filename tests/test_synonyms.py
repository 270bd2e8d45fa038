"""Managers' synonyms: `/synonym add 价格 学费,收费` and the console; a word in one set only; a set
that would hear most messages is refused with the count of the last 7 days."""

from __future__ import annotations

from tests.harness import ADMIN, Bot, texts


def _chat(bot: Bot, n: int = 12) -> None:
    for i in range(n):
        bot.say(f"c{i}", f"今天的第{i}个想法很有意思", ts=f"2026-11-02T09:{i:02d}:00+08:00")


def test_a_managers_word_makes_the_rules_naming_the_set_hear_it(bot: Bot):
    bot.say(ADMIN, "/rule add keyword 意向 价格 intent=ask lead=yes", ts="2026-11-02T08:00:00+08:00")
    _chat(bot)
    bot.say("a", "课时费多少？")
    assert bot.rows("SELECT member FROM membertag") == []
    said = texts(bot.say(ADMIN, "/synonym add 价格 课时费,报名费"))
    assert "已把 课时费、报名费 加进同义词组「价格」" in said and "这些规则会一起听这些词：#1 意向" in said
    assert "最近 7 天 13 条聊天里命中 1 条" in said  # a's question: later ones are tagged
    bot.say("b", "课时费多少？")
    bot.say("c", "课时费已经交了")  # a statement: intent=ask keeps it out
    assert bot.rows("SELECT member, keyword FROM membertag") == [("b", "课时费")]
    assert "管理员加的：课时费、报名费" in texts(bot.say(ADMIN, "/synonyms"))
    assert "已从「价格」去掉 报名费" in texts(bot.say(ADMIN, "/synonym del 价格 报名费"))


def test_a_new_set_and_a_cilin_suggestion(bot: Bot):
    said = texts(bot.say(ADMIN, "/synonym add 报告 汇报材料", ts="2026-11-02T08:00:00+08:00"))
    assert "加进同义词组「报告」（共 2 个词" in said
    assert "规则里写「报告」就会听这一组词" in said and "同义词词林里的近义词还有：汇报" in said


def test_bad_synonyms_say_what_was_wrong(bot: Bot):
    _chat(bot)
    # a word that is already another set's
    said = texts(bot.say(ADMIN, "/synonym add 课程 学费"))
    assert "「学费」已经在同义词组「价格」里了" in said and "/synonym del 价格 学费" in said
    # a set that would hear most messages: refused with the count of the last 7 days
    said = texts(bot.say(ADMIN, "/synonym add 想法 的"))
    assert "最近 7 天 12 条聊天里的 12 条（100%）" in said and "没有加" in said
    assert bot.scalar("SELECT count(*) FROM synonymword") == 0
    assert "都已经在「价格」里了" in texts(bot.say(ADMIN, "/synonym add 价格 学费"))
    assert "内置的同义词，不能删除" in texts(bot.say(ADMIN, "/synonym del 价格 学费"))
    assert "里没有管理员加的「课表」" in texts(bot.say(ADMIN, "/synonym del 价格 课表"))
    assert "请写出同义词组名和词" in texts(bot.say(ADMIN, "/synonym add 价格"))
    assert "不认识「改」" in texts(bot.say(ADMIN, "/synonym 改 价格 学费"))
    assert "同义词里有空词" in texts(bot.say(ADMIN, "/synonym add 价格 学费,,收费"))
    assert "只有管理员" in texts(bot.say("a", "/synonym add 价格 课时费"))
    assert bot.scalar("SELECT count(*) FROM synonymword") == 0
