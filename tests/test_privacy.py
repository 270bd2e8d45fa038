"""Privacy through the real pipeline: leaving the rankings; 删除我的数据 (confirmed) erases the
member's texts, notes and names from every table and from the bytes of the SQLite file and its
WAL, replacing their id by an anonymous one while counts stay; retention erases old texts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.core.scheduler import JobContext
from bot.features.privacy.jobs import retention
from tests.harness import ADMIN, ROOM, Bot, texts

CONFIG = """
[[tag_rules]]
rule = "keyword 意向 多少钱,价格 lead=yes"

[[operators]]
room = "r1@chatroom"
member = "wxid_admin"
"""
ALICE, NAME, ALIAS = "wxid_alice", "爱丽丝Alice", "A姐姐"
SECRETS = ("紫色长颈鹿的秘密口令", "今天读完了秘密花园", "这个课多少钱呀蓝色企鹅")


def day(d: int, hm: str = "10:00") -> str:
    return f"2026-11-{d:02d}T{hm}:00+08:00"


def community(bot: Bot) -> None:
    bot.join(ALICE, name=NAME, ts=day(1, "08:00"))
    bot.roster([{"id": ALICE, "name": NAME, "room_alias": ALIAS}, {"id": "wxid_bob", "name": "Bob"}],
               ts=day(1, "08:01"))
    bot.say(ALICE, SECRETS[0], name=NAME, ts=day(1, "09:00"))
    bot.say(ALICE, f"打卡 {SECRETS[1]}", name=NAME, ts=day(1, "09:05"))
    bot.say(ALICE, SECRETS[2], name=NAME, ts=day(1, "09:10"))  # tagged 意向 with this excerpt
    bot.say(ALICE, "我的等级", name=NAME, room=None, ts=day(1, "09:15"))
    bot.say("wxid_bob", f"@{NAME} 你好呀，欢迎", name="Bob", mentions=[ALICE], ts=day(1, "09:20"))
    bot.say("wxid_bob", "打卡", name="Bob", ts=day(1, "09:21"))
    bot.say(ADMIN, f"/points @{NAME} +5 分享得好", mentions=[ALICE], ts=day(1, "09:30"))
    bot.say(ADMIN, "跟进清单", room=None, ts=day(1, "09:40"))
    bot.say(ADMIN, "已跟进 1 和爱丽丝聊过课程", room=None, ts=day(1, "09:41"))


def everything(bot: Bot) -> list[tuple[str, str]]:
    """(table, a row as text) for every row of every table in the store, ours or not."""
    out = []
    with bot.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append((table, " | ".join(str(v) for v in row)))
    return out


def forget(bot: Bot, at: str = day(2)) -> list:
    assert "确认请在 10 分钟内回复「确认删除」" in texts(bot.say(ALICE, "删除我的数据", name=NAME, room=None, ts=at))
    return bot.say(ALICE, "确认删除", name=NAME, room=None, ts=at.replace(":00+", ":30+"))


def test_deletion_erases_texts_names_and_id_everywhere_and_keeps_counts(tmp_path, db_url):
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    bot = Bot(tmp_path, database_url=db_url, config=tmp_path / "c.toml")
    community(bot)
    assert any(SECRETS[2] in row for _, row in everything(bot))  # the excerpt, the message...
    messages = bot.scalar("SELECT sum(messages) FROM dailyactivity")
    points = bot.scalar("SELECT sum(delta) FROM pointsentry")
    out = forget(bot)
    assert "已删除你的数据" in texts(out)
    rows = everything(bot)
    for secret in (*SECRETS, NAME, ALIAS):
        assert [r for r in rows if secret in r[1]] == [], secret
    # The only row still naming the member's id is the reply that tells them it is done.
    assert [(t, r) for t, r in rows if ALICE in r] == [
        ("outbox", r) for t, r in rows if ALICE in r and t == "outbox" and "已删除你的数据" in r]
    assert len([r for t, r in rows if ALICE in r]) == 1
    anon = bot.scalar("SELECT member FROM membership WHERE member LIKE 'anon_%'")
    assert anon and bot.scalar("SELECT count(*) FROM eventlog WHERE member = :m", m=anon) >= 6
    assert bot.scalar("SELECT sum(messages) FROM dailyactivity") == messages
    assert bot.scalar("SELECT sum(delta) FROM pointsentry") == points
    assert "Bob" in texts(bot.say("wxid_bob", "/rank", name="Bob", ts=day(2, "11:00")))
    assert anon not in texts(bot.say("wxid_bob", "/rank", name="Bob", ts=day(2, "11:01")))
    assert "已删除你的数据" not in texts(bot.say("wxid_bob", "/rank", name="Bob", ts=day(2, "11:02")))
    # Managers see the request and the deletion in the audit log, under the anonymous id.
    assert bot.rows("SELECT actor, action FROM auditentry WHERE action LIKE 'delete%' ORDER BY id") == [
        (anon, "delete_request"), (anon, "delete_data")]
    # The anonymous member is counted but never messaged.
    assert "共 1 人：Bob" in texts(bot.say(ADMIN, "群发 群=读书群 周末见", ts=day(2, "11:03")))
    # Asking again: nothing of theirs is left to delete.
    assert "没有找到你的聊天记录或资料" in texts(bot.say(ALICE, "删除我的数据", room=None, ts=day(3)))


def test_the_erased_bytes_are_gone_from_the_sqlite_file_and_its_wal(tmp_path):
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    bot = Bot(tmp_path, config=tmp_path / "c.toml")
    community(bot)
    files = [bot.path, Path(f"{bot.path}-wal")]
    assert any(SECRETS[0].encode() in f.read_bytes() for f in files if f.exists())
    forget(bot)
    for f in files:
        data = f.read_bytes() if f.exists() else b""
        for secret in (*SECRETS, NAME, ALIAS):
            assert secret.encode() not in data, (f.name, secret)
    assert bot.scalar("PRAGMA secure_delete") == 1


def test_deletion_bad_input(bot: Bot):
    assert "没有找到你的聊天记录或资料" in texts(bot.say("wxid_new", "删除我的数据", room=None))
    assert "没有待确认的删除请求" in texts(bot.say("wxid_new", "确认删除", room=None))
    bot.say(ALICE, "大家好", name=NAME, ts=day(1))
    assert "确定要删除你的数据吗" in texts(bot.say(ALICE, "删除我的数据", name=NAME, room=None, ts=day(1, "10:01")))
    assert "已经收到你的删除请求了" in texts(bot.say(ALICE, "删除我的数据", name=NAME, room=None, ts=day(1, "10:02")))
    # Unconfirmed, the request lapses: nothing was erased.
    assert "没有待确认的删除请求" in texts(bot.say(ALICE, "确认删除", name=NAME, room=None, ts=day(1, "10:30")))
    assert bot.scalar("SELECT name FROM member WHERE id = :m", m=ALICE) == NAME
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE text = '大家好'") == 1
    # The request is in the audit log; nothing was deleted.
    assert bot.rows("SELECT actor, action FROM auditentry WHERE action LIKE 'delete%'") == [(ALICE, "delete_request")]


def test_members_opt_out_of_the_rankings_and_back(bot: Bot):
    for m, name in (("wxid_a", "阿明"), ("wxid_b", "小波")):
        bot.say(m, "打卡", name=name, ts=day(1))
    bot.feed({"type": "join", "id": "j-inv", "ts": day(1, "09:30"), "room": ROOM, "member": "wxid_f",
              "member_name": "小芳", "inviter": "wxid_a"})
    assert "阿明 1 人" in texts(bot.say("wxid_b", "邀请排行", name="小波", ts=day(1, "10:01")))
    board = texts(bot.say("wxid_a", "排行", name="阿明", ts=day(1, "10:05")))
    assert "阿明" in board and "小波" in board
    assert "排行榜上不会再出现你的名字" in texts(bot.say("wxid_a", "不参与排行", name="阿明", ts=day(1, "10:06")))
    assert "你已经不参与排行了" in texts(bot.say("wxid_a", "/rankoff", name="阿明", ts=day(1, "10:07")))
    assert "阿明" not in texts(bot.say("wxid_b", "排行 邀请", name="小波", ts=day(1, "10:08")))
    for period in ("", " 今日", " 本周"):
        board = texts(bot.say("wxid_b", f"排行{period}", name="小波", ts=day(1, "10:08")))
        assert "阿明" not in board and "小波" in board
    assert "欢迎回到排行榜" in texts(bot.say("wxid_a", "参与排行", name="阿明", ts=day(1, "10:09")))
    assert "阿明" in texts(bot.say("wxid_b", "排行", name="小波", ts=day(1, "10:10")))
    assert "本来就在排行榜上" in texts(bot.say("wxid_a", "参与排行", name="阿明", ts=day(1, "10:11")))


def test_retention_erases_old_message_texts_and_keeps_counts(tmp_path):
    bot = Bot(tmp_path, retention_days=180)
    bot.say("wxid_a", "很久以前说的一句悄悄话", name="阿明", ts="2026-03-01T10:00:00+08:00")
    bot.say("wxid_a", "打卡 半年前的心得体会", name="阿明", ts="2026-03-01T10:05:00+08:00")
    bot.say("wxid_a", "最近说的一句话", name="阿明", ts="2026-10-01T10:00:00+08:00")
    before = bot.scalar("SELECT sum(messages) FROM dailyactivity")
    note = retention(JobContext(bot.deps, frozenset()), datetime.fromisoformat("2026-10-02T04:30:00+08:00"))
    assert "2 messages, 1 notes" in note
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE text LIKE '%悄悄话%' OR text LIKE '%心得体会%'") == 0
    assert bot.scalar("SELECT count(*) FROM checkin WHERE note IS NOT NULL") == 0
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE text = '最近说的一句话'") == 1
    assert bot.scalar("SELECT sum(messages) FROM dailyactivity") == before
    assert bot.scalar("SELECT count(*) FROM checkin") == 1
    for f in (bot.path, Path(f"{bot.path}-wal")):
        data = f.read_bytes() if f.exists() else b""
        assert "悄悄话".encode() not in data and "心得体会".encode() not in data


@pytest.mark.parametrize("days", [0])
def test_retention_off_keeps_everything(tmp_path, days):
    bot = Bot(tmp_path, retention_days=days)
    bot.say("wxid_a", "很久以前说的一句悄悄话", ts="2026-03-01T10:00:00+08:00")
    assert retention(JobContext(bot.deps, frozenset()), datetime.fromisoformat("2026-10-02T04:30:00+08:00")) == \
        "retention off"
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE text LIKE '%悄悄话%'") == 1
    assert ROOM and ADMIN


def test_a_member_named_like_a_task_leaves_the_task_its_name(bot: Bot):
    bot.say("wxid_z", "早起打卡的朋友们好呀", name="早起打卡", ts=day(1))
    bot.say(ADMIN, "/task add 早起打卡", ts=day(1, "10:01"))
    bot.say("wxid_z", "删除我的数据", name="早起打卡", room=None, ts=day(1, "10:02"))
    assert "已删除你的数据" in texts(bot.say("wxid_z", "确认删除", name="早起打卡", room=None, ts=day(1, "10:03")))
    assert bot.scalar("SELECT count(*) FROM checkintask WHERE name = '早起打卡'") == 1
    assert bot.scalar("SELECT count(*) FROM member WHERE name = '早起打卡'") == 0
    assert bot.scalar("SELECT count(*) FROM eventlog WHERE text LIKE '%朋友们好呀%'") == 0


def test_an_erased_member_is_on_no_follow_up_list(tmp_path):
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    bot = Bot(tmp_path, config=tmp_path / "c.toml")
    bot.roster([{"id": ALICE, "name": NAME}, {"id": "wxid_bob", "name": "Bob"}], ts=day(1, "08:00"))
    bot.say(ALICE, SECRETS[2], name=NAME, ts=day(1, "20:10"))  # a lead nobody followed up yet
    bot.say("wxid_bob", "价格是多少", name="Bob", ts=day(1, "20:20"))  # and another one
    forget(bot)
    anon = bot.scalar("SELECT id FROM member WHERE id LIKE 'anon_%'")
    listed = texts(bot.say(ADMIN, "跟进清单", room=None, ts=day(2, "11:00")))
    assert "Bob" in listed and anon not in listed and "意向线索" in listed



def test_a_member_known_only_from_a_roster_can_delete_their_data(bot: Bot):
    """Listed by a roster, greeted by name, never said anything the bot stored: 删除我的数据 used
    to answer 「没有找到你的聊天记录」, and the bot's replies naming TA stayed."""
    bot.roster([{"id": "wxid_quiet", "name": "安静的小鹿", "room_alias": "小鹿同学"}], ts="2026-11-01T08:00:00+08:00")
    bot.say(ADMIN, "/points 小鹿同学 +5 欢迎", mentions=["wxid_quiet"], ts="2026-11-01T09:00:00+08:00")
    assert bot.scalar("SELECT count(*) FROM outbox WHERE text LIKE '%安静的小鹿%' OR text LIKE '%小鹿同学%'") >= 1
    assert "确定要删除你的数据吗" in texts(bot.say("wxid_quiet", "删除我的数据", ts="2026-11-01T10:00:00+08:00"))
    assert "已删除你的数据" in texts(bot.say("wxid_quiet", "确认删除", ts="2026-11-01T10:01:00+08:00"))
    assert bot.scalar("SELECT count(*) FROM outbox WHERE text LIKE '%安静的小鹿%' OR text LIKE '%小鹿同学%'") == 0
    assert bot.scalar("SELECT count(*) FROM member WHERE id = 'wxid_quiet'") == 0


def test_deleting_data_with_someone_mentioned_says_it_is_only_ones_own(bot: Bot):
    bot.say("a", "大家好", name="Alice", ts="2026-11-01T09:00:00+08:00")
    bot.say("b", "你好", name="Bob", ts="2026-11-01T09:01:00+08:00")
    reply = texts(bot.say("a", "删除我的数据 @Bob", mentions=["b"], ts="2026-11-01T10:00:00+08:00"))
    assert "只能删除你自己的数据" in reply and "确定要删除你的数据吗" in reply


def test_an_erased_member_is_on_no_follow_up_list_not_even_for_a_question(tmp_path, db_url):
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    bot = Bot(tmp_path, database_url=db_url, config=tmp_path / "c.toml")
    community(bot)
    bot.say(ALICE, "请问下周的课几点开始呀", name=NAME, room=None, ts=day(1, "09:50"))  # nobody answers it
    listed = texts(bot.say(ADMIN, "跟进清单", room=None, ts=day(1, "10:00")))
    assert NAME in listed and "私聊问「请问下周的课几点开始呀」" in listed
    forget(bot)
    anon = bot.scalar("SELECT member FROM membership WHERE member LIKE 'anon_%'")
    assert anon and bot.scalar("SELECT count(*) FROM membership WHERE member = :m AND active", m=anon) == 1
    listed = texts(bot.say(ADMIN, "跟进清单", room=None, ts=day(2, "10:00")))
    assert "跟进清单" in listed  # a list was made
    assert anon not in listed and "私聊问" not in listed and NAME not in listed
