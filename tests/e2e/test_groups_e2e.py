"""Real groups against the reference puppet server: rosters, silent members, welcomes, notes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

from bot.adapters.wechaty import AT_SEPARATOR, WechatyAdapter
from bot.core.events import Roster
from bot.core.settings import Settings
from tests.e2e.conftest import start_app, stop_app, store_rows

pytestmark = pytest.mark.e2e

ROOM = "r1@chatroom"
ADMIN, ALICE, BOB = "wxid_admin", "wxid_alice", "wxid_bob"
SILENT = [f"wxid_silent{i}" for i in range(1, 7)]


@pytest.fixture
async def world(peer):
    await peer.contact(ADMIN, "群主")
    await peer.contact(ALICE, "Alice")
    await peer.contact(BOB, "Bob")
    for i, m in enumerate(SILENT, 1):
        await peer.contact(m, f"潜水{i}号")
    # Alice speaks; the six others never say a word, as in most real groups.
    await peer.room(ROOM, "读书群", [ALICE, *SILENT])
    await peer.call("alias", room=ROOM, member=SILENT[0], alias="读书委员")
    return peer


@pytest.fixture
async def app(world, tmp_path, monkeypatch, wait_until):
    monkeypatch.setenv("QUNGUAN_ADMINS", ADMIN)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qunguan.db'}")
    app, adapter, task = await start_app(world, settings)
    yield app
    await stop_app(adapter, task)


def report(db: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--json", "--db", db],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


async def test_one_speaker_and_six_silent_members_are_seven_members(world, app, wait_until):
    await wait_until(lambda: store_rows(app, "select count(*) from membership where active") == [(7,)], 10,
                     "the login roster")
    await world.say(ALICE, ROOM, "今天读完了第三章，收获很大")
    await wait_until(lambda: store_rows(app, "select count(*) from eventlog where type = 'message'") == [(1,)], 5,
                     "Alice's message")
    # The account's friends in no group (the admin, Bob: the login's friend list) are members
    # too; the room's members are the seven.
    members = {r["id"]: r for r in report(app.settings.database_url)["members"] if r["rooms"]}
    assert set(members) == {ALICE, *SILENT}
    assert [members[m]["type"] for m in SILENT] == ["dormant"] * 6
    assert all(r["type"] != "new" for r in members.values())
    assert members[SILENT[0]]["name"] == "潜水1号"
    assert store_rows(app, "select room_alias from membership where member = :m", m=SILENT[0]) == [("读书委员",)]
    # The bot itself is never a member.
    assert store_rows(app, "select count(*) from member where id = :b", b=world.bot_id) == [(0,)]


async def test_a_member_who_quits_silently_is_gone_at_the_next_roster(world, app, wait_until):
    await wait_until(lambda: store_rows(app, "select count(*) from membership where active") == [(7,)], 10,
                     "the login roster")
    await world.call("quit", room=ROOM, member=SILENT[5])  # WeChat tells nobody
    await world.call("topic", room=ROOM, topic="读书群·十一月", by=ALICE)  # a topic change asks again
    await wait_until(lambda: store_rows(app, "select active from membership where member = :m", m=SILENT[5])
                     == [(False,)], 10, "the leave by absence")
    assert store_rows(app, "select name from room") == [("读书群·十一月",)]
    # The 6-hourly job asks the adapter the same way.
    adapter = app.adapter
    assert isinstance(adapter, WechatyAdapter)
    before = store_rows(app, "select count(*) from eventlog where type = 'roster'")[0][0]
    adapter.request_rosters()
    await wait_until(lambda: store_rows(app, "select count(*) from eventlog where type = 'roster'")[0][0] > before,
                     10, "a refreshed roster")


async def test_a_joining_member_is_welcomed_within_5_seconds(world, app, wait_until):
    await wait_until(lambda: store_rows(app, "select count(*) from membership where active") == [(7,)], 10,
                     "the login roster")
    started = time.monotonic()
    await world.add(ROOM, [BOB], by=ALICE)
    welcome = await world.wait_sent(lambda m: m["roomId"] == ROOM and "欢迎" in m["text"], timeout=5,
                                    what="the welcome")
    took = time.monotonic() - started
    assert welcome["mentionIdList"] == [BOB]
    assert welcome["text"].startswith(f"@Bob{AT_SEPARATOR}欢迎 Bob 加入")
    assert "「打卡」" in welcome["text"]
    assert took < 5
    await asyncio.sleep(3)
    assert sum("欢迎" in m["text"] for m in world.sent) == 1  # once per join
    # A later roster lists Bob: he stays a newcomer (his join was seen).
    app.adapter.request_rosters(ROOM)  # type: ignore[attr-defined]
    await wait_until(lambda: store_rows(app, "select count(*) from eventlog where type = 'roster'") == [(2,)], 10,
                     "a second roster")
    assert store_rows(app, "select pre_existing, joined_at is not null from membership where member = :m", m=BOB) == [
        (False, True)]


async def test_the_bot_added_to_a_room_sends_its_roster(world, app, wait_until):
    await world.call("room", id="r2@chatroom", topic="跑步群", members=[ADMIN, BOB], withBot=False)
    await world.add("r2@chatroom", ["bot"], by=ADMIN)
    await wait_until(lambda: store_rows(app, "select member from membership where room = 'r2@chatroom' order by member")
                     == [(ADMIN,), (BOB,)], 10, "the new room's roster")
    assert store_rows(app, "select count(*) from pendingwelcome") == [(0,)]  # the bot greets nobody for itself


async def test_a_check_in_with_a_note(world, app, wait_until):
    await world.say(ALICE, ROOM, "打卡 今天读了20页")
    reply = await world.wait_sent(lambda m: m["roomId"] == ROOM and "成功" in m["text"], what="the check-in")
    assert reply["mentionIdList"] == [ALICE] and "心得已记下" in reply["text"]
    assert store_rows(app, "select member, note from checkin") == [(ALICE, "今天读了20页")]


async def test_rosters_from_the_adapter(world, start_adapter):
    bot = await start_adapter(world)
    roster = await _first_roster(bot)
    assert isinstance(roster, Roster) and roster.room == ROOM and roster.room_name == "读书群"
    assert {m.id for m in roster.members} == {ALICE, *SILENT}  # never the bot itself
    by_id = {m.id: m for m in roster.members}
    assert (by_id[SILENT[0]].name, by_id[SILENT[0]].room_alias) == ("潜水1号", "读书委员")


async def _first_roster(bot) -> Roster:
    deadline = time.monotonic() + 5
    while not bot.rosters:
        assert time.monotonic() < deadline, "no roster within 5 s of the login"
        await asyncio.sleep(0.01)
    return bot.rosters[0]
