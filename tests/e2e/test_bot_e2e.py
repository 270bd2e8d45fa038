"""The whole bot (App: adapter, pipeline, store, outbox) against a real puppet-service peer."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.adapters.wechaty import AT_SEPARATOR, WechatyAdapter
from bot.core.settings import Settings
from bot.wiring import App
from tests.e2e.conftest import stop_app

pytestmark = pytest.mark.e2e

ROOM = "r1@chatroom"
ADMIN, ALICE, BOB, CAROL = "wxid_admin", "wxid_alice", "wxid_bob", "wxid_carol"


@pytest.fixture
async def world(peer):
    await peer.contact(ADMIN, "群主")
    await peer.contact(ALICE, "Alice")
    await peer.contact(BOB, "Bob")
    await peer.contact(CAROL, "小卡")
    await peer.room(ROOM, "读书群", [ADMIN, ALICE, CAROL])
    return peer


class RunningBot:
    def __init__(self, app: App, task: asyncio.Task, wait_until) -> None:
        self.app = app
        self.adapter: WechatyAdapter = app.adapter  # type: ignore[assignment]
        self.task = task
        self.wait_until = wait_until

    def rows(self, sql: str, **params) -> list[tuple]:
        with self.app.pipeline.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    async def wait_rows(self, sql: str, predicate, timeout: float = 5.0, **params) -> list[tuple]:
        return await self.wait_until(
            lambda: (rows := self.rows(sql, **params)) and predicate(rows) and rows,
            timeout,
            f"rows of {sql!r}",
        )


@pytest.fixture
async def running_bot(world, tmp_path, monkeypatch, wait_until):
    monkeypatch.setenv("QUNGUAN_ADMINS", ADMIN)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qunguan.db'}")
    adapter = WechatyAdapter(
        world.token, world.endpoint, login_timeout=10, reconnect_min=0.2, reconnect_max=1.0
    )
    app = App(settings, adapter)
    # The outbox's pacing (1-1.5 s between sends) has its own tests; keep this suite quick.
    app.sender.min_gap, app.sender.jitter = 0.05, 0.0
    task = asyncio.create_task(app.run())
    ready = asyncio.create_task(adapter.wait_connected())
    done, _ = await asyncio.wait({task, ready}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        raise AssertionError("the bot did not log in within 15 s")
    yield RunningBot(app, task, wait_until)
    await stop_app(adapter, task)


def reply_in_room(room: str, member: str, contains: str):
    return lambda m: (
        m["roomId"] == room and m["mentionIdList"] == [member] and contains in m["text"]
    )


def reply_direct(member: str, contains: str):
    return lambda m: m["roomId"] is None and m["listenerId"] == member and contains in m["text"]


async def test_checkin_in_a_group_is_answered_with_a_mention(world, running_bot):
    await world.say(ALICE, ROOM, "打卡")

    reply = await world.wait_sent(reply_in_room(ROOM, ALICE, "成功"), what="the check-in reply")
    assert reply["text"].startswith(f"@Alice{AT_SEPARATOR}「打卡」成功")
    assert "连续 1 天" in reply["text"]
    assert running_bot.rows("select member, room from checkin") == [(ALICE, ROOM)]


async def test_second_checkin_the_same_day_is_not_counted_twice(world, running_bot):
    await world.say(ALICE, ROOM, "打卡")
    await world.wait_sent(reply_in_room(ROOM, ALICE, "成功"))
    await world.say(ALICE, ROOM, "打卡")

    again = await world.wait_sent(
        reply_in_room(ROOM, ALICE, "今天已经打过"), what="the repeat reply"
    )
    assert "已连续 1 天" in again["text"]
    assert running_bot.rows("select count(*) from checkin") == [(1,)]
    assert running_bot.rows("select points from member where id = :m", m=ALICE) == [(10,)]
    assert len(world.sent) == 2


async def test_my_level_in_a_group_and_one_to_one(world, running_bot):
    await world.say(ALICE, ROOM, "打卡")
    await world.wait_sent(reply_in_room(ROOM, ALICE, "成功"))

    await world.say(ALICE, ROOM, "我的等级")
    in_room = await world.wait_sent(reply_in_room(ROOM, ALICE, "Lv1"), what="我的等级 in the group")
    assert "10 积分" in in_room["text"]

    await world.say(ALICE, "bot", "我的等级")
    direct = await world.wait_sent(reply_direct(ALICE, "Lv1"), what="我的等级 1:1")
    assert "10 积分" in direct["text"]
    assert direct["mentionIdList"] == []


async def test_manager_commands_for_admins_only(world, running_bot):
    await world.say(ALICE, ROOM, "打卡")
    await world.wait_sent(reply_in_room(ROOM, ALICE, "成功"))

    await world.say(ALICE, ROOM, "类型分布")
    refused = await world.wait_sent(reply_in_room(ROOM, ALICE, "只有管理员"), what="the refusal")
    assert "本群成员类型" not in refused["text"]

    await world.say(ADMIN, ROOM, "类型分布")
    await world.wait_sent(reply_in_room(ROOM, ADMIN, "本群成员类型"), what="类型分布 for the admin")

    # A manager command whose argument is an @mention that came over the wire.
    await world.say(ADMIN, ROOM, f"调积分 @Alice{AT_SEPARATOR}+20 活动奖励", mentions=(ALICE,))
    await world.wait_sent(reply_in_room(ROOM, ADMIN, "加 20 分"), what="调积分 for the admin")
    assert running_bot.rows("select points from member where id = :m", m=ALICE) == [(30,)]

    await world.say(CAROL, ROOM, f"调积分 @Alice{AT_SEPARATOR}+99 自己加", mentions=(ALICE,))
    await world.wait_sent(reply_in_room(ROOM, CAROL, "只有管理员"), what="the second refusal")
    assert running_bot.rows("select points from member where id = :m", m=ALICE) == [(30,)]


async def test_join_and_leave_reach_the_store(world, running_bot):
    await world.add(ROOM, [BOB], by=ALICE)
    joined = await running_bot.wait_rows(
        "select active, joined_at, left_at from membership where room = :r and member = :m",
        # The login's roster may list Bob first (it is read when its turn comes): wait for the join.
        lambda rows: rows[0][0] and rows[0][1] is not None,
        r=ROOM,
        m=BOB,
    )
    assert joined[0][1] is not None and joined[0][2] is None
    assert running_bot.rows("select name from member where id = :m", m=BOB) == [("Bob",)]
    # The room-join's inviter is kept: Alice referred Bob.
    assert running_bot.rows("select inviter from referral where room = :r and member = :m",
                            r=ROOM, m=BOB) == [(ALICE,)]

    await world.remove(ROOM, [BOB], by=ALICE)
    left = await running_bot.wait_rows(
        "select active, left_at from membership where room = :r and member = :m",
        lambda rows: not rows[0][0],
        r=ROOM,
        m=BOB,
    )
    assert left[0][1] is not None
    # A roster read after the removal may mark the leave first; the leave event still comes.
    await running_bot.wait_rows("select type from eventlog where type not in ('roster', 'contacts') order by ts",
                                lambda rows: rows == [("join",), ("leave",)])


async def test_the_bot_keeps_working_after_the_server_restarts(world, running_bot, wait_until):
    await world.say(CAROL, ROOM, "打卡")
    await world.wait_sent(reply_in_room(ROOM, CAROL, "成功"))
    # Crash only once the reply is acknowledged: a crash while the gateway holds a send
    # leaves it maybe-delivered (see test_adapter's maybe_delivered test).
    await running_bot.wait_rows("select status from outbox", lambda rows: rows == [("sent",)])

    await world.kill()
    await wait_until(lambda: not running_bot.adapter.connected, 5, "the bot to notice the drop")
    await world.start()  # same port, same contacts and rooms
    await wait_until(lambda: running_bot.adapter.connections == 2, 10, "the reconnect")

    await world.say(ALICE, ROOM, "打卡")
    await world.wait_sent(reply_in_room(ROOM, ALICE, "成功"), what="the reply after the reconnect")
    await world.say(ALICE, "bot", "我的等级")
    await world.wait_sent(reply_direct(ALICE, "Lv1"))

    # Every reply went out once: none lost in the outage, none sent again after it.
    texts = [m["text"] for m in world.sent]
    assert len(texts) == 3, texts
    assert texts[0].startswith(f"@小卡{AT_SEPARATOR}「打卡」成功")
    assert texts[1].startswith(f"@Alice{AT_SEPARATOR}「打卡」成功")
    assert texts[2].startswith("Lv1")
    # The peer sees a text before the outbox has marked it sent.
    await running_bot.wait_rows(
        "select status, count(*) from outbox group by status", lambda rows: rows == [("sent", 3)]
    )
    assert running_bot.rows("select member from checkin order by member") == [(ALICE,), (CAROL,)]


async def test_a_burst_of_checkins_loses_nothing(world, running_bot, caplog):
    # Replies are marked sent (outbox) while later messages are processed (pipeline): two
    # writers on one SQLite file. 30 replies stay under the outbox's 40 per room per hour.
    members = [f"wxid_m{i:02d}" for i in range(15)]
    for m in members:
        await world.contact(m, f"成员{m[-2:]}")
    await world.add(ROOM, members, by=ADMIN)
    # Fifteen people added at once share one welcome.
    welcome = await world.wait_sent(lambda m: "欢迎" in m["text"], what="the welcome")
    assert sorted(welcome["mentionIdList"]) == members
    for m in members:
        await world.say(m, ROOM, "打卡")
        await world.say(m, ROOM, "我的等级")

    await running_bot.wait_until(lambda: len(world.sent) >= 31, 20, "30 replies after the welcome")
    await running_bot.wait_rows("select status, count(*) from outbox group by status",
                                lambda rows: rows == [("sent", 31)])
    assert "processing event" not in caplog.text  # App.handle logs every event it drops
    assert running_bot.rows("select count(*) from checkin") == [(15,)]
    for m in members:
        replies = [s for s in world.sent if s["mentionIdList"] == [m]]
        assert len(replies) == 2 and "「打卡」成功" in replies[0]["text"], (m, replies)


async def test_a_contact_with_a_zwj_emoji_name_speaks_checks_in_and_is_answered(world, running_bot):
    """Names with ZWJ emoji sequences, flags and invisible characters used to make the
    validator drop the member's every message: now they speak, check in and are answered."""
    coder, flag, ghost = "wxid_coder", "wxid_flag", "wxid_ghost"
    await world.contact(coder, "👩‍💻小美")
    await world.contact(flag, "彩虹🏳️‍🌈")
    await world.contact(ghost, "\u200b\u200b")  # an invisible name, on purpose
    room = "r2@chatroom"
    await world.room(room, "🧑‍🎓学习群", [coder, flag, ghost])
    await world.say(coder, room, "大家好")
    await world.say(coder, room, "打卡 读完第一章")
    reply = await world.wait_sent(reply_in_room(room, coder, "成功"), what="the check-in reply to 👩‍💻小美")
    assert reply["text"].startswith(f"@👩‍💻小美{AT_SEPARATOR}「打卡」成功")
    await world.say(flag, room, "打卡")
    await world.wait_sent(reply_in_room(room, flag, "成功"), what="the check-in reply to 彩虹🏳️‍🌈")
    await world.say(ghost, room, "打卡")
    await world.wait_sent(reply_in_room(room, ghost, "成功"), what="the check-in reply to an invisible name")
    await world.say(coder, room, "我的等级")
    await world.wait_sent(reply_in_room(room, coder, "Lv1"), what="我的等级 of 👩‍💻小美")
    names = dict(running_bot.rows("select id, name from member where id in (:a, :b, :c)", a=coder, b=flag, c=ghost))
    assert names == {coder: "👩‍💻小美", flag: "彩虹🏳️‍🌈", ghost: "\u200b\u200b"}
    assert running_bot.rows("select name from room where id = :r", r=room) == [("🧑‍🎓学习群",)]
    assert running_bot.rows("select count(*) from checkin where room = :r", r=room) == [(3,)]
    assert running_bot.rows("select messages from dailyactivity where member = :m", m=coder) == [(1,)]


async def test_a_jielong_passed_along_by_three_contacts_checks_each_in_once(world, running_bot):
    """A 接龙 app message (appmsg type 53) sent on by Alice, 小卡 and Bob, each adding their
    entry: three check-ins, each with their own entry as the note, and nothing for a resend."""
    await world.add(ROOM, [BOB], by=ADMIN)
    header = "@群主  打卡#接龙\n\n12月2日打卡 一起加油💪\n例 打卡第n天 内容\n\n"
    entries = ["Alice 打卡第3天 读完第二章", "小卡-跑步 5公里", "Bob 打卡第一天 <早睡> & 早起"]
    ids = []
    for i, member in enumerate((ALICE, CAROL, BOB)):
        listed = "\n".join(f"{n}. {e}" for n, e in enumerate(entries[: i + 1], 1))
        ids.append(await world.say(member, ROOM, header + listed, kind="jielong"))
        await world.wait_sent(reply_in_room(ROOM, member, "「打卡」成功"), timeout=15, what=f"the check-in of {member}")
    ids.append(await world.say(ALICE, ROOM, header + listed, kind="jielong"))  # the whole list again: nothing
    await world.say(ALICE, ROOM, "打卡")  # and a plain check-in after it still counts once
    await world.wait_sent(reply_in_room(ROOM, ALICE, "今天已经打过"), timeout=15, what="the repeat reply")
    rows = running_bot.rows("select member, note from checkin")
    assert sorted(rows) == sorted([(ALICE, "打卡第3天 读完第二章"), (CAROL, "跑步 5公里"),
                                   (BOB, "打卡第一天 <早睡> & 早起")])
    kinds = dict(running_bot.rows("select id, kind from eventlog where type = 'message'"))
    assert [kinds[i] for i in ids] == ["command"] * 3 + ["jielong"]  # check-ins, then the resend as chat
    assert len([m for m in world.sent if "成功" in m["text"]]) == 3


async def test_a_recalled_check_in_stops_counting(world, running_bot):
    """WeChat says which message was recalled (撤回): its check-in, points and counts go."""
    checkin = await world.say(ALICE, ROOM, "打卡 今天读了20页")
    await world.wait_sent(reply_in_room(ROOM, ALICE, "成功"), what="the check-in reply")
    chat = await world.say(ALICE, ROOM, "请问课程多少钱")
    await running_bot.wait_rows("select count(*) from eventlog where id = :m", lambda r: r == [(1,)], m=chat)
    await world.say(ALICE, ROOM, checkin, kind="recalled")
    await world.say(ALICE, ROOM, chat, kind="recalled")
    await running_bot.wait_rows("select count(*) from eventlog where kind = 'recalled'", lambda r: r == [(2,)])
    assert running_bot.rows("select count(*) from checkin") == [(0,)]
    assert running_bot.rows("select points from member where id = :m", m=ALICE) == [(0,)]
    assert running_bot.rows("select messages, checkins from dailyactivity where member = :m", m=ALICE) == [(0, 0)]
    assert running_bot.rows("select count(*) from eventlog where type = 'recall'") == [(2,)]
