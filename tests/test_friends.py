"""The private account, replayed: friend requests accepted by rule or by an operator, channel
tags from the greeting, the welcome DM and 拉群, friends in no group on the follow-up list."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core.config import ConfigError, load_config
from bot.core.events import EventError, parse_event
from bot.core.settings import Settings
from bot.features.followup.service import build_items, issue_daily, operator_rooms
from bot.features.friends.feature import FEATURE as FRIENDS_FEATURE
from bot.store.models import NO_ROOM
from bot.wiring import build
from tests.harness import ADMIN, NOT_AFTER, ROOM, Bot, texts
from tests.test_cli import report, run, write

CONFIG = """
[friends]
auto_accept = "keyword"
keywords = ["课程", "报名", "直播"]
group = "读书群"
welcome = "你好 {name}，欢迎来到读书会！"

[friends.channels."来源-抖音"]
welcome = "你好 {name}，抖音直播间的朋友你好！进「{group}」一起读书吧。"
group = "抖音读书群"
"""
T = "2026-11-02T10:00:00+08:00"


@pytest.fixture
def fbot(tmp_path) -> Bot:
    path = tmp_path / "qunguan.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return Bot(tmp_path, config=path)


def friend(bot: Bot, member: str, status: str, *, hello: str | None = None, name: str | None = None,
           ts: str | None = None, id: str | None = None):
    if ts is not None:
        bot.at(ts)
    ev = {"type": "friend", "id": id or bot.next_id("f"), "ts": bot.clock.isoformat(), "member": member,
          "status": status}
    if name is not None:
        ev["member_name"] = name
    if hello is not None:
        ev["hello"] = hello
    return bot.feed(ev)


def channel_rule(bot: Bot) -> None:
    bot.say(ADMIN, "/rule add keyword 来源-抖音 抖音,直播间 on=hello", room=None, ts=T)


def accepts(out):
    return [o for o in out if o.action == "accept"]


def test_a_greeting_that_matches_an_on_hello_rule_gives_the_channel_tag_quoting_it(fbot: Bot):
    channel_rule(fbot)
    out = friend(fbot, "wxid_amy", "requested", hello="我是从抖音直播来的，想报名", name="Amy",
                 id="fr_1", ts="2026-11-02T10:05:00+08:00")
    [accept] = accepts(out)  # 直播 and 报名 are accept keywords: accepted by rule
    assert accept.to == "wxid_amy" and accept.text == "fr_1"
    [(tag, keyword, excerpt, message)] = fbot.rows(
        "SELECT tag, keyword, excerpt, message_id FROM membertag WHERE member='wxid_amy'")
    assert (tag, keyword, message) == ("来源-抖音", "抖音", "fr_1")
    assert excerpt == "我是从抖音直播来的，想报名"
    reply = texts(fbot.say(ADMIN, "/tags wxid_amy", room=None))
    assert "来源-抖音" in reply and "我是从抖音直播来的，想报名" in reply
    assert fbot.rows("SELECT channel, decision FROM friendship WHERE member='wxid_amy'") == [("来源-抖音", "queued")]
    # Asked again before the accept went out: nothing is accepted twice.
    assert accepts(friend(fbot, "wxid_amy", "requested", hello="还是我，想报名")) == []
    # The preview of an on=hello rule reads greetings.
    preview = texts(fbot.say(ADMIN, "/rule preview keyword 来源-直播 直播 on=hello", room=None))
    assert "好友申请验证消息" in preview and "1 人会得到「来源-直播」" in preview
    # A chat message saying 抖音 is not a greeting: the on=hello rule does not read it.
    fbot.say("wxid_carl", "我也刷抖音", name="Carl")
    assert fbot.rows("SELECT tag FROM membertag WHERE member='wxid_carl'") == []


def test_an_accepted_friend_gets_the_welcome_dm_and_is_invited_into_the_channels_group(fbot: Bot):
    channel_rule(fbot)
    fbot.feed({"type": "roster", "id": "ro-g2", "ts": "2026-11-02T09:00:00+08:00", "room": "g2@chatroom",
               "room_name": "抖音读书群", "members": [{"id": "wxid_old"}]})
    friend(fbot, "wxid_amy", "requested", hello="我是从抖音直播来的，想报名", name="Amy",
           ts="2026-11-02T10:05:00+08:00", id="fr_1")
    out = friend(fbot, "wxid_amy", "accepted", ts="2026-11-02T10:08:00+08:00", id="fa_1")
    [dm] = [o for o in out if o.action is None]
    assert dm.to == "wxid_amy" and dm.room is None
    assert dm.text == "你好 Amy，抖音直播间的朋友你好！进「抖音读书群」一起读书吧。"
    [add] = [o for o in out if o.action == "room_add"]
    assert (add.room, add.to) == ("g2@chatroom", "wxid_amy")
    # The acceptance seen again (the gateway confirms it too): no second welcome.
    assert friend(fbot, "wxid_amy", "accepted", ts="2026-11-02T10:09:00+08:00") == []


def test_a_friend_not_in_any_group_after_3_days_is_on_the_list_and_one_who_joined_is_not(fbot: Bot):
    for who in ("wxid_amy", "wxid_ben"):
        friend(fbot, who, "requested", hello="想了解课程", ts="2026-11-02T10:00:00+08:00")
        friend(fbot, who, "accepted", ts="2026-11-02T10:01:00+08:00")
    fbot.join("wxid_ben", ts="2026-11-03T10:00:00+08:00")
    at = datetime.fromisoformat("2026-11-05T10:30:00+08:00")
    with fbot.engine.begin() as conn:
        assert NO_ROOM in operator_rooms(conn, [ADMIN])[ADMIN]
        items = build_items(conn, fbot.deps, at, [ROOM, NO_ROOM]).items
    [item] = [i for i in items if i.kind == "not_in_group"]
    assert item.member == "wxid_amy" and "加好友 3 天" in item.reason and item.room_name == "好友（私聊）"
    at_two_days = datetime.fromisoformat("2026-11-04T09:00:00+08:00")
    with fbot.engine.begin() as conn:
        assert not [i for i in build_items(conn, fbot.deps, at_two_days, [NO_ROOM]).items if i.kind == "not_in_group"]


def test_a_request_without_a_keyword_waits_for_an_operator_who_accepts_it_by_number(fbot: Bot):
    assert accepts(friend(fbot, "wxid_zed", "requested", hello="你好", name="Zed", ts=T)) == []
    assert accepts(friend(fbot, "wxid_nil", "requested", name="Nil")) == []  # no greeting at all
    listing = texts(fbot.say(ADMIN, "好友申请", room=None))
    assert "1. Zed" in listing and "「你好」" in listing and "2. Nil" in listing and "没有验证消息" in listing
    at = datetime.fromisoformat("2026-11-02T12:00:00+08:00")
    with fbot.engine.begin() as conn:
        [issued] = issue_daily(conn, fbot.deps, at)
    kinds = [(i.kind, i.member) for i in issued.items]
    assert ("friend_request", "wxid_zed") in kinds and ("friend_request", "wxid_nil") in kinds
    [zed] = [i for i in issued.items if i.member == "wxid_zed"]
    assert "通过 1" in zed.action
    out = fbot.say(ADMIN, "通过 1 7", room=None)
    [accept] = accepts(out)
    assert accept.to == "wxid_zed"
    assert "已通过 1 号" in texts(out) and "没有编号为 7" in texts(out)
    assert "已经在通过队列" in texts(fbot.say(ADMIN, "通过 1", room=None))
    assert "正整数" in texts(fbot.say(ADMIN, "通过 abc", room=None))
    assert "运营" in texts(fbot.say("wxid_zed", "通过 2", room=None))  # members may not


def test_bad_friend_events_are_handled_clearly_and_nothing_is_lost(fbot: Bot):
    long_hello = "报名" + "很" * 4998
    out = friend(fbot, "wxid_long", "requested", hello=long_hello, ts=T)
    assert len(accepts(out)) == 1
    assert fbot.scalar("SELECT length(hello) FROM friendship WHERE member='wxid_long'") == 5000
    with pytest.raises(EventError, match="太长"):
        parse_event({"type": "friend", "id": "x", "ts": T, "member": "m", "status": "requested",
                     "hello": "很" * 5001}, not_after=NOT_AFTER)
    with pytest.raises(EventError, match="status"):
        parse_event({"type": "friend", "id": "x", "ts": T, "member": "m", "status": "maybe"},
                     not_after=NOT_AFTER)
    # A request from someone already a friend: nothing to accept, nothing welcomed twice.
    friend(fbot, "wxid_long", "accepted")
    assert friend(fbot, "wxid_long", "requested", hello="报名") == []
    # A removal of someone unknown is recorded, not an error.
    assert friend(fbot, "wxid_ghost", "removed") == []
    assert fbot.rows("SELECT status FROM friendship WHERE member='wxid_ghost'") == [("removed",)]
    assert fbot.scalar("SELECT count(*) FROM eventlog WHERE type='friend'") == 4


def test_a_friend_who_says_jinqun_is_invited_again_once_a_day(fbot: Bot):
    fbot.roster(["wxid_old"])  # 读书群: the account is in it
    friend(fbot, "wxid_amy", "requested", hello="想报名", name="Amy", ts=T)
    out = friend(fbot, "wxid_amy", "accepted")
    assert [o.room for o in out if o.action == "room_add"] == [ROOM]
    assert "今天已经邀请过" in texts(fbot.say("wxid_amy", "进群", room=None, ts="2026-11-02T11:00:00+08:00"))
    out = fbot.say("wxid_amy", "进群", room=None, ts="2026-11-03T11:00:00+08:00")
    assert [o.room for o in out if o.action == "room_add"] == [ROOM] and "马上拉你" in texts(out)
    fbot.join("wxid_amy")
    assert "已经在「读书群」" in texts(fbot.say("wxid_amy", "加群", room=None, ts="2026-11-04T11:00:00+08:00"))


def test_an_invite_to_a_group_the_account_is_not_in_sends_the_invite_text(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[friends]\nauto_accept = "all"\ngroup = "没进的群"\n'
                    'invite_text = "扫码进群：https://example.com/qr"\n', encoding="utf-8")
    bot = Bot(tmp_path, config=path)
    friend(bot, "wxid_amy", "requested", ts=T)
    out = friend(bot, "wxid_amy", "accepted")
    assert [o.action for o in out] == [None, None]
    assert "没进的群" in out[0].text and out[1].text == "扫码进群：https://example.com/qr"


def test_an_invite_nobody_can_send_is_told_to_the_admins(fbot: Bot):
    # 读书群 is configured but the account is in no such group, and there is no invite text.
    friend(fbot, "wxid_amy", "requested", hello="想报名", name="Amy", ts=T)
    out = friend(fbot, "wxid_amy", "accepted")
    [admin] = [o for o in out if o.to == ADMIN]
    assert "Amy" in admin.text and "「读书群」" in admin.text and "手动邀请" in admin.text
    # The welcome promised the group: Amy is told the invitation is with a person now.
    assert "已经告诉管理员" in texts([o for o in out if o.to == "wxid_amy"])
    reply = texts(fbot.say("wxid_amy", "进群", room=None, ts="2026-11-03T11:00:00+08:00"))
    assert "已经告诉管理员" in reply


def test_the_first_channel_is_kept_when_later_tags_change(fbot: Bot):
    channel_rule(fbot)
    fbot.say(ADMIN, "/rule add keyword 来源-公众号 公众号 on=hello", room=None)
    friend(fbot, "wxid_amy", "requested", hello="抖音上看到的", ts=T)
    fbot.say(ADMIN, "/untag wxid_amy 来源-抖音", room=None)
    friend(fbot, "wxid_amy", "removed")
    friend(fbot, "wxid_amy", "requested", hello="公众号来的")
    assert fbot.scalar("SELECT channel FROM friendship WHERE member='wxid_amy'") == "来源-抖音"
    tags = {t for (t,) in fbot.rows("SELECT tag FROM membertag WHERE member='wxid_amy'")}
    assert tags == {"来源-公众号"}


def test_a_friend_list_marks_friends_from_before_and_removals(fbot: Bot):
    friend(fbot, "wxid_amy", "requested", hello="报名", ts=T)
    friend(fbot, "wxid_amy", "accepted")
    out = fbot.feed({"type": "contacts", "id": "c1", "ts": "2026-11-02T11:00:00+08:00",
                     "members": [{"id": "wxid_old", "name": "Old"}]})
    assert out == []  # friends from before the bot are not welcomed
    assert fbot.rows("SELECT member, status, pre_existing FROM friendship ORDER BY member") == [
        ("wxid_amy", "removed", False), ("wxid_old", "accepted", True)]


def test_friends_settings_errors_name_the_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[friends]\nauto_accept = "maybe"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="auto_accept"):
        load_config(path, FRIENDS_FEATURE.config)
    path.write_text('[friends]\naccept_per_hour = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="accept_per_hour"):
        build(Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}", config=path))


def test_a_friend_who_only_chats_one_to_one_is_typed_like_a_group_member(tmp_path):
    events = [{"type": "friend", "id": "fr1", "ts": "2026-10-01T10:00:00+08:00", "member": "wxid_solo",
               "member_name": "Solo", "status": "requested", "hello": "报名"},
              {"type": "friend", "id": "fa1", "ts": "2026-10-01T10:01:00+08:00", "member": "wxid_solo",
               "status": "accepted"}]
    for day in range(1, 21):  # 1:1 questions on 20 days, and a visit of the course site
        events.append({"type": "message", "id": f"m{day}", "ts": f"2026-10-{day + 5:02d}T20:00:00+08:00",
                       "sender": "wxid_solo", "text": f"老师，第{day}课的作业我写完了"})
    events.append({"type": "visit", "id": "v1", "ts": "2026-10-27T09:00:00+08:00", "member": "wxid_solo"})
    for i in range(3):  # a quiet group member, so the split has someone to compare with
        events.append({"type": "message", "id": f"g{i}", "ts": f"2026-10-2{i}T09:00:00+08:00", "room": ROOM,
                       "sender": "wxid_quiet", "text": "早"})
    path = write(tmp_path / "e.jsonl", events)
    db = tmp_path / "q.db"
    assert run("replay", str(path), "--db", str(db), "--silent").returncode == 0
    [solo] = [r for r in report(db, "--at", "2026-10-27T12:00:00+08:00")["members"] if r["id"] == "wxid_solo"]
    assert solo["rooms"] == [] and solo["login_days"] == 21 and solo["type"] == "core"


def test_each_account_has_its_accept_rule_and_accepts_through_itself(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[friends]\nauto_accept = "off"\n[friends.accounts.wxid_shop]\nauto_accept = "all"\n',
                    encoding="utf-8")
    bot = Bot(tmp_path, config=path)
    out = bot.feed({"type": "friend", "id": "fr_s", "ts": T, "member": "wxid_amy", "status": "requested",
                    "account": "wxid_shop"})
    [accept] = accepts(out)
    assert accept.account == "wxid_shop"
    assert bot.rows("SELECT account, action FROM outbox") == [("wxid_shop", "accept")]
    out = bot.feed({"type": "friend", "id": "fr_c", "ts": T, "member": "wxid_ben", "status": "requested",
                    "hello": "想报名", "account": "wxid_course"})
    assert accepts(out) == []  # this account accepts nobody by itself
    assert bot.rows("SELECT member, account, decision FROM friendship ORDER BY member") == [
        ("wxid_amy", "wxid_shop", "queued"), ("wxid_ben", "wxid_course", "waiting")]
