"""群发 through the real pipeline: select, preview, confirm; the messages wait in the outbox for
quiet hours, the daily cap and pacing (an explicit clock drives the real sender); a member is
reached at most once in 7 days; 退订 stops it."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.adapters.memory import MemoryAdapter
from bot.core.outbox import OutboxSender
from tests.harness import ADMIN, ROOM, Bot, texts

DAY = "2026-11-02T{}+08:00"
MEMBERS = {"wxid_a": "阿明", "wxid_b": "小波", "wxid_c": "陈晨"}


def community(bot: Bot) -> None:
    for i, (m, name) in enumerate(MEMBERS.items()):
        bot.join(m, name=name, ts=DAY.format(f"09:0{i}:00"))
        bot.say(m, "大家好，我来报到了", name=name, ts=DAY.format(f"09:1{i}:00"))
    bot.say(ADMIN, "/tag @小波 意向", mentions=["wxid_b"], ts=DAY.format("09:30:00"))
    bot.say(ADMIN, "/tag @陈晨 意向", mentions=["wxid_c"], ts=DAY.format("09:31:00"))


def queued(bot: Bot) -> list[tuple]:
    """The outreach messages in the outbox: (to, status, local send time)."""
    rows = bot.rows("SELECT o.\"to\", o.status, o.next_at FROM outreachmessage m JOIN outbox o ON o.id = m.outbox_id"
                    " ORDER BY o.next_at, o.\"to\"")
    return [(to, status, datetime.fromtimestamp(at, bot.settings.tz).strftime("%m-%d %H:%M:%S"))
            for to, status, at in rows]


async def drain_at(bot: Bot, adapter: MemoryAdapter, local: str) -> int:
    """Run the real sender at `local` time; returns how many outreach messages went out."""
    at = datetime.fromisoformat(local).timestamp()
    before = len(outreach(adapter))
    await OutboxSender(bot.engine, adapter, now=lambda: at).drain()
    return len(outreach(adapter)) - before


def outreach(adapter: MemoryAdapter) -> list:
    return [o for o in adapter.sent if o.room is None and "回复「退订」" in o.text]


async def test_a_manager_previews_confirms_and_the_messages_go_one_to_one(bot: Bot):
    community(bot)
    out = bot.say(ADMIN, "/broadcast tag=意向\n周六晚 8 点直播答疑，回复 1 报名", ts=DAY.format("10:00:00"))
    preview = texts(out)
    assert "群发预览：标签「意向」，共 2 人：小波、陈晨" in preview
    assert "将发给 2 人" in preview and "今天 2 条" in preview
    assert "周六晚 8 点直播答疑，回复 1 报名\n（回复「退订」不再接收此类消息）" in preview
    assert queued(bot) == []  # nothing goes before the confirmation
    out = bot.say(ADMIN, "群发 确认", ts=DAY.format("10:01:00"))
    assert "已安排群发 #1：2 人" in texts(out)
    # Paced: one message every 30 s from the confirmation on.
    assert queued(bot) == [("wxid_b", "pending", "11-02 10:01:00"), ("wxid_c", "pending", "11-02 10:01:30")]
    adapter = MemoryAdapter()
    assert await drain_at(bot, adapter, DAY.format("10:01:10")) == 1
    assert await drain_at(bot, adapter, DAY.format("10:02:00")) == 1
    assert [o.to for o in outreach(adapter)] == ["wxid_b", "wxid_c"]
    assert outreach(adapter)[0].text.startswith("周六晚 8 点直播答疑")
    assert "已取消" not in texts(bot.say(ADMIN, "群发 确认", ts=DAY.format("10:03:00")))  # the draft was used once
    assert len(queued(bot)) == 2


async def test_quiet_hours_hold_messages_until_morning(bot: Bot):
    community(bot)
    out = bot.say(ADMIN, "/broadcast room=读书群 明早见", ts=DAY.format("23:10:00"))
    assert "现在是免打扰时段（22:00–08:00），消息会在明天 08:00 起发出" in texts(out)
    bot.say(ADMIN, "/broadcast 确认", ts=DAY.format("23:11:00"))
    assert [t for _, _, t in queued(bot)] == ["11-03 08:00:00", "11-03 08:00:30", "11-03 08:01:00"]
    adapter = MemoryAdapter()
    assert await drain_at(bot, adapter, "2026-11-03T02:00:00+08:00") == 0
    assert await drain_at(bot, adapter, "2026-11-03T07:59:59+08:00") == 0
    assert await drain_at(bot, adapter, "2026-11-03T08:05:00+08:00") == 3
    assert {o.to for o in outreach(adapter)} == set(MEMBERS)


def test_reach_limit_one_outreach_per_member_in_seven_days(tmp_path, db_url):
    bot = Bot(tmp_path, database_url=db_url)
    community(bot)
    bot.say(ADMIN, "/broadcast tag=意向 第一条", ts=DAY.format("10:00:00"))
    bot.say(ADMIN, "/broadcast 确认", ts=DAY.format("10:00:10"))
    # A 1:1 answer and the operators' lists are not outreach: they do not count.
    bot.say("wxid_a", "我的等级", room=None, ts=DAY.format("10:05:00"))
    out = bot.say(ADMIN, "/broadcast room=读书群 第二条", ts="2026-11-05T10:00:00+08:00")
    assert "不发：2 人 7 天内已收到过群发或提醒" in texts(out) and "将发给 1 人" in texts(out)
    bot.say(ADMIN, "/broadcast 确认", ts="2026-11-05T10:00:10+08:00")
    assert sorted(to for to, _, _ in queued(bot)) == ["wxid_a", "wxid_b", "wxid_c"]
    out = bot.say(ADMIN, "/broadcast room=读书群 第三条", ts="2026-11-08T10:00:00+08:00")
    assert "这次没有可以发的人" in texts(out)
    out = bot.say(ADMIN, "/broadcast tag=意向 第四条", ts="2026-11-09T10:00:40+08:00")  # 7 days on
    assert "将发给 2 人" in texts(out)


def test_daily_cap_splits_a_broadcast_over_days(tmp_path, db_url):
    bot = Bot(tmp_path, database_url=db_url, outreach_daily_cap=2, outreach_gap_seconds=60)
    community(bot)
    out = bot.say(ADMIN, "/broadcast room=读书群 通知", ts=DAY.format("21:58:00"))
    assert "今天 2 条，明天 1 条（每天最多发 2 条）" in texts(out)
    bot.say(ADMIN, "/broadcast 确认", ts=DAY.format("21:58:30"))
    # 21:58:30 and 21:59:30 today; the third waits for tomorrow, after the quiet hours.
    assert [t for _, _, t in queued(bot)] == ["11-02 21:58:30", "11-02 21:59:30", "11-03 08:00:00"]


async def test_unsubscribe_stops_outreach_and_drops_what_waits(bot: Bot):
    community(bot)
    bot.say(ADMIN, "/broadcast tag=意向 明早直播", ts=DAY.format("23:00:00"))
    bot.say(ADMIN, "/broadcast 确认", ts=DAY.format("23:00:10"))
    out = bot.say("wxid_b", "退订", room=None, ts=DAY.format("23:05:00"))
    assert "已退订" in texts(out)
    assert "已经退订" in texts(bot.say("wxid_b", "/unsubscribe", room=None, ts=DAY.format("23:06:00")))
    assert ("wxid_b", "dropped", "11-03 08:00:00") in queued(bot)
    adapter = MemoryAdapter()
    await drain_at(bot, adapter, "2026-11-03T09:00:00+08:00")
    assert [o.to for o in outreach(adapter)] == ["wxid_c"]
    out = bot.say(ADMIN, "/broadcast room=读书群 下周见", ts="2026-11-12T10:00:00+08:00")
    assert "1 人已退订" in texts(out) and "将发给 2 人" in texts(out)
    assert "恢复订阅" in texts(bot.say("wxid_b", "恢复订阅", room=None, ts="2026-11-12T10:01:00+08:00"))
    assert "将发给 3 人" in texts(bot.say(ADMIN, "/broadcast room=读书群 下周见", ts="2026-11-12T10:02:00+08:00"))


def test_bad_broadcasts_get_clear_replies_and_queue_nothing(bot: Bot):
    community(bot)
    at = datetime.fromisoformat(DAY.format("10:00:00"))

    def say(text: str, who: str = ADMIN) -> str:
        nonlocal at
        at += timedelta(seconds=10)
        return texts(bot.say(who, text, ts=at))

    assert "没有符合条件的成员（标签「不存在的标签」）" in say("/broadcast tag=不存在的标签 你好")
    assert "请至少写一个条件" in say("/broadcast 你好")
    assert "请写出要发的消息" in say("/broadcast tag=意向")
    assert "不认识的分层" in say("/broadcast segment=土豪 你好")
    assert "等级「abc」应为数字" in say("/broadcast level=abc 你好")
    assert "没有待确认的群发" in say("/broadcast 确认")
    assert "没有待确认的群发" in say("群发 取消")
    assert "只有管理员" in say("/broadcast tag=意向 你好", who="wxid_a")
    assert "消息太长了" in say("/broadcast tag=意向 " + "长" * 1001)
    # a draft, then cancelled: nothing goes
    assert "群发预览" in say("/broadcast tag=意向 你好")
    assert "已取消" in say("群发 取消")
    assert "没有待确认的群发" in say("群发 确认")
    assert queued(bot) == []


def test_admins_operators_and_people_who_left_are_never_selected(bot: Bot):
    community(bot)
    bot.say(ADMIN, "/operator @阿明", mentions=["wxid_a"], ts=DAY.format("09:40:00"))
    bot.leave("wxid_c", ts=DAY.format("09:50:00"))
    out = bot.say(ADMIN, "/broadcast room=读书群 你好", ts=DAY.format("10:00:00"))
    assert "共 1 人：小波" in texts(out)
    assert ROOM


def test_each_filter_selects_from_the_report_rows(bot: Bot):
    community(bot)
    bot.say(ADMIN, "/grade @阿明 A 老客户", mentions=["wxid_a"], ts=DAY.format("09:40:00"))
    bot.say(ADMIN, "/points @陈晨 +200 分享", mentions=["wxid_c"], ts=DAY.format("09:41:00"))
    at = datetime.fromisoformat(DAY.format("10:00:00"))

    def chosen(filters: str) -> str:
        nonlocal at
        at += timedelta(seconds=10)
        return texts(bot.say(ADMIN, f"/broadcast {filters}\n你好", ts=at)).split("\n")[0]

    assert chosen("grade=A").endswith("A 级，共 1 人：阿明")
    assert chosen("level=3").endswith("Lv3 及以上，共 1 人：陈晨")
    assert chosen("type=新").endswith("新成员，共 3 人：小波、阿明、陈晨")
    assert chosen("stage=新").endswith("新阶段，共 3 人：小波、阿明、陈晨")
    assert chosen("stage=流失") == "没有符合条件的成员（流失阶段），换个条件试试。"
    assert chosen("segment=重要挽留客户").startswith("没有符合条件的成员（重要挽留客户）")
    assert chosen("tag=意向 grade=A") == "没有符合条件的成员（标签「意向」 · A 级），换个条件试试。"
    assert chosen("群=读书群 标签=意向").endswith("共 2 人：小波、陈晨")


def test_the_daily_cap_and_pacing_are_per_account(tmp_path):
    """Two bot accounts, each hearing one group: each sends its own members, one a day here."""
    bot = Bot(tmp_path, outreach_daily_cap=1)
    for i, (member, room, account) in enumerate([("wxid_m1", "g1@chatroom", "wxid_bot_a"),
                                                ("wxid_m2", "g1@chatroom", "wxid_bot_a"),
                                                ("wxid_m3", "g2@chatroom", "wxid_bot_b"),
                                                ("wxid_m4", "g2@chatroom", "wxid_bot_b")]):
        bot.feed({"type": "message", "id": f"acc{i}", "ts": DAY.format(f"09:0{i}:00"), "room": room,
                  "room_name": room[:2], "sender": member, "sender_name": member[-2:], "text": "大家早上好呀",
                  "account": account})
    out = bot.say(ADMIN, "/broadcast level=1 今晚直播", room=None, ts=DAY.format("10:00:00"))
    assert "共 4 人" in texts(out) and "今天 2 条，明天 2 条（每天最多发 1 条）" in texts(out)
    bot.say(ADMIN, "/broadcast 确认", room=None, ts=DAY.format("10:00:10"))
    rows = bot.rows('SELECT m.member, m.account, o.account, o.next_at FROM outreachmessage m'
                    ' JOIN outbox o ON o.id = m.outbox_id ORDER BY m.member')
    assert [(m, a, o) for m, a, o, _ in rows] == [
        ("wxid_m1", "wxid_bot_a", "wxid_bot_a"), ("wxid_m2", "wxid_bot_a", "wxid_bot_a"),
        ("wxid_m3", "wxid_bot_b", "wxid_bot_b"), ("wxid_m4", "wxid_bot_b", "wxid_bot_b")]
    days = [datetime.fromtimestamp(at, bot.settings.tz).strftime("%d %H:%M:%S") for *_, at in rows]
    assert days == ["02 10:00:10", "03 08:00:00", "02 10:00:10", "03 08:00:00"]
