"""Photo and voice check-ins (media=image|voice|any), and an operator's 点评 / 优秀 of a check-in."""

from __future__ import annotations

from tests.harness import ADMIN, ROOM, Bot, texts

OP = "wxid_op"


def media(bot: Bot, sender: str, kind: str, ts: str, caption: str = "") -> list:
    bot.at(ts)
    return bot.feed({"type": "message", "id": bot.next_id("img"), "ts": bot.clock.isoformat(), "room": ROOM,
                     "room_name": "读书群", "sender": sender, "sender_name": sender, "kind": kind, "text": caption})


def quote(bot: Bot, sender: str, text: str, *, quote_of: str | None = None, quote_sender: str | None = None,
          room: str | None = ROOM) -> list:
    bot.tick(minutes=1)
    ev = {"type": "message", "id": bot.next_id("q"), "ts": bot.clock.isoformat(), "sender": sender,
          "sender_name": "小运营" if sender == OP else sender, "kind": "quote", "text": text}
    if room:
        ev |= {"room": room, "room_name": "读书群"}
    ev |= {k: v for k, v in (("quote_of", quote_of), ("quote_sender", quote_sender)) if v}
    return bot.feed(ev)


def notes(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT member, day, note FROM checkin ORDER BY ts")


def test_a_photo_in_the_window_is_the_checkin(bot: Bot):
    bot.say(ADMIN, "/task add 跑步 triggers=跑步打卡 window=05:00-09:00 media=image", ts="2026-12-01T04:00:00+08:00")
    out = media(bot, "wxid_a", "image", "2026-12-01T06:00:00+08:00")
    assert "「跑步」成功" in texts(out)
    out += media(bot, "wxid_b", "image", "2026-12-01T06:05:00+08:00", caption="今天10公里")
    assert media(bot, "wxid_a", "image", "2026-12-01T06:10:00+08:00") == []  # a second photo: chat
    assert media(bot, "wxid_c", "image", "2026-12-01T10:00:00+08:00") == []  # outside any window: nothing
    assert media(bot, "wxid_c", "voice", "2026-12-01T07:00:00+08:00") == []  # a photo task: voice is chat
    assert notes(bot) == [("wxid_a", "2026-12-01", "图片打卡"), ("wxid_b", "2026-12-01", "今天10公里")]


def test_a_photo_within_ten_minutes_after_a_bare_trigger(bot: Bot):
    bot.say(ADMIN, "/task add 读书 triggers=读书打卡 window=20:00-22:00 media=any", ts="2026-12-01T04:00:00+08:00")
    [prompt] = bot.say("wxid_a", "读书打卡", ts="2026-12-01T21:55:00+08:00")
    assert prompt.text == "收到！请在 10 分钟内发一张图片或一条语音，完成「读书」打卡。"
    assert notes(bot) == []
    out = media(bot, "wxid_a", "voice", "2026-12-01T22:03:00+08:00")  # after the window, within 10 minutes
    assert "「读书」成功" in texts(out) and notes(bot) == [("wxid_a", "2026-12-01", "语音打卡")]
    bot.say("wxid_b", "读书打卡", ts="2026-12-01T21:40:00+08:00")
    assert media(bot, "wxid_b", "image", "2026-12-01T22:11:00+08:00") == []  # 31 minutes later: too late
    # a trigger with a note is a check-in by itself
    assert "成功" in texts(bot.say("wxid_c", "读书打卡 读了《活着》", ts="2026-12-01T21:00:00+08:00"))


def test_imported_photos_count_the_same_way(bot: Bot):
    bot.say(ADMIN, "/task set 打卡 media=image", ts="2026-12-01T04:00:00+08:00")
    bot.feed({"type": "message", "id": "imp-1", "ts": "2026-11-20T07:00:00+08:00", "room": ROOM, "sender": "wxid_a",
              "kind": "image", "text": ""}, silent=True)
    assert notes(bot) == [("wxid_a", "2026-11-20", "图片打卡")]


def reviewed(bot: Bot) -> list[tuple]:
    return bot.rows("SELECT member, by, excellent, text FROM checkinreview ORDER BY id")


def setup_review(bot: Bot) -> None:
    bot.roster([{"id": OP, "name": "小运营"}, {"id": "wxid_a", "name": "阿青"}], ts="2026-12-01T07:00:00+08:00")
    bot.say(ADMIN, "/operator @小运营", mentions=[OP])
    bot.say("wxid_a", "打卡 读完第三章", name="阿青", id="ci-1", ts="2026-12-01T08:00:00+08:00")
    bot.say("wxid_a", "今天天气真好", name="阿青", id="chat-1")


def test_review_and_excellent_tell_the_member_and_pay_once(bot: Bot):
    setup_review(bot)
    [told] = quote(bot, OP, "点评 写得很用心，继续加油！", quote_of="ci-1", quote_sender="wxid_a")
    assert told.room == ROOM and told.mentions == ("wxid_a",)
    assert told.text == "你12月1日的「打卡」收到点评：写得很用心，继续加油！"
    [star] = quote(bot, OP, "优秀", quote_of="ci-1", quote_sender="wxid_a")
    # 31: 10 for the check-in, 1 for speaking, 20 for 优秀
    assert star.text == "🌟 你12月1日的「打卡」被评为优秀打卡，+20 积分（共 31 分）！"
    assert star.mentions == ("wxid_a",)
    out = quote(bot, OP, "优秀 再夸一次", quote_of="ci-1")
    assert "之前已评为优秀" in texts(out)
    assert bot.scalar("SELECT points FROM member WHERE id = 'wxid_a'") == 31
    assert reviewed(bot) == [("wxid_a", OP, 0, "写得很用心，继续加油！"), ("wxid_a", OP, 1, None),
                             ("wxid_a", OP, 1, "再夸一次")]


def test_review_of_what_is_not_a_checkin(bot: Bot):
    setup_review(bot)
    assert texts(quote(bot, OP, "点评 不错", quote_of="chat-1")) == "引用的这条不是打卡消息：点评和优秀只能用在打卡上。"
    assert "请先引用一条打卡消息" in texts(bot.say(OP, "点评 不错"))
    assert "写上点评的内容" in texts(quote(bot, OP, "点评", quote_of="ci-1"))
    # a member's 优秀 is chat; a member's 点评 is refused politely
    assert quote(bot, "wxid_b", "优秀", quote_of="ci-1") == []
    assert "只有运营可以用" in texts(quote(bot, "wxid_b", "点评 棒", quote_of="ci-1"))
    assert reviewed(bot) == []


def test_a_quote_with_only_the_sender_finds_their_latest_checkin(bot: Bot):
    setup_review(bot)
    [told] = quote(bot, OP, "点评 好样的", quote_sender="wxid_a")
    assert told.mentions == ("wxid_a",) and "收到点评：好样的" in told.text


def test_the_weekly_roundup_lists_the_weeks_excellent_checkins(bot: Bot):
    setup_review(bot)
    bot.say(ADMIN, "/task set 打卡 roundup=on")
    quote(bot, OP, "优秀", quote_of="ci-1")
    assert bot.time_passes("2026-12-06T20:59:00+08:00") == []
    [roundup] = bot.time_passes("2026-12-06T21:00:00+08:00")  # Sunday evening
    assert roundup.text == "🌟 本周「打卡」优秀打卡：阿青（12/1）。恭喜，继续加油！" and roundup.room == ROOM
    assert bot.time_passes("2026-12-06T22:00:00+08:00") == []
