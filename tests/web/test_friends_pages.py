"""The friends page (requests waiting, 通过 with one click, channels over a period) and the
member list's 好友 filter."""

from __future__ import annotations

import json

from tests.harness import ROOM, Bot
from tests.web.conftest import auth
from tests.web.test_pages import text_of

T = "2026-11-20T10:00:00+08:00"


def friend(bot: Bot, member: str, status: str, *, hello: str | None = None, ts: str = T, id: str | None = None):
    ev = {"type": "friend", "id": id or bot.next_id("f"), "ts": ts, "member": member, "status": status,
          "member_name": member.removeprefix("wxid_").title()}
    if hello:
        ev["hello"] = hello
    return bot.feed(ev)


async def test_a_waiting_request_is_accepted_with_one_click(community: Bot, client):
    resp = await client.get("/friends", allow_redirects=False)
    assert resp.status == 200 and "没有等待通过的好友申请" in await resp.text()
    friend(community, "wxid_zed", "requested", hello="<b>你好</b>")
    html = await (await client.get("/friends")).text()
    assert "&lt;b&gt;你好&lt;/b&gt;" in html and "Zed" in html  # the greeting, escaped
    n = community.scalar("SELECT n FROM friendship WHERE member='wxid_zed'")
    resp = await client.post("/friends/accept", data={"csrf": client.csrf, "n": str(n)})
    assert resp.status == 200 and f"已通过 {n} 号" in await resp.text()
    assert community.rows("SELECT action, \"to\", text FROM outbox WHERE action IS NOT NULL") == [
        ("accept", "wxid_zed", community.scalar("SELECT request_id FROM friendship WHERE member='wxid_zed'"))]
    resp = await client.post("/friends/accept", data={"csrf": client.csrf, "n": str(n)})
    assert "已经在通过队列" in await resp.text()
    resp = await client.post("/friends/accept", data={"csrf": client.csrf, "n": "abc"})
    assert "正整数" in await resp.text()
    resp = await client.post("/friends/accept", data={"n": str(n)}, allow_redirects=False)
    assert resp.status in (400, 403)  # no CSRF token: refused
    assert (await client.get("/friends?days=3")).status == 400


async def test_channels_show_friends_added_and_who_joined_a_group(community: Bot, client):
    community.say("wxid_admin", "/rule add keyword 来源-抖音 抖音 on=hello", room=None, ts=T, id="friends-m0")
    for who in ("wxid_amy", "wxid_ben"):
        friend(community, who, "requested", hello="抖音来的")
        friend(community, who, "accepted")
    community.feed({"type": "join", "id": "friends-j1", "ts": "2026-11-20T11:00:00+08:00", "room": ROOM,
                    "member": "wxid_ben"})
    text = text_of(await (await client.get("/friends?days=30")).text())
    assert "来源-抖音 2 1 0 0" in text


async def test_the_member_list_filters_friends_only_and_members_in_groups(community: Bot, client):
    friend(community, "wxid_solo", "requested", hello="报名")
    friend(community, "wxid_solo", "accepted")
    community.say("wxid_solo", "老师好，请问课程什么时候开始", room=None, ts="2026-11-20T10:05:00+08:00",
                  id="friends-m1", name="Solo")
    only = text_of(await (await client.get("/members?who=friends_only")).text())
    assert "Solo" in only and "共 1 人" in only
    grouped = text_of(await (await client.get("/members?who=groups")).text())
    assert "Solo" not in grouped and "共 0 人" not in grouped
    assert (await client.get("/members?who=nobody")).status == 400


async def test_an_accept_that_may_have_gone_out_is_shown_as_an_account_action(community: Bot, client):
    with community.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO outbox (created_at, room, \"to\", text, mentions, status, attempts, next_at, priority, "
            "action, error) VALUES (1793498400, NULL, 'wxid_zed', 'fr_9', '', 'unknown', 1, 0, 1, 'accept', "
            "'连接断开')")
    text = text_of(await (await client.get("/outbox")).text())
    assert "【通过好友申请】fr_9" in text


async def test_friend_events_and_friend_lists_come_in_through_the_event_api(community: Bot, anon):
    body = [{"type": "friend", "id": "api-fr1", "ts": T, "member": "wxid_api", "status": "requested",
             "hello": "想报名"},
            {"type": "contacts", "id": "api-c1", "ts": T, "members": [{"id": "wxid_old_friend"}]},
            {"type": "friend", "id": "api-bad", "ts": T, "member": "wxid_x", "status": "maybe"}]
    resp = await anon.post("/api/events", data=json.dumps(body),
                           headers={"Content-Type": "application/json"} | auth())
    assert resp.status == 400
    result = await resp.json()
    assert "status" in json.dumps(result, ensure_ascii=False)
    # Pushed events are silent: the request waits for an operator rather than being accepted.
    assert community.rows("SELECT member, status, decision FROM friendship ORDER BY member") == [
        ("wxid_api", "requested", "waiting"), ("wxid_old_friend", "accepted", "none")]
