"""群管 housekeeping against the reference puppet server, through the real Wechaty client: a
contact posting 「加V领资料 wx12345」 twice is warned, then removed from the room the bot owns
(the gateway records the removal); the FAQ answers 「几点开课」 once within its cooldown."""

from __future__ import annotations

import asyncio
import base64
import io

import pytest
import segno

from bot.adapters import qr
from bot.core.settings import Settings
from tests.e2e.conftest import start_app, stop_app, store_rows

pytestmark = pytest.mark.e2e

ROOM, OTHER = "r1@chatroom", "r2@chatroom"
ADMIN, ALICE, SPAM, BOSS = "wxid_admin", "wxid_alice", "wxid_spam", "wxid_boss"
ANSWER = "@Alice\u2005每晚 8 点开课"  # WeChat ends a mention with U+2005


@pytest.fixture
async def app(peer, tmp_path, monkeypatch, wait_until):
    for member, name in ((ADMIN, "群主"), (ALICE, "Alice"), (SPAM, "小广告"), (BOSS, "老板")):
        await peer.contact(member, name)
    await peer.room(ROOM, "读书群", [ADMIN, ALICE, SPAM])  # the bot owns it
    await peer.call("room", id=OTHER, topic="别人的群", members=[BOSS, ADMIN, SPAM], owner=BOSS)
    monkeypatch.setenv("QUNGUAN_ADMINS", ADMIN)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qunguan.db'}")
    app, adapter, task = await start_app(peer, settings)
    await wait_until(lambda: len(store_rows(app, "select room from guardroom where roles_at is not null")) == 2,
                     10, "the login rosters with the rooms' owners")
    yield app
    await stop_app(adapter, task)


async def test_bait_twice_is_warned_then_removed_where_the_bot_owns_the_room(peer, app, wait_until):
    await peer.say(ADMIN, ROOM, "防广告 开")
    await peer.wait_sent(lambda m: "本群防广告已开启" in m["text"], 10, "the guard on")
    await peer.say(SPAM, ROOM, "加V领资料 wx12345")
    warning = await peer.wait_sent(lambda m: "第 1 次提醒" in m["text"], 10, "the warning")
    assert warning["mentionIdList"] == [SPAM] and "引流加好友" in warning["text"]
    assert not peer.room_dels
    await peer.say(SPAM, ROOM, "加V领资料 wx12345")
    await wait_until(lambda: {"roomId": ROOM, "contactId": SPAM} in peer.room_dels, 10, "the removal")
    # WeChat's room-leave comes back: the member is gone from the room in the store too.
    await wait_until(lambda: store_rows(app, "select active from membership where room = :r and member = :m",
                                        r=ROOM, m=SPAM) == [(False,)], 10, "the leave")
    # The row is marked sent once the adapter's call returns, which may come after the peer has
    # already applied the removal and sent the room-leave back.
    await wait_until(lambda: store_rows(app, "select status from outbox where action = 'room_del'") == [("sent",)],
                     10, "the removal marked sent")


async def test_where_the_bot_is_no_owner_the_admins_are_told(peer, app, wait_until):
    await peer.say(ADMIN, OTHER, "/guard on")
    await peer.wait_sent(lambda m: "本群防广告已开启" in m["text"], 10, "the guard on")
    await peer.say(SPAM, OTHER, "加微信领资料")
    await peer.say(SPAM, OTHER, "加微信领资料")
    told = await peer.wait_sent(lambda m: m["listenerId"] == ADMIN and "请手动移出" in m["text"], 10, "the admins told")
    assert "别人的群" in told["text"]
    assert not peer.room_dels


async def test_the_faq_answers_once_within_its_cooldown(peer, app, wait_until):
    await peer.say(ADMIN, ROOM, "/faq add 几点开课 每晚 8 点开课")
    await peer.wait_sent(lambda m: "已添加问答 1" in m["text"], 10, "the FAQ added")
    await peer.say(ALICE, ROOM, "几点开课？")
    await peer.wait_sent(lambda m: m["text"] == ANSWER, 10, "the answer")
    await peer.say(ALICE, ROOM, "请问几点开课呀")
    await peer.say(ALICE, ROOM, "谢谢")
    await wait_until(lambda: store_rows(app, "select count(*) from eventlog where text = '谢谢'") == [(1,)], 10,
                     "the last message stored")
    await asyncio.sleep(0.5)  # anything the second question would have queued has gone out by now
    answers = [m for m in await peer.call("sent") if m["text"] == ANSWER]
    assert len(answers) == 1


async def test_a_qr_code_in_an_image_is_read_and_warned(peer, app, wait_until):
    if not qr.available():
        pytest.skip("zxing-cpp is not installed here: QR codes in images are not read (logged)")
    picture = io.BytesIO()
    segno.make("https://u.wechat.com/EFxYz", error="m").save(picture, kind="png", scale=4)
    await peer.say(ADMIN, ROOM, "防广告 开")
    await peer.wait_sent(lambda m: "本群防广告已开启" in m["text"], 10, "the guard on")
    await peer.call("say", **{"from": SPAM}, to=ROOM, kind="image", image=base64.b64encode(picture.getvalue()).decode())
    warning = await peer.wait_sent(lambda m: "请不要在群里发带二维码的图片" in m["text"], 10, "the warning")
    assert warning["mentionIdList"] == [SPAM]
    assert store_rows(app, "select rule from guardstrike") == [("qr",)]
