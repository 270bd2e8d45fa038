"""Auto-tagging through the real pipeline: rules by chat command, replayed messages, replies."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import text

from bot.core.feature import report_fields
from bot.core.scheduler import JobContext
from bot.features.tags import feature as tags_feature
from bot.features.tags.jobs import daily_tags
from bot.features.tags.service import Tagging
from bot.wiring import FEATURES
from tagging.matcher import Tokenizer
from tests.harness import ADMIN, Bot, texts


def tags_of(bot: Bot, member: str) -> list[tuple]:
    return bot.rows("SELECT tag, source FROM membertag WHERE member=:m ORDER BY tag", m=member)


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def admin(bot: Bot, text: str, **kw) -> str:
    return texts(bot.say(ADMIN, text, **kw))


@pytest.fixture
def tagged(bot: Bot) -> Bot:
    bot.say("a", "大家好", name="Alice", ts="2026-11-20T09:00:00+08:00")
    bot.say("b", "大家好", name="Bob", ts="2026-11-20T09:00:00+08:00")
    return bot


def test_word_mode_respects_token_boundaries_and_shows_why(tagged: Bot):
    reply = admin(tagged, "/rule add keyword 意向 价格,多少钱 lead=yes")
    assert "已添加规则：#1 意向 ← 关键词 价格/多少钱" in reply
    tagged.say("b", "评价格式不对", name="Bob", ts="2026-11-20T10:01:00+08:00")
    tagged.say("a", "这个课价格多少", name="Alice", ts="2026-11-20T10:02:00+08:00")
    assert tags_of(tagged, "a") == [("意向", "keyword")]
    assert tags_of(tagged, "b") == []
    why = admin(tagged, "/tags Alice")
    assert "意向 ← 规则#1 关键词「价格」 11-20 10:02 「这个课价格多少」" in why
    assert tagged.scalar("SELECT lead FROM membertag") == 1


def test_substring_mode_matches_inside_words(tagged: Bot):
    admin(tagged, "/rule add keyword 售后 退款,打不开 mode=substring")
    tagged.say("b", "视频打不开了怎么办", name="Bob", ts="2026-11-20T10:00:00+08:00")
    assert tags_of(tagged, "b") == [("售后", "keyword")]


def test_hits_within_days(tagged: Bot):
    admin(tagged, "/rule add keyword 意向 报名 hits=2 days=3")
    tagged.say("a", "怎么报名", name="Alice", ts="2026-11-20T10:00:00+08:00")
    assert tags_of(tagged, "a") == []
    tagged.say("a", "报名截止了吗", name="Alice", ts="2026-11-24T10:00:00+08:00")  # 4 days later
    assert tags_of(tagged, "a") == []
    tagged.say("a", "我要报名", name="Alice", ts="2026-11-25T10:00:00+08:00")
    assert tags_of(tagged, "a") == [("意向", "keyword")]


def test_scope_rooms_and_private(tagged: Bot):
    admin(tagged, "/rule add keyword 私聊咨询 价格 rooms=private")
    admin(tagged, "/rule add keyword 读书 好书 rooms=读书群")
    tagged.say("a", "价格多少", name="Alice", ts="2026-11-20T10:00:00+08:00")
    tagged.say("b", "价格多少", name="Bob", room=None, ts="2026-11-20T10:00:00+08:00")
    tagged.say("a", "推荐一本好书", name="Alice", room="r2@chatroom", ts="2026-11-20T10:05:00+08:00")
    tagged.say("b", "推荐一本好书", name="Bob", ts="2026-11-20T10:05:00+08:00")
    assert tags_of(tagged, "a") == []
    assert tags_of(tagged, "b") == [("私聊咨询", "keyword"), ("读书", "keyword")]
    assert "找不到群「不存在的群」" in admin(tagged, "/rule add keyword x y rooms=不存在的群")


def test_expiry_drops_the_tag_after_days_without_a_hit(tagged: Bot, tmp_path):
    admin(tagged, "/rule add keyword 售后 退款 expire=3")
    tagged.say("a", "我要退款", name="Alice", ts="2026-11-20T10:00:00+08:00")
    tagged.say("a", "退款到账了吗", name="Alice", ts="2026-11-22T10:00:00+08:00")  # refreshes
    assert "售后" in admin(tagged, "/tags Alice", ts="2026-11-25T09:00:00+08:00")
    assert "还没有标签" in admin(tagged, "/tags Alice", ts="2026-11-25T11:00:00+08:00")
    assert tags_of(tagged, "a") == [("售后", "keyword")]  # still stored until the daily job

    daily_tags(JobContext(tagged.deps, frozenset()), datetime.fromisoformat("2026-11-26T03:05:00+08:00"))
    assert tags_of(tagged, "a") == []


def test_count_rule_adds_and_removes(tagged: Bot):
    admin(tagged, "/rule add count 活跃 5 7")
    tagged.at("2026-11-20T10:00:00+08:00")
    for i in range(3):  # with the fixture's greeting: 4 messages today
        tagged.tick(minutes=2)
        tagged.say("a", f"第{i}条", name="Alice")
    assert tags_of(tagged, "a") == []
    tagged.say("a", "第五条", name="Alice")  # the same minute as the last: not speaking
    assert tags_of(tagged, "a") == []
    tagged.tick(minutes=2)
    tagged.say("a", "第六条", name="Alice")
    assert tags_of(tagged, "a") == [("活跃", "count")]
    assert "活跃 ← 规则#1 近7天发言5条（≥5）" in admin(tagged, "/tags Alice")
    # A week later one message is not enough: the tag goes as soon as she speaks again.
    tagged.say("a", "我回来了", name="Alice", ts="2026-11-28T10:00:00+08:00")
    assert tags_of(tagged, "a") == []


def test_count_rule_removed_by_the_daily_job_without_new_messages(tagged: Bot):
    admin(tagged, "/rule add count 活跃 2 3")
    tagged.say("a", "一起读", name="Alice", ts="2026-11-20T10:00:00+08:00")
    tagged.say("a", "二刷了", name="Alice", ts="2026-11-20T10:05:00+08:00")
    assert tags_of(tagged, "a") == [("活跃", "count")]
    with tagged.engine.begin() as conn:
        tagged.deps.service(Tagging).daily(conn, epoch("2026-11-22T03:00:00+08:00"), tagged.settings.tz)
    assert tags_of(tagged, "a") == [("活跃", "count")]  # Nov 20 is still inside 3 days
    with tagged.engine.begin() as conn:
        tagged.deps.service(Tagging).daily(conn, epoch("2026-11-23T03:00:00+08:00"), tagged.settings.tz)
    assert tags_of(tagged, "a") == []


def test_count_rules_count_speaking_not_sticker_bursts_or_commands(tagged: Bot):
    admin(tagged, "/rule add count 活跃 5 7")
    tagged.at("2026-11-20T10:00:00+08:00")
    for _ in range(21):  # 21 「[旺柴]」 in one minute
        tagged.say("b", "[旺柴]", name="Bob")
        tagged.tick(seconds=2)
    for _ in range(6):  # commands are talk to the bot, not speaking
        tagged.tick(minutes=2)
        tagged.say("b", "我的等级", name="Bob")
    assert tags_of(tagged, "b") == []
    for i in range(4):  # with the greeting, five messages that say something
        tagged.tick(minutes=2)
        tagged.say("b", f"第{i}章读完了", name="Bob")
    assert tags_of(tagged, "b") == [("活跃", "count")]
    assert "活跃 ← 规则#1 近7天发言5条（≥5）" in admin(tagged, "/tags Bob")


def test_manual_tags_survive_rules_and_expiry(tagged: Bot):
    admin(tagged, "/rule add keyword 意向 价格 expire=1", name="店长")
    assert "已给 Alice 打上「意向」" in admin(tagged, "/tag Alice 意向", name="店长")
    tagged.say("a", "价格多少", name="Alice", ts="2026-11-20T12:00:00+08:00")
    assert tags_of(tagged, "a") == [("意向", "manual")]
    assert "意向 ← 管理员 店长 手动添加" in admin(tagged, "/tags Alice", name="店长",
                                              ts="2026-12-30T10:00:00+08:00")
    assert "已去掉" in admin(tagged, "/untag Alice 意向")
    assert "没有「意向」" in admin(tagged, "/untag Alice 意向")


def test_exclusive_group_newest_wins(tagged: Bot):
    admin(tagged, "/rule add keyword 意向 价格 group=阶段")
    admin(tagged, "/rule add keyword 已购 付款了 group=阶段")
    assert "设为互斥" in admin(tagged, "/group 阶段 exclusive")
    tagged.say("a", "价格多少", name="Alice", ts="2026-11-20T10:00:00+08:00")
    tagged.say("a", "我付款了", name="Alice", ts="2026-11-20T11:00:00+08:00")
    assert tags_of(tagged, "a") == [("已购", "keyword")]
    admin(tagged, "/tag Alice 意向", ts="2026-11-20T12:00:00+08:00")  # a manager's word wins
    assert tags_of(tagged, "a") == [("意向", "manual")]
    tagged.say("a", "我又付款了", name="Alice", ts="2026-11-20T13:00:00+08:00")
    assert tags_of(tagged, "a") == [("意向", "manual")]  # a rule never removes a manual tag


def test_tagged_lists_members_and_rule_del_takes_rule_tags_away(tagged: Bot):
    admin(tagged, "/rule add keyword 意向 价格")
    tagged.say("a", "价格多少", name="Alice", ts="2026-11-20T10:00:00+08:00")
    tagged.say("b", "价格贵吗", name="Bob", ts="2026-11-20T10:00:00+08:00")
    admin(tagged, "/tag Bob 意向")
    assert "有「意向」的成员（2 人）：Alice、Bob" in admin(tagged, "/tagged 意向")
    assert "#1 意向" in admin(tagged, "规则列表")
    assert "撤下了它自动打的 1 个标签" in admin(tagged, "/rule del 1")
    assert tags_of(tagged, "a") == [] and tags_of(tagged, "b") == [("意向", "manual")]
    assert "还没有标签规则" in admin(tagged, "/rules")


def test_preview_counts_members_from_history_and_saves_nothing(tagged: Bot):
    tagged.say("a", "这个课多少钱呀", name="Alice", ts="2026-11-20T10:00:00+08:00")
    tagged.say("b", "评价格式不对", name="Bob", ts="2026-11-20T10:00:00+08:00")
    tagged.say("c", "多少钱一个月", name="Carol", ts="2026-11-20T10:00:00+08:00")
    reply = admin(tagged, "/rule preview keyword 意向 多少钱,价格", ts="2026-11-20T11:00:00+08:00")
    assert "2 人会得到「意向」" in reply and "Alice" in reply and "Carol" in reply
    assert "Bob" not in reply
    assert tagged.scalar("SELECT count(*) FROM tagrule") == 0
    # All of history, however old (two years back here), not the last few months.
    tagged.say("d", "请问多少钱", name="Dan", ts="2024-11-20T10:00:00+08:00")
    reply = admin(tagged, "/rule preview keyword 意向 多少钱,价格", ts="2026-11-20T11:00:00+08:00")
    assert "3 人会得到「意向」" in reply and "按全部聊天记录（2024-11-20 起）" in reply
    assert "· Dan：11-20「请问多少钱」" in reply
    # An expiring tag: Dan's question is too old to hold it now; Alice's is recent.
    tagged.say("a", "到底多少钱", name="Alice", ts="2026-11-20T10:30:00+08:00")
    reply = admin(tagged, "/rule preview keyword 意向 多少钱 expire=30", ts="2026-11-20T11:00:00+08:00")
    assert "2 人会得到「意向」" in reply and "Dan" not in reply
    assert "· Alice：11-20「这个课多少钱呀」" in reply  # the message it fired at
    reply = admin(tagged, "规则 预览 count 话痨 2 1")  # Alice and Bob also said 大家好
    assert "2 人会得到「话痨」" in reply and "Carol" not in reply


@pytest.mark.parametrize("command, why", [
    ("/rule del 99", "没有编号为 99 的规则"),
    ("/rule del abc", "规则编号应为正整数"),
    ("/rule add keyword 意向 ,,,", "关键词"),
    ("/rule add count 活跃 0 7", "正整数"),
    ("/rule add count 活跃 -3 7", "正整数"),
    ("/rule add keyword 意向 客户 价格", ""),
    ("/rule add keyword <b>x</b> 价格", ""),
    ("/rule add keyword " + "😀" * 50 + " 价格", ""),
    ("/tag Alice <script>", "标签"),
    ("/tag Alice " + "🎉" * 50, "标签"),
    ("/rule frobnicate", "不认识"),
])
def test_bad_rule_input_is_explained_and_nothing_changes(tagged: Bot, command, why):
    reply = admin(tagged, command)
    assert why in reply
    assert "用法" in reply or "例如" in reply or "没有编号" in reply
    assert tagged.scalar("SELECT count(*) FROM tagrule") == 0
    assert tagged.scalar("SELECT count(*) FROM membertag") == 0


def test_ambiguous_member_name_asks_for_more(tagged: Bot):
    tagged.say("a2", "我也叫 Alice", name="Alice", ts="2026-11-20T10:00:00+08:00")
    reply = admin(tagged, "/tag Alice 意向")
    assert "有 2 位成员都叫「Alice」" in reply and "a2" in reply
    assert tagged.scalar("SELECT count(*) FROM membertag") == 0
    assert "已给 Alice 打上" in admin(tagged, "/tag @Alice 意向", mentions=["a2"])
    assert tags_of(tagged, "a2") == [("意向", "manual")]


def test_non_admin_is_politely_refused(tagged: Bot):
    for command in ("/rule add keyword 意向 价格", "/tag Bob 意向", "/rules", "/tags Bob"):
        [reply] = tagged.say("a", command, name="Alice")
        assert "只有管理员" in reply.text
    assert tagged.scalar("SELECT count(*) FROM tagrule") == 0
    assert tagged.scalar("SELECT count(*) FROM membertag") == 0


def test_report_json_lists_tags_with_reasons(tagged: Bot):
    from bot.core.report import member_rows, resolve_scope

    admin(tagged, "/rule add keyword 意向 多少钱")
    tagged.say("a", "这个课多少钱呀", name="Alice", ts="2026-11-20T10:02:00+08:00")
    with tagged.engine.connect() as conn:
        scope = resolve_scope(conn, tagged.settings, None, None, None)
        rows = {r["id"]: r for r in member_rows(conn, scope, report_fields(FEATURES, tagged.deps))}
    assert rows["a"]["tags"] == [{"name": "意向", "source": "keyword",
                                  "reason": "规则#1 关键词「多少钱」 11-20 10:02 「这个课多少钱呀」"}]
    assert rows["b"]["tags"] == []


def test_config_seeds_rules_once(tmp_path):
    cfg = tmp_path / "q.toml"
    cfg.write_text('[[tag_rules]]\nrule = "keyword 意向 价格 lead=yes"\n'
                   '[[tag_groups]]\nname = "阶段"\nexclusive = true\n', encoding="utf-8")
    bot = Bot(tmp_path, config=cfg)
    assert bot.scalar("SELECT count(*) FROM tagrule") == 1
    bot.say(ADMIN, "/rule del 1")
    again = Bot(tmp_path, config=cfg)  # a restart: the deleted rule stays deleted
    assert again.scalar("SELECT count(*) FROM tagrule WHERE active") == 0
    assert again.scalar("SELECT exclusive FROM taggroup WHERE name='阶段'") == 1


def test_preview_leaves_no_trace_in_the_live_dictionary(tmp_path, monkeypatch):
    # A dictionary of its own: other tests' rules have added words to the shared one.
    own = Tokenizer()
    monkeypatch.setattr(tags_feature, "get_tokenizer", lambda: own)  # the tags feature makes the Tagging service
    tagged = Bot(tmp_path)
    admin(tagged, "/rule add keyword 问价 多少")
    tokenizer = tagged.deps.service(Tagging).tokenizer
    with tagged.engine.connect() as conn:
        live = tagged.deps.service(Tagging).current(conn).matcher
    before = (tokenizer.lcut("这个多少钱"), tokenizer.lcut("还差多少钱包邮"), tokenizer.added)
    assert [h.keyword for h in live.match("这个多少钱", None)] == ["多少"]

    tagged.say("a", "还差多少钱包邮", name="Alice", ts="2026-11-20T10:00:00+08:00")
    reply = admin(tagged, "/rule preview keyword 意向 多少钱", ts="2026-11-20T11:00:00+08:00")
    assert "1 人会得到「意向」" in reply  # the preview itself sees its new word

    assert (tokenizer.lcut("这个多少钱"), tokenizer.lcut("还差多少钱包邮"), tokenizer.added) == before
    assert [h.keyword for h in live.match("这个多少钱", None)] == ["多少"]
    tagged.say("b", "这个多少钱", name="Bob", ts="2026-11-20T12:00:00+08:00")
    assert tags_of(tagged, "b") == [("问价", "keyword")]
    # Adding the previewed rule for real still works as it would have without the preview.
    admin(tagged, "/rule add keyword 意向 多少钱", ts="2026-11-20T13:00:00+08:00")
    tagged.say("c", "还差多少钱包邮", name="Carol", ts="2026-11-20T14:00:00+08:00")
    assert tags_of(tagged, "c") == [("意向", "keyword")]


def test_a_stored_rule_that_no_longer_reads_is_skipped_not_fatal(tagged: Bot, caplog):
    """0.1.0 split rules on spaces only: a substring keyword starting with a quote was
    stored as typed, and today's parser reads a lone quote as unclosed."""
    admin(tagged, "/rule add keyword 意向 价格")
    words = ["keyword", "引号", '"价格', "mode=substring"]
    with tagged.engine.begin() as conn:
        conn.execute(text("INSERT INTO tagrule (kind, tag, args, active, created_at) "
                          "VALUES ('keyword', '引号', :args, true, 0)"), {"args": json.dumps(words)})
    tagged.say("b", "这个价格能便宜点吗", name="Bob", ts="2026-11-20T10:00:00+08:00")
    assert "does not read any more" in caplog.text
    assert ("意向", "keyword") in tags_of(tagged, "b")  # the other rules still work
    assert "引号" not in admin(tagged, "/rules")
