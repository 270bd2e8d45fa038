"""The private account against the reference puppet server, through the real Wechaty client:
a friend request with a greeting is accepted, tagged by its channel, welcomed and pulled into
the group; a request without a keyword waits for an operator's 通过."""

from __future__ import annotations

import pytest

from bot.core.settings import Settings
from tests.e2e.conftest import start_app, stop_app, store_rows

pytestmark = pytest.mark.e2e

ROOM = "r1@chatroom"
ADMIN, ALICE, AMY, ZED = "wxid_admin", "wxid_alice", "wxid_amy", "wxid_zed"
CONFIG = """
[[tag_rules]]
rule = "keyword 来源-抖音 抖音,直播间 on=hello"

[friends]
auto_accept = "keyword"
keywords = ["课程", "报名"]
group = "读书群"
welcome = "你好 {name}，欢迎！"
accept_per_hour = 3600
invite_per_hour = 3600
"""


@pytest.fixture
async def app(peer, tmp_path, monkeypatch, wait_until):
    await peer.contact(ADMIN, "群主")
    await peer.contact(ALICE, "Alice")
    await peer.room(ROOM, "读书群", [ADMIN, ALICE])
    monkeypatch.setenv("QUNGUAN_ADMINS", ADMIN)
    config = tmp_path / "qunguan.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qunguan.db'}", config=config)
    app, adapter, task = await start_app(peer, settings)
    # The login's roster: the account is in 读书群, so it may add people there.
    await wait_until(lambda: store_rows(app, "select roster_at from room where id = :r", r=ROOM) not in ([], [(None,)]),
                     10, "the login roster")
    yield app
    await stop_app(adapter, task)


async def test_a_live_stream_request_is_accepted_tagged_welcomed_and_pulled_into_the_group(peer, app, wait_until):
    # The login's friend list: the account's friends from before the bot, never welcomed.
    await wait_until(lambda: store_rows(app, "select member from friendship where pre_existing order by member")
                     == [(ADMIN,), (ALICE,)], 10, "the friend list at login")
    request = await peer.call("friend_request", **{"from": AMY}, name="Amy", hello="我是从抖音直播来的，想报名")
    fid = request["friendshipId"]

    accepted = await wait_until(lambda: [a for a in peer.accepts if a["friendshipId"] == fid], 10,
                                "the request to be accepted")
    assert accepted[0]["contactId"] == AMY
    assert store_rows(app, "select tag, excerpt from membertag where member = :m", m=AMY) == [
        ("来源-抖音", "我是从抖音直播来的，想报名")]
    welcome = await peer.wait_sent(lambda m: m["listenerId"] == AMY, 10, "the welcome DM")
    assert welcome["text"].startswith("你好 Amy，欢迎！") and "「读书群」" in welcome["text"]
    await wait_until(lambda: {"roomId": ROOM, "contactId": AMY} in peer.room_adds, 10,
                     "the invitation into 读书群")
    # The gateway's room-join comes back: Amy is a member of the group now.
    await wait_until(lambda: store_rows(app, "select active from membership where room = :r and member = :m",
                                  r=ROOM, m=AMY) == [(True,)], 10, "Amy's join")
    assert store_rows(app, "select status, channel, accepted_by from friendship where member = :m", m=AMY) == [
        ("accepted", "来源-抖音", "rule")]


async def test_a_request_without_a_keyword_waits_for_an_operators_tongguo(peer, app, wait_until):
    await peer.call("friend_request", **{"from": ZED}, name="Zed", hello="你好")
    await wait_until(lambda: store_rows(app, "select n, decision from friendship where member = :m", m=ZED) != [], 10,
                     "the request to be stored")
    [(n, decision)] = store_rows(app, "select n, decision from friendship where member = :m", m=ZED)
    assert decision == "waiting"
    # Stored in the same transaction as any accept it would have queued: none was.
    assert store_rows(app, "select count(*) from outbox where action = 'accept' and \"to\" = :m", m=ZED) == [(0,)]
    assert not [a for a in peer.accepts if a["contactId"] == ZED]

    await peer.say(ADMIN, "bot", "好友申请")
    listing = await peer.wait_sent(lambda m: m["listenerId"] == ADMIN and "好友申请" in m["text"], 10,
                                   "the list of requests")
    assert f"{n}. Zed" in listing["text"] and "「你好」" in listing["text"]
    await peer.say(ADMIN, "bot", f"通过 {n}")
    await wait_until(lambda: [a for a in peer.accepts if a["contactId"] == ZED], 10,
                     "the operator's accept")
    await peer.wait_sent(lambda m: m["listenerId"] == ZED and m["text"].startswith("你好 Zed"), 10,
                         "Zed's welcome")

