"""WechatyAdapter against a real puppet-service server (node peer with puppet-mock) on loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.base import MaybeDelivered, Outgoing
from bot.adapters.wechaty import (
    AT_SEPARATOR,
    AppMessage,
    WechatyAdapter,
    WechatyConnectError,
    WechatySendError,
    WechatySendUncertain,
    app_message,
)
from bot.core.events import MAX_TEXT, Join, Leave, Message

pytestmark = pytest.mark.e2e

ROOM = "r1@chatroom"
ALICE, BOB, CAROL = "wxid_alice", "wxid_bob", "wxid_carol"


@pytest.fixture
async def world(peer):
    await peer.contact(ALICE, "Alice")
    await peer.contact(BOB, "Bob")
    await peer.contact(CAROL, "小卡")
    await peer.room(ROOM, "读书群", [ALICE, CAROL])
    return peer


def is_message(text: str):
    return lambda e: isinstance(e, Message) and e.text == text


async def test_room_message_reaches_sink_as_canonical_message(world, start_adapter):
    bot = await start_adapter(world)
    assert bot.adapter.self_id == world.bot_id

    message_id = await world.say(ALICE, ROOM, "打卡")
    event = await bot.wait_event(is_message("打卡"), what="打卡 from Alice")

    assert event == Message(
        id=message_id,
        ts=event.ts,
        sender=ALICE,
        sender_name="Alice",
        text="打卡",
        room=ROOM,
        room_name="读书群",
        mentions=(),
        kind="text",
        account=world.bot_id,  # the account that received it
    )
    assert abs(event.ts - datetime.now(UTC)) < timedelta(seconds=30)
    assert event.ts.tzinfo is not None


async def test_mentions_and_order_are_kept(world, start_adapter):
    bot = await start_adapter(world)

    texts = [f"第{i}条" for i in range(20)]
    for text in texts:
        await world.say(CAROL, ROOM, text)
    await world.say(ALICE, ROOM, f"@{world.bot_name} 我的等级", mentions=(world.bot_id, CAROL))

    mentioned = await bot.wait_event(is_message(f"@{world.bot_name} 我的等级"))
    assert mentioned.mentions == (world.bot_id, CAROL)
    assert [e.text for e in bot.events if e.sender == CAROL] == texts
    assert {e.sender_name for e in bot.events if e.sender == CAROL} == {"小卡"}


async def test_a_redelivered_message_reaches_the_sink_once(world, start_adapter):
    bot = await start_adapter(world)
    message_id = await world.say(ALICE, ROOM, "打卡")
    await bot.wait_event(is_message("打卡"))
    await world.redeliver(message_id)
    await world.say(ALICE, ROOM, "marker")
    await bot.wait_event(is_message("marker"))
    assert [e.text for e in bot.events] == ["打卡", "marker"]


async def test_send_to_room_mentions_the_member_and_own_message_is_not_an_event(
    world, start_adapter
):
    bot = await start_adapter(world)

    await bot.adapter.send(Outgoing(room=ROOM, mentions=(ALICE,), text="打卡成功，连续 1 天"))

    sent = await world.wait_sent(lambda m: m["roomId"] == ROOM)
    assert sent["mentionIdList"] == [ALICE]
    assert sent["text"] == f"@Alice{AT_SEPARATOR}打卡成功，连续 1 天"
    assert sent["listenerId"] is None

    # The bot's own message comes back from the server as an event; it must not reach the sink.
    await world.say(ALICE, ROOM, "marker")
    await bot.wait_event(is_message("marker"))
    assert [e.sender for e in bot.events] == [ALICE]
    assert len(world.sent) == 1


async def test_direct_messages_both_ways(world, start_adapter):
    bot = await start_adapter(world)

    message_id = await world.say(BOB, "bot", "我的等级")
    event = await bot.wait_event(is_message("我的等级"))
    assert (event.id, event.room, event.room_name, event.sender, event.sender_name) == (
        message_id,
        None,
        None,
        BOB,
        "Bob",
    )

    await bot.adapter.send(Outgoing(to=BOB, text="你的等级：新手"))
    sent = await world.wait_sent(lambda m: m["listenerId"] == BOB)
    assert (sent["roomId"], sent["text"], sent["mentionIdList"]) == (None, "你的等级：新手", [])


async def test_join_and_leave(world, start_adapter):
    bot = await start_adapter(world)

    await world.add(ROOM, [BOB], by=ALICE)
    join = await bot.wait_event(lambda e: isinstance(e, Join), what="Bob joining")
    assert (join.room, join.room_name, join.member, join.member_name, join.inviter) == (
        ROOM,
        "读书群",
        BOB,
        "Bob",
        ALICE,
    )

    await world.remove(ROOM, [BOB], by=ALICE)
    leave = await bot.wait_event(lambda e: isinstance(e, Leave), what="Bob leaving")
    assert (leave.room, leave.member) == (ROOM, BOB)
    assert leave.id != join.id
    assert leave.ts >= join.ts


async def test_non_text_and_long_text(world, start_adapter):
    bot = await start_adapter(world)

    image_id = await world.say(ALICE, ROOM, kind="image")
    long_text = "长" * (MAX_TEXT + 500)
    await world.say(ALICE, ROOM, long_text)

    image = await bot.wait_event(lambda e: e.id == image_id, what="the image")
    assert (image.kind, image.text, image.room) == ("image", "", ROOM)
    long_event = await bot.wait_event(lambda e: e.text.startswith("长"), what="the long text")
    assert long_event.text == long_text[:MAX_TEXT]
    assert long_event.kind == "text"


async def test_wrong_token_is_a_clear_error(world):
    adapter = WechatyAdapter("not-the-token", world.endpoint, login_timeout=10)
    started = time.monotonic()
    with pytest.raises(WechatyConnectError) as info:
        await adapter.run(lambda e: asyncio.sleep(0))
    assert time.monotonic() - started < 5
    assert "UNAUTHENTICATED" in str(info.value)
    assert "令牌" in str(info.value) and "token" in str(info.value)


async def test_unreachable_endpoint_is_a_clear_error():
    with socket.socket() as s:  # a loopback port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{s.getsockname()[1]}"
    adapter = WechatyAdapter("any-token", endpoint, login_timeout=10)
    started = time.monotonic()
    with pytest.raises(WechatyConnectError, match=r"无法连接.*Cannot connect"):
        await adapter.run(lambda e: asyncio.sleep(0))
    assert time.monotonic() - started < 5


async def test_no_login_times_out_with_a_clear_error(make_peer):
    waiting = await make_peer("--no-login")
    adapter = WechatyAdapter(waiting.token, waiting.endpoint, login_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(WechatyConnectError, match=r"没有登录.*did not log in"):
        await adapter.run(lambda e: asyncio.sleep(0))
    assert 0.9 < time.monotonic() - started < 5


def test_endpoint_is_required():
    # Without an endpoint python-wechaty would ask a public discovery service for one.
    with pytest.raises(ValueError):
        WechatyAdapter("token", "")
    with pytest.raises(ValueError):
        WechatyAdapter("token", "127.0.0.1")


async def test_login_works_while_port_5000_is_taken(world, start_adapter):
    # Wechaty's plugin server defaults to 0.0.0.0:5000 and fails the login when it is taken.
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", 5000))
            s.listen()
        except OSError:
            pass  # taken already: that is the case under test too
        bot = await start_adapter(world)
        await world.say(ALICE, ROOM, "打卡")
        await bot.wait_event(is_message("打卡"))


async def test_reconnects_after_the_server_restarts(world, start_adapter, wait_until):
    bot = await start_adapter(world, reconnect_min=0.2, reconnect_max=1.0)
    first = await world.say(ALICE, ROOM, "before")
    await bot.wait_event(is_message("before"))

    await world.kill()
    await wait_until(lambda: not bot.adapter.connected, 5, "the adapter to notice the drop")
    dropped = time.monotonic()
    await world.start()  # same port, same contacts and rooms (the peer's state file)
    await wait_until(lambda: bot.adapter.connections == 2, 10, "the reconnect")
    reconnect_seconds = time.monotonic() - dropped

    second = await world.say(ALICE, ROOM, "after")
    await bot.wait_event(is_message("after"))
    await bot.adapter.send(Outgoing(room=ROOM, mentions=(ALICE,), text="reconnected"))
    await world.wait_sent(lambda m: m["text"].endswith("reconnected"))

    await world.say(CAROL, ROOM, "marker")
    await bot.wait_event(is_message("marker"))
    assert [e.id for e in bot.events][:2] == [first, second]
    assert [e.text for e in bot.events] == ["before", "after", "marker"]  # nothing lost or repeated
    assert [m["text"] for m in world.sent] == [f"@Alice{AT_SEPARATOR}reconnected"]
    assert reconnect_seconds < 8, reconnect_seconds


async def test_a_silent_dead_connection_is_found_by_the_ding_probe(
    world, start_adapter, wait_until
):
    # A hung server keeps its TCP connections open, so the event stream never ends.
    bot = await start_adapter(
        world, ping_interval=0.3, ping_timeout=0.5, login_timeout=2.0, reconnect_max=0.5
    )
    world.freeze()
    try:
        await wait_until(lambda: not bot.adapter.connected, 5, "the probe to find the dead link")
    finally:
        world.freeze(False)
    await wait_until(lambda: bot.adapter.connections >= 2, 10, "the reconnect")
    await world.say(ALICE, ROOM, "after the freeze")
    await bot.wait_event(is_message("after the freeze"))


async def test_send_during_an_outage_goes_out_once_after_the_reconnect(
    world, start_adapter, wait_until
):
    bot = await start_adapter(world, reconnect_min=0.2, reconnect_max=1.0, send_timeout=15.0)
    await world.kill()
    await wait_until(lambda: not bot.adapter.connected, 5, "the adapter to notice the drop")

    sending = asyncio.create_task(bot.adapter.send(Outgoing(to=ALICE, text="queued while down")))
    await world.start()
    await asyncio.wait_for(sending, 15)

    await world.wait_sent(lambda m: m["text"] == "queued while down")
    await world.say(ALICE, "bot", "marker")
    await bot.wait_event(is_message("marker"))
    assert [m["text"] for m in world.sent] == ["queued while down"]


async def test_send_fails_clearly_while_the_server_is_down(world, start_adapter, wait_until):
    bot = await start_adapter(world, reconnect_min=0.2, reconnect_max=0.5, send_timeout=0.5)
    await world.kill()
    await wait_until(lambda: not bot.adapter.connected, 5, "the adapter to notice the drop")
    with pytest.raises(WechatySendError, match=r"未连接.*not connected") as info:
        await bot.adapter.send(Outgoing(room=ROOM, text="lost"))
    assert not isinstance(info.value, MaybeDelivered)  # certainly not sent: safe to retry


async def test_sends_wait_while_the_account_is_logged_out(world, start_adapter, wait_until):
    bot = await start_adapter(world, send_timeout=0.5)
    await world.call("logout")
    await wait_until(lambda: not bot.adapter.connected, 5, "the adapter to see the logout")
    with pytest.raises(WechatySendError, match=r"未连接.*not connected") as info:
        await bot.adapter.send(Outgoing(to=ALICE, text="while logged out"))
    assert not isinstance(info.value, MaybeDelivered)

    await world.call("login")
    await wait_until(lambda: bot.adapter.connected, 5, "the adapter to see the login")
    await bot.adapter.send(Outgoing(to=ALICE, text="back"))
    await world.wait_sent(lambda m: m["text"] == "back")
    assert [m["text"] for m in world.sent] == ["back"]
    assert bot.adapter.connections == 1  # the same connection throughout


async def test_a_send_cut_off_by_a_crash_is_reported_as_maybe_delivered(
    world, start_adapter, wait_until
):
    bot = await start_adapter(world, send_timeout=15.0)
    await world.call("send_delay", ms=10_000)  # delivered at once, answered 10 s later
    await wait_until(lambda: any(type(e).__name__ == "Contacts" for e in bot.rosters), 5,
                     "the login's roster and friend list")
    bot.gate.clear()  # a slow sink: the echo of the send below waits in the adapter's queue
    await world.say(ALICE, ROOM, "slow")
    await wait_until(lambda: bot.held is not None, 5, "the sink to hold the first event")

    sending = asyncio.create_task(bot.adapter.send(Outgoing(room=ROOM, text="in flight")))
    await world.wait_sent(lambda m: m["text"] == "in flight")
    await world.kill()

    with pytest.raises(WechatySendUncertain) as info:
        await asyncio.wait_for(sending, 5)
    assert isinstance(info.value, MaybeDelivered)  # it did go out: a blind retry would send it twice

    # The queued echo can't be resolved with the server gone; close() must not wait for it.
    bot.gate.set()
    await bot.wait_event(is_message("slow"))
    started = time.monotonic()
    await bot.stop()
    assert time.monotonic() - started < 2


async def test_a_jielong_app_message_is_a_message_of_kind_jielong(world, start_adapter):
    bot = await start_adapter(world)
    listed = "#接龙\n\n12月2日打卡\n\n1. Alice 跑步 <3公里> & 拉伸"
    await world.say(ALICE, ROOM, listed, kind="jielong")
    event = await bot.wait_event(lambda e: isinstance(e, Message) and e.kind == "jielong", what="the 接龙")
    assert (event.text, event.sender, event.room) == (listed, ALICE, ROOM)


def test_app_messages_read_as_jielong_and_quotes():
    quote = ('<msg><appmsg appid="" sdkver="0"><title>点评 写得真好</title><type>57</type><refermsg><type>1</type>'
             '<svrid>123456</svrid><fromusr>r1@chatroom</fromusr><chatusr>wxid_alice</chatusr>'
             '<content>打卡 第3天</content></refermsg></appmsg></msg>')
    assert app_message("url", quote) == AppMessage("quote", "点评 写得真好", "123456", "wxid_alice")
    listed = '<msg><appmsg><title>#接龙\n1. 阿青 &amp; 跑步</title><type>53</type></appmsg></msg>'
    assert app_message("unknown", listed) == AppMessage("jielong", "#接龙\n1. 阿青 & 跑步")
    assert app_message("group_note", "#接龙\n1. 阿青") == AppMessage("jielong", "#接龙\n1. 阿青")  # the title as is
    assert app_message("url", "<msg><appmsg><title>链接</title><type>5</type></appmsg></msg>") is None
    assert app_message("url", "<msg><appmsg><title>坏的<type>53</type></appmsg>") is None  # broken XML
    assert app_message("text", "打卡") is None
