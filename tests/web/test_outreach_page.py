"""The console's 群发 page over loopback: bad input is refused with its reason and queues nothing;
a campaign from chat and the reminders' rate show on the page."""

from __future__ import annotations

import pytest

from tests.harness import ADMIN, T0, texts
from tests.web.conftest import HOSTILE


def queued(community) -> int:
    return community.scalar("SELECT count(*) FROM outreachmessage")


def audited(community) -> list[tuple]:
    return community.rows("SELECT action FROM auditentry WHERE action LIKE '/outreach%' OR action = 'outreach_sent'")


@pytest.mark.parametrize(("fields", "error"), [
    ({"text": "你好"}, "请至少选一个条件"),
    ({"tag": "意向", "text": ""}, "请写出要发的消息"),
    ({"tag": "意向", "text": "长" * 1001}, "消息太长了"),
    ({"room": "r404@chatroom", "text": "你好"}, "找不到群「r404@chatroom」"),
    ({"level": "高", "text": "你好", "tag": "意向"}, "等级「高」应为数字"),
    ({"grade": "E", "text": "你好"}, "只能是 A、B、C 或 D"),
    ({"type": "vip", "text": "你好"}, "不认识的成员类型"),
])
async def test_bad_input_is_refused_and_nothing_queued(client, community, fields, error):
    for action in ("preview", "send"):
        resp = await client.post(f"/outreach/{action}", data={"csrf": client.csrf, **fields})
        assert error in await resp.text()
    assert queued(community) == 0
    assert audited(community) == []


async def test_nobody_selected_and_forged_forms(client, community):
    resp = await client.post("/outreach/send", data={"csrf": client.csrf, "tag": "没人有的标签", "text": "你好"})
    assert "没有符合条件的成员（标签「没人有的标签」）" in await resp.text()
    resp = await client.post("/outreach/send", data={"csrf": "forged", "tag": "意向", "text": "你好"})
    assert resp.status == 403
    assert queued(community) == 0
    assert audited(community) == []


async def test_a_console_campaign_is_audited_and_its_preview_is_not(client, community):
    resp = await client.post("/outreach/preview", data={"csrf": client.csrf, "tag": "意向", "text": "周末见"})
    assert "将发给 1 人" in await resp.text()
    assert audited(community) == []
    resp = await client.post("/outreach/send", data={"csrf": client.csrf, "tag": "意向", "text": "周末见"})
    assert "已安排群发 #1：1 人" in await resp.text()
    [(actor, place, detail, result)] = community.rows(
        "SELECT actor, place, detail, result FROM auditentry WHERE action = 'outreach_sent'")
    assert (actor, place, detail) == ("console", "console", "标签「意向」：周末见")
    assert result.startswith("群发 #1：选中 1 人，排队 1 人")


async def test_a_chat_campaign_shows_on_the_page(client, community):
    community.say(ADMIN, "群发 tag=意向\n周末见", ts=T0)
    assert "已安排群发 #1：1 人" in texts(community.say(ADMIN, "群发 确认", ts=T0))
    html = await (await client.get("/outreach")).text()
    assert "周末见" in html and "聊天 · wxid_admin" in html
    [(actor, place)] = community.rows("SELECT actor, place FROM auditentry WHERE action = 'outreach_sent'")
    assert (actor, place) == (ADMIN, "group")
    assert HOSTILE not in html  # the page lists no member names unescaped
